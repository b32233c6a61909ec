import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Config } from "../../src/config/model.js";
import type { AlertIntent } from "../../src/core/alerts.js";
import {
  applyHealResult,
  finishTick,
  planHeals,
  type FinishOptions,
  type Observation,
  type TickHeal,
} from "../../src/core/decide.js";
import { emptyState, type UpkeepState } from "../../src/core/state.js";
import {
  baselineConfig,
  evaluate,
  HOUR,
  makeConfig,
  MINUTE,
  roundTrip,
  rule,
  SECOND,
  service,
  silence,
} from "./config-fixture.js";

const TICK = 5 * MINUTE;

const obs = (ok: boolean, at: number, detail = ok ? "connected" : "ECONNREFUSED"): Observation => ({
  ok,
  latencyMs: ok ? 3 : 0,
  detail,
  at,
});

function observeAll(config: Config, down: readonly string[], at: number): Record<string, Observation> {
  return Object.fromEntries(config.services.map((s) => [s.id, obs(!down.includes(s.id), at)]));
}

const opts = (config: Config): FinishOptions => ({ silences: config.alerts.silences, evaluate });

/**
 * One tick the way the runtime does it: plan, heal (every heal "runs" for 5 s with the given outcome),
 * re-probe dependents of healed services and plan again, then finish with the final observations.
 */
function tick(
  config: Config,
  state: UpkeepState,
  now: number,
  down: readonly string[],
  healWorks: (id: string) => boolean = () => false,
) {
  const observations = observeAll(config, down, now);
  const heals: Record<string, TickHeal> = {};
  const plans = [];
  let only: string[] | undefined;
  for (let wave = 0; wave < 5; wave += 1) {
    const plan = planHeals(config, state, observations, now, only === undefined ? {} : { only });
    plans.push(plan);
    for (const [id, skip] of Object.entries(plan.skipped))
      heals[id] ??= { outcome: "skipped", reason: skip.reason };
    for (const h of plan.heals) {
      const ok = healWorks(h.serviceId);
      state = applyHealResult(
        config,
        state,
        h.serviceId,
        { ok, startedAt: now, finishedAt: now + 5 * SECOND },
        now,
      );
      heals[h.serviceId] = { outcome: ok ? "healed" : "failed", reason: ok ? "verified" : "verify failed" };
      if (ok) observations[h.serviceId] = obs(true, now);
    }
    const healed = plan.heals.filter((h) => observations[h.serviceId]?.ok).map((h) => h.serviceId);
    only = config.services.filter((s) => s.dependsOn.some((d) => healed.includes(d))).map((s) => s.id);
    if (only.length === 0) break;
  }
  const finished = finishTick(config, state, observations, heals, now, opts(config));
  return { plans, ...finished };
}

/** Runs `count` ticks 5 min apart; `down(i)` lists the services down at tick i. */
function ticks(config: Config, count: number, down: (i: number) => readonly string[], state = emptyState()) {
  const log = [];
  for (let i = 0; i < count; i += 1) {
    const result = tick(config, state, i * TICK, down(i));
    state = result.state;
    log.push(result);
  }
  return { state, log };
}

const noticesOf = (log: { alerts: AlertIntent[] }[], level: string, serviceId = "health-proxy") =>
  log.flatMap((t, i) =>
    t.alerts
      .filter((a) => a.level === level && a.serviceId === serviceId)
      .map((a) => [i, a.kind, a.count] as const),
  );

