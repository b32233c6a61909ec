import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activeSilences, inWeeklyWindow, isHealingPaused } from "../../src/core/silence.js";
import { HOUR, silence } from "./config-fixture.js";

/** Epoch ms of a local wall-clock time (month is 1-based). */
const local = (y: number, mo: number, d: number, h = 0, mi = 0): number =>
  new Date(y, mo - 1, d, h, mi).getTime();

// 2025-06-02 is a Monday.
const monday = (h: number, mi = 0) => local(2025, 6, 2, h, mi);

describe("activeSilences", () => {
  const all = silence("all");
  const critical = silence("crit", { levels: ["CRITICAL"] });
  const proxy = silence("proxy", { services: ["health-proxy"] });

  it("matches on services and levels, empty meaning all", () => {
    const ids = (service: string, level: string) =>
      activeSilences([all, critical, proxy], service, level, 0).map((s) => s.id);
    expect(ids("health-proxy", "CRITICAL")).toEqual(["all", "crit", "proxy"]);
    expect(ids("boss-api", "WARNING")).toEqual(["all"]);
  });

  it("is active from startsAt (inclusive) to endsAt (exclusive)", () => {
    const window = silence("w", { startsAt: 1000, endsAt: 2000 });
    expect(activeSilences([window], "a", "L", 999)).toEqual([]);
    expect(activeSilences([window], "a", "L", 1000)).toEqual([window]);
    expect(activeSilences([window], "a", "L", 1999)).toEqual([window]);
    expect(activeSilences([window], "a", "L", 2000)).toEqual([]);
  });
});

describe("weekly windows (machine local time)", () => {
  it("covers listed days from fromMinute (inclusive) to toMinute (exclusive)", () => {
    const w = { days: [1], fromMinute: 9 * 60, toMinute: 17 * 60 + 30 };
    expect(inWeeklyWindow(w, monday(8, 59))).toBe(false);
    expect(inWeeklyWindow(w, monday(9, 0))).toBe(true);
    expect(inWeeklyWindow(w, monday(17, 29))).toBe(true);
    expect(inWeeklyWindow(w, monday(17, 30))).toBe(false);
    expect(inWeeklyWindow(w, local(2025, 6, 3, 10))).toBe(false); // Tuesday
  });

  it("crosses midnight into the day after a listed day", () => {
    const w = { days: [0], fromMinute: 22 * 60, toMinute: 2 * 60 }; // Sunday 22:00 - Monday 02:00
    expect(inWeeklyWindow(w, local(2025, 6, 1, 21, 59))).toBe(false);
    expect(inWeeklyWindow(w, local(2025, 6, 1, 23, 0))).toBe(true);
    expect(inWeeklyWindow(w, monday(1, 59))).toBe(true);
    expect(inWeeklyWindow(w, monday(2, 0))).toBe(false);
    expect(inWeeklyWindow(w, monday(23, 0))).toBe(false); // Monday is not listed
    expect(inWeeklyWindow(w, local(2025, 6, 7, 1, 0))).toBe(false); // Saturday night is not Sunday's
  });

  it("equal ends mean a full 24 hours from that minute", () => {
    const w = { days: [1], fromMinute: 6 * 60, toMinute: 6 * 60 };
    expect(inWeeklyWindow(w, monday(5, 59))).toBe(false);
    expect(inWeeklyWindow(w, monday(6, 0))).toBe(true);
    expect(inWeeklyWindow(w, local(2025, 6, 3, 5, 59))).toBe(true);
    expect(inWeeklyWindow(w, local(2025, 6, 3, 6, 0))).toBe(false);
  });

  it("combines with startsAt / endsAt", () => {
    const s = silence("s", { weekly: { days: [1], fromMinute: 0, toMinute: 60 }, endsAt: monday(0, 30) });
    expect(activeSilences([s], "a", "L", monday(0, 10))).toEqual([s]);
    expect(activeSilences([s], "a", "L", monday(0, 40))).toEqual([]);
  });
});

describe("DST (Europe/Berlin: clocks go forward 2025-03-30 02:00, back 2025-10-26 03:00)", () => {
  const saved = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = "Europe/Berlin";
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });

  it("a window spanning the skipped hour is an hour shorter", () => {
    const w = { days: [0], fromMinute: 60, toMinute: 4 * 60 }; // Sunday 01:00-04:00 local
    const start = Date.UTC(2025, 2, 30, 0, 0); // 01:00 CET
    const inside = Array.from({ length: 6 * 60 }, (_, i) => start - HOUR + i * 60_000).filter((t) =>
      inWeeklyWindow(w, t),
    );
    expect(inside).toHaveLength(2 * 60);
    expect(inside[0]).toBe(start);
  });

  it("a window spanning the repeated hour is an hour longer", () => {
    const w = { days: [0], fromMinute: 60, toMinute: 4 * 60 }; // Sunday 01:00-04:00 local
    const start = Date.UTC(2025, 9, 25, 23, 0); // 01:00 CEST
    const inside = Array.from({ length: 6 * 60 }, (_, i) => start - HOUR + i * 60_000).filter((t) =>
      inWeeklyWindow(w, t),
    );
    expect(inside).toHaveLength(4 * 60);
  });
});

describe("isHealingPaused", () => {
  it("only maintenance silences pause healing, whatever their levels", () => {
    const muteOnly = silence("mute");
    const maintenance = silence("mw", {
      services: ["boss-api"],
      levels: ["INFO"],
      pauseHealing: true,
      endsAt: 5000,
    });
    expect(isHealingPaused([muteOnly], "boss-api", 0)).toBe(false);
    expect(isHealingPaused([muteOnly, maintenance], "boss-api", 0)).toBe(true);
    expect(isHealingPaused([maintenance], "health-proxy", 0)).toBe(false);
    expect(isHealingPaused([maintenance], "boss-api", 5000)).toBe(false);
  });
});
