/**
 * Matching a probe's pattern (`bodyMatches`, `stdoutMatches`) against text the endpoint controls, in
 * time the probe's deadline bounds. JavaScript's RegExp backtracks and runs synchronously: `^(a+)+$`
 * against 30 `a`s and a `!` held the event loop, and with it every other probe and the tick's own
 * timeout, for minutes (issue 19). Even one quantifier is quadratic: `a*b` against 64 KiB of `a` took 13 s.
 *
 * Two ways to match, same syntax and same answers (JavaScript RegExp, no flags):
 * - V8's linear-time engine (the `l` flag) in this thread, when it accepts the pattern and the work
 *   (text length x pattern length) is small. On Node 20 and 22 that engine is an interpreter (about
 *   1-3 µs per text character per pattern character), so larger texts would block the loop too.
 * - Otherwise a worker thread with the ordinary engine, terminated when the budget ends. Spawning one costs
 *   ~50-90 ms, paid only by probes whose pattern or text is outside the first case.
 * This module is loaded only when a probe has a pattern, so a tick without one pays for none of it.
 */
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";
import type { Clock } from "./clock.js";

export type MatchOutcome =
  | { readonly kind: "done"; readonly matched: boolean }
  /** The budget ended first; `ms` is the budget. */
  | { readonly kind: "timeout"; readonly ms: number }
  | { readonly kind: "aborted" }
  | { readonly kind: "error"; readonly message: string };

export interface MatchOptions {
  /** How long the match may take, in ms. */
  readonly budgetMs: number;
  /** The probe's signal: an abort (tick timeout, shutdown) stops the match at once. */
  readonly signal: AbortSignal;
}

/**
 * Text length x pattern length up to which the linear engine runs in this thread: at the slowest
 * measured rate (Node 20, ~3 µs per unit) a few tens of ms. A health body of 1 KiB with a pattern of
 * 16 characters stays here; a 64 KiB page goes to a worker.
 */
export const INLINE_WORK_LIMIT = 16_384;

/** What the worker runs: plain CommonJS, so the bundled CLI needs no separate worker file. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
let reply;
try {
  reply = { matched: new RegExp(workerData.source).test(workerData.input) };
} catch (error) {
  reply = { error: String((error && error.message) || error) };
}
parentPort.postMessage(reply);
`;

let linearEnabled = false;

/** The pattern compiled for V8's linear engine, or undefined when this Node or V8 cannot run it so. */
export function linearRegExp(source: string): RegExp | undefined {
  if (!linearEnabled) {
    linearEnabled = true;
    try {
      // Only makes the `l` flag parse; no other RegExp changes behaviour. Were a later V8 to drop or
      // freeze the flag, `l` stops parsing and every pattern takes the worker path.
      setFlagsFromString("--enable-experimental-regexp-engine");
    } catch {
      // the worker path covers it
    }
  }
  try {
    // eslint-disable-next-line no-invalid-regexp -- `l` parses once the V8 flag above is set
    return new RegExp(source, "l");
  } catch {
    return undefined;
  }
}

/** Tests `source` (a valid JavaScript pattern, no flags) against `input` within the budget. */
export async function matchPattern(
  source: string,
  input: string,
  options: MatchOptions,
): Promise<MatchOutcome> {
  if (options.signal.aborted) return { kind: "aborted" };
  if (input.length * Math.max(1, source.length) <= INLINE_WORK_LIMIT) {
    const linear = linearRegExp(source);
    if (linear !== undefined) return { kind: "done", matched: linear.test(input) };
  }
  return inWorker(source, input, options);
}

function inWorker(source: string, input: string, { budgetMs, signal }: MatchOptions): Promise<MatchOutcome> {
  const ms = Math.max(0, Math.floor(budgetMs));
  if (ms === 0) return Promise.resolve({ kind: "timeout", ms });
  return new Promise((resolve) => {
    // The budget is measured from here: creating a worker can block this thread for a while on a busy
    // machine, and a timer started after it would fire past the probe's own deadline.
    const timer = setTimeout(() => settle({ kind: "timeout", ms }), ms);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { source, input },
      // A 64 KiB text needs little; the limits keep a pathological pattern from growing the process.
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    let settled = false;
    const settle = (outcome: MatchOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      // Not awaited: the outcome must land before the probe's deadline; termination interrupts the
      // running RegExp within a few ms.
      void worker.terminate();
      resolve(outcome);
    };
    const onAbort = (): void => settle({ kind: "aborted" });
    signal.addEventListener("abort", onAbort, { once: true });
    worker.once("message", (reply: { matched?: boolean; error?: string }) =>
      settle(
        reply.error !== undefined
          ? { kind: "error", message: reply.error }
          : { kind: "done", matched: reply.matched === true },
      ),
    );
    worker.once("error", (error) => settle({ kind: "error", message: error.message }));
    worker.once("exit", (code) => settle({ kind: "error", message: `matcher stopped (exit ${code})` }));
  });
}

/** Kept back from the probe's timeout so the pattern's own verdict lands before the runner's deadline. */
const DEADLINE_MARGIN_MS = 25;
/** When the handler runs without a service (direct calls): the built-in probe timeout. */
const DEFAULT_PROBE_TIMEOUT_MS = 2_000;

/** Where a probe stands against its deadline (the runner aborts `signal` at `timeoutMs` after start). */
export interface ProbeDeadline {
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** When the handler started (clock ms). */
  readonly startedAt: number;
  /** The service's probe timeout; undefined when the handler runs without a service. */
  readonly timeoutMs: number | undefined;
}

/**
 * A probe's verdict on `pattern` against `input` (named `what`, e.g. "body"): undefined when it matches,
 * else the failure detail. The match gets what is left of the probe's timeout.
 */
export async function patternFailure(
  what: string,
  pattern: RegExp,
  input: string,
  deadline: ProbeDeadline,
): Promise<string | undefined> {
  const { signal, clock, startedAt } = deadline;
  const timeoutMs = deadline.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const budgetMs = timeoutMs - (clock.now() - startedAt) - DEADLINE_MARGIN_MS;
  const outcome = await matchPattern(pattern.source, input, { budgetMs, signal });
  const shown = `/${pattern.source}/`;
  switch (outcome.kind) {
    case "done":
      return outcome.matched ? undefined : `${what} does not match ${shown}`;
    case "timeout":
      return `${what} pattern ${shown} did not finish within ${outcome.ms}ms`;
    case "aborted":
      return `${what} pattern ${shown} was stopped (${abortWhy(signal)})`;
    case "error":
      return `${what} pattern ${shown} could not be evaluated: ${outcome.message}`;
  }
}

function abortWhy(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : "aborted";
}
