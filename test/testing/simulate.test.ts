import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type {
  Handler,
  HandlerKind,
  ProbeHandler,
  StepHandler,
  ChannelHandler,
} from "../../src/actions/types.js";
import { evaluateLogic } from "../../src/config/logic.js";
import type { Config, JsonLogic, StepSpec } from "../../src/config/model.js";
import { loadRules } from "../../src/config/validate.js";
import type { AlertIntent } from "../../src/core/alerts.js";
import { emptyState, type UpkeepState } from "../../src/core/state.js";
import { createRedactor } from "../../src/runtime/redact.js";
import { runTick } from "../../src/runtime/tick.js";
import { DOWN, DOWN_HEAL_FAILS, DOWN_HEAL_OK, UP } from "../../src/testing/notation.js";
import { simulate, type SimulationInput } from "../../src/testing/simulate.js";
import { makeConfig, MINUTE, service, SECOND } from "../core/config-fixture.js";
import { SHIPPED_RULES } from "./helpers.js";

const source = { file: "test.yaml", pointer: "" };
const step = (action: string, extra: Partial<StepSpec> = {}): StepSpec => ({
  name: action,
  action,
  with: {},
  continueOnError: false,
  source,
  ...extra,
});

const stub = (name: string): StepHandler => ({
  name,
  kind: "step",
  description: name,
  schema: {},
  sideEffects: "none",
  describe: (params) => `${name} ${JSON.stringify(params)}`,
  run: async () => ({ ok: true, detail: "ok" }),
});

/** verify as the simulation models it: one probe, which sees "later in the tick". */
const verify: StepHandler = {
  ...stub("verify"),
  async run(ctx, _params, signal) {
    const result = await (ctx.probe as (s: AbortSignal) => Promise<{ ok: boolean }>)(signal);
    return result.ok ? { ok: true, detail: "passed" } : { ok: false, detail: "not passing: simulated: down" };
  },
};

const channel: ChannelHandler = {
  name: "any",
  kind: "channel",
  description: "",
  schema: {},
  sideEffects: "none",
  describe: () => "send",
  run: async () => ({ ok: true, detail: "sent" }),
};

type Series = ReadonlyMap<string, Uint8Array>;

interface Timing {
  /** Start of each tick (irregular spacing); default i x interval. */
  readonly times?: readonly number[];
  /** How long each probe and each heal step takes on the tick's clock. */
  readonly workMs?: number;
}

/** The same timeline through the real runtime tick (src/runtime/tick.ts) with stand-in handlers. */
async function throughRunTick(
  config: Config,
  series: Series,
  ticks: number,
  intervalMs: number,
  timing: Timing = {},
) {
  let now = 0;
  const work = timing.workMs ?? 0;
  let tick = 0;
  const probes = new Map<string, number>();
  const entry = (id: string, i: number): number => {
    const s = series.get(id);
    return s === undefined ? UP : (s[Math.min(i, s.length - 1)] as number);
  };
  const probe: ProbeHandler = {
    name: "tcp",
    kind: "probe",
    description: "",
    schema: {},
    sideEffects: "none",
    describe: () => "probe",
    async run(ctx) {
      now += work;
      const id = ctx.service?.id ?? "";
      const seen = probes.get(id) ?? 0;
      probes.set(id, seen + 1);
      const code = entry(id, tick);
      const up =
        seen === 0
          ? code === UP
          : code === DOWN_HEAL_OK
            ? true
            : code === DOWN_HEAL_FAILS
              ? false
              : entry(id, tick + 1) === UP;
      return { ok: up, latencyMs: 0, detail: up ? "simulated: up" : "simulated: down" };
    },
  };
  // `(heal:fails)`: the last step without a `when` fails, as the simulation models it.
  const failing = (name: string): StepHandler => ({
    ...stub(name),
    async run(ctx) {
      now += work;
      const steps = ctx.service?.heal.steps.filter((s) => s.when === undefined) ?? [];
      const last = steps[steps.length - 1]?.action === name;
      const fails = last && entry(ctx.service?.id ?? "", tick) === DOWN_HEAL_FAILS;
      return fails ? { ok: false, detail: "simulated failure (heal:fails)" } : { ok: true, detail: "ok" };
    },
  });
  const getHandler = (name: string, kind: HandlerKind): Handler | undefined =>
    kind === "probe" ? probe : kind === "channel" ? channel : name === "verify" ? verify : failing(name);
  const logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    close: () => undefined,
  };
  const deps = {
    clock: { now: () => now, sleep: async () => undefined },
    logger,
    env: {},
    redactor: createRedactor(),
    settings: { launchctlPath: "launchctl", systemctlPath: "systemctl", uid: 501 },
    getHandler,
    evaluate: (expr: JsonLogic, data: unknown) => evaluateLogic(expr, data),
  };
  let state: UpkeepState = emptyState();
  const out: { state: UpkeepState; alerts: AlertIntent[]; steps: Record<string, string[]> }[] = [];
  for (tick = 0; tick < ticks; tick++) {
    now = timing.times?.[tick] ?? tick * intervalMs;
    probes.clear();
    const result = await runTick(config, state, deps, { dryRun: false });
    state = result.state;
    const steps: Record<string, string[]> = {};
    for (const s of result.report.services) {
      const ran = s.heal.steps.filter((r) => r.status === "ok" || r.status === "failed").map((r) => r.action);
      if (ran.length > 0) steps[s.id] = ran;
    }
    out.push({ state, alerts: [...result.report.alerts], steps });
  }
  return out;
}

