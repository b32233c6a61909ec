/**
 * One tick, in process: real rules loaded from a temp dir, the real registry plus test handlers
 * registered through registerHandler (controllable probes, steps and channels), the system clock.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { registerHandler } from "../../src/actions/registry.js";
import type { Handler, ProbeResult, StepResult } from "../../src/actions/types.js";
import { serviceLine, tickJson } from "../../src/cli/format/tick.js";
import type { Config } from "../../src/config/model.js";
import { loadRules } from "../../src/config/validate.js";
import { stepHealBreaker } from "../../src/core/heal-breaker.js";
import { alertKey, emptyBreaker, emptyState, type UpkeepState } from "../../src/core/state.js";
import { systemClock } from "../../src/runtime/clock.js";
import { createLogger, type RuntimeLogger } from "../../src/runtime/logger.js";
import { createRedactor, redactText, REDACTED, type Redactor } from "../../src/runtime/redact.js";
import { runSession, tickDeps } from "../../src/runtime/session.js";
import { runTick, type ServiceReport, type TickReport } from "../../src/runtime/tick.js";
import { LAUNCHCTL_STANDIN, standinCalls } from "../actions/helpers.js";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function register(handler: Handler): void {
  cleanups.push(registerHandler(handler));
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const base = { description: "test handler", schema: { type: "object" } } as const;

/** Flags test probes read and test steps set: `up[key]`. */
let up: Record<string, boolean> = {};
/** Every test handler call, in order: `probe:<key>`, `step:<key>`, `channel:<id>`. */
let calls: string[] = [];

function probeHandler(
  name: string,
  run: (params: Record<string, unknown>, signal: AbortSignal) => Promise<ProbeResult>,
): Handler {
  return {
    ...base,
    name,
    kind: "probe",
    sideEffects: "none",
    describe: () => name,
    run: (_ctx, params, signal) => run(params, signal),
  };
}

function stepHandler(
  name: string,
  run: (params: Record<string, unknown>, signal: AbortSignal) => Promise<StepResult>,
  sideEffects: "none" | "local" = "local",
): Handler {
  return {
    ...base,
    name,
    kind: "step",
    sideEffects,
    describe: (params) => `${name} ${JSON.stringify(params)}`,
    run: (_ctx, params, signal) => run(params, signal),
  };
}

const key = (params: Record<string, unknown>): string => String(params.key);

/** The handlers most tests use: `t.flag` probe (up[key]), `t.set` step (up[key] = value ?? true), `t.fail` step. */
function registerBasics(): void {
  up = {};
  calls = [];
  register(
    probeHandler("t.flag", async (params) => {
      calls.push(`probe:${key(params)}`);
      const ok = up[key(params)] === true;
      return { ok, latencyMs: 1, detail: ok ? "flag up" : "flag down" };
    }),
  );
  register(
    stepHandler("t.set", async (params) => {
      calls.push(`step:${key(params)}`);
      up[key(params)] = params.value === undefined ? true : params.value === true;
      return { ok: true, detail: "set" };
    }),
  );
  register(
    stepHandler("t.fail", async (params) => {
      calls.push(`step:${key(params)}`);
      return { ok: false, detail: "t.fail always fails" };
    }),
  );
}

async function loadConfig(
  services: string,
  alerts?: string,
  env: Record<string, string> = {},
): Promise<Config> {
  const dir = tempDir("upkeep-tick-rules-");
  const state = join(dir, "state");
  writeFileSync(
    join(dir, "services.yaml"),
    `version: 1\nruntime:\n  stateDir: ${JSON.stringify(state)}\n  logFile: ${JSON.stringify(join(dir, "upkeep.log"))}\n${services}`,
  );
  if (alerts !== undefined) writeFileSync(join(dir, "alerts.yaml"), alerts);
  const result = await loadRules(dir, { env, requireEnv: false });
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  expect(errors, JSON.stringify(errors, null, 1)).toEqual([]);
  if (result.config === undefined) throw new Error("rules did not load");
  return result.config;
}

interface Harness {
  readonly logger: RuntimeLogger;
  readonly redactor: Redactor;
  tick(config: Config, options?: { dryRun?: boolean; only?: string[] }): Promise<TickReport>;
}