describe("baseline: Health Proxy goes down and every heal fails", () => {
  const config = baselineConfig();
  const { log } = ticks(config, 302, (i) => (i < 300 ? ["health-proxy"] : []));

  it("heals at 0, 5 and 10 min (5 min cooldown), then refuses the 4th until the first is an hour old", () => {
    const healedAt = log.flatMap((t, i) =>
      t.plans[0]!.heals.some((h) => h.serviceId === "health-proxy") ? [i] : [],
    );
    expect(healedAt.slice(0, 4)).toEqual([0, 1, 2, 12]);
    expect(log[3]!.plans[0]!.skipped["health-proxy"]).toEqual({ reason: "budget", nextAllowedAt: HOUR });
    expect(log[11]!.plans[0]!.skipped["health-proxy"]).toEqual({ reason: "budget", nextAllowedAt: HOUR });
    expect(log[12]!.facts["health-proxy"]?.heal).toEqual({
      outcome: "failed",
      reason: "verify failed",
      budgetLeft: 0,
    });
  });

  it("opens the breaker at the 5th failed tick; later heals are half-open trials", () => {
    expect(log[3]!.facts["health-proxy"]?.breaker).toBe("CLOSED");
    expect(log[4]!.facts["health-proxy"]?.breaker).toBe("OPEN");
    expect(log[4]!.breakerDecisions["health-proxy"]).toEqual([
      {
        type: "opened",
        reason: "failures",
        until: 4 * TICK + 60 * SECOND,
        durationMs: 60 * SECOND,
        level: 0,
      },
    ]);
    expect(log[12]!.plans[0]!.heals).toEqual([
      {
        serviceId: "health-proxy",
        trial: true,
        forced: false,
        reason: "probe failed: ECONNREFUSED (breaker half-open: trial)",
      },
    ]);
  });

  it("CRITICAL fires at the 3rd failed tick and reminds hourly", () => {
    const critical = noticesOf(log, "CRITICAL");
    expect(critical[0]).toEqual([2, "firing", 1]);
    expect(critical.slice(1, 4)).toEqual([
      [14, "reminder", 2],
      [26, "reminder", 3],
      [38, "reminder", 4],
    ]);
    expect(critical.filter(([, kind]) => kind === "reminder")).toHaveLength(Math.floor((299 - 2) / 12));
  });

  it("WARNING fires at the 5th and reminds every 2 h; INFO at the 10th and every 24 h", () => {
    expect(noticesOf(log, "WARNING").slice(0, 3)).toEqual([
      [4, "firing", 1],
      [28, "reminder", 2],
      [52, "reminder", 3],
    ]);
    const info = noticesOf(log, "INFO");
    expect(info.slice(0, 2)).toEqual([
      [9, "firing", 1],
      [9 + 288, "reminder", 2],
    ]);
  });

  it("sends one resolved notice per level when it comes back, and keeps counts", () => {
    expect(log[300]!.alerts.map((a) => [a.level, a.kind])).toEqual([
      ["CRITICAL", "resolved"],
      ["WARNING", "resolved"],
      ["INFO", "resolved"],
    ]);
    expect(log[301]!.alerts).toEqual([]);
    const sentCritical = noticesOf(log, "CRITICAL").length;
    expect(log[300]!.alerts[0]).toMatchObject({ since: 2 * TICK, count: sentCritical });
    expect(log[301]!.state.alerts.totals).toEqual({
      CRITICAL: sentCritical,
      WARNING: noticesOf(log, "WARNING").length,
      INFO: noticesOf(log, "INFO").length,
    });
  });

  it("tracks status, since and consecutive counts", () => {
    expect(log[299]!.facts["health-proxy"]).toMatchObject({
      status: "down",
      consecutiveFailures: 300,
      since: 0,
      detail: "ECONNREFUSED",
    });
    expect(log[301]!.facts["health-proxy"]).toMatchObject({
      status: "up",
      consecutiveSuccesses: 2,
      since: 300 * TICK,
    });
    expect(log[301]!.facts["boss-api"]).toMatchObject({ status: "up", consecutiveSuccesses: 302, since: 0 });
  });
});

