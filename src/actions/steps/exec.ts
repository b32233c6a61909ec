/**
 * exec: runs a command (argv, never a shell string); at the step timeout its whole process tree is killed.
 * With `detach: true` it starts a long-running process instead and leaves it running (see start-detached).
 */
import { formatCommandLine, runProcess } from "../../runtime/process.js";
import {
  abortDetail,
  expandHome,
  firstLine,
  loadSchema,
  optionalString,
  paramFailure,
  toArgv,
  toBoolean,
  toInteger,
  toStringMap,
} from "../support.js";
import type { StepHandler, StepResult } from "../types.js";

export type ExecStepParams = {
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Bytes of captured output kept for the log; default 4096. */
  outputLimit?: number | string;
  /** Start a long-running process and leave it running: the step passes once it has started. */
  detach?: boolean | string;
  /** With detach: the file that gets its stdout and stderr (appended); default none (/dev/null). */
  log?: string;
};

/** Safety cap only: the runtime's signal carries the step timeout. */
const PROCESS_CAP_MS = 60 * 60_000;

export const execStep = {
  name: "exec",
  kind: "step",
  description: "Runs a command; fails on a non-zero exit; kills its process tree at the step timeout.",
  get schema() {
    return loadSchema("step", "exec");
  },
  sideEffects: "local",
  describe: (params) => {
    const line = Array.isArray(params.command) ? formatCommandLine(params.command.map(String)) : "exec";
    return params.detach === true || params.detach === "true" ? `${line} (detached)` : line;
  },
  async run(ctx, params, signal): Promise<StepResult> {
    let argv: string[];
    let cwd: string | undefined;
    let env: Record<string, string>;
    let outputLimit: number;
    let detach: boolean;
    let log: string | undefined;
    try {
      argv = toArgv(params.command, "command");
      cwd = optionalString(params.cwd, "cwd");
      env = toStringMap(params.env, "env");
      outputLimit = params.outputLimit === undefined ? 4096 : toInteger(params.outputLimit, "outputLimit", 0);
      detach = toBoolean(params.detach, "detach", false);
      log = optionalString(params.log, "log");
    } catch (error) {
      return { ok: false, detail: paramFailure(error) };
    }
    if (detach) {
      if (signal.aborted) return { ok: false, detail: `${argv[0] as string}: ${abortDetail(signal)}` };
      // Loaded here: node:child_process is no cost a tick without a detached step should pay.
      const { startDetached } = await import("../../runtime/start-detached.js");
      const started = await startDetached(argv, {
        ...(cwd !== undefined ? { cwd: expandHome(cwd) } : {}),
        env: { ...ctx.env, ...env },
        ...(log !== undefined ? { log: expandHome(log) } : {}),
      });
      return started.ok
        ? { ok: true, detail: `${argv[0] as string}: started (pid ${started.pid}), left running` }
        : { ok: false, detail: started.error };
    }
    const result = await runProcess(argv, {
      ...(cwd !== undefined ? { cwd: expandHome(cwd) } : {}),
      env: { ...ctx.env, ...env },
      signal,
      timeoutMs: PROCESS_CAP_MS,
      outputLimit,
    });
    const output = [result.stdout, result.stderr].filter((s) => s.length > 0).join("\n");
    const withOutput = (r: StepResult): StepResult => (output.length > 0 ? { ...r, output } : r);
    const name = argv[0] as string;
    if (result.error !== undefined) return withOutput({ ok: false, detail: result.error });
    if (result.aborted || result.timedOut) {
      const why = result.aborted ? abortDetail(signal) : "timed out";
      return withOutput({ ok: false, detail: `${name}: ${why}, process tree killed` });
    }
    if (result.exitCode === 0) return withOutput({ ok: true, detail: `${name}: exit 0` });
    const status = result.exitCode === null ? `signal ${result.signal}` : `exit ${result.exitCode}`;
    const why = firstLine(result.stderr);
    return withOutput({ ok: false, detail: `${name}: ${status}${why ? ` (${why})` : ""}` });
  },
} satisfies StepHandler<ExecStepParams>;
