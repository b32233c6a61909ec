import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AlertRule, LevelSpec } from "../../src/config/model.js";
import { stepAlert, type AlertIntent } from "../../src/core/alerts.js";
import type { AlertState } from "../../src/core/state.js";
import { BASELINE_LEVELS, HOUR, MINUTE, roundTrip, rule } from "./config-fixture.js";

const TICK = 5 * MINUTE;
const CRITICAL = BASELINE_LEVELS.CRITICAL as LevelSpec;
const WARNING = BASELINE_LEVELS.WARNING as LevelSpec;
const INFO = BASELINE_LEVELS.INFO as LevelSpec;

interface Tick {
  matches: boolean;
  silenced?: boolean;
  inhibited?: boolean;
}

/** Steps one alert once per tick (every 5 min from t=0); returns each tick's intent (or undefined). */
function drive(level: LevelSpec, r: AlertRule, ticks: Tick[], start?: AlertState, from = 0) {
  let state = start;
  const intents: (AlertIntent | undefined)[] = [];
  const muted: (string | undefined)[] = [];
  ticks.forEach((t, i) => {
    const step = stepAlert(level, r, state, t.matches, from + i * TICK, {
      serviceId: "svc",
      silenced: t.silenced ?? false,
      inhibited: t.inhibited ?? false,
    });
    state = step.state;
    intents.push(step.intent);
    muted.push(step.muted);
  });
  return { state: state as AlertState, intents, muted };
}

const down = (n: number, extra: Omit<Tick, "matches"> = {}): Tick[] =>
  Array.from({ length: n }, () => ({ matches: true, ...extra }));
const up = (n: number, extra: Omit<Tick, "matches"> = {}): Tick[] =>
  Array.from({ length: n }, () => ({ matches: false, ...extra }));
/** [tick index, kind] of every notice. */
const sent = (intents: (AlertIntent | undefined)[]) =>
  intents.flatMap((intent, i) => (intent === undefined ? [] : [[i, intent.kind] as const]));

describe("baseline levels", () => {
  it.each([
    { name: "CRITICAL", level: CRITICAL, threshold: 3, hours: 1 },
    { name: "WARNING", level: WARNING, threshold: 5, hours: 2 },
    { name: "INFO", level: INFO, threshold: 10, hours: 24 },
  ])(
    "$name fires at matching tick $threshold and reminds every $hours h while it holds",
    ({ level, threshold, hours }) => {
      const cooldown = hours * HOUR;
      const perReminder = cooldown / TICK;
      const ticks = threshold + 2 * perReminder;
      const { intents } = drive(level, rule("r", level.id), down(ticks));
      const first = threshold - 1;
      expect(sent(intents)).toEqual([
        [first, "firing"],
        [first + perReminder, "reminder"],
        [first + 2 * perReminder, "reminder"],
      ]);
      expect(intents[first]).toEqual({
        kind: "firing",
        ruleId: "r",
        serviceId: "svc",
        level: level.id,
        channels: level.channels,
        since: first * TICK,
        count: 1,
        at: first * TICK,
      });
      expect(intents[first + 2 * perReminder]).toMatchObject({ count: 3, since: first * TICK });
    },
  );

  it("CRITICAL goes to discord and log", () => {
    const { intents } = drive(CRITICAL, rule("r", "CRITICAL"), down(3));
    expect(intents[2]?.channels).toEqual(["discord", "log"]);
  });

  it("sends one resolved notice when a firing alert stops matching", () => {
    const { intents, state } = drive(CRITICAL, rule("r", "CRITICAL"), [...down(4), ...up(3)]);
    expect(sent(intents)).toEqual([
      [2, "firing"],
      [4, "resolved"],
    ]);
    expect(intents[4]).toMatchObject({ since: 2 * TICK, count: 2 });
    expect(state).toMatchObject({ status: "inactive", streak: 0, totalSent: 2, lastResolvedAt: 4 * TICK });
  });

  it("sends no resolved notice when the rule does not ask for one", () => {
    const { intents } = drive(CRITICAL, rule("r", "CRITICAL", { sendResolved: false }), [
      ...down(4),
      ...up(2),
    ]);
    expect(sent(intents)).toEqual([[2, "firing"]]);
  });

  it("a condition that stops holding before the threshold sends nothing and starts over", () => {
    const { intents } = drive(CRITICAL, rule("r", "CRITICAL"), [...down(2), ...up(1), ...down(2)]);
    expect(sent(intents)).toEqual([]);
  });
});

