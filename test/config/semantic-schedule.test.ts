import { describe, expect, it } from "vitest";
import { checkLaunchdThrottle } from "../../src/config/semantic-schedule.js";

const rules = (interval: string | undefined, probe = "tcp") => ({
  version: 1,
  ...(interval === undefined ? {} : { runtime: { interval } }),
  services: { api: { probe: { type: probe, port: 3002 } } },
});

describe("the launchd-throttle warning", () => {
  it("warns on macOS when runtime.interval is under launchd's 10 s ThrottleInterval", () => {
    const [finding] = checkLaunchdThrottle(rules("5s"), "darwin");
    expect(finding).toMatchObject({
      code: "launchd-throttle",
      severity: "warning",
      pointer: "/runtime/interval",
    });
    expect(finding?.message).toContain("on macOS launchd starts a job at most every 10 s");
  });

  it("warns elsewhere only when the rules use launchd handlers (validated in CI for a Mac)", () => {
    expect(checkLaunchdThrottle(rules("5s"), "linux")).toEqual([]);
    expect(checkLaunchdThrottle(rules("5s", "launchd"), "linux")).toHaveLength(1);
  });

  it("is quiet at 10 s and above, and for the default interval", () => {
    for (const interval of ["10s", "300s", "1m", undefined])
      expect(checkLaunchdThrottle(rules(interval), "darwin")).toEqual([]);
  });
});
