/** wait: sleeps on the injected clock (so fake timers work); ends early when the signal aborts. */
import { formatDuration } from "../../duration.js";
import { abortDetail, loadSchema, paramFailure, toDurationMs } from "../support.js";
import type { StepHandler, StepResult } from "../types.js";

export type WaitParams = {
  /** Duration, e.g. 2s. */
  for: string | number;
};

export const waitStep = {
  name: "wait",
  kind: "step",
  description: "Waits for a duration.",
  get schema() {
    return loadSchema("step", "wait");
  },
  sideEffects: "none",
  describe: (params) => `wait ${String(params.for)}`,
  async run(ctx, params, signal): Promise<StepResult> {
    let ms: number;
    try {
      ms = toDurationMs(params.for, "for");
    } catch (error) {
      return { ok: false, detail: paramFailure(error) };
    }
    try {
      await ctx.clock.sleep(ms, signal);
    } catch {
      return { ok: false, detail: `wait ${formatDuration(ms)}: ${abortDetail(signal)}` };
    }
    return { ok: true, detail: `waited ${formatDuration(ms)}` };
  },
} satisfies StepHandler<WaitParams>;
