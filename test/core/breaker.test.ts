import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BreakerSettings } from "../../src/config/model.js";
import {
  canAttempt,
  maxLevel,
  openDurationMs,
  stepBreaker,
  type BreakerDecision,
  type BreakerEvent,
} from "../../src/core/breaker.js";
import { emptyBreaker, type BreakerState } from "../../src/core/state.js";
import { breakerSettings, MINUTE, roundTrip, SECOND } from "./config-fixture.js";

/** Feeds events at the given times, collecting every decision. */
function run(
  settings: BreakerSettings,
  events: [number, BreakerEvent][],
  start: BreakerState = emptyBreaker(),
) {
  let state = start;
  const decisions: BreakerDecision[] = [];
  for (const [at, event] of events) {
    const step = stepBreaker(settings, state, event, at);
    state = step.state;
    decisions.push(...step.decisions);
  }
  return { state, decisions };
}

const failure: BreakerEvent = { type: "failure" };
const success: BreakerEvent = { type: "success" };
const tick: BreakerEvent = { type: "tick" };

/** n events, one per second starting at `from`. */
function times(n: number, from: number, event: BreakerEvent): [number, BreakerEvent][] {
  return Array.from({ length: n }, (_, i) => [from + i * SECOND, event]);
}

describe("baseline: opens after 5 failures, half-opens after 60 s, closes after 2 successes", () => {
  const settings = breakerSettings();

  it("stays CLOSED through 4 consecutive failures and opens on the 5th", () => {
    const four = run(settings, times(4, 0, failure));
    expect(four.state.state).toBe("CLOSED");
    expect(four.state.failures).toBe(4);
    const five = stepBreaker(settings, four.state, failure, 4 * SECOND);
    expect(five.state.state).toBe("OPEN");
    expect(five.state.openUntil).toBe(4 * SECOND + 60 * SECOND);
    expect(five.decisions).toEqual([
      { type: "opened", reason: "failures", until: 64 * SECOND, durationMs: 60 * SECOND, level: 0 },
    ]);
  });

  it("a success resets the consecutive failure count", () => {
    const { state } = run(settings, [
      ...times(4, 0, failure),
      [5 * SECOND, success],
      ...times(4, 6 * SECOND, failure),
    ]);
    expect(state.state).toBe("CLOSED");
    expect(state.failures).toBe(4);
  });

  it("refuses attempts for exactly 60 s, then allows a HALF_OPEN trial", () => {
    const { state } = run(settings, times(5, 0, failure));
    const openedAt = 4 * SECOND;
    expect(canAttempt(settings, state, openedAt + 60 * SECOND - 1)).toEqual({
      allowed: false,
      state: "OPEN",
      reason: "open",
      retryAt: openedAt + 60 * SECOND,
    });
    expect(canAttempt(settings, state, openedAt + 60 * SECOND)).toEqual({
      allowed: true,
      state: "HALF_OPEN",
    });
  });

  it("ignores outcomes while OPEN (probes keep running, nothing changes)", () => {
    const { state } = run(settings, times(5, 0, failure));
    const after = run(
      settings,
      [...times(3, 10 * SECOND, success), ...times(3, 20 * SECOND, failure)],
      state,
    );
    expect(after.state).toEqual(state);
    expect(after.decisions).toEqual([]);
  });

  it("closes after the 2nd success in HALF_OPEN", () => {
    const opened = run(settings, times(5, 0, failure)).state;
    const first = stepBreaker(settings, opened, success, 64 * SECOND);
    expect(first.decisions).toEqual([
      { type: "half-opened", deadline: 64 * SECOND + settings.halfOpenTimeoutMs },
    ]);
    expect(first.state).toMatchObject({ state: "HALF_OPEN", successes: 1 });
    const second = stepBreaker(settings, first.state, success, 70 * SECOND);
    expect(second.state).toMatchObject({ state: "CLOSED", failures: 0, successes: 0 });
    expect(second.decisions).toEqual([{ type: "closed" }]);
  });

  it("re-opens on a failure in HALF_OPEN, for another 60 s", () => {
    const opened = run(settings, times(5, 0, failure)).state;
    const trial = stepBreaker(settings, opened, failure, 100 * SECOND);
    expect(trial.state).toMatchObject({ state: "OPEN", openedAt: 100 * SECOND, openUntil: 160 * SECOND });
    expect(trial.decisions.map((d) => d.type)).toEqual(["half-opened", "opened"]);
    expect(trial.decisions[1]).toMatchObject({ reason: "half-open-failure" });
  });
});

