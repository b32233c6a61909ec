import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HealSettings } from "../../src/config/model.js";
import { checkHeal, HEAL_HISTORY, recordHeal, settleHeal } from "../../src/core/budget.js";
import { emptyHeal, type HealState } from "../../src/core/state.js";
import { healSettings, HOUR, MINUTE, roundTrip, SECOND } from "./config-fixture.js";

const settings = healSettings();

function healsAt(times: number[], s: HealSettings = settings, start: HealState = emptyHeal()): HealState {
  return times.reduce((state, at) => recordHeal(state, { at, outcome: "failed" }, s), start);
}

describe("baseline: 5 min cooldown, at most 3 heals per hour", () => {
  it("allows the first heal with the whole budget left", () => {
    expect(checkHeal(settings, undefined, 0)).toEqual({ allowed: true, budgetLeft: 3 });
  });

  it("refuses for exactly 5 minutes after a heal started, saying when the cooldown ends", () => {
    const state = healsAt([10 * SECOND]);
    expect(checkHeal(settings, state, 10 * SECOND + 5 * MINUTE - 1)).toEqual({
      allowed: false,
      reason: "cooldown",
      nextAllowedAt: 10 * SECOND + 5 * MINUTE,
      budgetLeft: 2,
      cooldownUntil: 10 * SECOND + 5 * MINUTE,
    });
    expect(checkHeal(settings, state, 10 * SECOND + 5 * MINUTE)).toEqual({ allowed: true, budgetLeft: 2 });
  });

  it("refuses the 4th heal in an hour until the first one is an hour old, saying when it leaves the window", () => {
    const first = 7 * SECOND;
    const state = healsAt([first, first + 5 * MINUTE, first + 10 * MINUTE]);
    expect(checkHeal(settings, state, first + 15 * MINUTE)).toEqual({
      allowed: false,
      reason: "budget",
      nextAllowedAt: first + HOUR,
      budgetLeft: 0,
      budgetUntil: first + HOUR,
    });
    expect(checkHeal(settings, state, first + HOUR - 1).allowed).toBe(false);
    expect(checkHeal(settings, state, first + HOUR)).toEqual({ allowed: true, budgetLeft: 1 });
  });

  it("re-arms fully once every heal left the window", () => {
    const state = healsAt([0, 5 * MINUTE, 10 * MINUTE]);
    expect(checkHeal(settings, state, 10 * MINUTE + HOUR)).toEqual({ allowed: true, budgetLeft: 3 });
  });

  it("a budget of 0 never allows a heal: the budget refuses with no end", () => {
    const none = healSettings({ budget: { max: 0, perMs: HOUR } });
    expect(checkHeal(none, undefined, 0)).toEqual({
      allowed: false,
      reason: "budget",
      nextAllowedAt: null,
      budgetLeft: 0,
      budgetUntil: null,
    });
  });
});

describe("both cooldown and budget refuse", () => {
  it("names the cooldown when it ends after the budget, and reports both ends", () => {
    const slow = healSettings({ cooldownMs: 2 * HOUR, budget: { max: 1, perMs: HOUR } });
    expect(checkHeal(slow, healsAt([0], slow), MINUTE)).toEqual({
      allowed: false,
      reason: "cooldown",
      nextAllowedAt: 2 * HOUR,
      budgetLeft: 0,
      cooldownUntil: 2 * HOUR,
      budgetUntil: HOUR,
    });
  });

  it("names the budget when it ends after the cooldown", () => {
    const state = healsAt([0, 5 * MINUTE, 10 * MINUTE]);
    expect(checkHeal(settings, state, 12 * MINUTE)).toEqual({
      allowed: false,
      reason: "budget",
      nextAllowedAt: HOUR,
      budgetLeft: 0,
      cooldownUntil: 15 * MINUTE,
      budgetUntil: HOUR,
    });
  });

  it("names the budget when both end at the same time", () => {
    const even = healSettings({ cooldownMs: HOUR, budget: { max: 1, perMs: HOUR } });
    expect(checkHeal(even, healsAt([0], even), MINUTE)).toMatchObject({
      reason: "budget",
      nextAllowedAt: HOUR,
      cooldownUntil: HOUR,
      budgetUntil: HOUR,
    });
  });

  it("reports only the gates that refuse", () => {
    const state = healsAt([0]);
    const cooldownOnly = checkHeal(settings, state, MINUTE);
    expect(cooldownOnly).toHaveProperty("cooldownUntil", 5 * MINUTE);
    expect(cooldownOnly).not.toHaveProperty("budgetUntil");
    const budgetOnly = checkHeal(settings, healsAt([0, 5 * MINUTE, 10 * MINUTE]), 20 * MINUTE);
    expect(budgetOnly).toHaveProperty("budgetUntil", HOUR);
    expect(budgetOnly).not.toHaveProperty("cooldownUntil");
  });
});

