import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Config } from "../../src/config/model.js";
import type { AlertIntent } from "../../src/core/alerts.js";
import {
  applyHealResult,
  finishTick,
  ownRecords,
  planHeals,
  recordHealResult,
  type FinishOptions,
  type Observation,
} from "../../src/core/decide.js";
import { emptyState, type UpkeepState } from "../../src/core/state.js";
import { runTickFlow, type HealRun, type TickFlowResult, type TickOps } from "../../src/core/tick-flow.js";
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

interface TickScript {
  /** Services whose first probe fails. */
  down: readonly string[];
  /** Whether a heal of this service brings it back (what its verify sees). */
  healWorks?: (id: string) => boolean;
  /** Services whose re-probe later in the tick passes (a dependency came back). */
  upLater?: readonly string[];
  /** Steps that run in a heal (0: every `when` was false). */
  ran?: number;
  force?: readonly string[];
}

/** One tick through the shared tick flow, with probes and heals answered by the script. */
async function tick(config: Config, state: UpkeepState, now: number, script: TickScript) {
  const healWorks = script.healWorks ?? (() => false);
  const ops: TickOps = {
    probe: async (services, phase) =>
      Object.fromEntries(
        services.map((s) => [
          s.id,
          obs(phase === "first" ? !script.down.includes(s.id) : (script.upLater ?? []).includes(s.id), now),
        ]),
      ),
    heal: async (requests) =>
      Object.fromEntries(
        requests.map((r): [string, HealRun] => {
          const ok = healWorks(r.service.id);
          return [
            r.service.id,
            {
              ok,
              ran: script.ran ?? 1,
              detail: ok ? "healed" : "verify failed",
              dryRun: false,
              verified: obs(ok, now),
            },
          ];
        }),
      ),
    aborted: () => false,
  };
  return runTickFlow(config, state, now, ops, {
    dryRun: false,
    silences: config.alerts.silences,
    evaluate,
    ...(script.force === undefined ? {} : { force: script.force }),
  });
}

/** Runs `count` ticks 5 min apart; `script(i)` says what tick i sees. */
async function ticks(
  config: Config,
  count: number,
  script: (i: number) => TickScript,
  state = emptyState(),
  step = TICK,
) {
  const log: TickFlowResult[] = [];
  for (let i = 0; i < count; i += 1) {
    const result = await tick(config, state, i * step, script(i));
    state = result.state;
    log.push(result);
  }
  return { state, log };
}

const healTicks = (log: readonly TickFlowResult[], id: string) =>
  log.flatMap((t, i) => (t.heals.has(id) ? [i] : []));

const noticesOf = (log: { alerts: AlertIntent[] }[], level: string, serviceId = "health-proxy") =>
  log.flatMap((t, i) =>
    t.alerts
      .filter((a) => a.level === level && a.serviceId === serviceId)
      .map((a) => [i, a.kind, a.count] as const),
  );

/** Backoff doubling from 60 s: the shipped defaults. */
const GIVE_UP = { openForMs: 60 * SECOND, backoffFactor: 2, maxOpenForMs: 24 * HOUR };