describe("rate mode", () => {
  const settings = breakerSettings({ mode: "rate", window: 10, minSamples: 5, failureRate: 0.5 });

  it("does not open before minSamples outcomes, however bad", () => {
    expect(run(settings, times(4, 0, failure)).state.state).toBe("CLOSED");
    expect(run(settings, times(5, 0, failure)).state.state).toBe("OPEN");
  });

  it("opens when failures reach the rate over the last window outcomes", () => {
    // Never two failures in a row; the 11th outcome makes the last 10 half failures.
    const events = [..."ssfsfsfsfsf"].map((c, i): [number, BreakerEvent] => [
      i * SECOND,
      c === "f" ? failure : success,
    ]);
    const before = run(settings, events.slice(0, 10));
    expect(before.state.state).toBe("CLOSED");
    const after = run(settings, events);
    expect(after.state.state).toBe("OPEN");
    expect(after.decisions[0]).toMatchObject({ type: "opened", reason: "failure-rate" });
  });

  it("forgets outcomes that slid out of the window", () => {
    // 4 failures then 10 successes: the window holds only successes; one failure is 1/10.
    const { state } = run(settings, [
      ...times(4, 0, failure),
      ...times(10, 10 * SECOND, success),
      [30 * SECOND, failure],
    ]);
    expect(state.state).toBe("CLOSED");
    expect(state.recent).toHaveLength(10);
  });
});

describe("backoff: the open duration grows with each consecutive open and decays when healthy", () => {
  const settings = breakerSettings({
    backoffFactor: 2,
    maxOpenForMs: 8 * MINUTE,
    halfOpenTimeoutMs: 30 * MINUTE,
  });

  it("doubles up to the cap: 1, 2, 4, 8, 8 minutes", () => {
    let { state } = run(settings, times(5, 0, failure));
    const durations = [state.openUntil! - state.openedAt!];
    for (let i = 0; i < 4; i += 1) {
      state = stepBreaker(settings, state, failure, state.openUntil!).state; // the trial fails
      durations.push(state.openUntil! - state.openedAt!);
    }
    expect(durations).toEqual([1, 2, 4, 8, 8].map((m) => m * MINUTE));
    expect(state.level).toBe(maxLevel(settings));
    expect(maxLevel(settings)).toBe(3);
  });

  it("lowers the level by one per full openFor period CLOSED without failure", () => {
    let { state } = run(settings, times(5, 0, failure));
    state = stepBreaker(settings, state, failure, state.openUntil!).state; // level 2 now
    const trialAt = state.openUntil!;
    state = run(
      settings,
      [
        [trialAt, success],
        [trialAt + 1, success],
      ],
      state,
    ).state;
    expect(state).toMatchObject({ state: "CLOSED", level: 2, healthySince: trialAt + 1 });
    // 1 min 59 s later: one full period.
    state = stepBreaker(settings, state, success, trialAt + 1 + 119 * SECOND).state;
    expect(state.level).toBe(1);
    // A failure restarts the stretch; the decay up to it still counts.
    state = stepBreaker(settings, state, failure, trialAt + 1 + 150 * SECOND).state;
    expect(state).toMatchObject({ level: 0, healthySince: trialAt + 1 + 150 * SECOND });
  });

  it("a flapping service is held off longer than a steady one", () => {
    let { state } = run(settings, times(5, 0, failure));
    let t = state.openUntil!;
    state = run(
      settings,
      [
        [t, success],
        [t + 1, success],
      ],
      state,
    ).state; // closes at level 1
    t += 10 * SECOND;
    state = run(settings, times(5, t, failure), state).state; // re-opens within a minute
    expect(state.openUntil! - state.openedAt!).toBe(2 * MINUTE);
  });

  it("never shrinks below openFor nor grows past the cap", () => {
    const odd = breakerSettings({ backoffFactor: 0.5, maxOpenForMs: 10 * SECOND });
    expect(openDurationMs(odd, 5)).toBe(60 * SECOND);
    expect(maxLevel(odd)).toBe(0);
    expect(openDurationMs(settings, 40)).toBe(8 * MINUTE);
  });
});

describe("HALF_OPEN deadline", () => {
  const settings = breakerSettings({ halfOpenTimeoutMs: 30 * SECOND });
  const halfOpen = (): BreakerState => {
    const opened = run(settings, times(5, 0, failure)).state;
    return stepBreaker(settings, opened, tick, 64 * SECOND).state;
  };

  it("a tick past the deadline with no outcome counts as a failure", () => {
    const state = halfOpen();
    expect(state).toMatchObject({ state: "HALF_OPEN", halfOpenDeadline: 94 * SECOND });
    expect(stepBreaker(settings, state, tick, 94 * SECOND - 1).state.state).toBe("HALF_OPEN");
    const late = stepBreaker(settings, state, tick, 94 * SECOND);
    expect(late.state).toMatchObject({ state: "OPEN", openUntil: 154 * SECOND });
    expect(late.decisions[0]).toMatchObject({ type: "opened", reason: "half-open-timeout" });
    expect(canAttempt(settings, state, 94 * SECOND)).toMatchObject({ allowed: false, retryAt: 154 * SECOND });
  });

  it("each outcome restarts the wait; an outcome that arrives late still counts", () => {
    let state = stepBreaker(settings, halfOpen(), success, 80 * SECOND).state;
    expect(state.halfOpenDeadline).toBe(110 * SECOND);
    state = stepBreaker(settings, state, success, 500 * SECOND).state;
    expect(state.state).toBe("CLOSED");
  });
});

