import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../src/history/events.js";
import { computeReport } from "../../src/history/report.js";
import { at, DAY, HOUR, INTERVAL, MINUTE, month, S, SECOND, UNTIL } from "./month.js";

describe("a simulated month, checked to the second", () => {
  const report = computeReport(month(), {
    since: S,
    until: UNTIL,
    intervalMs: INTERVAL,
    services: [
      { id: "api", title: "API" },
      { id: "db", title: "Database" },
    ],
  });
  const api = report.services[0]!;
  const db = report.services[1]!;
  const slept = 6 * HOUR - 1.5 * INTERVAL; // the last tick before the sleep vouches for 7m30s
  const down = 10 * MINUTE + 6 * SECOND + 30 * MINUTE + 2 * HOUR + HOUR;

  it("counts time no tick vouched for as unknown, never as up", () => {
    expect(api.unknownMs).toBe(slept);
    expect(api.observedMs).toBe(30 * DAY - slept);
    expect(api.downMs).toBe(down);
    expect(api.upMs).toBe(30 * DAY - slept - down);
    expect(api.uptime).toBeCloseTo((30 * DAY - slept - down) / (30 * DAY - slept), 12);
  });

  it("lists every incident with its cause, duration and how it ended", () => {
    expect(api.incidents.map((i) => [i.start, i.end, i.durationMs, i.ended, i.heals])).toEqual([
      [S - 10 * MINUTE, S + 10 * MINUTE, 20 * MINUTE, "recovered", 0],
      [at(2, 10), at(2, 10, 0, 6), 6 * SECOND, "healed", 1],
      [at(5, 12), at(5, 12, 30), 30 * MINUTE, "recovered", 2],
      [at(20, 3), at(20, 5), 2 * HOUR, "by-hand", 3],
      [at(29, 23), null, 55 * MINUTE, "ongoing", 1],
    ]);
    // The manual work upkeep saved: one healed by upkeep, one fixed by hand.
    expect(api.ended).toEqual({ healed: 1, recovered: 2, "by-hand": 1, ongoing: 1 });
    expect(api.incidents[1]?.cause).toBe("connect ECONNREFUSED");
    expect(api.incidents[3]?.cause).toBe(`down at ${new Date(at(20, 3)).toISOString()}`);
  });

  it("MTTR is the mean of the incidents that ended, MTBF the time up per incident begun in the window", () => {
    expect(api.mttrMs).toBe((20 * MINUTE + 6 * SECOND + 30 * MINUTE + 2 * HOUR) / 4);
    expect(api.mtbfMs).toBe(api.upMs / 4);
    expect(api.detectToHealedMs).toBe(6 * SECOND);
  });

  it("counts heals, refusals by reason and alerts by level", () => {
    expect(api.heals).toEqual({
      attempted: 7,
      healed: 1,
      failed: 6,
      forced: 0,
      notHealed: { cooldown: 4 + 11, "breaker-open": 21 },
    });
    expect(api.alerts).toEqual({ CRITICAL: 3, WARNING: 1 });
  });

  it("reports the ticks the scheduler missed", () => {
    expect(report.ticks).toEqual({ count: 8640 - 71, scheduled: 8640 - 71, missed: 71 });
    expect(report.gaps).toEqual([{ from: at(10), to: at(10, 6), missed: 71 }]);
  });

  it("a service added later is judged on the time it was observed", () => {
    expect(db).toMatchObject({ observedMs: 15 * DAY, upMs: 15 * DAY, unknownMs: 15 * DAY, uptime: 1 });
    expect(db.incidents).toEqual([]);
    expect(db.mtbfMs).toBeNull();
  });
});

describe("edge cases", () => {
  it("judges coverage and missed ticks by the interval each tick was scheduled at (`watch --interval 10m`)", () => {
    const ticks: HistoryEvent[] = Array.from({ length: 144 }, (_, i) => ({
      kind: "tick" as const,
      at: S + i * 10 * MINUTE,
      finishedAt: S + i * 10 * MINUTE + SECOND,
      trigger: "watch" as const,
      interval: 10 * MINUTE,
      observed: { api: { s: "up" as const } },
    }));
    const report = computeReport(ticks, {
      since: S,
      until: S + DAY,
      intervalMs: 5 * MINUTE, // the rules' runtime.interval
      services: [{ id: "api", title: "API" }],
    });
    expect(report.ticks).toEqual({ count: 144, scheduled: 144, missed: 0 });
    expect(report.services[0]).toMatchObject({ upMs: DAY, unknownMs: 0, uptime: 1 });
  });

  it("nothing observed: no uptime, no MTTR", () => {
    const report = computeReport([], {
      since: S,
      until: S + DAY,
      intervalMs: INTERVAL,
      services: [{ id: "a", title: "a" }],
    });
    expect(report.services[0]).toMatchObject({ observedMs: 0, uptime: null, mttrMs: null, unknownMs: DAY });
  });

  it("a manual `upkeep heal` that brings a service back ended its incident by hand", () => {
    const events: HistoryEvent[] = [
      { kind: "tick", at: S, finishedAt: S, trigger: "run", observed: { a: { s: "up" } } },
      {
        kind: "tick",
        at: S + INTERVAL,
        finishedAt: S + INTERVAL,
        trigger: "run",
        observed: { a: { s: "down" } },
      },
      {
        kind: "tick",
        at: S + INTERVAL + MINUTE,
        finishedAt: S + INTERVAL + MINUTE,
        trigger: "heal",
        observed: { a: { s: "up", f: "down", up: S + INTERVAL + MINUTE + 5 * SECOND } },
      },
      {
        kind: "heal",
        at: S + INTERVAL + MINUTE,
        service: "a",
        outcome: "healed",
        reason: "healed",
        trial: false,
        forced: true,
        by: "ann",
        startedAt: S + INTERVAL + MINUTE,
        finishedAt: S + INTERVAL + MINUTE + 5 * SECOND,
        steps: [],
      },
    ];
    const report = computeReport(events, {
      since: S,
      until: S + HOUR,
      intervalMs: INTERVAL,
      services: [{ id: "a", title: "a" }],
    });
    expect(report.services[0]?.incidents).toMatchObject([
      { start: S + INTERVAL, end: S + INTERVAL + MINUTE + 5 * SECOND, ended: "by-hand" },
    ]);
    expect(report.services[0]?.downMs).toBe(MINUTE + 5 * SECOND);
    expect(report.ticks.scheduled).toBe(2);
  });
});