function harness(env: Record<string, string | undefined> = {}, logger?: RuntimeLogger): Harness {
  const redactor = createRedactor();
  const log: RuntimeLogger = logger ?? {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    close: () => undefined,
  };
  return {
    logger: log,
    redactor,
    async tick(config, options = {}) {
      const deps = await tickDeps(config, { clock: systemClock, logger: log, env, redactor });
      const { report } = await runTick(config, emptyState(), deps, {
        dryRun: options.dryRun === true,
        ...(options.only === undefined ? {} : { only: options.only }),
      });
      return report;
    },
  };
}

function service(report: TickReport, id: string): ServiceReport {
  const found = report.services.find((s) => s.id === id);
  if (found === undefined) throw new Error(`no service ${id} in the report`);
  return found;
}

/** A service block for services.yaml. */
function svc(id: string, lines: string[]): string {
  return [`  ${id}:`, ...lines.map((l) => `    ${l}`)].join("\n");
}

const verifyStep = "- { action: verify, timeout: 2s, with: { interval: 10ms } }";

describe("runTick: probes", () => {
  it("probes every service in parallel with the shipped settings: 100 probes all start before any finishes", async () => {
    calls = [];
    const gate = deferred();
    let started = 0;
    const events: string[] = [];
    register(
      probeHandler("t.gate", async (params) => {
        started += 1;
        events.push(`start:${key(params)}`);
        if (started === 100) gate.resolve();
        // A sequential runner never gets here for the first probe: it would time out instead.
        await gate.promise;
        events.push(`end:${key(params)}`);
        return { ok: true, latencyMs: 0, detail: "gate opened" };
      }),
    );
    // A hundred hung services cost one probe timeout, not one per wave of `concurrency` (heals' limit).
    const ids = Array.from({ length: 100 }, (_, i) => `s${i}`);
    const config = await loadConfig(
      `defaults:\n  probe: { timeout: 10s }\nservices:\n${ids
        .map((id) => svc(id, [`probe: { type: t.gate, key: ${id} }`]))
        .join("\n")}\n`,
    );
    const report = await harness().tick(config);
    expect(report.services.map((s) => s.status)).toEqual(ids.map(() => "up"));
    const firstEnd = events.findIndex((e) => e.startsWith("end:"));
    expect(events.slice(0, firstEnd).filter((e) => e.startsWith("start:"))).toHaveLength(100);
  });

  it("never has more probes in flight than runtime.probeConcurrency", async () => {
    let inFlight = 0;
    let most = 0;
    register(
      probeHandler("t.count", async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight -= 1;
        return { ok: true, latencyMs: 0, detail: "counted" };
      }),
    );
    const ids = Array.from({ length: 12 }, (_, i) => `c${i}`);
    const config = await loadConfig(
      `  probeConcurrency: 4\nservices:\n${ids.map((id) => svc(id, [`probe: { type: t.count }`])).join("\n")}\n`,
    );
    const report = await harness().tick(config);
    expect(report.services.every((s) => s.status === "up")).toBe(true);
    expect(most).toBe(4);
  });

  it("a probe that throws or hangs fails only its own service; a hung one is bounded by its timeout", async () => {
    registerBasics();
    register(
      probeHandler("t.throw", async () => {
        throw new Error("probe exploded");
      }),
    );
    // Not async: throws before it returns a promise.
    register(
      probeHandler("t.sync-throw", () => {
        throw new Error("probe exploded at once");
      }),
    );
    // Ignores its signal on purpose: the probe runner must not wait for it.
    register(probeHandler("t.forever", () => new Promise<ProbeResult>(() => undefined)));
    up.fine = true;
    const config = await loadConfig(
      [
        "services:",
        svc("thrower", ["probe: { type: t.throw }"]),
        svc("sync-thrower", ["probe: { type: t.sync-throw }"]),
        svc("hung", ["probe: { type: t.forever, timeout: 200ms }"]),
        svc("fine", ["probe: { type: t.flag, key: fine }"]),
        "",
      ].join("\n"),
    );
    const report = await harness().tick(config);
    expect(service(report, "thrower")).toMatchObject({ status: "down", detail: "probe exploded" });
    expect(service(report, "sync-thrower")).toMatchObject({
      status: "down",
      detail: "probe exploded at once",
    });
    expect(service(report, "hung")).toMatchObject({ status: "down", detail: "probe timeout after 200 ms" });
    expect(service(report, "fine").status).toBe("up");
    expect(report.timedOut).toBe(false);
  });
});

