import { describe, expect, it } from "vitest";
import {
  describeNextRun,
  formatDelay,
  interpretUnits,
  parseShow,
  parseTimerList,
  parseTimestamp,
} from "../../src/schedule/systemd-state.js";

/** `systemctl --user show` output of systemd 252, as the real user manager printed it. */
const TIMER = parseShow(
  [
    "LoadState=loaded",
    "ActiveState=active",
    "UnitFileState=enabled",
    "LastTriggerUSec=Thu 2026-12-03 18:27:39 UTC",
    "NextElapseUSecMonotonic=28min 29.024723s",
    "Result=success",
  ].join("\n"),
);
const SERVICE_RAN = parseShow(
  [
    "LoadState=loaded",
    "ActiveState=inactive",
    "SubState=dead",
    "Result=success",
    "ExecMainCode=1",
    "ExecMainStatus=1",
    "ExecMainStartTimestamp=@1796322459",
    "ExecMainExitTimestamp=@1796322460",
  ].join("\n"),
);
const NOT_FOUND = parseShow(
  [
    "LoadState=not-found",
    "ActiveState=inactive",
    "Result=success",
    "ExecMainStatus=0",
    "ExecMainStartTimestamp=",
  ].join("\n"),
);
const LISTED = { next: 1796322469371, last: 1796322459354 };

describe("reading the user manager's answers", () => {
  it("takes the next run from list-timers (wall-clock µs), never from the monotonic NextElapseUSecMonotonic", () => {
    const rows =
      '[{"next":1796322469371402,"left":1796322469371402,"last":1796322459354052,"passed":1796322459354052,"unit":"upkeep.timer","activates":"upkeep.service"}]';
    expect(parseTimerList(rows, "upkeep.timer")).toEqual(LISTED);
    expect(parseTimerList(rows, "other.timer")).toBeUndefined();
    expect(parseTimerList('[{"next":null,"last":null,"unit":"upkeep.timer"}]', "upkeep.timer")).toEqual({
      next: null,
      last: null,
    });
    expect(parseTimerList("not json", "upkeep.timer")).toBeUndefined();
  });

  it("reads unix and default timestamps, and none for empty or n/a", () => {
    expect(parseTimestamp("@1796322459")).toBe(1796322459000);
    expect(parseTimestamp("Thu 2026-12-03 18:27:39 UTC")).toBe(Date.UTC(2026, 11, 3, 18, 27, 39));
    for (const none of ["", "n/a", undefined]) expect(parseTimestamp(none)).toBeNull();
  });

  it("reports the last tick's result, what its exit status means, and when it ran", () => {
    const state = interpretUnits({ timer: TIMER, service: SERVICE_RAN, listed: LISTED });
    expect(state).toMatchObject({
      loaded: true,
      timerState: "active",
      enabled: "enabled",
      nextRunAt: LISTED.next,
      lastTriggerAt: LISTED.last,
      lastRunAt: 1796322459000,
      result: "success",
      lastExit: { status: "1", meaning: "a watched service is still down" },
      failed: false,
    });
  });

  it("gives no result for a unit that is not loaded or never ran, though systemd says Result=success", () => {
    const state = interpretUnits({ timer: NOT_FOUND, service: NOT_FOUND });
    expect(state).toMatchObject({
      loaded: false,
      timerState: null,
      result: null,
      lastExit: null,
      lastRunAt: null,
    });
    const never = interpretUnits({ timer: TIMER, service: { ...SERVICE_RAN, ExecMainStartTimestamp: "" } });
    expect(never).toMatchObject({ result: null, lastExit: null, lastRunAt: null });
  });

  it("knows a failed tick, 203/EXEC and ticks killed by a signal", () => {
    const failed = { ...SERVICE_RAN, ActiveState: "failed", Result: "exit-code", ExecMainStatus: "203" };
    expect(interpretUnits({ timer: TIMER, service: failed })).toMatchObject({
      failed: true,
      result: "exit-code",
      lastExit: { status: "203", meaning: expect.stringContaining("203/EXEC") },
    });
    const killed = { ...SERVICE_RAN, ExecMainCode: "2", ExecMainStatus: "9", Result: "signal" };
    expect(interpretUnits({ timer: TIMER, service: killed }).lastExit?.status).toBe("SIGKILL");
  });

  it("falls back to LastTriggerUSec when list-timers gave nothing", () => {
    expect(interpretUnits({ timer: TIMER, service: SERVICE_RAN }).lastTriggerAt).toBe(
      Date.UTC(2026, 11, 3, 18, 27, 39),
    );
  });
});

describe("the next-run line", () => {
  const base = { loaded: true, timerState: "active", tickRunning: false, nextRunAt: null };

  it("is a time of day and a delay", () => {
    const now = Date.UTC(2026, 0, 1);
    expect(describeNextRun({ ...base, nextRunAt: now + 8_000 }, now)).toBe(
      "2026-01-01T00:00:08.000Z (in 8s)",
    );
    expect(formatDelay(245_000)).toBe("in 4min 5s");
    expect(formatDelay(2 * 3600_000 + 180_000)).toBe("in 2h 3min");
    expect(formatDelay(-500)).toBe("now");
  });

  it("says why there is none: a tick running (OnUnitActiveSec= counts from its start), an inactive or unloaded timer", () => {
    expect(describeNextRun({ ...base, tickRunning: true }, 0)).toMatch(/^after the tick that is running now/);
    expect(describeNextRun({ ...base, timerState: "inactive" }, 0)).toBe("none: the timer is inactive");
    expect(describeNextRun({ ...base, loaded: false }, 0)).toBe("none: the timer is not loaded");
  });
});
