import { emptyHealBreaker } from "../../src/core/heal-breaker.js";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canAttempt } from "../../src/core/breaker.js";
import { emptyBreaker, type BreakersState } from "../../src/core/state.js";
import { normalize } from "../../src/config/normalize.js";
import { acquireLock } from "../../src/runtime/lock.js";
import { runMain, sandbox, type Sandbox } from "../schedule/helpers.js";

let box: Sandbox;
let file: string;
beforeEach(() => {
  box = sandbox();
  file = join(box.stateDir, "breakers.json");
});
afterEach(() => box.cleanup());

const breaker = (...args: string[]) => runMain(["breaker", ...args, "--rules", box.rules]);
const stored = (): BreakersState => JSON.parse(readFileSync(file, "utf8")) as BreakersState;

/** The breaker settings the rules give boss-api (defaults). */
const settings = normalize({
  rulesDir: "/r",
  servicesFile: "/r/services.yaml",
  services: { version: 1, services: { x: { probe: { type: "tcp", port: 1 } } } } as never,
  env: {},
}).services[0]!.breaker;

describe("upkeep breaker isolate", () => {
  it("opens the breaker by hand for --until, and the tick then refuses heals", async () => {
    const before = Date.now();
    const result = await breaker("isolate", "boss-api", "--until", "30m");
    expect(result.code).toBe(0);
    const state = stored().breakers["boss-api"]!;
    expect(state).toMatchObject({ state: "OPEN", isolated: true, failures: 0 });
    expect(state.openUntil).toBeGreaterThanOrEqual(before + 30 * 60_000);
    expect(state.openUntil).toBeLessThanOrEqual(Date.now() + 30 * 60_000);
    expect(canAttempt(settings, state, Date.now())).toMatchObject({ allowed: false, reason: "isolated" });
    expect(result.stdout).toContain("Boss API (boss-api): breaker OPEN, isolated until");
    expect(result.stdout).toContain("(30m)");
  });

  it("without --until, isolates until reset", async () => {
    const result = await breaker("isolate", "boss-api", "--format", "json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      service: "boss-api",
      action: "isolate",
      breaker: { state: "OPEN", openUntil: null, isolated: true },
    });
    expect(canAttempt(settings, stored().breakers["boss-api"]!, Date.now() + 365 * 86_400_000).allowed).toBe(
      false,
    );
  });
});

describe("upkeep breaker reset", () => {
  it("closes the breaker and leaves the other services' breakers as they were", async () => {
    mkdirSync(box.stateDir, { recursive: true });
    const other = { ...emptyBreaker(), state: "OPEN" as const, openedAt: 1, openUntil: 2, level: 1 };
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        breakers: { api: other, "boss-api": { ...other, isolated: true, openUntil: null } },
      }),
    );
    const result = await breaker("reset", "boss-api");
    expect(result.code).toBe(0);
    // Reset clears the heal verdicts too: no failed heals in a row, no longer given up.
    expect(stored().breakers).toEqual({ api: other, "boss-api": emptyHealBreaker() });
    expect(result.stdout).toContain("breaker CLOSED");
  });
});

describe("refusals", () => {
  it("exits 3 and changes nothing while a tick holds the lock", async () => {
    await breaker("isolate", "api");
    const before = readFileSync(file, "utf8");
    const release = await acquireLock(box.stateDir, { owner: "upkeep run" });
    try {
      for (const args of [
        ["reset", "api"],
        ["isolate", "boss-api", "--until", "1h"],
      ]) {
        const result = await breaker(...args);
        expect(result.code).toBe(3);
        expect(result.stderr).toContain("a tick is running");
        expect(result.stderr).toContain("upkeep run");
      }
    } finally {
      await release();
    }
    expect(readFileSync(file, "utf8")).toBe(before);
    expect((await breaker("reset", "api")).code).toBe(0);
  });

  it("exits 2 for an unknown service, with a did-you-mean", async () => {
    const result = await breaker("reset", "bos-api");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown service "bos-api" (did you mean "boss-api"?)');
    expect(existsSync(file)).toBe(false);
  });

  it("exits 2 for a bad action, a missing service, --until with reset, or a bad duration", async () => {
    expect((await breaker("rest", "api")).stderr).toContain('did you mean "reset"');
    for (const args of [
      ["rest", "api"],
      ["reset"],
      ["reset", "api", "--until", "1h"],
      ["isolate", "api", "--until", "soon"],
    ]) {
      expect((await breaker(...args)).code).toBe(2);
    }
    expect(existsSync(file)).toBe(false);
  });
});