describe("runTick: heals in dependency waves", () => {
  const rules = (dbStep: string): string =>
    [
      "services:",
      svc("db", [
        "probe: { type: t.flag, key: db }",
        "heal:",
        "  steps:",
        `    ${dbStep}`,
        `    ${verifyStep}`,
      ]),
      svc("api", [
        // api answers only when db is up, like a real dependent.
        "probe: { type: t.flag, key: db }",
        "dependsOn: [db]",
        "heal:",
        "  steps:",
        "    - { action: t.set, with: { key: api } }",
        `    ${verifyStep}`,
      ]),
      "",
    ].join("\n");

  it("heals a dependency, re-probes its dependent in the same tick, and does not heal the dependent", async () => {
    registerBasics();
    const config = await loadConfig(rules("- { action: t.set, with: { key: db } }"));
    const report = await harness().tick(config);
    expect(service(report, "db")).toMatchObject({ status: "up", heal: { outcome: "healed" } });
    expect(service(report, "api")).toMatchObject({ status: "up", heal: { outcome: "none", steps: [] } });
    expect(calls).not.toContain("step:api");
    // api: first probe (down), then the re-probe after db was healed (up).
    expect(calls.filter((c) => c === "probe:db").length).toBeGreaterThanOrEqual(3);
    expect(report.healed).toBe(1);
    expect(report.failed).toBe(0);
  });

  it("does not heal a dependent while its dependency stays down: it is blocked", async () => {
    registerBasics();
    const config = await loadConfig(rules("- { action: t.fail, with: { key: db } }"));
    const report = await harness().tick(config);
    expect(service(report, "db")).toMatchObject({ status: "down", heal: { outcome: "failed" } });
    expect(service(report, "api")).toMatchObject({
      status: "blocked",
      blockedBy: ["db"],
      heal: { steps: [] },
    });
    expect(service(report, "api").heal.outcome).not.toBe("healed");
    expect(calls).not.toContain("step:api");
    expect(report.failed).toBe(2);
  });

  it("--service limits the tick to that service and what it depends on", async () => {
    registerBasics();
    up.db = true;
    up.other = true;
    const config = await loadConfig(
      [
        rules("- { action: t.set, with: { key: db } }"),
        svc("other", ["probe: { type: t.flag, key: other }"]),
        "",
      ].join("\n"),
    );
    const report = await harness().tick(config, { only: ["api"] });
    expect(report.services.map((s) => s.id).sort()).toEqual(["api", "db"]);
    expect(calls).not.toContain("probe:other");
  });
});