describe("dependencies", () => {
  const config = makeConfig({
    services: [service("api", { dependsOn: ["db"] }), service("db"), service("web", { dependsOn: ["api"] })],
    rules: [
      rule("down", "CRITICAL"),
      rule("unhealthy", "WARNING", { when: { "!=": [{ var: "status" }, "up"] } }),
    ],
  });

  it("does not heal a blocked dependent; heals it in the next wave once its dependency is healed", () => {
    const result = tick(config, emptyState(), 0, ["db", "api", "web"], (id) => id === "db");
    expect(result.plans[0]).toEqual({
      heals: [{ serviceId: "db", trial: false, forced: false, reason: "probe failed: ECONNREFUSED" }],
      skipped: { api: { reason: "blocked" }, web: { reason: "blocked" } },
      blocked: { api: ["db"], web: ["db"] },
    });
    expect(result.plans[1]!.heals.map((h) => h.serviceId)).toEqual(["api"]);
    expect(result.plans[1]!.blocked).toEqual({});
  });

  it("reports blocked services with their root causes and feeds their breaker nothing", () => {
    const { log, state } = ticks(config, 8, () => ["db", "api", "web"]);
    expect(log[7]!.facts["web"]).toMatchObject({
      status: "blocked",
      blockedBy: ["db"],
      consecutiveFailures: 8,
    });
    expect(log[7]!.facts["db"]?.breaker).toBe("OPEN");
    expect(state.breakers.breakers["api"]).toMatchObject({ state: "CLOSED", failures: 0 });
  });

  it("inhibits a blocked service's alerts, and announces them once it is down on its own", () => {
    const { log } = ticks(config, 12, (i) => (i < 8 ? ["db", "api"] : ["api"]));
    const apiNotices = log.flatMap((t, i) =>
      t.alerts.filter((a) => a.serviceId === "api").map((a) => [i, a.ruleId, a.kind]),
    );
    // "unhealthy" fired internally at tick 4 while inhibited; announced at tick 8. "down" counts from tick 8.
    expect(apiNotices).toEqual([
      [8, "unhealthy", "firing"],
      [10, "down", "firing"],
    ]);
  });

  it("never inhibits a resolution", () => {
    // api down on its own (alerts fire), then db goes down too: api is blocked, "down" no longer holds.
    const { log } = ticks(config, 6, (i) => (i < 3 ? ["api"] : ["db", "api"]));
    expect(log[3]!.facts["api"]?.status).toBe("blocked");
    expect(log[3]!.alerts.filter((a) => a.serviceId === "api")).toMatchObject([
      { ruleId: "down", kind: "resolved" },
    ]);
  });

  it("judges a dependency not observed this tick by its last known status", () => {
    let state = ticks(config, 1, () => ["db"]).state;
    const plan = planHeals(config, state, { api: obs(false, TICK) }, TICK);
    expect(plan.blocked).toEqual({ api: ["db"] });
    state = ticks(config, 1, () => []).state;
    expect(planHeals(config, state, { api: obs(false, TICK) }, TICK).heals.map((h) => h.serviceId)).toEqual([
      "api",
    ]);
  });
});

describe("why a heal is skipped", () => {
  it("breaker-open, with the time it allows a trial", () => {
    const config = makeConfig({
      services: [
        service("a", {
          breaker: { openForMs: HOUR },
          heal: { cooldownMs: 0, budget: { max: 99, perMs: HOUR } },
        }),
      ],
    });
    const { log } = ticks(config, 7, () => ["a"]);
    expect(log[5]!.plans[0]!.skipped["a"]).toEqual({
      reason: "breaker-open",
      nextAllowedAt: 4 * TICK + HOUR,
    });
    expect(log[6]!.facts["a"]?.heal).toMatchObject({ outcome: "skipped", reason: "breaker-open" });
  });

  it("paused by a maintenance silence, disabled, no steps", () => {
    const config = makeConfig({
      services: [
        service("paused"),
        service("off", { enabled: false }),
        service("watched", { heal: { steps: [] } }),
      ],
      silences: [silence("mw", { services: ["paused"], pauseHealing: true, endsAt: HOUR })],
    });
    const observations = observeAll(config, ["paused", "off", "watched"], 0);
    expect(planHeals(config, emptyState(), observations, 0).skipped).toEqual({
      paused: { reason: "paused" },
      off: { reason: "disabled" },
      watched: { reason: "no-steps" },
    });
    expect(planHeals(config, emptyState(), observations, HOUR).heals.map((h) => h.serviceId)).toEqual([
      "paused",
    ]);
    const adHoc = [silence("now", { pauseHealing: true })];
    expect(planHeals(config, emptyState(), observations, HOUR, { silences: adHoc }).heals).toEqual([]);
  });

  it("force bypasses cooldown and budget, and the forced heal still counts", () => {
    const config = baselineConfig();
    let state = ticks(config, 3, () => ["boss-api"]).state; // 3 heals used
    const observations = observeAll(config, ["boss-api"], 3 * TICK);
    expect(planHeals(config, state, observations, 3 * TICK).heals).toEqual([]);
    const forced = planHeals(config, state, observations, 3 * TICK, { force: ["boss-api"] });
    expect(forced.heals).toEqual([
      { serviceId: "boss-api", trial: false, forced: true, reason: "forced; probe failed: ECONNREFUSED" },
    ]);
    state = applyHealResult(
      config,
      state,
      "boss-api",
      { ok: true, startedAt: 3 * TICK, finishedAt: 3 * TICK + 1, forced: true, by: "ops" },
      3 * TICK,
    );
    expect(state.heals.heals["boss-api"]?.history.at(-1)).toEqual({
      at: 3 * TICK,
      outcome: "healed",
      forced: true,
      by: "ops",
    });
    expect(state.heals.heals["boss-api"]?.recent).toHaveLength(4);
  });

  it("returns heals in dependency order", () => {
    const config = makeConfig({ services: [service("a", { dependsOn: ["c"] }), service("b"), service("c")] });
    const plan = planHeals(config, emptyState(), observeAll(config, ["b", "c"], 0), 0);
    expect(plan.heals.map((h) => h.serviceId)).toEqual(["c", "b"]);
  });

  it("`only` limits which services are considered", () => {
    const config = baselineConfig();
    const observations = observeAll(config, ["boss-api", "mcp-bridge"], 0);
    const plan = planHeals(config, emptyState(), observations, 0, { only: ["mcp-bridge"] });
    expect(plan.heals.map((h) => h.serviceId)).toEqual(["mcp-bridge"]);
    expect(plan.skipped).toEqual({});
  });
});