describe("silences", () => {
  const r = rule("r", "CRITICAL");

  it("say which notice each silenced tick held back, so `run` can show it", () => {
    const { muted } = drive(CRITICAL, r, [...down(4, { silenced: true }), ...up(1, { silenced: true })]);
    // Fires at tick 2 (threshold 3): held back there and at 3 (not yet announced); the end was never
    // announced either, so there is no resolved notice to hold.
    expect(muted).toEqual([undefined, undefined, "firing", "firing", undefined]);
    const announced = drive(CRITICAL, r, [...down(3), ...up(1, { silenced: true })]);
    expect(announced.muted).toEqual([undefined, undefined, undefined, "resolved"]);
  });

  it("mute firing, but the alert still fires internally and is announced when the silence ends", () => {
    const { intents } = drive(CRITICAL, r, [...down(5, { silenced: true }), ...down(1), ...up(1)]);
    expect(sent(intents)).toEqual([
      [5, "firing"],
      [6, "resolved"],
    ]);
    expect(intents[5]).toMatchObject({ since: 2 * TICK, count: 1 });
  });

  it("send nothing at all for an episode that started and ended inside the silence", () => {
    const { intents } = drive(CRITICAL, r, [
      ...down(5, { silenced: true }),
      ...up(1, { silenced: true }),
      ...up(3),
    ]);
    expect(sent(intents)).toEqual([]);
  });

  it("skip reminders that fall due while silenced instead of queueing them", () => {
    // Fires at tick 2 (t=10 min); reminders due at 70, 130, 190 min. Silenced from tick 3 to tick 30 (150 min).
    const ticks = [...down(3), ...down(28, { silenced: true }), ...down(12)];
    const { intents } = drive(CRITICAL, r, ticks);
    expect(sent(intents)).toEqual([
      [2, "firing"],
      [38, "reminder"],
    ]);
    expect(intents[38]).toMatchObject({ at: 190 * MINUTE, count: 2 });
  });

  it("hold a resolved notice back until the silence ends", () => {
    const { intents } = drive(CRITICAL, r, [...down(3), ...up(2, { silenced: true }), ...up(1), ...up(1)]);
    expect(sent(intents)).toEqual([
      [2, "firing"],
      [5, "resolved"],
    ]);
  });

  it("release a held resolution at the first unsilenced tick even if the condition holds again", () => {
    const { intents } = drive(CRITICAL, r, [
      ...down(3),
      ...up(1, { silenced: true }),
      ...down(2),
      ...down(1),
    ]);
    expect(sent(intents)).toEqual([
      [2, "firing"],
      [4, "resolved"],
      [6, "firing"],
    ]);
  });

  it("an alert that fires again before its held resolution went out just goes on firing", () => {
    const ticks = [
      ...down(3),
      ...up(1, { silenced: true }),
      ...down(3, { silenced: true }),
      ...down(1),
      ...up(1),
    ];
    const { intents } = drive(CRITICAL, r, ticks);
    expect(sent(intents)).toEqual([
      [2, "firing"],
      [8, "resolved"],
    ]);
    expect(intents[8]).toMatchObject({ since: 2 * TICK, count: 2 });
  });
});

describe("inhibition (a dependency is down)", () => {
  const r = rule("r", "CRITICAL");

  it("mutes firing and reminders", () => {
    const { intents, state } = drive(CRITICAL, r, down(30, { inhibited: true }));
    expect(sent(intents)).toEqual([]);
    expect(state.status).toBe("firing");
  });

  it("keeps a firing alert firing while its service is blocked, and resolves it once it is judged up", () => {
    // blocked: the rule ("down") does not match, but blocked says nothing about the service itself.
    const { intents, state } = drive(CRITICAL, r, [...down(3), ...up(2, { inhibited: true })]);
    expect(sent(intents)).toEqual([[2, "firing"]]);
    expect(state.status).toBe("firing");
    const after = drive(CRITICAL, r, up(1), state, 5 * TICK);
    expect(sent(after.intents)).toEqual([[0, "resolved"]]);
  });

  it("continues the episode when the service is down on its own again after being blocked", () => {
    const { intents } = drive(CRITICAL, r, [...down(3), ...up(2, { inhibited: true }), ...down(12)]);
    expect(sent(intents)).toEqual([
      [2, "firing"],
      [14, "reminder"],
    ]);
  });
});

describe("hysteresis and per-rule overrides", () => {
  const level = (extra: Partial<LevelSpec>): LevelSpec => ({ ...CRITICAL, ...extra });

  it("resolveAfter: a flapping service neither pages nor resolves at every tick", () => {
    const flap = [...down(3), ...up(1), ...down(1), ...up(1), ...down(1), ...up(2), ...down(1)];
    const plain = drive(level({ threshold: 1 }), rule("r", "CRITICAL"), flap);
    const steady = drive(level({ threshold: 1, resolveAfter: 2 }), rule("r", "CRITICAL"), flap);
    expect(sent(plain.intents).map(([, k]) => k)).toEqual([
      "firing",
      "resolved",
      "firing",
      "resolved",
      "firing",
      "resolved",
      "firing",
    ]);
    // resolved only after 2 ticks in a row without the condition; the rest is one episode.
    expect(sent(steady.intents)).toEqual([
      [0, "firing"],
      [8, "resolved"],
      [9, "firing"],
    ]);
  });

  it("a rule's threshold and cooldown replace its level's", () => {
    const once = rule("gave-up", "CRITICAL", { threshold: 1, cooldownMs: 24 * HOUR });
    const { intents } = drive(CRITICAL, once, down(30));
    expect(sent(intents)).toEqual([[0, "firing"]]);
  });
});