async function throughSimulation(
  config: Config,
  series: Series,
  ticks: number,
  intervalMs: number,
  times?: readonly number[],
) {
  const out: { state: UpkeepState; alerts: AlertIntent[]; steps: Record<string, string[]> }[] = [];
  const input: SimulationInput = {
    config,
    ticks,
    startMs: 0,
    intervalMs,
    series,
    settings: { launchctlPath: "launchctl", systemctlPath: "systemctl", uid: 501 },
    getHandler: (name) => (name === "verify" ? verify : stub(name)),
    evaluate: (expr, data) => evaluateLogic(expr, data),
    ...(times === undefined ? {} : { times }),
  };
  await simulate(input, (t) => {
    const steps: Record<string, string[]> = {};
    for (const [id, heal] of t.heals) if (heal.steps.length > 0) steps[id] = heal.steps.map((s) => s.action);
    out.push({ state: t.result.state, alerts: [...t.result.alerts], steps });
  });
  return out;
}

/**
 * A three-level chain health-proxy <- boss-api <- mcp-bridge (a heal of health-proxy re-probes both
 * dependents, transitively), with a step whose `when` reads facts the tick builds for steps, and a leaf
 * healed without verify.
 */
function dependencyConfig(): Config {
  const steps = [
    step("launchd.kickstart"),
    step("exec", { name: "only-on-trial", when: { "==": [{ var: "breaker" }, "HALF_OPEN"] } }),
    step("exec", {
      name: "only-with-budget",
      when: { ">": [{ var: "heal.budgetLeft" }, 1] },
      continueOnError: true,
    }),
    step("verify"),
  ];
  return makeConfig({
    services: [
      service("health-proxy", { heal: { steps } }),
      service("boss-api", { dependsOn: ["health-proxy"], heal: { steps, cooldownMs: 2 * MINUTE } }),
      service("mcp-bridge", { dependsOn: ["boss-api"], heal: { steps: [step("launchd.kickstart")] } }),
    ],
  });
}

const seriesArb = (ids: readonly string[]) =>
  fc
    .tuple(
      ...ids.map(() =>
        fc.array(fc.constantFrom(UP, UP, DOWN, DOWN, DOWN, DOWN_HEAL_OK, DOWN_HEAL_FAILS), {
          minLength: 1,
          maxLength: 40,
        }),
      ),
    )
    .map((lists) => new Map(ids.map((id, i) => [id, Uint8Array.from(lists[i] as number[])])));