describe("runTick: failures stay contained", () => {
  it("a throwing step and a throwing channel do not stop the other services' heals or channels", async () => {
    registerBasics();
    register(
      stepHandler("t.throw", async () => {
        throw new Error("step exploded");
      }),
    );
    register({
      ...base,
      name: "t.boom",
      kind: "channel",
      sideEffects: "network",
      describe: () => "boom",
      run: async () => {
        calls.push("channel:boom");
        throw new Error("channel exploded");
      },
    });
    const sent: string[] = [];
    register({
      ...base,
      name: "t.collect",
      kind: "channel",
      sideEffects: "network",
      describe: () => "collect",
      run: async (ctx) => {
        sent.push(ctx.notification?.text ?? "");
        return { ok: true, detail: "collected" };
      },
    });
    const config = await loadConfig(
      [
        "services:",
        svc("broken", [
          "probe: { type: t.flag, key: broken }",
          "heal:",
          "  steps:",
          "    - action: t.throw",
          `    ${verifyStep}`,
        ]),
        svc("fixable", [
          "probe: { type: t.flag, key: fixable }",
          "heal:",
          "  steps:",
          "    - { action: t.set, with: { key: fixable } }",
          `    ${verifyStep}`,
        ]),
        "",
      ].join("\n"),
      [
        "version: 1",
        "channels:",
        "  boom: { type: t.boom }",
        "  collect: { type: t.collect }",
        "levels:",
        "  CRITICAL: { threshold: 1, cooldown: 1h, channels: [boom, collect] }",
        "rules:",
        "  down:",
        "    level: CRITICAL",
        '    when: { "==": [{ var: status }, "down"] }',
        "",
      ].join("\n"),
    );
    const report = await harness().tick(config);
    const broken = service(report, "broken");
    expect(broken).toMatchObject({ status: "down", heal: { outcome: "failed" } });
    expect(broken.heal.reason).toContain("step exploded");
    expect(broken.heal.steps.map((s) => s.status)).toEqual(["failed"]);
    expect(service(report, "fixable")).toMatchObject({ status: "up", heal: { outcome: "healed" } });
    expect(calls).toContain("channel:boom");
    const byChannel = Object.fromEntries(report.deliveries.map((d) => [d.channel, d]));
    expect(byChannel.boom).toMatchObject({
      status: "failed",
      detail: expect.stringContaining("channel exploded"),
    });
    expect(byChannel.collect).toMatchObject({ status: "sent" });
    expect(sent.join("\n")).toContain("broken");
  });

  it("the tick timeout bounds the whole tick, even with a step that ignores its signal", async () => {
    registerBasics();
    let hungSteps = 0;
    register(
      stepHandler("t.ignore", () => {
        hungSteps += 1;
        return new Promise<StepResult>(() => undefined);
      }),
    );
    const config = await loadConfig(
      [
        "  tickTimeout: 500ms",
        "services:",
        svc("stuck", [
          "probe: { type: t.flag, key: stuck }",
          "heal:",
          "  timeout: 1h",
          "  steps:",
          "    - { action: t.ignore, timeout: 1h }",
          `    ${verifyStep}`,
        ]),
        svc("fine", ["probe: { type: t.flag, key: fine }"]),
        "",
      ].join("\n"),
    );
    up.fine = true;
    const report = await harness().tick(config);
    expect(hungSteps).toBe(1);
    expect(report.timedOut).toBe(true);
    const stuck = service(report, "stuck");
    expect(stuck).toMatchObject({ status: "down", heal: { outcome: "failed" } });
    expect(stuck.heal.steps[0]).toMatchObject({ status: "failed" });
    expect(stuck.heal.steps[0]?.detail).toContain("tick timeout");
    expect(service(report, "fine").status).toBe("up");
  });
});

describe("runTick: steps", () => {
  it("skips a step whose `when` condition is false and runs the one whose condition holds", async () => {
    registerBasics();
    const config = await loadConfig(
      [
        "services:",
        svc("svc", [
          "probe: { type: t.flag, key: svc }",
          "heal:",
          "  steps:",
          '    - { action: t.set, name: only-when-up, when: { "==": [{ var: status }, "up"] }, with: { key: never } }',
          '    - { action: t.set, name: when-down, when: { "==": [{ var: status }, "down"] }, with: { key: svc } }',
          `    ${verifyStep}`,
        ]),
        "",
      ].join("\n"),
    );
    const report = await harness().tick(config);
    const steps = service(report, "svc").heal.steps;
    expect(steps.map((s) => [s.name, s.status])).toEqual([
      ["only-when-up", "skipped"],
      ["when-down", "ok"],
      ["verify", "ok"],
    ]);
    expect(calls).not.toContain("step:never");
    expect(service(report, "svc").heal.outcome).toBe("healed");
  });

  it("a step's `when` can read every fact validate allows it to (breaker, heal budget, counters)", async () => {
    registerBasics();
    const config = await loadConfig(
      [
        "services:",
        svc("svc", [
          "probe: { type: t.flag, key: svc }",
          "heal:",
          "  steps:",
          '    - { action: t.set, name: closed, when: { "==": [{ var: breaker }, "CLOSED"] }, with: { key: closed } }',
          '    - { action: t.set, name: budget, when: { "==": [{ var: heal.budgetLeft }, 3] }, with: { key: budget } }',
          '    - { action: t.set, name: first, when: { "==": [{ var: consecutiveFailures }, 1] }, with: { key: first } }',
          '    - { action: t.set, name: self, when: { "==": [{ var: service.id }, "svc"] }, with: { key: svc } }',
          `    ${verifyStep}`,
        ]),
        "",
      ].join("\n"),
    );
    const report = await harness().tick(config);
    expect(service(report, "svc").heal.steps.map((s) => [s.name, s.status])).toEqual([
      ["closed", "ok"],
      ["budget", "ok"],
      ["first", "ok"],
      ["self", "ok"],
      ["verify", "ok"],
    ]);
  });

  it("continueOnError lets the heal go on past a failed step; without it the heal stops there", async () => {
    registerBasics();
    const config = await loadConfig(
      [
        "services:",
        svc("tolerant", [
          "probe: { type: t.flag, key: tolerant }",
          "heal:",
          "  steps:",
          "    - { action: t.fail, continueOnError: true, with: { key: tolerant-fail } }",
          "    - { action: t.set, with: { key: tolerant } }",
          `    ${verifyStep}`,
        ]),
        svc("strict", [
          "probe: { type: t.flag, key: strict }",
          "heal:",
          "  steps:",
          "    - { action: t.fail, with: { key: strict-fail } }",
          "    - { action: t.set, with: { key: strict } }",
          `    ${verifyStep}`,
        ]),
        "",
      ].join("\n"),
    );
    const report = await harness().tick(config);
    expect(service(report, "tolerant")).toMatchObject({ status: "up", heal: { outcome: "healed" } });
    expect(service(report, "tolerant").heal.steps.map((s) => s.status)).toEqual(["failed", "ok", "ok"]);
    expect(service(report, "strict")).toMatchObject({ status: "down", heal: { outcome: "failed" } });
    expect(service(report, "strict").heal.steps.map((s) => s.status)).toEqual(["failed"]);
    expect(calls).not.toContain("step:strict");
  });
});

