import { describe, expect, it } from "vitest";
import { computeReport } from "../../src/history/report.js";
import { uptimeBars } from "../../src/serve/timeline.js";
import { DAY, INTERVAL, month, S, UNTIL } from "../history/month.js";

describe("the status page's uptime bars", () => {
  const services = [
    { id: "api", title: "API" },
    { id: "db", title: "Database" },
  ];
  const events = month();
  const bars = [
    { name: "30d", windowMs: 30 * DAY, buckets: 30 },
    { name: "2d", windowMs: 2 * DAY, buckets: 48 },
  ];
  const out = uptimeBars(events, { until: UNTIL, intervalMs: INTERVAL, services, bars });

  it("give every bucket the same up, down, blocked and unknown time as `upkeep report` over that bucket", () => {
    for (const s of services)
      for (const bar of bars) {
        const buckets = out[s.id]?.[bar.name] ?? [];
        expect(buckets).toHaveLength(bar.buckets);
        for (const b of buckets) {
          const r = computeReport(events, { since: b.from, until: b.to, intervalMs: INTERVAL, services });
          const own = r.services.find((x) => x.id === s.id);
          expect([b.upMs, b.downMs, b.blockedMs, b.unknownMs]).toEqual([
            own?.upMs,
            own?.downMs,
            own?.blockedMs,
            own?.unknownMs,
          ]);
        }
      }
  });

  it("cover the window exactly: the 30 day bar adds up to the month's report", () => {
    const month30 = computeReport(events, { since: S, until: UNTIL, intervalMs: INTERVAL, services });
    const api = out["api"]?.["30d"] ?? [];
    expect(api[0]?.from).toBe(S);
    expect(api.reduce((a, b) => a + b.upMs, 0)).toBe(month30.services[0]?.upMs);
    expect(api.reduce((a, b) => a + b.downMs, 0)).toBe(month30.services[0]?.downMs);
  });
});