describe("the simulation decides exactly what `upkeep run` decides", () => {
  it("on the shipped rules: same state, alerts and steps at every tick", async () => {
    const { config } = await loadRules(SHIPPED_RULES, { env: {} });
    if (config === undefined) throw new Error("the shipped rules do not load");
    await fc.assert(
      fc.asyncProperty(
        seriesArb(["health-proxy", "boss-api"]),
        fc.integer({ min: 1, max: 60 }),
        fc.constantFrom(30 * SECOND, MINUTE, 5 * MINUTE),
        async (series, ticks, interval) => {
          const real = await throughRunTick(config, series, ticks, interval);
          expect(await throughSimulation(config, series, ticks, interval)).toEqual(real);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("with dependencies, waves, `when` conditions and a service without verify", async () => {
    const config = dependencyConfig();
    await fc.assert(
      fc.asyncProperty(
        seriesArb(["health-proxy", "boss-api", "mcp-bridge"]),
        fc.integer({ min: 1, max: 60 }),
        fc.constantFrom(30 * SECOND, MINUTE, 5 * MINUTE),
        async (series, ticks, interval) => {
          const real = await throughRunTick(config, series, ticks, interval);
          expect(await throughSimulation(config, series, ticks, interval)).toEqual(real);
        },
      ),
      { numRuns: 25 },
    );
  });
});

/** Tick start times with irregular gaps: a scheduler a little early or late, a manual run, a laptop asleep. */
const timesArb = (ticks: number, interval: number) =>
  fc
    .array(
      fc.oneof(
        fc.integer({ min: interval - 2 * SECOND, max: interval + 2 * SECOND }),
        fc.integer({ min: 1, max: interval }),
        fc.integer({ min: interval, max: 3 * 60 * MINUTE }),
      ),
      { minLength: ticks, maxLength: ticks },
    )
    .map((gaps) => gaps.reduce<number[]>((acc, gap) => [...acc, (acc[acc.length - 1] ?? -gap) + gap], []));

describe("`upkeep test` and real ticks agree on any timeline", () => {
  for (const [name, load] of [
    ["the shipped rules", async () => (await loadRules(SHIPPED_RULES, { env: {} })).config],
    ["dependencies, waves and `when` conditions", async () => dependencyConfig()],
  ] as const) {
    it(`with heals that take time and irregular tick spacing, on ${name}`, async () => {
      const config = await load();
      if (config === undefined) throw new Error("the rules do not load");
      const ids = config.services.map((s) => s.id);
      await fc.assert(
        fc.asyncProperty(
          seriesArb(ids),
          fc.integer({ min: 1, max: 50 }).chain((ticks) =>
            fc.tuple(
              fc.constant(ticks),
              fc.constantFrom(30 * SECOND, MINUTE, 5 * MINUTE).chain((i) => timesArb(ticks, i)),
            ),
          ),
          fc.integer({ min: 0, max: 20 * SECOND }),
          async (series, [ticks, times], workMs) => {
            const real = await throughRunTick(config, series, ticks, MINUTE, { times, workMs });
            expect(await throughSimulation(config, series, ticks, MINUTE, times)).toEqual(real);
          },
        ),
        { numRuns: 40 },
      );
    });
  }
});

describe("simulated heals", () => {
  const config = dependencyConfig();
  const run = async (entries: Record<string, number[]>, ticks: number, intervalMs = 5 * MINUTE) => {
    const series = new Map(Object.entries(entries).map(([id, e]) => [id, Uint8Array.from(e)]));
    return throughSimulation(config, series, ticks, intervalMs);
  };
  const statusOf = (state: UpkeepState, id: string) => state.services.services[id]?.lastStatus;

  it("succeed when the next entry is up, and the tick ends up", async () => {
    const [first] = await run({ "health-proxy": [DOWN, UP] }, 1);
    expect(first?.state.heals.heals["health-proxy"]?.history).toEqual([
      { at: 0, outcome: "healed", forced: false },
    ]);
    expect(statusOf(first?.state as UpkeepState, "health-proxy")).toBe("up");
  });

  it("fail when the next entry is down, or at the last entry of a series", async () => {
    for (const entries of [[DOWN, DOWN], [DOWN]]) {
      const [first] = await run({ "health-proxy": entries }, 1);
      expect(first?.state.heals.heals["health-proxy"]?.history).toEqual([
        { at: 0, outcome: "failed", forced: false },
      ]);
      expect(statusOf(first?.state as UpkeepState, "health-proxy")).toBe("down");
    }
  });

  it("follow (heal:ok) and (heal:fails) whatever comes next", async () => {
    const [ok] = await run({ "health-proxy": [DOWN_HEAL_OK, DOWN] }, 1);
    const [fails] = await run({ "health-proxy": [DOWN_HEAL_FAILS, UP] }, 1);
    expect(ok?.state.heals.heals["health-proxy"]?.history[0]?.outcome).toBe("healed");
    expect(fails?.state.heals.heals["health-proxy"]?.history[0]?.outcome).toBe("failed");
  });

  it("without a verify step succeed when their steps do, and the tick ends as the next entry says", async () => {
    const [plain] = await run({ "mcp-bridge": [DOWN, DOWN] }, 1);
    expect(plain?.state.heals.heals["mcp-bridge"]?.history[0]?.outcome).toBe("healed");
    expect(statusOf(plain?.state as UpkeepState, "mcp-bridge")).toBe("down");
    const [fails] = await run({ "mcp-bridge": [DOWN_HEAL_FAILS, UP] }, 1);
    expect(fails?.state.heals.heals["mcp-bridge"]?.history[0]?.outcome).toBe("failed");
  });

  it("re-probe a dependent after its dependency is healed, and heal it in the next wave", async () => {
    const [first] = await run({ "health-proxy": [DOWN, UP], "boss-api": [DOWN, DOWN] }, 1);
    expect(first?.steps["health-proxy"]).toBeDefined();
    expect(first?.steps["boss-api"]).toBeDefined();
    expect(statusOf(first?.state as UpkeepState, "boss-api")).toBe("down");
    const [blocked] = await run({ "health-proxy": [DOWN, DOWN], "boss-api": [DOWN, UP] }, 1);
    expect(blocked?.steps["boss-api"]).toBeUndefined();
    expect(statusOf(blocked?.state as UpkeepState, "boss-api")).toBe("blocked");
  });

  it("re-probe the whole chain after a heal, as real ticks do: the leaf does not stay blocked", async () => {
    const entries = { "health-proxy": [DOWN, UP], "boss-api": [DOWN, UP], "mcp-bridge": [DOWN, UP] };
    const [first] = await run(entries, 1);
    expect(Object.keys(first?.steps ?? {})).toEqual(["health-proxy"]);
    for (const id of ["health-proxy", "boss-api", "mcp-bridge"])
      expect(statusOf(first?.state as UpkeepState, id), id).toBe("up");
    const series = new Map(Object.entries(entries).map(([id, e]) => [id, Uint8Array.from(e)]));
    expect(await throughRunTick(config, series, 1, 5 * MINUTE)).toEqual([first]);
    // Still down at the re-probe: the leaf is healed in a later wave of the same tick.
    const [leaf] = await run({ ...entries, "mcp-bridge": [DOWN, DOWN] }, 1);
    expect(Object.keys(leaf?.steps ?? {}).sort()).toEqual(["health-proxy", "mcp-bridge"]);
    expect(leaf?.state.heals.heals["mcp-bridge"]?.history).toEqual([
      { at: 0, outcome: "healed", forced: false },
    ]);
  });

  it("count what happened over the whole run", async () => {
    const series = new Map([["health-proxy", Uint8Array.from([DOWN, DOWN, DOWN, UP])]]);
    const counts = await simulate(
      {
        config,
        ticks: 4,
        startMs: 0,
        intervalMs: MINUTE,
        series,
        settings: { launchctlPath: "launchctl", systemctlPath: "systemctl", uid: 501 },
        getHandler: (name) => (name === "verify" ? verify : stub(name)),
        evaluate: (expr, data) => evaluateLogic(expr, data),
      },
      () => undefined,
    );
    expect(counts).toEqual({
      ticks: 4,
      heals: { attempted: 1, healed: 0, failed: 1 },
      notHealed: { cooldown: 2 },
      alerts: { firing: 1, reminder: 0, resolved: 1 },
      breakerOpened: 0,
    });
  });
});