describe("runTick: dry run", () => {
  it("probes for real but runs no side-effecting handler, no wait and no channel", async () => {
    registerBasics();
    const launchd = tempDir("upkeep-tick-launchd-");
    const plist = join(launchd, "svc.plist");
    register({
      ...base,
      name: "t.boom",
      kind: "channel",
      sideEffects: "network",
      describe: () => "boom",
      run: async () => {
        calls.push("channel:boom");
        return { ok: true, detail: "sent" };
      },
    });
    writeFileSync(plist, JSON.stringify({ Label: "com.test.svc", ProgramArguments: ["node", "-e", "0"] }));
    const config = await loadConfig(
      [
        `  launchctl: ${JSON.stringify(LAUNCHCTL_STANDIN)}`,
        "services:",
        svc("svc", [
          "probe: { type: t.flag, key: svc }",
          "heal:",
          "  steps:",
          `    - { action: launchd.unload, with: { label: com.test.svc, plist: ${JSON.stringify(plist)} } }`,
          "    - { action: wait, with: { for: 1h } }",
          "    - { action: t.set, with: { key: svc } }",
          `    ${verifyStep}`,
        ]),
        "",
      ].join("\n"),
      [
        "version: 1",
        "channels:",
        "  boom: { type: t.boom }",
        "levels:",
        "  CRITICAL: { threshold: 1, cooldown: 1h, channels: [boom] }",
        "rules:",
        "  down:",
        "    level: CRITICAL",
        '    when: { "==": [{ var: status }, "down"] }',
        "",
      ].join("\n"),
    );
    const report = await harness({ LAUNCHCTL_STANDIN_DIR: launchd }).tick(config, { dryRun: true });
    expect(calls).toEqual(["probe:svc"]);
    expect(standinCalls(launchd)).toEqual([]);
    const s = service(report, "svc");
    expect(s.status).toBe("down");
    expect(s.heal.steps.map((step) => step.status)).toEqual(["planned", "planned", "planned", "planned"]);
    expect(s.heal.steps[0]?.description).toBe(`${LAUNCHCTL_STANDIN} unload ${plist}`);
    expect(s.heal.steps[1]?.description).toBe("wait 1h");
    expect(report.dryRun).toBe(true);
    expect(report.timedOut).toBe(false);
    expect(report.deliveries.map((d) => d.status)).toEqual(["planned"]);
  });

  it("runSession in dry run takes no lock and writes no state file", async () => {
    registerBasics();
    const config = await loadConfig(
      [
        "services:",
        svc("svc", [
          "probe: { type: t.flag, key: svc }",
          "heal:",
          "  steps:",
          "    - { action: t.set, with: { key: svc } }",
          `    ${verifyStep}`,
        ]),
        "",
      ].join("\n"),
    );
    const h = harness();
    const { report } = await runSession(
      config,
      { clock: systemClock, logger: h.logger, env: {}, redactor: h.redactor },
      { dryRun: true },
    );
    expect(service(report, "svc").heal.outcome).toBe("skipped");
    expect(calls).not.toContain("step:svc");
    expect(existsSync(config.runtime.stateDir) ? readdirSync(config.runtime.stateDir) : []).toEqual([]);
  });
});