describe("a clock that jumps backwards", () => {
  it("does not postpone reminders by more than one interval", () => {
    const fired = drive(CRITICAL, rule("r", "CRITICAL"), down(3), undefined, 100 * HOUR).state;
    const back = drive(CRITICAL, rule("r", "CRITICAL"), down(13), fired, 0);
    expect(sent(back.intents)).toEqual([[12, "reminder"]]);
  });
});

// ---- properties -------------------------------------------------------------------------------

const levelArb: fc.Arbitrary<LevelSpec> = fc.record({
  id: fc.constant("L"),
  threshold: fc.integer({ min: 1, max: 6 }),
  cooldownMs: fc.integer({ min: 0, max: 12 }).map((n) => n * TICK),
  resolveAfter: fc.integer({ min: 1, max: 3 }),
  channels: fc.constant(["log"]),
  rank: fc.constant(0),
});
const tickArb: fc.Arbitrary<Tick> = fc.record({
  matches: fc.boolean(),
  silenced: fc.boolean(),
  inhibited: fc.boolean(),
});
const ticksArb = fc.array(tickArb, { maxLength: 80 });

describe("properties", () => {
  it("a JSON round-trip of the state between ticks changes no notice", () => {
    fc.assert(
      fc.property(levelArb, fc.boolean(), ticksArb, (level, sendResolved, ticks) => {
        const r = rule("r", "L", { sendResolved });
        let stored: AlertState | undefined;
        const withTrip: (AlertIntent | undefined)[] = [];
        ticks.forEach((t, i) => {
          const step = stepAlert(level, r, stored, t.matches, i * TICK, {
            serviceId: "svc",
            silenced: t.silenced ?? false,
            inhibited: t.inhibited ?? false,
          });
          stored = roundTrip(step.state);
          withTrip.push(step.intent);
        });
        expect(withTrip).toEqual(drive(level, r, ticks).intents);
      }),
      { numRuns: 300 },
    );
  });

  it("notices follow (firing reminder* resolved)*: never a second firing nor a resolution out of turn", () => {
    fc.assert(
      fc.property(levelArb, fc.boolean(), ticksArb, (level, sendResolved, ticks) => {
        const letter = { firing: "f", reminder: "m", resolved: "x" } as const;
        const kinds = drive(level, rule("r", "L", { sendResolved }), ticks)
          .intents.map((i) => (i === undefined ? "" : letter[i.kind]))
          .join("");
        expect(kinds).toMatch(sendResolved ? /^(fm*x)*(fm*)?$/ : /^(fm*)*$/);
      }),
      { numRuns: 300 },
    );
  });

  it("every firing alert resolves once its condition stops holding; its notice goes out once unsilenced", () => {
    fc.assert(
      fc.property(
        levelArb,
        fc.boolean(),
        ticksArb,
        fc.integer({ min: 0, max: 5 }),
        (level, sendResolved, ticks, silentTicks) => {
          const r = rule("r", "L", { sendResolved });
          const before = drive(level, r, ticks);
          const announced =
            before.state !== undefined &&
            ((before.state.status === "firing" && before.state.notified) || before.state.resolvedPending);
          const after = drive(
            level,
            r,
            [...up(silentTicks, { silenced: true }), ...up(level.resolveAfter)],
            before.state,
            ticks.length * TICK,
          );
          expect(after.state.status).toBe("inactive");
          const resolved = after.intents.filter((i) => i?.kind === "resolved");
          expect(resolved).toHaveLength(announced && sendResolved ? 1 : 0);
          expect(after.intents.filter((i) => i !== undefined && i.kind !== "resolved")).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("notices of one episode are at least one cooldown apart (monotonic clock)", () => {
    fc.assert(
      fc.property(levelArb, ticksArb, (level, ticks) => {
        const { intents } = drive(level, rule("r", "L"), ticks);
        let last: number | undefined;
        for (const intent of intents) {
          if (intent === undefined) continue;
          if (intent.kind === "reminder" && last !== undefined) {
            expect(intent.at - last).toBeGreaterThanOrEqual(level.cooldownMs);
          }
          last = intent.kind === "resolved" ? undefined : intent.at;
        }
      }),
      { numRuns: 300 },
    );
  });
});
