/** A simulated month of ticks with known answers, shared by the report and history store tests. */
import type { HistoryEvent, Observed } from "../../src/history/events.js";

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const INTERVAL = 5 * MINUTE;
export const S = Date.UTC(2026, 10, 1); // the report's `since`
export const UNTIL = S + 30 * DAY;
export const at = (day: number, hh = 0, mm = 0, ss = 0) =>
  S + day * DAY + hh * HOUR + mm * MINUTE + ss * SECOND;

/**
 * A simulated month of 5 minute ticks with known answers:
 *   - api down from 10 min before the window to 10 min into it (recovered by itself: 20 min);
 *   - day 2 10:00: down, healed within the tick, back 6 s later;
 *   - day 5 12:00-12:30: two failed heals, then cooldown refusals, back by itself (30 min);
 *   - day 10 00:00-06:00: the machine slept, no tick ran (71 ticks missed, unknown time);
 *   - day 20 03:00-05:00: three failed heals, upkeep gave up, someone fixed it (2 h, by hand);
 *   - day 29 23:00: down until the end of the report (ongoing, 1 h);
 *   - db exists from day 15 and is always up.
 */
export function month(): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const apiDown = (t: number): boolean =>
    t < S + 10 * MINUTE ||
    (t >= at(5, 12) && t < at(5, 12, 30)) ||
    (t >= at(20, 3) && t < at(20, 5)) ||
    t >= at(29, 23);
  const heal = (t: number, outcome: "healed" | "failed", finishedAt = t + 6 * SECOND): HistoryEvent => ({
    kind: "heal",
    at: t,
    service: "api",
    outcome,
    reason: outcome === "healed" ? "healed" : "verify failed",
    trial: false,
    forced: false,
    startedAt: t,
    finishedAt,
    steps: [],
  });
  const refusal = (t: number, reason: string): HistoryEvent => ({
    kind: "refusal",
    at: t,
    service: "api",
    outcome:
      reason === "cooldown" || reason === "budget" || reason === "breaker-open" ? "refused" : "skipped",
    reason,
    refusedBy: [reason],
    nextAllowedAt: null,
  });
  let previous: string | null = null;
  for (let t = S - 10 * MINUTE; t < UNTIL; t += INTERVAL) {
    if (t > at(10) && t < at(10, 6)) continue; // asleep
    const observed: Record<string, Observed> = {};
    const down = apiDown(t);
    if (t === at(2, 10)) {
      observed["api"] = { s: "up", f: "down", up: t + 6 * SECOND };
      events.push({
        kind: "status",
        at: t,
        service: "api",
        from: "up",
        to: "down",
        detail: "connect ECONNREFUSED",
      });
      events.push({
        kind: "status",
        at: t + 6 * SECOND,
        service: "api",
        from: "down",
        to: "up",
        detail: "ok",
      });
      events.push(heal(t, "healed"));
    } else {
      observed["api"] = { s: down ? "down" : "up" };
      const status = down ? "down" : "up";
      if (status !== previous)
        events.push({
          kind: "status",
          at: t,
          service: "api",
          from: previous as "up" | null,
          to: status,
          detail: down ? `down at ${new Date(t).toISOString()}` : "ok",
        });
      previous = status;
    }
    if (t >= at(15)) observed["db"] = { s: "up" };
    events.push({ kind: "tick", at: t, finishedAt: t + SECOND, trigger: "run", observed });
    if (t === at(5, 12) || t === at(5, 12, 5)) events.push(heal(t, "failed"));
    else if (t > at(5, 12, 5) && t < at(5, 12, 30)) events.push(refusal(t, "cooldown"));
    else if (t === at(20, 3) || t === at(20, 3, 5) || t === at(20, 3, 10)) events.push(heal(t, "failed"));
    else if (t > at(20, 3, 10) && t < at(20, 5)) events.push(refusal(t, "breaker-open"));
    else if (t === at(29, 23)) events.push(heal(t, "failed"));
    else if (t > at(29, 23)) events.push(refusal(t, "cooldown"));
  }
  for (const [t, level] of [
    [at(5, 12, 10), "CRITICAL"],
    [at(20, 3, 10), "CRITICAL"],
    [at(20, 3, 20), "WARNING"],
    [at(29, 23, 10), "CRITICAL"],
  ] as const)
    events.push({ kind: "alert", at: t, service: "api", rule: "down", level, notice: "firing", count: 1 });
  return events;
}