describe("slack: a gate that ends within slackMs after now counts as ended", () => {
  const slack = 3 * SECOND;

  it("allows a heal whose cooldown ends within the slack, and refuses one a millisecond beyond it", () => {
    const state = healsAt([0]);
    // A tick that comes 2 s early for a 5 min cooldown.
    expect(checkHeal(settings, state, 5 * MINUTE - 2 * SECOND, slack)).toEqual({
      allowed: true,
      budgetLeft: 2,
    });
    expect(checkHeal(settings, state, 5 * MINUTE - slack, slack)).toEqual({ allowed: true, budgetLeft: 2 });
    expect(checkHeal(settings, state, 5 * MINUTE - slack - 1, slack)).toEqual({
      allowed: false,
      reason: "cooldown",
      nextAllowedAt: 5 * MINUTE,
      budgetLeft: 2,
      cooldownUntil: 5 * MINUTE,
    });
    // Without slack the early tick is refused.
    expect(checkHeal(settings, state, 5 * MINUTE - 2 * SECOND).allowed).toBe(false);
  });

  it("allows a heal whose budget slot frees within the slack", () => {
    const state = healsAt([0, 5 * MINUTE, 10 * MINUTE]);
    expect(checkHeal(settings, state, HOUR - 2 * SECOND, slack)).toEqual({ allowed: true, budgetLeft: 1 });
    expect(checkHeal(settings, state, HOUR - slack - 1, slack)).toMatchObject({
      allowed: false,
      reason: "budget",
      budgetUntil: HOUR,
    });
    expect(checkHeal(settings, state, HOUR - 2 * SECOND).allowed).toBe(false);
  });
});

describe("recording", () => {
  it("a forced heal is recorded and counts against the budget", () => {
    const state = recordHeal(
      healsAt([0, 5 * MINUTE]),
      { at: 6 * MINUTE, outcome: "healed", forced: true, by: "ops" },
      settings,
    );
    expect(state.history.at(-1)).toEqual({ at: 6 * MINUTE, outcome: "healed", forced: true, by: "ops" });
    expect(checkHeal(settings, state, 30 * MINUTE)).toMatchObject({ allowed: false, reason: "budget" });
  });

  it("keeps only heals inside the window and a bounded history", () => {
    const many = Array.from({ length: 50 }, (_, i) => i * 10 * MINUTE);
    const state = healsAt(many);
    expect(state.history).toHaveLength(HEAL_HISTORY);
    expect(state.history.at(-1)?.at).toBe(many.at(-1));
    expect(state.recent).toEqual(many.filter((at) => at > many.at(-1)! - HOUR));
    expect(state.lastHealAt).toBe(many.at(-1));
  });
});

describe("a clock that jumps backwards", () => {
  it("holds healing off for at most one cooldown / one window from now", () => {
    const state = healsAt([10 * HOUR, 10 * HOUR + 5 * MINUTE, 10 * HOUR + 10 * MINUTE]);
    const back = 2 * HOUR;
    const check = checkHeal(settings, state, back);
    expect(check).toMatchObject({ allowed: false, reason: "budget", nextAllowedAt: back + HOUR });
    const settled = settleHeal(settings, state, back);
    expect(settled.recent).toEqual([back, back, back]);
    expect(checkHeal(settings, settled, back + HOUR)).toEqual({ allowed: true, budgetLeft: 3 });
  });
});

// ---- properties -------------------------------------------------------------------------------

const settingsArb = fc.record({
  after: fc.constant(1),
  cooldownMs: fc.integer({ min: 0, max: 30 }).map((m) => m * MINUTE),
  budget: fc.record({
    max: fc.integer({ min: 1, max: 5 }),
    perMs: fc.integer({ min: 1, max: 120 }).map((m) => m * MINUTE),
  }),
  timeoutMs: fc.constant(MINUTE),
  steps: fc.constant([]),
});
/** Attempts: minutes since the previous attempt, and whether it is forced. */
const attemptsArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.boolean()), { maxLength: 80 });

/** Attempts at a finer grain: seconds since the previous attempt (up to 40 min), and whether forced. */
const secondsArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 2400 }), fc.boolean()), { maxLength: 80 });
/** A scheduler's slack: up to 5 s (gateSlackMs never gives more). */
const slackArb = fc.integer({ min: 0, max: 5000 });

/**
 * Runs attempts (monotonic clock, `unit` ms per step), healing whenever allowed or forced; returns the
 * heals done.
 */
function simulate(
  s: HealSettings,
  attempts: [number, boolean][],
  persist: boolean,
  slackMs = 0,
  unit = MINUTE,
) {
  let state = emptyHeal();
  let now = 0;
  const heals: { at: number; forced: boolean }[] = [];
  const checks: unknown[] = [];
  for (const [steps, forced] of attempts) {
    now += steps * unit;
    const check = checkHeal(s, state, now, slackMs);
    checks.push(check);
    if (check.allowed || forced) {
      heals.push({ at: now, forced: !check.allowed });
      state = recordHeal(state, { at: now, outcome: "healed", forced: !check.allowed }, s);
    }
    if (persist) state = roundTrip(state);
  }
  return { heals, checks };
}

