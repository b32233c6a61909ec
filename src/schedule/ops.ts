/**
 * Install and uninstall as data: a list of operations (make a folder, write a file, remove a file, run a
 * command) built by pure functions, then either executed or, with --dry-run, printed. Both come from the
 * same list, so a dry run shows exactly what a real run would do.
 */
import { chmod, mkdir, unlink } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { writeFileAtomic } from "../runtime/atomic-file.js";
import { formatCommandLine, runProcess, type ProcessResult } from "../runtime/process.js";
import { waitForAnswer } from "./serve-job.js";

export interface Verdict {
  readonly ok: boolean;
  readonly detail: string;
}

/** Judges a command's result; the default: exit 0 is success. */
export type Judge = (result: ProcessResult) => Verdict;

export interface RunStep {
  readonly argv: readonly string[];
  readonly judge?: Judge;
  /** Runs it again after a failure (bounded), for commands that can fail while the system catches up. */
  readonly retry?: { readonly attempts: number; readonly delayMs: number };
}

/** keepGoing: a failure is reported but the next operations still run (uninstall removes files anyway). */
export type Op = { readonly keepGoing?: boolean } & (
  | { readonly kind: "mkdir"; readonly path: string }
  | { readonly kind: "write"; readonly path: string; readonly content: string; readonly mode: number }
  | { readonly kind: "remove"; readonly path: string }
  /** Waits (bounded) until a TCP address accepts connections: a started server really listens. */
  | {
      readonly kind: "connect";
      /** No file involved (typed so that code reading `path` off every non-run op still compiles). */
      readonly path?: undefined;
      readonly host: string;
      readonly port: number;
      readonly timeoutMs: number;
      /** Added to the failure: where to look for why. */
      readonly hint?: string;
    }
  | {
      readonly kind: "run";
      readonly step: RunStep;
      /** Shown in a dry run: when the result is fine although the command failed, and the like. */
      readonly note?: string;
      /**
       * What to run instead when the tool does not know the modern subcommand (legacy launchctl);
       * null: nothing to run in legacy mode. Once one command needed the fallback, the rest go straight to theirs.
       */
      readonly legacy?: RunStep | null;
    }
);

export interface OpReport {
  readonly what: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly result?: ProcessResult;
}

export interface ExecuteOptions {
  /** True when a result says the tool does not know the subcommand. */
  readonly isUnsupported?: (result: ProcessResult) => boolean;
  readonly timeoutMs?: number;
}

export interface ExecuteReport {
  readonly ok: boolean;
  /** True when the legacy fallback was used. */
  readonly legacy: boolean;
  readonly reports: readonly OpReport[];
}

const COMMAND_TIMEOUT_MS = 30_000;

export const describeArgv = (argv: readonly string[]): string => formatCommandLine(argv);

export function firstLine(text: string): string {
  return (text.split("\n").find((line) => line.trim() !== "") ?? "").trim();
}

const hostPort = (a: { host: string; port: number }): string =>
  a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;

/** exit 0 = ok; otherwise the exit status and the first line the command printed. */
export const exitZero: Judge = (r) => {
  if (r.error !== undefined) return { ok: false, detail: r.error };
  if (r.timedOut) return { ok: false, detail: "timed out" };
  if (r.exitCode === 0) return { ok: true, detail: "ok" };
  const why = firstLine(r.stderr) || firstLine(r.stdout);
  const status = r.exitCode === null ? `signal ${r.signal ?? "?"}` : `exit ${r.exitCode}`;
  return { ok: false, detail: `${status}${why === "" ? "" : `: ${why}`}` };
};

