/** exec: runs a command (argv, never a shell string); passes on the expected exit code and stdout. */
import { formatCommandLine, runProcess } from "../../runtime/process.js";
import {
  abortDetail,
  expandHome,
  firstLine,
  loadSchema,
  optionalString,
  paramFailure,
  toArgv,
  toInteger,
  toObject,
  toRegExp,
  toStringMap,
} from "../support.js";
import type { ProbeHandler, ProbeResult } from "../types.js";

export type ExecProbeParams = {
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  expect?: {
    /** Default 0. */
    exitCode?: number | string;
    stdoutContains?: string;
    stdoutMatches?: string;
  };
};

/** Safety cap only: the runtime's signal carries the probe timeout. */
const PROCESS_CAP_MS = 10 * 60_000;
const OUTPUT_LIMIT = 64 * 1024;

export const execProbe = {
  name: "exec",
  kind: "probe",
  description: "Runs a command; passes when it exits with the expected code and its stdout matches.",
  get schema() {
    return loadSchema("probe", "exec");
  },
  sideEffects: "none",
  describe: (params) =>
    Array.isArray(params.command) ? formatCommandLine(params.command.map(String)) : "exec",
  async run(ctx, params, signal): Promise<ProbeResult> {
    const startedAt = ctx.clock.now();
    let argv: string[];
    let cwd: string | undefined;
    let env: Record<string, string>;
    let exitCode: number;
    let contains: string | undefined;
    let matches: RegExp | undefined;
    try {
      argv = toArgv(params.command, "command");
      cwd = optionalString(params.cwd, "cwd");
      env = toStringMap(params.env, "env");
      const expect = toObject(params.expect, "expect");
      exitCode = expect.exitCode === undefined ? 0 : toInteger(expect.exitCode, "expect.exitCode", 0, 255);
      contains = optionalString(expect.stdoutContains, "expect.stdoutContains");
      matches = toRegExp(expect.stdoutMatches, "expect.stdoutMatches");
    } catch (error) {
      return { ok: false, latencyMs: 0, detail: paramFailure(error) };
    }
    const result = await runProcess(argv, {
      ...(cwd !== undefined ? { cwd: expandHome(cwd) } : {}),
      env: { ...ctx.env, ...env },
      signal,
      timeoutMs: PROCESS_CAP_MS,
      outputLimit: OUTPUT_LIMIT,
      // A probe only looks: anything its command leaves running would pile up one per tick.
      killLeftovers: true,
    });
    const latencyMs = result.durationMs;
    const facts = { exitCode: result.exitCode };
    const fail = (detail: string): ProbeResult => ({ ok: false, latencyMs, detail, facts });
    if (result.error !== undefined) return fail(result.error);
    if (result.aborted) return fail(abortDetail(signal));
    if (result.timedOut) return fail("timed out");
    if (result.exitCode !== exitCode) {
      const why = firstLine(result.stderr);
      const status = result.exitCode === null ? `signal ${result.signal}` : `exit ${result.exitCode}`;
      return fail(`${status} (expected ${exitCode})${why ? `: ${why}` : ""}`);
    }
    if (contains !== undefined && !result.stdout.includes(contains)) {
      return fail(`stdout does not contain ${JSON.stringify(contains)}`);
    }
    if (matches) {
      // Loaded only for a probe with a pattern: ticks without one never pay for it.
      const { patternFailure } = await import("../../runtime/pattern-match.js");
      const timeoutMs = ctx.service?.probe.timeoutMs;
      const deadline = { signal, clock: ctx.clock, startedAt, timeoutMs };
      const failure = await patternFailure("stdout", matches, result.stdout, deadline);
      if (failure !== undefined) return fail(failure);
    }
    return { ok: true, latencyMs, detail: `exit ${exitCode}`, facts };
  },
} satisfies ProbeHandler<ExecProbeParams>;
