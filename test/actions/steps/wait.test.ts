import { afterEach, describe, expect, it, vi } from "vitest";
import { waitStep as waitStepImpl, type WaitParams } from "../../../src/actions/steps/wait.js";
import type { StepHandler } from "../../../src/actions/types.js";
import { makeContext, never, settings } from "../helpers.js";

/** Typed through the interface, as the runtime calls it. */
const waitStep: StepHandler<WaitParams> = waitStepImpl;

describe("wait step", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sleeps on the injected clock for the duration", async () => {
    vi.useFakeTimers();
    let done = false;
    const running = waitStep.run(makeContext(), { for: "2s" }, never()).then((r) => {
      done = true;
      return r;
    });
    await vi.advanceTimersByTimeAsync(1999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await running).toEqual({ ok: true, detail: "waited 2s" });
  });

  it("ends early, failed, when its signal aborts", async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const running = waitStep.run(makeContext(), { for: "1h" }, controller.signal);
    controller.abort();
    expect(await running).toEqual({ ok: false, detail: "wait 1h: aborted" });
  });

  it("accepts milliseconds as a number and refuses what is not a duration", async () => {
    expect((await waitStep.run(makeContext(), { for: 5 }, never())).ok).toBe(true);
    expect((await waitStep.run(makeContext(), { for: "later" }, never())).detail).toBe(
      'invalid parameter for: "later" is not a duration like 2s or 500ms',
    );
  });

  it("describes itself", () => {
    expect(waitStep.describe({ for: "2s" }, { settings })).toBe("wait 2s");
  });
});