describe("manual isolate and reset", () => {
  const settings = breakerSettings();

  it("isolate holds it OPEN whatever happens, until reset", () => {
    const { state, decisions } = run(settings, [[0, { type: "isolate" }], ...times(10, HOURS(1), success)]);
    expect(state).toMatchObject({ state: "OPEN", isolated: true, openUntil: null });
    expect(decisions).toEqual([{ type: "isolated", until: null }]);
    expect(canAttempt(settings, state, HOURS(1000))).toEqual({
      allowed: false,
      state: "OPEN",
      reason: "isolated",
    });
    const reset = stepBreaker(settings, state, { type: "reset" }, HOURS(1000));
    expect(reset.state).toEqual(emptyBreaker());
    expect(reset.decisions).toEqual([{ type: "reset" }]);
  });

  it("isolate until a time then allows a HALF_OPEN trial", () => {
    const { state } = run(settings, [[0, { type: "isolate", until: 10 * MINUTE }]]);
    expect(canAttempt(settings, state, 10 * MINUTE - 1)).toMatchObject({
      allowed: false,
      retryAt: 10 * MINUTE,
    });
    expect(canAttempt(settings, state, 10 * MINUTE)).toEqual({ allowed: true, state: "HALF_OPEN" });
  });

  it("reset clears counters and the backoff level", () => {
    const grown = breakerSettings({ backoffFactor: 3, maxOpenForMs: HOURS(1) });
    const { state } = run(grown, times(5, 0, failure));
    expect(state.level).toBe(1);
    expect(stepBreaker(grown, state, { type: "reset" }, 0).state).toMatchObject({
      state: "CLOSED",
      level: 0,
    });
  });
});

describe("a clock that jumps backwards", () => {
  const settings = breakerSettings();

  it("never extends the break beyond one full duration from now", () => {
    const { state } = run(settings, times(5, HOURS(10), failure)); // opened at 10 h + 4 s
    const back = HOURS(2);
    expect(canAttempt(settings, state, back)).toMatchObject({ allowed: false, retryAt: back + 60 * SECOND });
    const adjusted = stepBreaker(settings, state, tick, back);
    expect(adjusted.state).toMatchObject({ state: "OPEN", openedAt: back, openUntil: back + 60 * SECOND });
    expect(adjusted.decisions).toEqual([{ type: "clock-adjusted", until: back + 60 * SECOND }]);
    expect(canAttempt(settings, adjusted.state, back + 60 * SECOND).allowed).toBe(true);
  });

  it("keeps a HALF_OPEN deadline within one timeout of now", () => {
    const opened = run(settings, times(5, HOURS(10), failure)).state;
    const half = stepBreaker(settings, opened, tick, HOURS(11)).state;
    const back = HOURS(2);
    const adjusted = stepBreaker(settings, half, tick, back);
    expect(adjusted.state).toMatchObject({
      state: "HALF_OPEN",
      halfOpenDeadline: back + settings.halfOpenTimeoutMs,
    });
    expect(adjusted.decisions).toEqual([
      { type: "clock-adjusted", until: back + settings.halfOpenTimeoutMs },
    ]);
    expect(stepBreaker(settings, adjusted.state, tick, back + settings.halfOpenTimeoutMs).state.state).toBe(
      "OPEN",
    );
  });
});

function HOURS(n: number): number {
  return n * 60 * MINUTE;
}

// ---- properties -------------------------------------------------------------------------------

const settingsArb: fc.Arbitrary<BreakerSettings> = fc.record({
  mode: fc.constantFrom("consecutive" as const, "rate" as const),
  failureThreshold: fc.integer({ min: 1, max: 6 }),
  successThreshold: fc.integer({ min: 1, max: 3 }),
  openForMs: fc.integer({ min: 0, max: 120 }).map((s) => s * SECOND),
  window: fc.integer({ min: 1, max: 10 }),
  minSamples: fc.integer({ min: 1, max: 10 }),
  failureRate: fc.double({ min: 0.05, max: 1, noNaN: true }),
  backoffFactor: fc.constantFrom(1, 1.5, 2, 3),
  maxOpenForMs: fc.integer({ min: 0, max: 20 }).map((m) => m * MINUTE),
  halfOpenTimeoutMs: fc.integer({ min: 0, max: 300 }).map((s) => s * SECOND),
});