describe("properties", () => {
  it("heals allowed by the check never exceed the budget in any window, nor break the cooldown", () => {
    fc.assert(
      fc.property(settingsArb, attemptsArb, (s, attempts) => {
        const { heals } = simulate(s, attempts, false);
        heals.forEach((heal, i) => {
          if (heal.forced) return;
          // Every heal (forced ones included) in the window ending at this one, this one included.
          const inWindow = heals.slice(0, i + 1).filter((h) => h.at > heal.at - s.budget.perMs);
          expect(inWindow.length).toBeLessThanOrEqual(s.budget.max);
          const previous = heals[i - 1];
          if (previous !== undefined) expect(heal.at - previous.at).toBeGreaterThanOrEqual(s.cooldownMs);
        });
        // So any window holds at most `max` unforced heals.
        for (const start of heals.map((h) => h.at)) {
          const unforced = heals.filter((h) => !h.forced && h.at >= start && h.at < start + s.budget.perMs);
          expect(unforced.length).toBeLessThanOrEqual(s.budget.max);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("nextAllowedAt is exact: refused just before it, allowed at it", () => {
    fc.assert(
      fc.property(settingsArb, attemptsArb, fc.integer({ min: 0, max: 200 }), (s, attempts, later) => {
        let state = emptyHeal();
        let now = 0;
        for (const [minutes, forced] of attempts) {
          now += minutes * MINUTE;
          // Forced heals can push the window past `max`: the next one waits for enough to age out.
          if (forced || checkHeal(s, state, now).allowed)
            state = recordHeal(state, { at: now, outcome: "failed", forced }, s);
        }
        const t = now + later * MINUTE;
        const check = checkHeal(s, state, t);
        if (!check.allowed && check.nextAllowedAt !== null) {
          expect(check.nextAllowedAt).toBeGreaterThan(t);
          expect(checkHeal(s, state, check.nextAllowedAt - 1).allowed).toBe(false);
          expect(checkHeal(s, state, check.nextAllowedAt).allowed).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("with slack, a heal comes at most slackMs early: gaps of cooldown - slack, max heals in per - slack", () => {
    fc.assert(
      fc.property(settingsArb, secondsArb, slackArb, (s, attempts, slack) => {
        const { heals } = simulate(s, attempts, false, slack, SECOND);
        heals.forEach((heal, i) => {
          if (heal.forced) return;
          const inWindow = heals.slice(0, i + 1).filter((h) => h.at > heal.at - (s.budget.perMs - slack));
          expect(inWindow.length).toBeLessThanOrEqual(s.budget.max);
          const previous = heals[i - 1];
          if (previous !== undefined)
            expect(heal.at - previous.at).toBeGreaterThanOrEqual(s.cooldownMs - slack);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("with slack, nextAllowedAt - slackMs is the first instant a heal is allowed", () => {
    fc.assert(
      fc.property(
        settingsArb,
        secondsArb,
        slackArb,
        fc.integer({ min: 0, max: 7200 }),
        (s, attempts, slack, later) => {
          let state = emptyHeal();
          let now = 0;
          for (const [seconds, forced] of attempts) {
            now += seconds * SECOND;
            if (forced || checkHeal(s, state, now, slack).allowed)
              state = recordHeal(state, { at: now, outcome: "failed", forced }, s);
          }
          const t = now + later * SECOND;
          const check = checkHeal(s, state, t, slack);
          if (!check.allowed && check.nextAllowedAt !== null) {
            expect(check.nextAllowedAt - slack).toBeGreaterThan(t);
            expect(checkHeal(s, state, check.nextAllowedAt - slack - 1, slack).allowed).toBe(false);
            expect(checkHeal(s, state, check.nextAllowedAt - slack, slack).allowed).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a refusal's nextAllowedAt is the later of cooldownUntil and budgetUntil, and its reason names that gate", () => {
    fc.assert(
      fc.property(settingsArb, attemptsArb, fc.integer({ min: 0, max: 200 }), (s, attempts, later) => {
        const { heals } = simulate(s, attempts, false);
        let state = emptyHeal();
        for (const h of heals)
          state = recordHeal(state, { at: h.at, outcome: "failed", forced: h.forced }, s);
        const t = (heals.at(-1)?.at ?? 0) + later * MINUTE;
        const check = checkHeal(s, state, t);
        if (check.allowed) return;
        expect(check.cooldownUntil ?? check.budgetUntil).toBeDefined();
        const cooldownEnd = check.cooldownUntil ?? -Infinity;
        const budgetEnd = check.budgetUntil ?? -Infinity;
        expect(check.nextAllowedAt).toBe(Math.max(cooldownEnd, budgetEnd));
        expect(check.reason).toBe(budgetEnd >= cooldownEnd ? "budget" : "cooldown");
        if (check.cooldownUntil !== undefined) expect(check.cooldownUntil).toBeGreaterThan(t);
        if (check.budgetUntil !== undefined && check.budgetUntil !== null)
          expect(check.budgetUntil).toBeGreaterThan(t);
      }),
      { numRuns: 300 },
    );
  });

  it("a JSON round-trip of the state between attempts changes no decision", () => {
    fc.assert(
      fc.property(settingsArb, attemptsArb, (s, attempts) => {
        expect(simulate(s, attempts, true)).toEqual(simulate(s, attempts, false));
      }),
      { numRuns: 200 },
    );
  });
});
