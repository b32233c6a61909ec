import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { normalize } from "../../src/config/normalize.js";
import type { Config } from "../../src/config/model.js";
import { applyHealResult } from "../../src/core/decide.js";
import { emptyBreaker, emptyState, type UpkeepState } from "../../src/core/state.js";
import { silentLogger } from "../../src/runtime/logger.js";
import { escapeLabel, renderMetrics, writeMetrics } from "../../src/runtime/metrics.js";
import { parseProm, valueOf } from "./prom.js";

const NOW = Date.UTC(2025, 0, 1, 12);

function config(metricsFile?: string): Config {
  return normalize({
    rulesDir: "/r",
    servicesFile: "/r/services.yaml",
    services: {
      version: 1,
      ...(metricsFile === undefined ? {} : { runtime: { metrics: { file: metricsFile } } }),
      services: {
        api: {
          title: 'API "v2"\\edge\nline',
          probe: { type: "tcp", port: 1 },
          heal: { steps: [{ action: "verify" }] },
        },
        db: { probe: { type: "tcp", port: 2 } },
        off: { enabled: false, probe: { type: "tcp", port: 3 } },
      },
    } as never,
    alertsFile: "/r/alerts.yaml",
    alerts: {
      version: 1,
      channels: { log: { type: "log" } },
      levels: { CRITICAL: { threshold: 1, channels: ["log"] } },
      rules: {
        down: { level: "CRITICAL", when: { "==": [{ var: "status" }, "down"] } },
        "db-only": { level: "CRITICAL", services: ["db"], when: true },
      },
    } as never,
    env: {},
  });
}

