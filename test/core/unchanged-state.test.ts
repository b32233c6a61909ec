/**
 * A tick that changes nothing in a concern hands back the object it was given (the session then leaves
 * that file alone), and one that changes something builds a new one with the same content the old
 * code built. Plus the record helpers those rest on.
 */
import { describe, expect, it } from "vitest";
import type { Config } from "../../src/config/model.js";
import { applyChecks, finishTick, type Observation } from "../../src/core/decide.js";
import { emptyState, recordFrom, sameEntries, sameFields, type UpkeepState } from "../../src/core/state.js";
import { baselineConfig, evaluate, MINUTE, roundTrip } from "./config-fixture.js";

const TICK = 5 * MINUTE;

function observe(config: Config, down: readonly string[], at: number): Record<string, Observation> {
  return Object.fromEntries(
    config.services.map((s) => [
      s.id,
      { ok: !down.includes(s.id), latencyMs: 1, detail: down.includes(s.id) ? "refused" : "ok", at },
    ]),
  );
}

/** applyChecks then finishTick, the way the tick flow runs them when nothing needs healing. */
function quietTick(config: Config, state: UpkeepState, at: number, down: readonly string[] = []) {
  const observations = observe(config, down, at);
  const checked = applyChecks(config, state, observations, at);
  const finished = finishTick(config, checked.state, observations, {}, at, {
    silences: config.alerts.silences,
    evaluate,
  });
  return { checked: checked.state, state: finished.state, alerts: finished.alerts };
}

describe("a tick that changes nothing keeps its state objects", () => {
  const config = baselineConfig();
  // Two healthy ticks settle every record; what the third is given comes from the files (a JSON round-trip).
  let state = emptyState();
  for (let i = 0; i < 2; i += 1) state = quietTick(config, state, i * TICK).state;
  const loaded = roundTrip(state);

  it("breakers, heals and alerts stay the same objects; services (probe times) do not", () => {
    const next = quietTick(config, loaded, 2 * TICK);
    expect(next.checked.breakers).toBe(loaded.breakers);
    expect(next.state.breakers).toBe(loaded.breakers);
    expect(next.state.heals).toBe(loaded.heals);
    expect(next.state.alerts).toBe(loaded.alerts);
    expect(next.state.services).not.toBe(loaded.services);
  });

  it("a service going down gives new alert records, equal to what a rebuild gives", () => {
    const next = quietTick(config, loaded, 2 * TICK, ["health-proxy"]);
    expect(next.state.alerts).not.toBe(loaded.alerts);
    expect(next.state.alerts.alerts["service-down-critical/health-proxy"]).toMatchObject({
      status: "pending",
      streak: 1,
    });
    // The same result as from a state that shares no object with the one the tick was given.
    expect(next.state).toEqual(quietTick(config, roundTrip(loaded), 2 * TICK, ["health-proxy"]).state);
  });

  it("a breaker written by an older upkeep (no heal verdicts) is upgraded, so it changes", () => {
    const old = roundTrip(loaded);
    for (const breaker of Object.values(old.breakers.breakers)) delete breaker.failStreak;
    expect(quietTick(config, old, 2 * TICK).state.breakers).not.toBe(old.breakers);
  });

  it("a removed service's alerts are dropped, so the alert records change", () => {
    const fewer: Config = { ...config, services: config.services.slice(1) };
    const next = quietTick(fewer, loaded, 2 * TICK);
    expect(next.state.alerts).not.toBe(loaded.alerts);
    expect(Object.keys(next.state.alerts.alerts).some((k) => k.endsWith(`/${config.services[0]?.id}`))).toBe(
      false,
    );
  });
});

describe("recordFrom", () => {
  it("is Object.fromEntries: same keys in the same order, later duplicates win", () => {
    const entries: [string, number][] = [
      ["b", 1],
      ["a", 2],
      ["10", 3],
      ["2", 4],
      ["b", 5],
      ["constructor", 6],
    ];
    const made = recordFrom(entries);
    expect(made).toEqual(Object.fromEntries(entries));
    expect(Object.keys(made)).toEqual(Object.keys(Object.fromEntries(entries)));
    expect(Object.getPrototypeOf(made)).toBe(Object.prototype);
    expect(JSON.stringify(made)).toBe(JSON.stringify(Object.fromEntries(entries)));
    expect(JSON.stringify(recordFrom(new Map(entries)))).toBe(JSON.stringify(Object.fromEntries(entries)));
  });

  it("keeps `__proto__` an own key and leaves the prototype alone", () => {
    for (const made of [
      recordFrom([["__proto__", { polluted: true }]]),
      recordFrom(new Map([["__proto__", { polluted: true }]])),
    ]) {
      expect(Object.getPrototypeOf(made)).toBe(Object.prototype);
      expect(Object.hasOwn(made, "__proto__")).toBe(true);
      expect(JSON.stringify(made)).toBe('{"__proto__":{"polluted":true}}');
    }
  });

  it("holds thousands of keys like fromEntries does", () => {
    const entries = Array.from({ length: 3000 }, (_, i): [string, number] => [`svc-${i}`, i]);
    expect(recordFrom(entries)).toEqual(Object.fromEntries(entries));
  });
});

describe("sameEntries and sameFields", () => {
  const a = { x: 1 };
  const b = { x: 1 };
  it("sameEntries: the same keys in the same order with the same values", () => {
    const record = { one: a, two: b };
    expect(
      sameEntries(
        record,
        new Map([
          ["one", a],
          ["two", b],
        ]),
      ),
    ).toBe(true);
    expect(
      sameEntries(
        record,
        new Map([
          ["two", b],
          ["one", a],
        ]),
      ),
    ).toBe(false);
    expect(sameEntries(record, new Map([["one", a]]))).toBe(false);
    expect(
      sameEntries(
        record,
        new Map([
          ["one", a],
          ["two", { x: 1 }],
        ]),
      ),
    ).toBe(false);
    expect(sameEntries({}, new Map())).toBe(true);
  });

  it("sameFields: flat values and arrays of plain values, in field order", () => {
    expect(sameFields({ s: "CLOSED", n: null, r: [1, 2] }, { s: "CLOSED", n: null, r: [1, 2] })).toBe(true);
    expect(sameFields({ s: "CLOSED", r: [1, 2] }, { s: "CLOSED", r: [1, 3] })).toBe(false);
    expect(sameFields({ s: "CLOSED", r: [1] }, { r: [1], s: "CLOSED" })).toBe(false);
    expect(sameFields({ s: "CLOSED" }, { s: "CLOSED", extra: undefined })).toBe(false);
    expect(sameFields({ o: { x: 1 } }, { o: { x: 1 } })).toBe(false);
    expect(sameFields({ n: Number.NaN }, { n: Number.NaN })).toBe(false);
  });
});