describe("runTick: secrets", () => {
  it("redacts ${env:..} values from the report JSON and the log file", async () => {
    registerBasics();
    const secret = "s3cret-token-value-42";
    const env = { UPKEEP_TEST_TOKEN: secret, PATH: process.env.PATH };
    const config = await loadConfig(
      [
        "services:",
        svc("svc", [
          "probe: { type: t.flag, key: svc }",
          "heal:",
          "  steps:",
          `    - { action: exec, with: { command: [${JSON.stringify(process.execPath)}, -e, "process.exit(0)", "\${env:UPKEEP_TEST_TOKEN}"] } }`,
          "    - { action: t.set, with: { key: svc } }",
          `    ${verifyStep}`,
        ]),
        "",
      ].join("\n"),
      undefined,
      { UPKEEP_TEST_TOKEN: secret },
    );
    const redactor = createRedactor();
    const logFile = config.runtime.logFile;
    const logger = await createLogger({ logFile, redactor });
    const deps = await tickDeps(config, { clock: systemClock, logger, env, redactor });
    const { report } = await runTick(config, emptyState(), deps, { dryRun: false });
    logger.close();
    const s = service(report, "svc");
    expect(s.heal.outcome).toBe("healed");
    const json = redactText(JSON.stringify(tickJson(report)), redactor);
    expect(json).not.toContain(secret);
    expect(json).toContain(REDACTED);
    const log = readFileSync(logFile, "utf8");
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(secret);
  });
});

/**
 * Several real ticks on a clock the test sets, with the state carried from one to the next as `upkeep
 * run` carries it through its files: the heal model's gates, breaker and alert policy across ticks.
 */
function ticking(config: Config) {
  const start = Date.parse("2026-01-05T00:00:00Z");
  let now = start;
  let state = emptyState();
  const quiet: RuntimeLogger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    close: () => undefined,
  };
  const deps = tickDeps(config, {
    clock: { now: () => now, sleep: systemClock.sleep },
    logger: quiet,
    env: {},
    redactor: createRedactor(),
  });
  return {
    start,
    /** One tick starting `atMs` after the first. */
    async at(atMs: number): Promise<TickReport> {
      now = start + atMs;
      const result = await runTick(config, state, await deps, { dryRun: false });
      state = result.state;
      return result.report;
    },
    get state(): UpkeepState {
      return state;
    },
    set state(next: UpkeepState) {
      state = next;
    },
  };
}

const MIN = 60_000;
const kinds = (report: TickReport): string[] =>
  report.alerts.map((a) => `${a.kind} ${a.ruleId}/${a.serviceId}`).sort();

const ALERTS = (level: string): string =>
  [
    "version: 1",
    "channels:",
    "  log: { type: log }",
    "levels:",
    `  ${level}`,
    "rules:",
    "  down:",
    `    level: ${level.split(":")[0]}`,
    '    when: { "==": [{ var: status }, "down"] }',
    "",
  ].join("\n");