describe("finishTick robustness", () => {
  it("a condition that throws is reported and leaves that alert's state alone", () => {
    const config = makeConfig({
      services: [service("a")],
      rules: [rule("ok", "CRITICAL"), rule("bad", "INFO", { when: { "!": [false] } })],
    });
    const throwing: FinishOptions = {
      silences: [],
      evaluate: (expr, data) => {
        if (expr === config.alerts.rules[1]!.when) throw new Error("boom");
        return evaluate(expr, data);
      },
    };
    const result = finishTick(config, emptyState(), { a: obs(false, 0) }, {}, 0, throwing);
    expect(result.errors).toEqual([{ ruleId: "bad", serviceId: "a", message: "boom" }]);
    expect(Object.keys(result.state.alerts.alerts)).toEqual(["ok/a"]);
  });

  it("reads conditions with json-logic truthiness (an empty list is false)", () => {
    const config = makeConfig({
      services: [service("a")],
      rules: [
        rule("blocked", "CRITICAL", { when: { var: "blockedBy" } }),
        rule("tagged", "CRITICAL", { when: { var: "service.tags" } }),
      ],
    });
    const { log } = ticks(config, 4, () => []);
    expect(log.flatMap((t) => t.alerts)).toEqual([]);
  });

  it("keeps services not observed this tick as they were, and drops services no longer configured", () => {
    const config = baselineConfig();
    const before = ticks(config, 2, () => ["boss-api"]).state;
    const smaller = makeConfig({ services: [service("boss-api"), service("mcp-bridge")] });
    const after = finishTick(
      smaller,
      before,
      { "mcp-bridge": obs(true, 2 * TICK) },
      {},
      2 * TICK,
      opts(smaller),
    ).state;
    expect(after.services.services["boss-api"]).toEqual(before.services.services["boss-api"]);
    expect(after.breakers.breakers["boss-api"]).toEqual(before.breakers.breakers["boss-api"]);
    expect(Object.keys(after.services.services).sort()).toEqual(["boss-api", "mcp-bridge"]);
    expect(Object.keys(after.alerts.alerts).some((k) => k.endsWith("/health-proxy"))).toBe(false);
  });

  it("handles service ids that are Object.prototype names", () => {
    const config = makeConfig({
      services: [service("constructor"), service("__proto__", { dependsOn: ["constructor"] })],
    });
    const { log, state } = ticks(config, 4, () => ["constructor", "__proto__"]);
    expect(log[3]!.facts["__proto__"]).toMatchObject({ status: "blocked", blockedBy: ["constructor"] });
    expect(Object.getPrototypeOf(state.services.services)).toBe(Object.prototype);
    expect(roundTrip(state).services.services["__proto__"]).toMatchObject({ lastStatus: "blocked" });
    expect(log[3]!.facts["constructor"]).toMatchObject({ status: "down", consecutiveFailures: 4 });
  });
});