/** The text of a dry run: every folder, file (with its content) and command, in order. */
export function describeOps(ops: readonly Op[], tool = "the tool"): string {
  const lines: string[] = ["Dry run: nothing is written and no command is run. A real run would:"];
  for (const op of ops) {
    if (op.kind === "mkdir") lines.push(`  create folder ${op.path}`);
    if (op.kind === "remove") lines.push(`  remove ${op.path} (if present)`);
    if (op.kind === "connect")
      lines.push(`  wait up to ${op.timeoutMs / 1000}s for ${hostPort(op)} to accept a connection`);
    if (op.kind === "write") {
      lines.push(`  write ${op.path} (mode ${op.mode.toString(8).padStart(4, "0")}):`);
      lines.push(
        ...op.content
          .trimEnd()
          .split("\n")
          .map((line) => `    | ${line}`),
      );
    }
    if (op.kind === "run") {
      lines.push(`  run ${describeArgv(op.step.argv)}`);
      if (op.note !== undefined) lines.push(`      ${op.note}`);
      if (op.legacy !== undefined) {
        const legacy = op.legacy === null ? "skip it" : `run ${describeArgv(op.legacy.argv)}`;
        lines.push(`      (if ${tool} does not know "${op.step.argv[1] ?? ""}": ${legacy})`);
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Runs the operations in order and stops at the first failure, except of a keepGoing one. */
export async function executeOps(ops: readonly Op[], options: ExecuteOptions = {}): Promise<ExecuteReport> {
  const reports: OpReport[] = [];
  let legacy = false;
  let ok = true;
  const run = async (step: RunStep): Promise<OpReport> => {
    const attempts = Math.max(1, step.retry?.attempts ?? 1);
    for (let attempt = 1; ; attempt++) {
      const result = await runProcess(step.argv, { timeoutMs: options.timeoutMs ?? COMMAND_TIMEOUT_MS });
      const verdict = (step.judge ?? exitZero)(result);
      const unsupported = options.isUnsupported?.(result) === true;
      if (verdict.ok || unsupported || result.error !== undefined || attempt >= attempts) {
        const tries = attempt > 1 ? ` (attempt ${attempt})` : "";
        return { what: describeArgv(step.argv), ok: verdict.ok, detail: `${verdict.detail}${tries}`, result };
      }
      reports.push({
        what: describeArgv(step.argv),
        ok: true,
        detail: `${verdict.detail}; trying again`,
        result,
      });
      await delay(step.retry?.delayMs ?? 0);
    }
  };
  for (const op of ops) {
    let report: OpReport;
    if (op.kind === "run") {
      if (legacy && op.legacy !== undefined) {
        if (op.legacy === null) continue;
        report = await run(op.legacy);
      } else {
        report = await run(op.step);
        if (op.legacy !== undefined && report.result && options.isUnsupported?.(report.result) === true) {
          legacy = true;
          reports.push({ ...report, ok: true, detail: "not supported here: using the legacy command" });
          if (op.legacy === null) continue;
          report = await run(op.legacy);
        }
      }
    } else if (op.kind === "connect") {
      report = await connectOp(op);
    } else {
      report = await fileOp(op);
    }
    reports.push(report);
    if (!report.ok) {
      ok = false;
      if (op.keepGoing !== true) return { ok, legacy, reports };
    }
  }
  return { ok, legacy, reports };
}

async function connectOp(op: Extract<Op, { kind: "connect" }>): Promise<OpReport> {
  const started = Date.now();
  const ok = await waitForAnswer(op, op.timeoutMs);
  const took = ((Date.now() - started) / 1000).toFixed(1);
  return {
    what: `connect to ${hostPort(op)}`,
    ok,
    detail: ok
      ? `answers (after ${took}s)`
      : `no answer within ${op.timeoutMs / 1000}s${op.hint === undefined ? "" : ` (${op.hint})`}`,
  };
}

async function fileOp(op: Extract<Op, { kind: "mkdir" | "write" | "remove" }>): Promise<OpReport> {
  try {
    if (op.kind === "mkdir") {
      await mkdir(op.path, { recursive: true, mode: 0o755 });
      return { what: `create folder ${op.path}`, ok: true, detail: "ok" };
    }
    if (op.kind === "write") {
      await writeFileAtomic(op.path, op.content, op.mode);
      // The temp file was created under the umask; launchd and systemd read these as the user, but 0644 is the norm.
      await chmod(op.path, op.mode);
      return {
        what: `write ${op.path}`,
        ok: true,
        detail: `ok (mode ${op.mode.toString(8).padStart(4, "0")})`,
      };
    }
    try {
      await unlink(op.path);
      return { what: `remove ${op.path}`, ok: true, detail: "removed" };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        return { what: `remove ${op.path}`, ok: true, detail: "was not there" };
      }
      throw error;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { what: `${op.kind} ${op.path}`, ok: false, detail: `failed: ${code}` };
  }
}

/** One line per operation, for the text output of install/uninstall. */
export function formatReports(report: ExecuteReport): string {
  return report.reports.map((r) => `${r.ok ? "ok  " : "FAIL"} ${r.what}: ${r.detail}\n`).join("");
}