describe("baseline: Health Proxy goes down and every heal fails", async () => {
  const config = makeConfig({
    services: [
      service("health-proxy", { title: "Health Proxy", breaker: GIVE_UP }),
      service("mcp-bridge", { title: "MCP Bridge", breaker: GIVE_UP }),
      service("boss-api", { title: "Boss API", breaker: GIVE_UP }),
    ],
  });
  const { log } = await ticks(config, 302, (i) => ({ down: i < 300 ? ["health-proxy"] : [] }));

  it("heals at 0, 5 and 10 min (5 min cooldown), then not before the first heal is an hour old", () => {
    expect(healTicks(log, "health-proxy").slice(0, 4)).toEqual([0, 1, 2, 12]);
    expect(log[3]!.skipped["health-proxy"]).toMatchObject({ reason: "budget", nextAllowedAt: HOUR });
    expect(log[11]!.skipped["health-proxy"]).toMatchObject({ reason: "budget", nextAllowedAt: HOUR });
    expect(log[12]!.facts["health-proxy"]?.heal).toMatchObject({
      outcome: "failed",
      reason: "verify failed",
      budgetLeft: 0,
      failedInRow: 4,
      failedSince: 0,
    });
  });

  it("counts failed heals, not failed ticks: refusals leave the breaker closed", () => {
    for (let i = 0; i < 13; i++) expect(log[i]!.facts["health-proxy"]?.breaker).toBe("CLOSED");
    expect(log[11]!.facts["health-proxy"]?.heal.failedInRow).toBe(3);
  });

  it("gives up at the 5th failed heal, says until when, and retries with doubling waits", () => {
    expect(log[13]!.facts["health-proxy"]).toMatchObject({ breaker: "OPEN", gaveUp: true });
    expect(log[13]!.breakerDecisions["health-proxy"]).toEqual([
      { type: "heal-failed", relapse: false, streak: 5 },
      {
        type: "opened",
        reason: "failures",
        until: 13 * TICK + 60 * SECOND,
        durationMs: 60 * SECOND,
        level: 0,
      },
    ]);
    // The true next heal: cooldown and budget end at 70 min, after the breaker's 66 min.
    expect(log[13]!.facts["health-proxy"]?.heal.nextAllowedAt).toBe(14 * TICK);
    const trials = log.flatMap((t, i) => (t.heals.get("health-proxy")?.intent.trial === true ? [i] : []));
    // 70m (open 60 s), 120m (2 min, then the budget), 125m (4 min), 135m (8 min), 180m (16 min, budget)...
    expect(trials.slice(0, 5)).toEqual([14, 24, 25, 27, 36]);
    const opened = log.flatMap((t) =>
      (t.breakerDecisions["health-proxy"] ?? []).flatMap((d) => (d.type === "opened" ? [d.durationMs] : [])),
    );
    expect(opened.slice(0, 5)).toEqual([1, 2, 4, 8, 16].map((m) => m * MINUTE));
    expect(healTicks(log, "health-proxy").length).toBeLessThan(40);
  });

  it("CRITICAL fires at the 3rd failed check and reminds hourly", () => {
    const critical = noticesOf(log, "CRITICAL");
    expect(critical[0]).toEqual([2, "firing", 1]);
    expect(critical.slice(1, 4)).toEqual([
      [14, "reminder", 2],
      [26, "reminder", 3],
      [38, "reminder", 4],
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
    expect(log[301]!.state.alerts.totals).toMatchObject({ CRITICAL: sentCritical });
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

describe("heal verdicts", () => {
  const config = makeConfig({ services: [service("a", { breaker: GIVE_UP })], rules: [] });
  const works = () => true;

  it("a heal holds after successThreshold healthy checks; down again before that is a failed heal", async () => {
    // down (healed), up, down: a relapse after one healthy check.
    const { log } = await ticks(config, 3, (i) => ({ down: i === 1 ? [] : ["a"], healWorks: works }));
    expect(log[0]!.facts["a"]?.heal).toMatchObject({ outcome: "healed", failedInRow: 0 });
    expect(log[2]!.breakerDecisions["a"]?.[0]).toEqual({ type: "heal-failed", relapse: true, streak: 1 });
    const held = await ticks(config, 4, (i) => ({ down: i === 0 || i === 3 ? ["a"] : [], healWorks: works }));
    expect(held.log[2]!.breakerDecisions["a"]).toEqual([{ type: "heal-held" }]);
    expect(held.log[3]!.facts["a"]?.heal.failedInRow).toBe(0);
  });

  it("a crash loop that every heal revives for one check makes upkeep give up", async () => {
    const { log } = await ticks(config, 40, (i) => ({ down: i % 2 === 0 ? ["a"] : [], healWorks: works }));
    const gaveUpAt = log.findIndex((t) => t.facts["a"]?.gaveUp);
    expect(gaveUpAt).toBe(16); // 80 min: the 5th relapse (heals at 0, 10, 20, 60, 70 min)
    expect(log[16]!.skipped["a"]).toMatchObject({ reason: "breaker-open" });
    expect(log[4]!.facts["a"]).toMatchObject({ flapping: true, outages: 3 });
  });

  it("a heal in which no step ran is not a heal: no budget, no cooldown, no verdict", async () => {
    const { log, state } = await ticks(config, 3, () => ({ down: ["a"], ran: 0 }));
    expect(log.map((t) => t.facts["a"]?.heal.outcome)).toEqual(["skipped", "skipped", "skipped"]);
    expect(log[0]!.facts["a"]?.heal.reason).toBe("no-step-ran");
    expect(state.heals.heals["a"]).toBeUndefined();
    expect(state.breakers.breakers["a"]?.failStreak ?? 0).toBe(0);
  });

  it("heal.after waits for that many failed checks in a row, without using the budget", async () => {
    const after = makeConfig({ services: [service("a", { heal: { after: 3 } })], rules: [] });
    const { log } = await ticks(after, 4, () => ({ down: ["a"] }));
    // From the 3rd failed check on, a heal at every tick (the cooldown equals the interval).
    expect(log.map((t) => t.facts["a"]?.heal.reason)).toEqual([
      "waiting",
      "waiting",
      "verify failed",
      "verify failed",
    ]);
    expect(log[1]!.facts["a"]?.heal.budgetLeft).toBe(3);
  });

  it("a maintenance window stops judging heals", async () => {
    const paused = makeConfig({
      services: [service("a")],
      rules: [],
      silences: [silence("mw", { pauseHealing: true, startsAt: TICK, endsAt: 3 * TICK })],
    });
    // healed at 0, then stopped on purpose during the window: no relapse.
    const { log } = await ticks(paused, 3, (i) => ({
      down: i === 0 ? ["a"] : ["a"],
      healWorks: () => i === 0,
    }));
    expect(log[1]!.breakerDecisions["a"]).toBeUndefined();
    expect(log[1]!.facts["a"]?.heal).toMatchObject({ outcome: "skipped", reason: "paused" });
  });
});

describe("one instant per tick", () => {
  it("a cooldown equal to the interval allows a heal at every tick, even one that comes early", async () => {
    const config = makeConfig({
      services: [service("a", { heal: { cooldownMs: TICK, budget: { max: 99, perMs: HOUR } } })],
      rules: [],
    });
    // The scheduler starts ticks up to 2 s early or late; the slack (1% of the interval, at most 5 s) absorbs it.
    const times = [0, TICK - 2 * SECOND, 2 * TICK + 2 * SECOND, 3 * TICK - SECOND];
    let state = emptyState();
    const healed: boolean[] = [];
    for (const now of times) {
      const result = await tick(config, state, now, { down: ["a"] });
      healed.push(result.heals.has("a"));
      state = result.state;
    }
    expect(healed).toEqual([true, true, true, true]);
  });

  it("records heals and opens at the tick's start, however long the heal took", async () => {
    const config = makeConfig({ services: [service("a")], rules: [] });
    const result = await tick(config, emptyState(), 7 * MINUTE, { down: ["a"] });
    expect(result.state.heals.heals["a"]?.recent).toEqual([7 * MINUTE]);
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

  it("does not heal a blocked dependent; heals it in the next wave once its dependency is healed", async () => {
    const result = await tick(config, emptyState(), 0, {
      down: ["db", "api", "web"],
      healWorks: (id) => id === "db",
    });
    const plan = planHeals(config, emptyState(), observeAll(config, ["db", "api", "web"], 0), 0);
    expect(plan).toMatchObject({
      heals: [{ serviceId: "db", trial: false, forced: false, reason: "probe failed: ECONNREFUSED" }],
      skipped: { api: { reason: "blocked" }, web: { reason: "blocked" } },
      blocked: { api: ["db"], web: ["db"] },
    });
    expect([...result.heals.keys()]).toEqual(["db", "api"]);
  });

  it("re-probes every transitive dependent after a heal: in db <- api <- web, web is judged again", async () => {
    // db is healed; api and web come back by themselves once db is up.
    const result = await tick(config, emptyState(), 0, {
      down: ["db", "api", "web"],
      healWorks: (id) => id === "db",
      upLater: ["api", "web"],
    });
    expect(result.facts["web"]).toMatchObject({ status: "up", heal: { outcome: "none" } });
    expect(result.facts["api"]).toMatchObject({ status: "up" });
    expect([...result.heals.keys()]).toEqual(["db"]);
  });

  it("reports blocked services with their root causes and feeds their breaker nothing", async () => {
    const { log, state } = await ticks(config, 8, () => ({ down: ["db", "api", "web"] }));
    expect(log[7]!.facts["web"]).toMatchObject({
      status: "blocked",
      blockedBy: ["db"],
      consecutiveFailures: 8,
    });
    expect(state.breakers.breakers["api"]).toBeUndefined();
    expect(state.breakers.breakers["db"]?.failStreak).toBe(3);
  });

  it("inhibits a blocked service's alerts, and announces them once it is down on its own", async () => {
    const { log } = await ticks(config, 12, (i) => ({ down: i < 8 ? ["db", "api"] : ["api"] }));
    const apiNotices = log.flatMap((t, i) =>
      t.alerts.filter((a) => a.serviceId === "api").map((a) => [i, a.ruleId, a.kind]),
    );
    // "unhealthy" fired internally at tick 4 while inhibited; announced at tick 8. "down" counts from tick 8.
    expect(apiNotices).toEqual([
      [8, "unhealthy", "firing"],
      [10, "down", "firing"],
    ]);
  });

  it("keeps a firing alert firing while its service is blocked, and resolves it when it is up", async () => {
    // api down on its own (alerts fire), then db goes down too: api is blocked, then everything recovers.
    const { log } = await ticks(config, 8, (i) => ({ down: i < 3 ? ["api"] : i < 6 ? ["db", "api"] : [] }));
    expect(log[3]!.facts["api"]?.status).toBe("blocked");
    const api = (i: number) =>
      log[i]!.alerts.filter((a) => a.serviceId === "api").map((a) => [a.ruleId, a.kind]);
    expect(api(3)).toEqual([]);
    expect(api(4)).toEqual([]);
    // "unhealthy" (status != up) began to fire while api was blocked: muted, never announced, so no
    // resolved notice; "down" was announced before and resolves.
    expect(api(6)).toEqual([["down", "resolved"]]);
  });

  it("judges a dependency not observed this tick by its last known status", async () => {
    let state = (await ticks(config, 1, () => ({ down: ["db"] }))).state;
    const plan = planHeals(config, state, { api: obs(false, TICK) }, TICK);
    expect(plan.blocked).toEqual({ api: ["db"] });
    state = (await ticks(config, 1, () => ({ down: [] }))).state;
    expect(planHeals(config, state, { api: obs(false, TICK) }, TICK).heals.map((h) => h.serviceId)).toEqual([
      "api",
    ]);
  });
});

describe("why a heal is not run", () => {
  it("lists every gate that refuses, and the true next time a heal may run", async () => {
    const config = makeConfig({
      services: [service("a", { breaker: { ...GIVE_UP, openForMs: HOUR, maxOpenForMs: HOUR } })],
      rules: [],
    });
    const { log } = await ticks(config, 20, () => ({ down: ["a"] }), emptyState(), MINUTE);
    // heals at 0, 5, 10 (budget used up); at 11 min both budget and cooldown refuse.
    expect(log[11]!.skipped["a"]).toEqual({
      reason: "budget",
      nextAllowedAt: HOUR,
      refusedBy: [
        { gate: "budget", until: HOUR },
        { gate: "cooldown", until: 15 * MINUTE },
      ],
    });
    expect(log[11]!.facts["a"]?.heal).toMatchObject({
      outcome: "refused",
      reason: "budget",
      refusedBy: ["budget", "cooldown"],
      nextAllowedAt: HOUR,
    });
  });

  it("breaker-open after giving up, with the later of the breaker's and the budget's times", async () => {
    const config = makeConfig({
      services: [service("a", { breaker: { ...GIVE_UP, failureThreshold: 1, openForMs: 30 * MINUTE } })],
      rules: [],
    });
    const { log } = await ticks(config, 2, () => ({ down: ["a"] }), emptyState(), MINUTE);
    expect(log[1]!.skipped["a"]).toEqual({
      reason: "breaker-open",
      nextAllowedAt: 30 * MINUTE,
      refusedBy: [
        { gate: "breaker-open", until: 30 * MINUTE, why: "gave-up" },
        { gate: "cooldown", until: 5 * MINUTE },
      ],
    });
  });

  it("paused by a maintenance silence (with its end), disabled, no steps", () => {
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
      paused: { reason: "paused", nextAllowedAt: HOUR, refusedBy: [{ gate: "paused", until: HOUR }] },
      off: { reason: "disabled" },
      watched: { reason: "no-steps" },
    });
    expect(planHeals(config, emptyState(), observations, HOUR).heals.map((h) => h.serviceId)).toEqual([
      "paused",
    ]);
    const adHoc = [silence("now", { pauseHealing: true })];
    const open = planHeals(config, emptyState(), observations, HOUR, { silences: adHoc });
    expect(open.heals).toEqual([]);
    expect(open.skipped["paused"]).toEqual({
      reason: "paused",
      refusedBy: [{ gate: "paused", until: null }],
    });
  });

  it("force bypasses cooldown and budget, and the forced heal still counts", async () => {
    const config = baselineConfig();
    let state = (await ticks(config, 3, () => ({ down: ["boss-api"] }))).state; // 3 heals used
    const observations = observeAll(config, ["boss-api"], 3 * TICK);
    expect(planHeals(config, state, observations, 3 * TICK).heals).toEqual([]);
    const forced = planHeals(config, state, observations, 3 * TICK, { force: ["boss-api"] });
    expect(forced.heals).toEqual([
      { serviceId: "boss-api", trial: false, forced: true, reason: "forced; probe failed: ECONNREFUSED" },
    ]);
    state = (
      await tick(config, state, 3 * TICK, { down: ["boss-api"], force: ["boss-api"], healWorks: () => true })
    ).state;
    expect(state.heals.heals["boss-api"]?.history.at(-1)).toEqual({
      at: 3 * TICK,
      outcome: "healed",
      forced: true,
    });
    expect(state.heals.heals["boss-api"]?.recent).toHaveLength(4);
  });

  it("facts say whether this tick's heal was forced, also for a restart of an up service", async () => {
    const config = baselineConfig();
    const plain = await tick(config, emptyState(), 0, { down: ["boss-api"], healWorks: () => true });
    expect(plain.facts["boss-api"]?.heal).toMatchObject({ outcome: "healed", forced: false });
    const forcedUp = await tick(config, plain.state, TICK, {
      down: [],
      force: ["boss-api"],
      healWorks: () => true,
    });
    expect(forcedUp.facts["boss-api"]?.heal).toMatchObject({ outcome: "healed", forced: true });
    const next = await tick(config, forcedUp.state, 2 * TICK, { down: [] });
    expect(next.facts["boss-api"]?.heal.forced).toBe(false);
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

describe("finishTick", () => {
  it("a service healed within the tick is up since this tick, and its outage is counted", async () => {
    const config = makeConfig({ services: [service("a")], rules: [] });
    const { log } = await ticks(config, 3, (i) => ({ down: i === 2 ? ["a"] : [], healWorks: () => true }));
    expect(log[2]!.facts["a"]).toMatchObject({ status: "up", since: 2 * TICK, outages: 1 });
    expect(log[1]!.facts["a"]).toMatchObject({ status: "up", since: 0 });
  });

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

  it("reads conditions with json-logic truthiness (an empty list is false)", async () => {
    const config = makeConfig({
      services: [service("a")],
      rules: [
        rule("blocked", "CRITICAL", { when: { var: "blockedBy" } }),
        rule("tagged", "CRITICAL", { when: { var: "service.tags" } }),
      ],
    });
    const { log } = await ticks(config, 4, () => ({ down: [] }));
    expect(log.flatMap((t) => t.alerts)).toEqual([]);
  });

  it("keeps services not observed this tick as they were, and drops services no longer configured", async () => {
    const config = baselineConfig();
    const before = (await ticks(config, 2, () => ({ down: ["boss-api"] }))).state;
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

  it("handles service ids that are Object.prototype names", async () => {
    const config = makeConfig({
      services: [service("constructor"), service("__proto__", { dependsOn: ["constructor"] })],
    });
    const { log, state } = await ticks(config, 4, () => ({ down: ["constructor", "__proto__"] }));
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

async function play(
  script: { dt: number; down: string[]; healWorks: boolean; force: boolean }[],
  persist: boolean,
) {
  let state = emptyState();
  let now = Date.UTC(2025, 0, 1);
  const outputs: unknown[] = [];
  const heals: { id: string; at: number; forced: boolean }[] = [];
  for (const step of script) {
    now += step.dt;
    const result = await tick(scenarioConfig, state, now, {
      down: step.down,
      healWorks: () => step.healWorks,
      ...(step.force ? { force: ["db"] } : {}),
    });
    for (const [id, { intent }] of result.heals) heals.push({ id, at: now, forced: intent.forced });
    outputs.push(result.skipped, result.alerts, result.facts, result.breakerDecisions);
    state = persist ? roundTrip(result.state) : result.state;
  }
  return { outputs, heals, state };
}

describe("properties of whole ticks", () => {
  const scriptArb = fc.array(tickArb, { maxLength: 40 });

  it("a JSON round-trip of the state between every tick changes no decision", async () => {
    await fc.assert(
      fc.asyncProperty(scriptArb, async (script) => {
        const plain = await play(script, false);
        const stored = await play(script, true);
        expect(stored.outputs).toEqual(plain.outputs);
        expect(stored.state).toEqual(roundTrip(plain.state));
      }),
      { numRuns: 100 },
    );
  });

  it("unforced heals never exceed a service's budget in any window, nor its cooldown", async () => {
    await fc.assert(
      fc.asyncProperty(scriptArb, async (script) => {
        const { heals } = await play(script, false);
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

describe("recording a tick's heals (no copy per heal)", () => {
  const config = makeConfig({
    services: ["a", "__proto__", "b", "constructor", "c"].map((id) => service(id)),
  });
  const results = [
    { id: "b", ok: true },
    { id: "__proto__", ok: false },
    { id: "constructor", ok: true },
    { id: "b", ok: false },
  ];

  it("writes into the tick's own records the state applyHealResult builds heal by heal", () => {
    // A state with records already: a tick of c healed before.
    const before = applyHealResult(config, emptyState(), "c", { ok: true, ran: 1 }, 0).state;
    const frozen = JSON.stringify(before);
    let copied = before;
    for (const r of results)
      copied = applyHealResult(config, copied, r.id, { ok: r.ok, ran: 2 }, 10 * MINUTE).state;

    const owned = ownRecords(before);
    const { heals, breakers } = owned;
    for (const r of results) {
      recordHealResult(config, owned, r.id, { ok: r.ok, ran: 2 }, 10 * MINUTE);
      // The same record objects after every heal: written in place, never copied again.
      expect(owned.heals.heals).toBe(heals.heals);
      expect(owned.breakers.breakers).toBe(breakers.breakers);
    }
    // Same entries, same key order (the state files come out byte for byte the same), ids like
    // `__proto__` as plain keys, and the state the tick started from untouched.
    expect(JSON.stringify(owned)).toBe(JSON.stringify(copied));
    expect(Object.getPrototypeOf(owned.heals.heals)).toBe(Object.prototype);
    expect(Object.keys(owned.heals.heals)).toEqual(["c", "b", "__proto__", "constructor"]);
    expect(JSON.stringify(before)).toBe(frozen);
  });

  it("records nothing for a heal in which no step ran, or for an unknown service", () => {
    const owned = ownRecords(emptyState());
    expect(recordHealResult(config, owned, "a", { ok: true, ran: 0 }, 0)).toEqual([]);
    expect(recordHealResult(config, owned, "ghost", { ok: true, ran: 1 }, 0)).toEqual([]);
    expect(owned).toEqual(emptyState());
  });
});
