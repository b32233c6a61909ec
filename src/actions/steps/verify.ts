/**
 * verify: re-runs the service's probe with exponential backoff until it passes `successes` times in a
 * row or the step's signal (its timeout, 30 s by default) aborts. Sleeps on ctx.clock so fake timers work.
 */
import { formatDuration } from "../../duration.js";
import { abortDetail, loadSchema, paramFailure, toDurationMs, toInteger } from "../support.js";
import type { ProbeResult, StepHandler, StepResult } from "../types.js";

export type VerifyParams = {
  /** First retry delay; doubles after each failed attempt. Default 500ms. */
  interval?: string | number;
  /** Cap of the retry delay. Default 5s. */
  maxInterval?: string | number;
  /** Consecutive passing probes needed. Default 1. */
  successes?: number | string;
};

/** A hard bound on attempts, on top of the signal (every loop bounded in count and time). */
const MAX_ATTEMPTS = 10_000;

export const verifyStep = {
  name: "verify",
  kind: "step",
  description: "Re-probes the service with backoff until it passes or the step times out.",
  get schema() {
    return loadSchema("step", "verify");
  },
  sideEffects: "none",
  describe: (params) =>
    `verify: re-probe until ${String(params.successes ?? 1)} consecutive pass(es), ` +
    `backoff ${String(params.interval ?? "500ms")}..${String(params.maxInterval ?? "5s")}`,
  async run(ctx, params, signal): Promise<StepResult> {
    let interval: number;
    let maxInterval: number;
    let needed: number;
    try {
      interval = params.interval === undefined ? 500 : toDurationMs(params.interval, "interval");
      maxInterval = params.maxInterval === undefined ? 5000 : toDurationMs(params.maxInterval, "maxInterval");
      needed = params.successes === undefined ? 1 : toInteger(params.successes, "successes", 1);
    } catch (error) {
      return { ok: false, detail: paramFailure(error) };
    }
    if (ctx.probe === undefined)
      return { ok: false, detail: "verify needs the service's probe (none in this context)" };
    let delay = Math.max(1, interval);
    let streak = 0;
    let last: ProbeResult | undefined;
    let attempts = 0;
    const started = ctx.clock.now();
    while (attempts < MAX_ATTEMPTS && !signal.aborted) {
      attempts++;
      last = await ctx.probe(signal);
      if (signal.aborted) break;
      if (last.ok) {
        streak++;
        if (streak >= needed) {
          const took = formatDuration(ctx.clock.now() - started);
          return { ok: true, detail: `passed (${last.detail}) after ${attempts} attempt(s) in ${took}` };
        }
        delay = Math.max(1, interval);
      } else {
        streak = 0;
      }
      try {
        await ctx.clock.sleep(delay, signal);
      } catch {
        break;
      }
      if (!last.ok) delay = Math.min(delay * 2, Math.max(maxInterval, interval));
    }
    const why = signal.aborted ? abortDetail(signal) : `gave up after ${attempts} attempts`;
    return {
      ok: false,
      detail: `not passing (${why}, ${attempts} attempt(s)): ${last?.detail ?? "never probed"}`,
    };
  },
} satisfies StepHandler<VerifyParams>;
