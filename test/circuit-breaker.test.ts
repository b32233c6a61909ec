import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  BreakerOpenError,
  CircuitBreaker,
  isUpkeepError,
  UpkeepError,
  type BreakerSnapshot,
} from "../src/index.js";
import { Children, distMissing } from "./fixtures/state-children.js";

let dir: string;
const children = new Children();
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "upkeep-breaker-"));
});
afterEach(async () => {
  await children.killAll();
  await rm(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);
function fakeClock(start = T0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}
const down = (): Promise<never> => Promise.reject(new Error("down"));
async function failTimes(breaker: CircuitBreaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await expect(breaker.fire(down)).rejects.toThrow("down");
}
async function openError(promise: Promise<unknown>): Promise<BreakerOpenError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof BreakerOpenError))
    throw new Error(`expected BreakerOpenError, got ${String(error)}`);
  return error;
}

describe.each([
  ["in memory", (): string | undefined => undefined],
  ["with a state file", (): string | undefined => join(dir, "breakers.json")],
])("CircuitBreaker %s: the baseline 5 / 2 / 60 s", (_label, stateFile) => {
  const make = (clock: { now: () => number }): CircuitBreaker => {
    const file = stateFile();
    return new CircuitBreaker("boss-api", file === undefined ? { clock } : { clock, stateFile: file });
  };

  it("stays CLOSED through 4 consecutive failures and opens on the 5th", async () => {
    const clock = fakeClock();
    const breaker = make(clock);
    expect(breaker.getState()).toEqual({ state: "CLOSED", failures: 0, successes: 0, nextAttempt: 0 });
    await failTimes(breaker, 4);
    expect(breaker.getState()).toEqual({ state: "CLOSED", failures: 4, successes: 0, nextAttempt: 0 });
    await failTimes(breaker, 1);
    expect(breaker.getState()).toEqual({
      state: "OPEN",
      failures: 0,
      successes: 0,
      nextAttempt: T0 + 60_000,
    });
  });

  it("a success in CLOSED resets the consecutive failure count", async () => {
    const breaker = make(fakeClock());
    await failTimes(breaker, 4);
    expect(await breaker.fire(() => "fine")).toBe("fine");
    await failTimes(breaker, 4);
    expect(breaker.getState().state).toBe("CLOSED");
  });

  it("fast-fails while OPEN without calling fn, then half-opens after 60 s and closes after 2 successes", async () => {
    const clock = fakeClock();
    const breaker = make(clock);
    await failTimes(breaker, 5);
    clock.advance(59_999);
    let called = 0;
    const error = await openError(breaker.fire(() => called++));
    expect(called).toBe(0);
    expect(error.code).toBe("E_BREAKER_OPEN");
    expect(isUpkeepError(error, "E_BREAKER_OPEN")).toBe(true);
    expect(error.details).toEqual({ name: "boss-api", retryAt: T0 + 60_000 });
    expect(error.retryAt).toBe(T0 + 60_000);
    expect(error.message).toContain("boss-api");

    clock.advance(1);
    expect(breaker.getState()).toEqual({ state: "HALF_OPEN", failures: 0, successes: 0, nextAttempt: 0 });
    expect(await breaker.fire(() => ++called)).toBe(1);
    expect(breaker.getState()).toMatchObject({ state: "HALF_OPEN", successes: 1 });
    await breaker.fire(() => ++called);
    expect(breaker.getState()).toEqual({ state: "CLOSED", failures: 0, successes: 0, nextAttempt: 0 });
  });

  it("re-opens for another 60 s on a failure in HALF_OPEN", async () => {
    const clock = fakeClock();
    const breaker = make(clock);
    await failTimes(breaker, 5);
    clock.advance(60_000);
    await breaker.fire(() => "one good");
    await failTimes(breaker, 1);
    expect(breaker.getState()).toEqual({
      state: "OPEN",
      failures: 0,
      successes: 0,
      nextAttempt: T0 + 120_000,
    });
  });

  it("re-throws fn's own error object and returns fn's value", async () => {
    const breaker = make(fakeClock());
    const boom = new TypeError("boom");
    await expect(breaker.fire(() => Promise.reject(boom))).rejects.toBe(boom);
    await expect(
      breaker.fire(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await breaker.fire(async () => ({ body: 1 }))).toEqual({ body: 1 });
    expect(breaker.getState().failures).toBe(0);
  });

  it("isolate() holds it OPEN until reset(), with no retry time", async () => {
    const clock = fakeClock();
    const breaker = make(clock);
    const isolated: BreakerSnapshot = await breaker.isolate();
    expect(isolated).toEqual({
      state: "OPEN",
      failures: 0,
      successes: 0,
      nextAttempt: Number.POSITIVE_INFINITY,
    });
    clock.advance(10 * 86_400_000);
    const error = await openError(breaker.fire(() => "never"));
    expect(error.retryAt).toBeNull();
    expect(error.message).toContain("until reset");
    expect(await breaker.reset()).toEqual({ state: "CLOSED", failures: 0, successes: 0, nextAttempt: 0 });
    expect(await breaker.fire(() => "runs")).toBe("runs");
  });

  it("isolate(until) fast-fails until that time", async () => {
    const clock = fakeClock();
    const breaker = make(clock);
    await breaker.isolate(T0 + 5_000);
    expect((await openError(breaker.fire(() => 1))).retryAt).toBe(T0 + 5_000);
    clock.advance(5_000);
    expect(await breaker.fire(() => 1)).toBe(1);
  });
});

describe("CircuitBreaker options", () => {
  it("honours custom thresholds and timeout", async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker("x", {
      failureThreshold: 2,
      successThreshold: 1,
      timeout: 1_000,
      clock,
    });
    await failTimes(breaker, 2);
    expect(breaker.getState()).toMatchObject({ state: "OPEN", nextAttempt: T0 + 1_000 });
    clock.advance(1_000);
    await breaker.fire(() => "ok");
    expect(breaker.getState().state).toBe("CLOSED");
  });

  it("re-opens a HALF_OPEN left without outcomes past halfOpenTimeout, and never does without it", async () => {
    const clock = fakeClock();
    const strict = new CircuitBreaker("x", {
      failureThreshold: 1,
      timeout: 1_000,
      halfOpenTimeout: 500,
      clock,
    });
    const lenient = new CircuitBreaker("y", { failureThreshold: 1, timeout: 1_000, clock });
    await failTimes(strict, 1);
    await failTimes(lenient, 1);
    clock.advance(1_000);
    await strict.fire(() => 1);
    await lenient.fire(() => 1);
    clock.advance(501);
    expect(strict.getState().state).toBe("OPEN");
    clock.advance(365 * 86_400_000);
    expect(lenient.getState()).toMatchObject({ state: "HALF_OPEN", successes: 1 });
  });

  it.each([
    [{ failureThreshold: 0 }],
    [{ successThreshold: 1.5 }],
    [{ timeout: -1 }],
    [{ timeout: Number.NaN }],
  ])("rejects invalid options %j with E_USAGE", (options) => {
    expect(() => new CircuitBreaker("x", options)).toThrow(UpkeepError);
    expect(() => new CircuitBreaker("x", options)).toThrow(/CircuitBreaker option/);
  });
});

