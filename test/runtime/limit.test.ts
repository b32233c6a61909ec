/** The tick's limiter: at most N tasks at once, started in the order asked, results and errors kept. */
import { describe, expect, it } from "vitest";
import { limiter } from "../../src/runtime/limit.js";

/** A task that waits until `release()`; records when it started. */
function gate(started: string[], id: string) {
  let release: (value: string) => void = () => {};
  const done = new Promise<string>((resolve) => {
    release = resolve;
  });
  return {
    task: () => {
      started.push(id);
      return done;
    },
    release: () => release(id),
  };
}

describe("limiter", () => {
  it("runs at most `concurrency` tasks at once, the next one as soon as one ends, in order", async () => {
    const limit = limiter(2);
    const started: string[] = [];
    const gates = ["a", "b", "c", "d"].map((id) => gate(started, id));
    const results = gates.map((g) => limit(g.task));
    expect(started).toEqual(["a", "b"]);
    gates[1]?.release();
    await results[1];
    expect(started).toEqual(["a", "b", "c"]);
    gates[0]?.release();
    gates[2]?.release();
    gates[3]?.release();
    expect(await Promise.all(results)).toEqual(["a", "b", "c", "d"]);
    expect(started).toEqual(["a", "b", "c", "d"]);
  });

  it("passes a rejection (or a synchronous throw) to its caller and goes on with the queue", async () => {
    const limit = limiter(1);
    const failed = limit(() => Promise.reject(new Error("no")));
    const threw = limit(() => {
      throw new Error("sync");
    });
    const ok = limit(() => Promise.resolve(3));
    await expect(failed).rejects.toThrow("no");
    await expect(threw).rejects.toThrow("sync");
    expect(await ok).toBe(3);
  });

  it("serves thousands of tasks with all in flight under a large bound", async () => {
    const limit = limiter(256);
    let inFlight = 0;
    let most = 0;
    const results = await Promise.all(
      Array.from({ length: 5000 }, (_, i) =>
        limit(async () => {
          inFlight += 1;
          most = Math.max(most, inFlight);
          await Promise.resolve();
          inFlight -= 1;
          return i;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(most).toBe(256);
  });

  it("refuses a bound that is not a positive integer", () => {
    expect(() => limiter(0)).toThrow(RangeError);
    expect(() => limiter(1.5)).toThrow(RangeError);
  });
});