function state(): UpkeepState {
  const s = emptyState();
  const record = (lastStatus: "up" | "down", lastLatencyMs: number) => ({
    lastStatus,
    since: NOW - 1000,
    consecutiveFailures: lastStatus === "up" ? 0 : 2,
    consecutiveSuccesses: lastStatus === "up" ? 4 : 0,
    lastProbeAt: NOW - 10,
    lastDetail: "",
    lastLatencyMs,
  });
  s.services.services = { api: record("down", 1500), db: record("up", 12) };
  s.breakers.breakers = {
    api: { ...emptyBreaker(), state: "OPEN", openedAt: NOW - 1, openUntil: NOW + 60_000 },
  };
  const alert = {
    streak: 2,
    since: NOW - 5000,
    notified: true,
    sent: 1,
    lastSentAt: NOW,
    nextReminderAt: null,
    resolvedPending: false,
    totalSent: 1,
    lastResolvedAt: null,
  };
  s.alerts.alerts = {
    "down/api": { ...alert, status: "firing" },
    "db-only/db": { ...alert, status: "pending" },
  };
  return s;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("renderMetrics", () => {
  it("writes HELP and TYPE once per family, and every sample parses", () => {
    const text = renderMetrics(config(), state(), { startedAt: NOW - 2500, finishedAt: NOW });
    const parsed = parseProm(text);
    expect([...parsed.meta.entries()].map(([name, m]) => [name, m.type])).toEqual([
      ["upkeep_service_up", "gauge"],
      ["upkeep_probe_latency_seconds", "gauge"],
      ["upkeep_breaker_state", "gauge"],
      ["upkeep_heals_total", "counter"],
      ["upkeep_alerts_firing", "gauge"],
      ["upkeep_last_tick_timestamp_seconds", "gauge"],
      ["upkeep_tick_duration_seconds", "gauge"],
    ]);
    for (const m of parsed.meta.values()) expect(m.help).toMatch(/\S/);
    expect(text.match(/^# TYPE /gm)).toHaveLength(7);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("per service: up, latency in seconds, breaker state one-hot; disabled services left out", () => {
    const p = parseProm(renderMetrics(config(), state(), { startedAt: NOW - 2500, finishedAt: NOW }));
    expect(valueOf(p, "upkeep_service_up", { service: "api" })).toBe(0);
    expect(valueOf(p, "upkeep_service_up", { service: "db", title: "db" })).toBe(1);
    expect(valueOf(p, "upkeep_probe_latency_seconds", { service: "api" })).toBe(1.5);
    expect(valueOf(p, "upkeep_probe_latency_seconds", { service: "db" })).toBe(0.012);
    const breaker = (service: string, s: string) => valueOf(p, "upkeep_breaker_state", { service, state: s });
    expect([breaker("api", "CLOSED"), breaker("api", "OPEN"), breaker("api", "HALF_OPEN")]).toEqual([
      0, 1, 0,
    ]);
    expect([breaker("db", "CLOSED"), breaker("db", "OPEN"), breaker("db", "HALF_OPEN")]).toEqual([1, 0, 0]);
    expect(p.samples.some((s) => s.labels["service"] === "off")).toBe(false);
    expect(valueOf(p, "upkeep_last_tick_timestamp_seconds")).toBe(NOW / 1000);
    expect(valueOf(p, "upkeep_tick_duration_seconds")).toBe(2.5);
  });

  it("alerts firing per rule that applies to the service, 0 when pending or never seen", () => {
    const p = parseProm(renderMetrics(config(), state(), { startedAt: NOW, finishedAt: NOW }));
    expect(valueOf(p, "upkeep_alerts_firing", { service: "api", rule: "down", level: "CRITICAL" })).toBe(1);
    expect(valueOf(p, "upkeep_alerts_firing", { service: "db", rule: "down" })).toBe(0);
    expect(valueOf(p, "upkeep_alerts_firing", { service: "db", rule: "db-only" })).toBe(0);
    expect(valueOf(p, "upkeep_alerts_firing", { service: "api", rule: "db-only" })).toBeUndefined();
  });

  it("escapes backslash, double quote and newline in label values", () => {
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const text = renderMetrics(config(), state(), { startedAt: NOW, finishedAt: NOW });
    expect(text).toContain('upkeep_service_up{service="api",title="API \\"v2\\"\\\\edge\\nline"} 0');
    expect(valueOf(parseProm(text), "upkeep_service_up", { title: 'API "v2"\\edge\nline' })).toBe(0);
  });

  it("heals_total counts from state totals, keeps counting past the trimmed history, and reads old files as 0; a heal that ran no step is none", () => {
    const c = config();
    let s = state();
    const heals = (st: UpkeepState) => parseProm(renderMetrics(c, st, { startedAt: NOW, finishedAt: NOW }));
    expect(valueOf(heals(s), "upkeep_heals_total", { service: "api", outcome: "healed" })).toBe(0);
    // A version-1 file written before totals existed: history but no totals.
    s.heals.heals = {
      api: { lastHealAt: NOW - 10, recent: [NOW - 10], history: [{ at: NOW - 10, outcome: "failed" }] },
    };
    expect(valueOf(heals(s), "upkeep_heals_total", { service: "api", outcome: "failed" })).toBe(0);
    for (let i = 0; i < 25; i += 1) {
      const at = NOW + i * 7_200_000;
      s = applyHealResult(c, s, "api", { ok: i % 5 !== 0, ran: 1 }, at).state;
      // Every `when` false: no step ran, so it is not a heal.
      s = applyHealResult(c, s, "api", { ok: false, ran: 0 }, at).state;
      s = JSON.parse(JSON.stringify(s)) as UpkeepState;
    }
    const p = heals(s);
    expect(s.heals.heals["api"]!.history.length).toBeLessThan(25);
    expect(valueOf(p, "upkeep_heals_total", { service: "api", outcome: "healed" })).toBe(20);
    expect(valueOf(p, "upkeep_heals_total", { service: "api", outcome: "failed" })).toBe(5);
  });
});

describe("writeMetrics", () => {
  it("replaces the .prom file atomically (no temp file left), readable by other users", async () => {
    const dir = mkdtempSync(join(tmpdir(), "upkeep-metrics-"));
    dirs.push(dir);
    const file = join(dir, "textfile", "upkeep.prom");
    const c = config(file);
    expect(c.runtime.metricsFile).toBe(file);
    await writeMetrics(c, state(), { startedAt: NOW, finishedAt: NOW }, silentLogger);
    const first = readFileSync(file, "utf8");
    await writeMetrics(c, emptyState(), { startedAt: NOW, finishedAt: NOW + 1000 }, silentLogger);
    expect(readFileSync(file, "utf8")).not.toBe(first);
    expect(readdirSync(join(dir, "textfile"))).toEqual(["upkeep.prom"]);
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  it("a metrics file that cannot be written is logged, never thrown", async () => {
    const dir = mkdtempSync(join(tmpdir(), "upkeep-metrics-"));
    dirs.push(dir);
    writeFileSync(join(dir, "blocker"), "a file where a folder should be");
    const warnings: unknown[] = [];
    const logger = { ...silentLogger, warn: (obj: unknown) => void warnings.push(obj) };
    await writeMetrics(
      config(join(dir, "blocker", "upkeep.prom")),
      state(),
      { startedAt: NOW, finishedAt: NOW },
      logger,
    );
    expect(warnings).toHaveLength(1);
  });
});