describe("runTick: the heal model across ticks", () => {
  it("heal.after: the first failed check waits and uses nothing; the second heals", async () => {
    registerBasics();
    const config = await loadConfig(
      [
        "services:",
        svc("patient", [
          "probe: { type: t.flag, key: patient }",
          "heal:",
          "  after: 2",
          "  cooldown: 5m",
          "  steps:",
          "    - { action: t.set, with: { key: patient } }",
          `    ${verifyStep}`,
        ]),
        "",
      ].join("\n"),
    );
    const t = ticking(config);
    const waiting = service(await t.at(0), "patient");
    expect(waiting).toMatchObject({
      status: "down",
      breaker: "CLOSED",
      heal: { outcome: "skipped", reason: "waiting", budgetLeft: 3, steps: [] },
    });
    expect(calls).not.toContain("step:patient");
    expect(t.state.heals.heals["patient"]?.recent ?? []).toEqual([]);
    expect(t.state.breakers.breakers["patient"]?.failStreak ?? 0).toBe(0);
    // 1m later: the 2nd failed check in a row. A cooldown of 5m started by the waiting tick would refuse.
    const healed = service(await t.at(MIN), "patient");
    expect(healed).toMatchObject({ status: "up", heal: { outcome: "healed", budgetLeft: 2 } });
    expect(t.state.heals.heals["patient"]?.recent).toEqual([t.start + MIN]);
    // Down again: waiting again (not refused), then refused by the cooldown of the heal at 1m.
    up.patient = false;
    expect(service(await t.at(2 * MIN), "patient").heal).toMatchObject({
      outcome: "skipped",
      reason: "waiting",
    });
    const refused = service(await t.at(3 * MIN), "patient");
    expect(refused.heal).toMatchObject({
      outcome: "refused",
      reason: "cooldown",
      nextAllowedAt: t.start + 6 * MIN,
    });
    // Down again before it held 2 checks: the heal at 1m counts as failed (a relapse), the waiting nothing.
    expect(t.state.breakers.breakers["patient"]?.failStreak).toBe(1);
  });

  it("a heal whose steps were all skipped is no heal: no budget, no cooldown, no breaker count", async () => {
    registerBasics();
    const when = (expr: string) => `when: ${expr}`;
    const config = await loadConfig(
      [
        "defaults:",
        "  breaker: { failureThreshold: 2 }",
        "  heal: { cooldown: 5m }",
        "services:",
        svc("trial-only", [
          "probe: { type: t.flag, key: trial-only }",
          "heal:",
          "  steps:",
          `    - { action: t.set, with: { key: trial-only }, ${when('{ "==": [{ var: breaker }, "HALF_OPEN"] }')} }`,
        ]),
        svc("third", [
          "probe: { type: t.flag, key: third }",
          "heal:",
          "  steps:",
          `    - { action: t.set, with: { key: third }, ${when('{ ">=": [{ var: consecutiveFailures }, 3] }')} }`,
          `    - { action: verify, timeout: 2s, with: { interval: 10ms }, ${when('{ ">=": [{ var: consecutiveFailures }, 3] }')} }`,
        ]),
        "",
      ].join("\n"),
    );
    const t = ticking(config);
    for (let i = 0; i < 6; i++) {
      const report = await t.at(i * MIN);
      const skipped = service(report, "trial-only");
      expect(skipped, `tick ${i + 1}`).toMatchObject({
        status: "down",
        breaker: "CLOSED",
        gaveUp: false,
        heal: { outcome: "skipped", reason: "no-step-ran", budgetLeft: 3 },
      });
      expect(skipped.heal.steps.map((s) => s.status)).toEqual(["skipped"]);
      if (i < 2)
        expect(service(report, "third").heal).toMatchObject({ outcome: "skipped", reason: "no-step-ran" });
      // 2m: the first heal whose steps run; the skipped ones at 0 and 1m started no cooldown.
      if (i === 2)
        expect(service(report, "third")).toMatchObject({
          status: "up",
          heal: { outcome: "healed", budgetLeft: 2 },
        });
    }
    expect(calls).not.toContain("step:trial-only");
    expect(t.state.heals.heals["trial-only"]?.recent ?? []).toEqual([]);
    expect(t.state.heals.heals["trial-only"]?.history ?? []).toEqual([]);
    expect(t.state.breakers.breakers["trial-only"]?.failStreak ?? 0).toBe(0);
    expect(t.state.heals.heals["third"]?.history.map((h) => [h.at - t.start, h.outcome])).toEqual([
      [2 * MIN, "healed"],
    ]);
  });

  it("a blocked service keeps its firing alert (muted) until it is judged again", async () => {
    registerBasics();
    const config = await loadConfig(
      [
        "services:",
        svc("db", ["probe: { type: t.flag, key: db }"]),
        svc("api", ["probe: { type: t.flag, key: api }", "dependsOn: [db]"]),
        "",
      ].join("\n"),
      ALERTS("CRITICAL: { threshold: 1, cooldown: 1h, channels: [log] }"),
    );
    const t = ticking(config);
    const apiAlert = () => t.state.alerts.alerts[alertKey("down", "api")];
    up.db = true;
    expect(kinds(await t.at(0))).toEqual(["firing down/api"]);
    const since = apiAlert()?.since;
    // db goes down: api is blocked; its alert neither resolves nor fires again.
    up.db = false;
    const blocked = await t.at(5 * MIN);
    expect(service(blocked, "api")).toMatchObject({ status: "blocked", blockedBy: ["db"] });
    expect(kinds(blocked)).toEqual(["firing down/db"]);
    expect(apiAlert()).toMatchObject({ status: "firing", since, sent: 1 });
    // db is back, api is down on its own: the same alert goes on (no new firing notice).
    up.db = true;
    const own = await t.at(10 * MIN);
    expect(service(own, "api").status).toBe("down");
    expect(kinds(own)).toEqual(["resolved down/db"]);
    expect(apiAlert()).toMatchObject({ status: "firing", since, sent: 1 });
    // api is up: resolved, once.
    up.api = true;
    expect(kinds(await t.at(15 * MIN))).toEqual(["resolved down/api"]);
  });

  it("a level's resolveAfter resolves only after that many ticks in a row without a match", async () => {
    registerBasics();
    const config = await loadConfig(
      ["services:", svc("z", ["probe: { type: t.flag, key: z }"]), ""].join("\n"),
      ALERTS("WARNING: { threshold: 1, cooldown: 1h, channels: [log], resolveAfter: 2 }"),
    );
    const t = ticking(config);
    const seen: string[][] = [];
    for (const [i, ok] of [false, true, false, true, true, false].entries()) {
      up.z = ok;
      seen.push(kinds(await t.at(i * 5 * MIN)));
    }
    // Down, up, down: no notice while it flaps; up twice: resolved; down again: a new episode fires.
    expect(seen).toEqual([["firing down/z"], [], [], [], ["resolved down/z"], ["firing down/z"]]);
  });

  it("a refusal lists every gate with why the breaker refuses, in the text line and in the JSON", async () => {
    registerBasics();
    const config = await loadConfig(
      [
        "defaults:",
        "  breaker: { failureThreshold: 2, openFor: 1m }",
        "  heal: { cooldown: 5m, budget: { max: 2, per: 1h } }",
        "services:",
        svc("broken", [
          "probe: { type: t.flag, key: broken }",
          "heal:",
          "  steps:",
          "    - { action: t.fail, with: { key: broken } }",
        ]),
        svc("iso", [
          "probe: { type: t.flag, key: iso }",
          "heal:",
          "  steps:",
          "    - { action: t.set, with: { key: iso } }",
        ]),
        "",
      ].join("\n"),
    );
    const t = ticking(config);
    up.iso = true;
    await t.at(0);
    await t.at(5 * MIN); // the 2nd failed heal: upkeep gives up on broken, and the budget is used up
    // An operator isolates iso (as `upkeep breaker isolate iso` does), then it goes down.
    const service0 = config.services.find((s) => s.id === "iso");
    const isolated = stepHealBreaker(
      service0!.breaker,
      emptyBreaker(),
      { type: "isolate" },
      t.start + 5 * MIN,
    );
    t.state = {
      ...t.state,
      breakers: { ...t.state.breakers, breakers: { ...t.state.breakers.breakers, iso: isolated.state } },
    };
    up.iso = false;
    const report = await t.at(5 * MIN + 30_000);
    const broken = service(report, "broken");
    const iso = (m: number) => new Date(t.start + m).toISOString();
    expect(broken.heal.refusedBy).toEqual([
      { gate: "breaker-open", until: t.start + 6 * MIN, why: "gave-up" },
      { gate: "budget", until: t.start + 60 * MIN },
      { gate: "cooldown", until: t.start + 10 * MIN },
    ]);
    expect(broken.heal.nextAllowedAt).toBe(t.start + 60 * MIN);
    expect(serviceLine(broken)).toBe(
      `broken (t.flag): DOWN - flag down; not healed: breaker-open until ${iso(6 * MIN)}, budget until ${iso(60 * MIN)}, cooldown until ${iso(10 * MIN)} (next heal allowed at ${iso(60 * MIN)}) [upkeep gave up: heals did not help]`,
    );
    const json = JSON.parse(JSON.stringify(tickJson(report))) as {
      services: { id: string; heal: { refusedBy?: unknown[]; nextAllowedAt?: number } }[];
    };
    const byId = (id: string) => json.services.find((s) => s.id === id)?.heal;
    expect(byId("broken")?.refusedBy).toEqual(broken.heal.refusedBy);
    expect(byId("broken")?.nextAllowedAt).toBe(t.start + 60 * MIN);
    expect(byId("iso")?.refusedBy).toEqual([{ gate: "breaker-open", until: null, why: "isolated" }]);
    expect(byId("iso")?.nextAllowedAt).toBeUndefined();
    expect(serviceLine(service(report, "iso"))).toBe(
      "iso (t.flag): DOWN - flag down; not healed: breaker-open [breaker OPEN]",
    );
  });
});