describe("CircuitBreaker state file", () => {
  it("keeps several named breakers in one versioned file, and a new instance picks the state up", async () => {
    const stateFile = join(dir, "nested", "breakers.json");
    const clock = fakeClock();
    await failTimes(new CircuitBreaker("a", { stateFile, clock }), 5);
    await failTimes(new CircuitBreaker("b", { stateFile, clock }), 2);
    const stored = JSON.parse(await readFile(stateFile, "utf8")) as {
      version: number;
      breakers: Record<string, unknown>;
    };
    expect(stored.version).toBe(1);
    expect(Object.keys(stored.breakers).sort()).toEqual(["a", "b"]);
    expect(new CircuitBreaker("a", { stateFile, clock }).getState().state).toBe("OPEN");
    expect(new CircuitBreaker("b", { stateFile, clock }).getState()).toMatchObject({
      state: "CLOSED",
      failures: 2,
    });
  });

  it("writes nothing for outcomes that change nothing", async () => {
    const stateFile = join(dir, "breakers.json");
    const breaker = new CircuitBreaker("a", { stateFile });
    for (let i = 0; i < 3; i++) await breaker.fire(() => "ok");
    expect(await readdir(dir)).toEqual([]);
  });

  it("moves a corrupt file aside with a warning and starts CLOSED", async () => {
    const stateFile = join(dir, "breakers.json");
    await writeFile(stateFile, "{ torn");
    const warnings: string[] = [];
    const breaker = new CircuitBreaker("a", { stateFile, onWarning: (m) => warnings.push(m) });
    expect(breaker.getState().state).toBe("CLOSED");
    await failTimes(breaker, 1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("moved it to");
    expect((await readdir(dir)).filter((n) => n.startsWith("breakers.json.corrupt-"))).toHaveLength(1);
    expect(breaker.getState().failures).toBe(1);
  });

  it("refuses a file from a newer upkeep: fn is not called and the file is untouched", async () => {
    const stateFile = join(dir, "breakers.json");
    await writeFile(stateFile, '{"version": 2, "breakers": {}}');
    const breaker = new CircuitBreaker("a", { stateFile });
    let called = false;
    const error = await breaker.fire(() => (called = true)).catch((e: unknown) => e);
    expect(isUpkeepError(error, "E_STATE_VERSION")).toBe(true);
    expect(called).toBe(false);
    expect(() => breaker.getState()).toThrow(/upgrade upkeep/);
    expect(await readFile(stateFile, "utf8")).toBe('{"version": 2, "breakers": {}}');
  });

  it("rejects with E_STATE_IO, fn's error as cause, when a failure cannot be recorded", async () => {
    await writeFile(join(dir, "not-a-dir"), "");
    const breaker = new CircuitBreaker("a", { stateFile: join(dir, "not-a-dir", "breakers.json") });
    const boom = new Error("boom");
    const error = await breaker.fire(() => Promise.reject(boom)).catch((e: unknown) => e);
    expect(isUpkeepError(error, "E_STATE_IO")).toBe(true);
    expect((error as Error).cause).toBe(boom);
  });
});

describe("CircuitBreaker across processes", () => {
  const missing = distMissing("index.js");
  const skip = missing === undefined ? "" : ` [skipped: ${missing}]`;

  it.skipIf(missing !== undefined)(
    `two processes sharing a state file see each other's transitions${skip}`,
    async () => {
      const stateFile = join(dir, "breakers.json");
      const a = children.spawn("breaker-user.mjs", ["fail", stateFile, "boss-api", "5"]);
      expect(await a.waitFor((m) => m["done"] === true)).toMatchObject({ state: { state: "OPEN" } });

      const b = children.spawn("breaker-user.mjs", ["probe", stateFile, "boss-api"]);
      const seen = await b.waitFor((m) => "called" in m);
      expect(seen).toMatchObject({ called: false, code: "E_BREAKER_OPEN", state: { state: "OPEN" } });
      expect(seen["retryAt"]).toBeGreaterThan(Date.now());

      // And back: a reset here is seen by the next process, which may call again.
      await new CircuitBreaker("boss-api", { stateFile }).reset();
      const c = children.spawn("breaker-user.mjs", ["probe", stateFile, "boss-api"]);
      expect(await c.waitFor((m) => "called" in m)).toMatchObject({
        called: true,
        state: { state: "CLOSED" },
      });
    },
  );

  it.skipIf(missing !== undefined)(`4 processes recording failures at once lose none${skip}`, async () => {
    const stateFile = join(dir, "breakers.json");
    const options = JSON.stringify({ failureThreshold: 1000 });
    const users = Array.from({ length: 4 }, () =>
      children.spawn("breaker-user.mjs", ["fail", stateFile, "shared", "25", options]),
    );
    await Promise.all(users.map((u) => u.waitFor((m) => m["done"] === true)));
    expect(new CircuitBreaker("shared", { stateFile, failureThreshold: 1000 }).getState()).toMatchObject({
      state: "CLOSED",
      failures: 100,
    });
  });
});
