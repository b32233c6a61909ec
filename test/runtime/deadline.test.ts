/**
 * Deadlines: a child signal that aborts with its parent or on its own timer. Children sit behind one
 * listener on their parent, so a probe's start and end cost the same however many are in flight.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { deadlineSignal, DeadlineError } from "../../src/runtime/deadline.js";
import { growth } from "../core/op-count.js";

afterEach(() => vi.useRealTimers());

describe("deadlineSignal", () => {
  it("aborts on its own timer with a DeadlineError, and not after dispose", () => {
    vi.useFakeTimers();
    const timed = deadlineSignal(undefined, 100, "probe timeout");
    const disposed = deadlineSignal(undefined, 100, "probe timeout");
    disposed.dispose();
    vi.advanceTimersByTime(99);
    expect(timed.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(timed.signal.reason).toBeInstanceOf(DeadlineError);
    expect((timed.signal.reason as Error).message).toBe("probe timeout after 100 ms");
    expect(disposed.signal.aborted).toBe(false);
  });

  it("aborts every child still attached when the parent aborts, with the parent's reason", () => {
    const parent = new AbortController();
    const kept = deadlineSignal(parent.signal, 60_000, "a");
    const gone = deadlineSignal(parent.signal, 60_000, "b");
    gone.dispose();
    parent.abort(new Error("tick timeout"));
    expect(kept.signal.aborted).toBe(true);
    expect((kept.signal.reason as Error).message).toBe("tick timeout");
    expect(gone.signal.aborted).toBe(false);
    kept.dispose();
    // Born after: aborted at once.
    const late = deadlineSignal(parent.signal, 60_000, "c");
    expect(late.signal.aborted).toBe(true);
    late.dispose();
  });

  it("whenAborted: hooks run after the signal's own listeners, once; at once when already aborted", () => {
    vi.useFakeTimers();
    const deadline = deadlineSignal(undefined, 10, "t");
    const order: string[] = [];
    deadline.signal.addEventListener("abort", () => order.push("listener"));
    deadline.whenAborted(() => order.push("hook"));
    const forget = deadline.whenAborted(() => order.push("forgotten"));
    forget();
    vi.advanceTimersByTime(10);
    vi.advanceTimersByTime(10);
    expect(order).toEqual(["listener", "hook"]);
    deadline.whenAborted(() => order.push("late"));
    expect(order).toEqual(["listener", "hook", "late"]);
    deadline.dispose();
  });

  it("adds one listener to the parent however many children come and go (N and 2N: the same)", async () => {
    const listenersFor = (n: number): number => {
      const parent = new AbortController();
      let added = 0;
      const add = parent.signal.addEventListener.bind(parent.signal);
      parent.signal.addEventListener = ((...args: Parameters<typeof add>) => {
        added += 1;
        add(...args);
      }) as typeof add;
      // Like probes: some in flight at once, each disposed when it ends.
      const inFlight: ReturnType<typeof deadlineSignal>[] = [];
      for (let i = 0; i < n; i += 1) {
        inFlight.push(deadlineSignal(parent.signal, 60_000, "probe timeout"));
        if (inFlight.length > 64) inFlight.shift()?.dispose();
      }
      for (const d of inFlight) d.dispose();
      return added;
    };
    expect(listenersFor(500)).toBe(1);
    // The old way added (and, on dispose, searched the parent's list for) one listener per child.
    expect(await growth(500, listenersFor)).toBe(1);
  });
});