// ---- properties -------------------------------------------------------------------------------

const scenarioConfig = makeConfig({
  services: [
    service("db", { heal: { cooldownMs: 2 * MINUTE, budget: { max: 2, perMs: 30 * MINUTE } } }),
    service("api", { dependsOn: ["db"], breaker: { backoffFactor: 2, maxOpenForMs: 10 * MINUTE } }),
    service("web", { dependsOn: ["api"], breaker: { mode: "rate", minSamples: 3, window: 6 } }),
  ],
  rules: [
    rule("down", "CRITICAL"),
    rule("unhealthy", "WARNING", { when: { "!=": [{ var: "status" }, "up"] } }),
  ],
  silences: [
    silence("nightly", {
      weekly: { days: [0, 1, 2, 3, 4, 5, 6], fromMinute: 0, toMinute: 30 },
      pauseHealing: true,
    }),
  ],
});

const tickArb = fc.record({
  dt: fc.integer({ min: 0, max: 20 }).map((m) => m * MINUTE),
  down: fc.subarray(["db", "api", "web"]),
  healWorks: fc.boolean(),
  force: fc.boolean(),
});

function simulate(
  script: { dt: number; down: string[]; healWorks: boolean; force: boolean }[],
  persist: boolean,
) {
  let state = emptyState();
  let now = Date.UTC(2025, 0, 1);
  const outputs: unknown[] = [];
  const heals: { id: string; at: number; forced: boolean }[] = [];
  for (const step of script) {
    now += step.dt;
    const observations = observeAll(scenarioConfig, step.down, now);
    const plan = planHeals(scenarioConfig, state, observations, now, step.force ? { force: ["db"] } : {});
    const done: Record<string, TickHeal> = {};
    for (const h of plan.heals) {
      heals.push({ id: h.serviceId, at: now, forced: h.forced });
      state = applyHealResult(
        scenarioConfig,
        state,
        h.serviceId,
        { ok: step.healWorks, startedAt: now, finishedAt: now, forced: h.forced },
        now,
      );
      done[h.serviceId] = { outcome: step.healWorks ? "healed" : "failed", reason: "" };
      if (persist) state = roundTrip(state);
    }
    const finished = finishTick(scenarioConfig, state, observations, done, now, opts(scenarioConfig));
    outputs.push(plan, finished.alerts, finished.facts, finished.breakerDecisions);
    state = persist ? roundTrip(finished.state) : finished.state;
  }
  return { outputs, heals, state };
}

describe("properties of whole ticks", () => {
  const scriptArb = fc.array(tickArb, { maxLength: 40 });

  it("a JSON round-trip of the state between every step changes no decision", () => {
    fc.assert(
      fc.property(scriptArb, (script) => {
        const plain = simulate(script, false);
        const stored = simulate(script, true);
        expect(stored.outputs).toEqual(plain.outputs);
        expect(stored.state).toEqual(roundTrip(plain.state));
      }),
      { numRuns: 100 },
    );
  });

  it("unforced heals never exceed a service's budget in any window, nor its cooldown", () => {
    fc.assert(
      fc.property(scriptArb, (script) => {
        const { heals } = simulate(script, false);
        for (const svc of scenarioConfig.services) {
          const mine = heals.filter((h) => h.id === svc.id);
          mine.forEach((heal, i) => {
            if (heal.forced) return;
            const window = mine.slice(0, i + 1).filter((h) => h.at > heal.at - svc.heal.budget.perMs);
            expect(window.length).toBeLessThanOrEqual(svc.heal.budget.max);
            const previous = mine[i - 1];
            if (previous !== undefined)
              expect(heal.at - previous.at).toBeGreaterThanOrEqual(svc.heal.cooldownMs);
          });
        }
      }),
      { numRuns: 100 },
    );
  });
});
