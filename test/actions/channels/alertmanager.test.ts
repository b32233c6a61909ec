/**
 * The alertmanager channel against real HTTP servers on 127.0.0.1 standing in for Alertmanager's API:
 * the payload (labels, annotations, startsAt/endsAt), every URL told, partial failure, auth headers,
 * and which alerts the delivery layer refreshes at every tick. test/actions/channels/
 * alertmanager-real.test.ts runs the same channel against a real Alertmanager.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  alertmanagerChannel as impl,
  alertsEndpoint,
  MIN_RESOLVE_TIMEOUT_MS,
  tagLabels,
  type AlertmanagerChannelParams,
  type AmAlert,
} from "../../../src/actions/channels/alertmanager.js";
import { getHandler } from "../../../src/actions/registry.js";
import type { ChannelHandler } from "../../../src/actions/types.js";
import { emptyAlert } from "../../../src/core/alerts.js";
import type { AlertsState } from "../../../src/core/state.js";
import { refreshIntents } from "../../../src/runtime/deliver.js";
import { baselineConfig } from "../../core/config-fixture.js";
import { makeContext, never, settings } from "../helpers.js";
import { alertEvent, frozenClock, notificationOf, startRecorder, T0, type Recorder } from "./recorder.js";

const am: ChannelHandler<AlertmanagerChannelParams> = impl;

let a: Recorder;
let b: Recorder;
beforeEach(async () => {
  a = await startRecorder("/");
  b = await startRecorder("/");
  a.fallback = { status: 200 };
  b.fallback = { status: 200 };
});
afterEach(async () => {
  await a.close();
  await b.close();
});

const base = (r: Recorder): string => `http://127.0.0.1:${r.port}`;
const ctx = (events = [alertEvent()], intervalMs?: number) =>
  makeContext({
    clock: frozenClock(),
    notification: notificationOf(events, "am"),
    settings: { ...settings, ...(intervalMs === undefined ? {} : { intervalMs }) },
  });
const sent = (r: Recorder, i = 0): AmAlert[] => JSON.parse(r.requests[i]?.body ?? "null") as AmAlert[];

describe("alertmanager channel", () => {
  it("posts each alert with its labels, annotations and the episode's start, endsAt pushed ahead", async () => {
    const event = alertEvent({
      since: T0 - 10 * 60_000,
      facts: {
        ...alertEvent().facts,
        service: { id: "boss-api", title: "Boss API", tags: ["db", "team=core"] },
      },
    });
    const result = await am.run(
      ctx([event]),
      { urls: [base(a)], instance: "web-1", labels: { env: "prod" }, generatorURL: "http://web-1:8080/" },
      never(),
    );
    expect(result).toEqual({ ok: true, detail: "1 alert(s) accepted by 1/1 Alertmanager(s)" });
    expect(a.requests[0]?.method).toBe("POST");
    expect(a.requests[0]?.url).toBe("/api/v2/alerts");
    expect(a.requests[0]?.headers["content-type"]).toBe("application/json");
    expect(sent(a)).toEqual([
      {
        labels: {
          alertname: "service-down-critical",
          service: "boss-api",
          severity: "critical",
          instance: "web-1",
          env: "prod",
          team: "core",
          tags: "db,team=core",
        },
        annotations: {
          summary: "CRITICAL: Boss API is down",
          description: "Boss API is down: connect ECONNREFUSED 127.0.0.1:4000 (3 failed checks)",
          title: "Boss API",
        },
        startsAt: "2025-06-01T11:50:00Z",
        endsAt: "2025-06-01T12:05:00Z",
        generatorURL: "http://web-1:8080/",
      },
    ]);
  });

  it("pushes endsAt 3 intervals ahead (at least 5 minutes), or by resolveTimeout", async () => {
    await am.run(ctx([alertEvent()], 10 * 60_000), { urls: [base(a)] }, never());
    expect(sent(a)[0]?.endsAt).toBe(new Date(T0 + 30 * 60_000).toISOString().replace(".000", ""));
    await am.run(ctx([alertEvent()], 30_000), { urls: [base(a)] }, never());
    expect(Date.parse(sent(a, 1)[0]?.endsAt ?? "")).toBe(T0 + MIN_RESOLVE_TIMEOUT_MS);
    await am.run(ctx([alertEvent()], 30_000), { urls: [base(a)], resolveTimeout: "1h" }, never());
    expect(Date.parse(sent(a, 2)[0]?.endsAt ?? "")).toBe(T0 + 3_600_000);
  });

  it("ends a resolved alert now, and keeps the summary stable across reminders and refreshes", async () => {
    const events = [
      alertEvent({
        kind: "resolved",
        message: "[RESOLVED] Boss API is up again",
        ruleId: "r1",
        facts: { ...alertEvent().facts, status: "up" },
      }),
      alertEvent({ kind: "reminder", ruleId: "r2", refresh: true }),
    ];
    await am.run(ctx(events), { urls: [base(a)], instance: "h" }, never());
    const [resolved, refreshed] = sent(a);
    expect(resolved?.endsAt).toBe("2025-06-01T12:00:00Z");
    expect(resolved?.annotations["summary"]).toBe("Resolved: Boss API is up again");
    expect(refreshed?.labels["alertname"]).toBe("r2");
    expect(refreshed?.annotations["summary"]).toBe("CRITICAL: Boss API is down");
    expect(Date.parse(refreshed?.endsAt ?? "")).toBeGreaterThan(T0);
  });

  it("tells every URL; succeeds when one accepts and names the one that failed", async () => {
    b.fallback = { status: 503, body: "not ready" };
    const both = await am.run(ctx(), { urls: [base(a), `${base(b)}/am/`] }, never());
    expect(a.requests).toHaveLength(1);
    expect(b.requests[0]?.url).toBe("/am/api/v2/alerts");
    expect(both.ok).toBe(true);
    expect(both.detail).toBe(
      `1 alert(s) accepted by 1/2 Alertmanager(s); failed: http://127.0.0.1:${b.port}/... HTTP 503 not ready`,
    );
  });

  it("fails retryably when none accepts, and does not retry a notification of refreshes only", async () => {
    a.fallback = { status: 500 };
    const notice = await am.run(ctx(), { urls: [base(a)] }, never());
    expect(notice).toMatchObject({ ok: false, retryable: true });
    expect(notice.detail).toMatch(/^no Alertmanager accepted: .* HTTP 500/);
    const refresh = await am.run(
      ctx([alertEvent({ kind: "reminder", refresh: true })]),
      { urls: [base(a)] },
      never(),
    );
    expect(refresh).toMatchObject({ ok: false, retryable: false });
    expect(refresh.detail).toContain("the next tick sends a newer one");
  });

  it("sends basic or bearer auth and extra headers", async () => {
    await am.run(
      ctx(),
      { urls: [base(a)], username: "up", password: "s3cret", headers: { "x-scope-orgid": "t1" } },
      never(),
    );
    expect(a.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from("up:s3cret").toString("base64")}`);
    expect(a.requests[0]?.headers["x-scope-orgid"]).toBe("t1");
    await am.run(ctx(), { urls: [base(a)], bearerToken: "tok-123" }, never());
    expect(a.requests[1]?.headers.authorization).toBe("Bearer tok-123");
  });

  it("never shows the Basic credentials an endpoint echoes back, base64 or plain", async () => {
    const basic = Buffer.from("up:pa55-w0rd-0123456789").toString("base64");
    a.fallback = { status: 401, body: `unauthorized: Basic ${basic} (pa55-w0rd-0123456789)` };
    const result = await am.run(
      ctx(),
      { urls: [base(a)], username: "up", password: "pa55-w0rd-0123456789" },
      never(),
    );
    expect(result.detail).toBe(
      `no Alertmanager accepted: http://127.0.0.1:${a.port}/... HTTP 401 unauthorized: Basic *** (***)`,
    );
  });

  it("refuses bad parameters without sending", async () => {
    const both = await am.run(ctx(), { urls: [base(a)], username: "u", bearerToken: "t" }, never());
    expect(both).toMatchObject({ ok: false, retryable: false });
    const label = await am.run(ctx(), { urls: [base(a)], labels: { severity: "x" } }, never());
    expect(label.detail).toContain('"severity" is not a label name upkeep lets you set');
    const ca = await am.run(ctx(), { urls: [base(a)], ca: "/nonexistent/ca.pem" }, never());
    expect(ca.detail).toBe("cannot read ca /nonexistent/ca.pem: ENOENT");
    expect(a.requests).toHaveLength(0);
  });

  it("describes where it sends without paths or credentials", () => {
    expect(am.describe({ urls: ["https://user:pw@am.example:9093/secret-prefix"] }, { settings })).toBe(
      "POST alerts to Alertmanager https://am.example:9093/... (/api/v2/alerts)",
    );
  });
});

describe("alertmanager helpers", () => {
  it("turns key=value tags into labels and lists all tags, never replacing identity labels", () => {
    expect(tagLabels(["web", "tier=front", "severity=low", "9x=y", "empty="])).toEqual({
      tier: "front",
      tags: "9x=y,empty=,severity=low,tier=front,web",
    });
    expect(tagLabels([])).toEqual({});
  });

  it("appends /api/v2/alerts to a base URL, keeping a route prefix", () => {
    expect(alertsEndpoint("http://h:9093")).toBe("http://h:9093/api/v2/alerts");
    expect(alertsEndpoint("http://h:9093/am/")).toBe("http://h:9093/am/api/v2/alerts");
    expect(alertsEndpoint("http://h:9093/api/v2/alerts")).toBe("http://h:9093/api/v2/alerts");
  });
});

describe("refresh while firing (deliver.ts)", () => {
  it("the alertmanager handler asks for it", () => {
    expect(getHandler("alertmanager", "channel")?.refreshWhileFiring).toBe(true);
  });

  it("refreshes firing, announced alerts without a notice this tick, on the channels that want it", () => {
    const config = baselineConfig();
    const firing = {
      ...emptyAlert(),
      status: "firing" as const,
      since: T0 - 60_000,
      notified: true,
      sent: 2,
    };
    const alerts: AlertsState = {
      version: 1,
      totals: {},
      alerts: {
        "service-down-critical/boss-api": firing,
        "service-down-critical/mcp-bridge": { ...firing, notified: false },
        "service-down-critical/health-proxy": firing,
        "service-down-warning/boss-api": { ...emptyAlert(), status: "pending", streak: 2 },
      },
    };
    const notice = {
      kind: "reminder" as const,
      ruleId: "service-down-critical",
      serviceId: "health-proxy",
      level: "CRITICAL",
      channels: ["discord", "log"],
      since: T0 - 60_000,
      count: 3,
      at: T0,
    };
    const refreshes = refreshIntents(config, alerts, [notice], T0, (c) => c === "discord");
    expect(refreshes).toEqual([
      {
        kind: "reminder",
        ruleId: "service-down-critical",
        serviceId: "boss-api",
        level: "CRITICAL",
        channels: ["discord"],
        since: T0 - 60_000,
        count: 2,
        at: T0,
      },
    ]);
    expect(refreshIntents(config, alerts, [], T0, () => false)).toEqual([]);
  });
});