const eventArb: fc.Arbitrary<BreakerEvent> = fc.oneof(
  { weight: 5, arbitrary: fc.constant(failure) },
  { weight: 4, arbitrary: fc.constant(success) },
  { weight: 3, arbitrary: fc.constant(tick) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0, max: 600 })
      .map((s): BreakerEvent => ({ type: "isolate", until: s * SECOND })),
  },
  { weight: 1, arbitrary: fc.constant<BreakerEvent>({ type: "isolate" }) },
  { weight: 1, arbitrary: fc.constant<BreakerEvent>({ type: "reset" }) },
);

/** Scripts give `isolate.until` relative to the event's time. */
function at(event: BreakerEvent, now: number): BreakerEvent {
  return event.type === "isolate" && event.until !== undefined
    ? { type: "isolate", until: now + event.until }
    : event;
}

/** Clock steps: mostly forward (0 s .. 10 min), sometimes backwards. */
const stepArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 600 }).map((s) => s * SECOND) },
  { weight: 1, arbitrary: fc.integer({ min: -3600, max: -1 }).map((s) => s * SECOND) },
);
const scriptArb = fc.array(fc.tuple(stepArb, eventArb), { maxLength: 60 });

describe("properties", () => {
  it("a JSON round-trip of the state between events changes no decision", () => {
    fc.assert(
      fc.property(settingsArb, scriptArb, (settings, script) => {
        let plain = emptyBreaker();
        let stored = emptyBreaker();
        let now = 1_000_000;
        for (const [dt, event] of script) {
          now += dt;
          expect(canAttempt(settings, roundTrip(stored), now)).toEqual(canAttempt(settings, plain, now));
          const a = stepBreaker(settings, plain, at(event, now), now);
          const b = stepBreaker(settings, roundTrip(stored), at(event, now), now);
          expect(b.decisions).toEqual(a.decisions);
          expect(b.state).toEqual(a.state);
          plain = a.state;
          stored = roundTrip(b.state);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("is never OPEN past openUntil: canAttempt allows once now >= openUntil, and waits at most one duration", () => {
    fc.assert(
      fc.property(settingsArb, scriptArb, fc.integer({ min: 0, max: 7200 }), (settings, script, probe) => {
        let state = emptyBreaker();
        let now = 1_000_000;
        const longest = Math.max(settings.maxOpenForMs, settings.openForMs);
        for (const [dt, event] of script) {
          now += dt;
          state = stepBreaker(settings, state, at(event, now), now).state;
          const check = canAttempt(settings, state, now);
          if (state.state === "OPEN" && state.openUntil !== null) {
            expect(canAttempt(settings, state, Math.max(now, state.openUntil)).allowed).toBe(true);
            if (!state.isolated) expect(state.openUntil - now).toBeLessThanOrEqual(longest);
          }
          if (check.retryAt !== undefined && !state.isolated) {
            expect(check.retryAt - now).toBeLessThanOrEqual(longest);
          }
          // Looking later (or earlier) than now never finds a non-isolated break longer than one duration.
          const later = canAttempt(settings, state, now + (probe - 3600) * SECOND);
          if (later.retryAt !== undefined && !state.isolated) {
            expect(later.retryAt - (now + (probe - 3600) * SECOND)).toBeLessThanOrEqual(longest);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("HALF_OPEN never sticks: a tick at its deadline leaves it", () => {
    fc.assert(
      fc.property(settingsArb, scriptArb, (settings, script) => {
        let state = emptyBreaker();
        let now = 1_000_000;
        for (const [dt, event] of script) {
          now += dt;
          state = stepBreaker(settings, state, at(event, now), now).state;
          if (state.state === "HALF_OPEN") {
            expect(state.halfOpenDeadline).not.toBeNull();
            expect(state.halfOpenDeadline! - now).toBeLessThanOrEqual(settings.halfOpenTimeoutMs);
            const at = Math.max(now, state.halfOpenDeadline!);
            expect(stepBreaker(settings, state, tick, at).state.state).not.toBe("HALF_OPEN");
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("the backoff level stays within [0, maxLevel]", () => {
    fc.assert(
      fc.property(settingsArb, scriptArb, (settings, script) => {
        let state = emptyBreaker();
        let now = 0;
        for (const [dt, event] of script) {
          now += dt;
          state = stepBreaker(settings, state, at(event, now), now).state;
          expect(state.level).toBeGreaterThanOrEqual(0);
          expect(state.level).toBeLessThanOrEqual(maxLevel(settings));
        }
      }),
      { numRuns: 200 },
    );
  });
});
