/** The one-line service summary says what happened, and never more than the probe saw. */
import { describe, expect, it } from "vitest";
import { formatTickText, serviceLine } from "../../../src/cli/format/tick.js";
import type { ServiceReport, TickReport } from "../../../src/runtime/tick.js";

type Over = Omit<Partial<ServiceReport>, "heal"> & { heal?: Partial<ServiceReport["heal"]> };
const service = (over: Over): ServiceReport => ({
  id: "web",
  title: "Web",
  target: "port 8080",
  status: "up",
  detail: "connected",
  latencyMs: 1,
  breaker: "CLOSED",
  gaveUp: false,
  flapping: false,
  blockedBy: [],
  ...over,
  heal: { outcome: "none", reason: "", budgetLeft: 3, steps: [], ...over.heal },
});

describe("a service line", () => {
  it("says healed and why it was down when the heal brought it back", () => {
    const line = serviceLine(service({ detected: "connect ECONNREFUSED", heal: { outcome: "healed" } }));
    expect(line).toBe("Web (port 8080): UP (healed; was down: connect ECONNREFUSED)");
  });

  it("never says UP when every step succeeded but the probe still fails", () => {
    const line = serviceLine(
      service({ status: "down", detail: "connect ECONNREFUSED", heal: { outcome: "healed" } }),
    );
    expect(line).toMatch(/^Web \(port 8080\): DOWN - connect ECONNREFUSED; heal ran .* still down$/);
  });

  it("does not invent a failure for a forced restart of a service that was up", () => {
    const ran = { startedAt: 1, finishedAt: 2, trial: false, forced: true };
    const line = serviceLine(service({ heal: { outcome: "healed", ran } }));
    expect(line).toBe("Web (port 8080): UP (restarted by a forced heal; it was up)");
    expect(line).not.toContain("was down");
  });
});

describe("tick text", () => {
  const report: TickReport = {
    startedAt: 0,
    finishedAt: 1,
    dryRun: true,
    timedOut: false,
    services: [service({ status: "down", heal: { outcome: "skipped", reason: "dry run" } })],
    healed: 0,
    failed: 1,
    alerts: [],
    deliveries: [],
  } as unknown as TickReport;

  it("leaves out the plan and the summary when the caller prints its own", () => {
    expect(formatTickText(report)).toMatch(/Plan \(dry run[\s\S]*Summary: 0 healed, 1 failed/);
    const bare = formatTickText(report, { plan: false, summary: false });
    expect(bare).not.toMatch(/Plan|Summary/);
    expect(bare).toContain("would heal (see plan)");
  });
});

describe("alert lines", () => {
  it("say when a delivery is a retry of an earlier notice", () => {
    const base = {
      startedAt: 0,
      finishedAt: 1,
      dryRun: false,
      timedOut: false,
      services: [],
      healed: 0,
      failed: 0,
      alerts: [],
    };
    const delivery = {
      channel: "hook",
      events: 1,
      status: "sent",
      detail: "HTTP 200",
      text: "[CRITICAL] Web is down",
    };
    const first = formatTickText({
      ...base,
      deliveries: [{ ...delivery, id: "n1", attempt: 1 }],
    } as unknown as TickReport);
    const again = formatTickText({
      ...base,
      deliveries: [{ ...delivery, id: "n1", attempt: 3 }],
    } as unknown as TickReport);
    expect(first).toContain("Alert via hook: [CRITICAL] Web is down");
    expect(again).toContain("Alert via hook (retry 3 of an earlier notice n1): [CRITICAL] Web is down");
  });
});

describe("silenced notices", () => {
  it("show in the tick text as not sent, with why", () => {
    const report = {
      startedAt: 0,
      finishedAt: 1,
      dryRun: false,
      timedOut: false,
      services: [],
      healed: 0,
      failed: 1,
      alerts: [],
      deliveries: [],
      muted: [
        { kind: "firing", ruleId: "service-down", serviceId: "web", level: "CRITICAL", why: "silenced" },
        { kind: "reminder", ruleId: "service-down", serviceId: "api", level: "CRITICAL", why: "inhibited" },
      ],
    } as unknown as TickReport;
    const text = formatTickText(report);
    expect(text).toContain("Alert firing service-down (CRITICAL) for web: not sent, silenced");
    expect(text).toContain(
      "Alert reminder service-down (CRITICAL) for api: not sent, held back: a dependency is down",
    );
  });
});
