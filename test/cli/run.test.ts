/**
 * End to end on Linux: the BUILT CLI (`node bin/upkeep.js ...`) against three real stub services started
 * through the stand-in launchctl (demo/launchctl.mjs), with real state files, lock and log file.
 * Recipes keep the baseline step sequence (unload, wait, load, wait, verify) with short waits.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockHolder } from "../../src/runtime/lock.js";
import {
  fixture,
  freePort,
  isGone,
  killStandinJobs,
  killTree,
  LAUNCHCTL_STANDIN,
  portAnswers,
  silentServer,
  standinCalls,
  STUB_SERVICE,
  waitFor,
} from "../actions/helpers.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(REPO, "bin", "upkeep.js");
const BUILT = existsSync(join(REPO, "dist", "cli", "main.js"));
const suite = BUILT ? describe : describe.skip;
const SUITE_NAME = BUILT
  ? "upkeep run/plan/watch (built CLI, end to end)"
  : "SKIPPED: dist/cli/main.js is missing; build first (`npm run build`, as .ci/run does)";

const SERVICES = [
  { id: "health-proxy", title: "Health Proxy", label: "com.test.health-proxy" },
  { id: "mcp-bridge", title: "MCP Bridge", label: "com.test.mcp-bridge" },
  { id: "boss-api", title: "Boss API", label: "com.test.boss-api" },
] as const;
type ServiceId = (typeof SERVICES)[number]["id"];
const STATE_FILES = ["services.json", "breakers.json", "heals.json", "alerts.json"] as const;

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface RulesOptions {
  readonly cooldown?: string;
  readonly budgetMax?: number;
  readonly failureThreshold?: number;
  readonly openFor?: string;
  readonly verifyTimeout?: string;
  /** Extra YAML appended under `services:`. */
  readonly extraServices?: string;
  /** Replaces the three stub services. */
  readonly onlyExtra?: boolean;
}

interface ServiceReportJson {
  id: string;
  status: string;
  detail: string;
  breaker: string;
  heal: {
    outcome: string;
    reason: string;
    nextAllowedAt?: number;
    refusedBy?: { gate: string; until: number | null; why?: string }[];
    steps: { name: string; action: string; status: string; detail: string }[];
  };
}

const children = new Set<ChildProcess>();
const cleanups: (() => void | Promise<void>)[] = [];

afterEach(async () => {
  for (const child of children) if (child.pid !== undefined) killTree(child.pid);
  children.clear();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One world per test: a temp root with plists, the stand-in's dir, rules, state and log. */
class World {
  readonly root = mkdtempSync(join(tmpdir(), "upkeep-run-e2e-"));
  readonly launchd = join(this.root, "launchctl");
  readonly agents = join(this.root, "LaunchAgents");
  readonly rules = join(this.root, "rules");
  readonly state = join(this.root, "state");
  readonly logFile = join(this.root, "logs", "upkeep.log");
  readonly ports = new Map<ServiceId, number>();

  constructor() {
    mkdirSync(this.agents, { recursive: true });
    mkdirSync(this.rules, { recursive: true });
    cleanups.push(async () => {
      await killStandinJobs(this.launchd);
      rmSync(this.root, { recursive: true, force: true });
    });
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !k.startsWith("UPKEEP_")) env[k] = v;
    return { ...env, LAUNCHCTL_STANDIN_DIR: this.launchd, ...extra };
  }

  label(id: ServiceId): string {
    return SERVICES.find((s) => s.id === id)?.label ?? id;
  }

  plist(id: ServiceId): string {
    return join(this.agents, `${this.label(id)}.plist`);
  }

  port(id: ServiceId): number {
    const port = this.ports.get(id);
    if (port === undefined) throw new Error(`no port for ${id}`);
    return port;
  }

  /** Points the agent's plist at the real stub (healthy) or at a program that exits at once (heals fail). */
  /** stub: serves; crash: exits at once; crash-loop: serves for 1.5 s, then exits. */
  writePlist(id: ServiceId, program: "stub" | "crash" | "crash-loop"): void {
    const stub = ["node", STUB_SERVICE, "--port", String(this.port(id)), "--name", id];
    const args =
      program === "stub"
        ? stub
        : program === "crash-loop"
          ? [...stub, "--lifetime", "1500"]
          : ["node", "-e", "process.exit(1)"];
    writeFileSync(this.plist(id), JSON.stringify({ Label: this.label(id), ProgramArguments: args }));
  }

  async startStubs(): Promise<void> {
    for (const s of SERVICES) {
      this.ports.set(s.id, await freePort());
      this.writePlist(s.id, "stub");
      const loaded = spawnSync(process.execPath, [LAUNCHCTL_STANDIN, "load", this.plist(s.id)], {
        env: this.env(),
        timeout: 15_000,
      });
      expect(loaded.status).toBe(0);
    }
    for (const s of SERVICES) await waitFor(() => portAnswers(this.port(s.id)), 10_000, `${s.id} to listen`);
  }

  writeRules(options: RulesOptions = {}, dir = this.rules): void {
    const stubs = SERVICES.map((s) =>
      [
        `  ${s.id}:`,
        `    title: ${s.title}`,
        s.id === "boss-api"
          ? `    probe: { type: http, url: "http://127.0.0.1:${this.port(s.id)}/health", expect: { status: 200 } }`
          : `    probe: { type: tcp, host: 127.0.0.1, port: ${this.port(s.id)} }`,
        ...(s.id === "boss-api" ? ["    dependsOn: [health-proxy]"] : []),
        "    heal:",
        "      recipe: launchd-restart",
        `      with: { label: ${s.label}, plist: ${JSON.stringify(this.plist(s.id))}, pause: 100ms }`,
      ].join("\n"),
    );
    const services = [
      ...(options.onlyExtra === true ? [] : stubs),
      ...(options.extraServices ? [options.extraServices] : []),
    ];
    writeFileSync(
      join(dir, "services.yaml"),
      `version: 1
runtime:
  stateDir: ${JSON.stringify(this.state)}
  logFile: ${JSON.stringify(this.logFile)}
  launchctl: ${JSON.stringify(LAUNCHCTL_STANDIN)}
  tickTimeout: 30s
defaults:
  probe: { timeout: 1s }
  breaker: { failureThreshold: ${options.failureThreshold ?? 5}, successThreshold: 1, openFor: ${options.openFor ?? "60s"} }
  heal: { cooldown: ${options.cooldown ?? "5m"}, budget: { max: ${options.budgetMax ?? 3}, per: 1h } }
recipes:
  launchd-restart:
    params:
      label: { required: true }
      plist: { required: true }
      pause: { default: 2s }
    steps:
      - action: launchd.unload
        with: { label: "\${{ params.label }}", plist: "\${{ params.plist }}" }
      - action: wait
        with: { for: "\${{ params.pause }}" }
      - action: launchd.load
        with: { label: "\${{ params.label }}", plist: "\${{ params.plist }}" }
      - action: wait
        with: { for: "\${{ params.pause }}" }
      - action: verify
        timeout: ${options.verifyTimeout ?? "3s"}
        with: { interval: 50ms, maxInterval: 100ms }
services:
${services.join("\n")}
`,
    );
    writeFileSync(
      join(dir, "alerts.yaml"),
      `version: 1
channels:
  log: { type: log }
levels:
  CRITICAL: { threshold: 1, cooldown: 1h, channels: [log] }
  INFO: { threshold: 1, cooldown: 1h, channels: [log] }
rules:
  service-down:
    level: CRITICAL
    when: { "==": [{ var: status }, "down"] }
  service-healed:
    level: INFO
    when: { "==": [{ var: heal.outcome }, "healed"] }
    sendResolved: false
`,
    );
  }

  /** Runs the built CLI to completion (bounded: killed after 60 s). */
  cli(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
    const child = this.spawnCli(args, extraEnv);
    return finished(child);
  }

  spawnCli(args: string[], extraEnv: Record<string, string> = {}): ChildProcess {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO,
      env: this.env(extraEnv),
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    return child;
  }

  run(...args: string[]): Promise<CliResult> {
    return this.cli(["run", "--rules", this.rules, ...args]);
  }

  async runJson(
    ...args: string[]
  ): Promise<{ code: number | null; services: ServiceReportJson[]; doc: Record<string, unknown> }> {
    const result = await this.run("--format", "json", ...args);
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(result.stdout) as Record<string, unknown>;
    } catch {
      throw new Error(`not one JSON document (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
    }
    return { code: result.code, services: doc.services as ServiceReportJson[], doc };
  }

  pid(id: ServiceId): number {
    const job = JSON.parse(readFileSync(join(this.launchd, "jobs", `${this.label(id)}.json`), "utf8")) as {
      pid: number;
    };
    return job.pid;
  }

  /** SIGKILLs the stub (a crash) and waits until its port refuses connections. */
  async crash(id: ServiceId): Promise<void> {
    const pid = this.pid(id);
    killTree(pid);
    await waitFor(() => isGone(pid), 5000, `${id} (pid ${pid}) to die`);
    await waitFor(async () => !(await portAnswers(this.port(id))), 5000, `${id} port to close`);
  }

  calls(): string[][] {
    return standinCalls(this.launchd);
  }

  stateFile(name: (typeof STATE_FILES)[number]): Record<string, Record<string, unknown>> {
    return JSON.parse(readFileSync(join(this.state, name), "utf8")) as Record<
      string,
      Record<string, unknown>
    >;
  }

  /** The raw bytes of every state file (missing = null). */
  snapshot(): Record<string, string | null> {
    return Object.fromEntries(
      STATE_FILES.map((name) => {
        const path = join(this.state, name);
        return [name, existsSync(path) ? readFileSync(path, "latin1") : null];
      }),
    );
  }

  logLines(): Record<string, unknown>[] {
    return readFileSync(this.logFile, "utf8")
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  lastHealAt(id: ServiceId): number {
    const heal = this.stateFile("heals.json").heals?.[id] as { lastHealAt: number } | undefined;
    if (heal === undefined) throw new Error(`no heal recorded for ${id}`);
    return heal.lastHealAt;
  }
}

function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      if (child.pid !== undefined) killTree(child.pid);
      reject(new Error(`upkeep did not finish within 60 s\n${stdout}\n${stderr}`));
    }, 60_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(guard);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Sleeps until the wall clock passes `epochMs` (used to step past a cooldown read from the state). */
async function sleepUntil(epochMs: number): Promise<void> {
  const ms = epochMs - Date.now();
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

function byId(services: readonly ServiceReportJson[], id: string): ServiceReportJson {
  const found = services.find((s) => s.id === id);
  if (found === undefined) throw new Error(`no ${id} in ${JSON.stringify(services)}`);
  return found;
}

const launchctlVerbs = (calls: string[][]): string[] => calls.map((argv) => argv[0] ?? "");

suite(SUITE_NAME, () => {
  let world: World;
  beforeEach(async () => {
    world = new World();
    await world.startStubs();
  });

  it("heals a killed service with unload, wait, load, wait, verify and records it in state and log", async () => {
    world.writeRules();
    const healthy = await world.run();
    expect(healthy.stdout).toContain(`Health Proxy (port ${world.port("health-proxy")}): UP`);
    expect(healthy.stdout).toContain("Summary: 0 healed, 0 failed");
    expect(healthy.code).toBe(0);
    const before = world.calls().length;

    await world.crash("health-proxy");
    const healing = await world.run();
    expect(healing.stderr).toBe("");
    expect(healing.code).toBe(0);
    expect(healing.stdout).toMatch(/Health Proxy \(port \d+\): UP \(healed/);
    expect(healing.stdout).toContain("Summary: 1 healed, 0 failed");
    expect(world.calls().slice(before)).toEqual([
      ["unload", world.plist("health-proxy")],
      ["load", world.plist("health-proxy")],
    ]);
    expect(await portAnswers(world.port("health-proxy"))).toBe(true);

    const services = world.stateFile("services.json").services as Record<string, { lastStatus: string }>;
    expect(services["health-proxy"]?.lastStatus).toBe("up");
    const heals = world.stateFile("heals.json").heals as Record<
      string,
      { recent: number[]; history: { outcome: string }[] }
    >;
    expect(heals["health-proxy"]?.recent).toHaveLength(1);
    expect(heals["health-proxy"]?.history.map((h) => h.outcome)).toEqual(["healed"]);
    const breakers = world.stateFile("breakers.json").breakers as Record<string, { state: string }>;
    expect(breakers["health-proxy"]?.state).toBe("CLOSED");
    const alerts = world.stateFile("alerts.json").alerts as Record<string, { status: string; sent: number }>;
    expect(alerts["service-healed/health-proxy"]).toMatchObject({ sent: 1 });

    const lines = world.logLines().filter((l) => l.service === "health-proxy");
    const steps = lines.filter((l) => typeof l.step === "string").map((l) => [l.action, l.status]);
    expect(steps).toEqual([
      ["launchd.unload", "ok"],
      ["wait", "ok"],
      ["launchd.load", "ok"],
      ["wait", "ok"],
      ["verify", "ok"],
    ]);
    expect(lines.some((l) => l.msg === "heal succeeded" && l.ok === true)).toBe(true);

    // Within the cooldown (5m) a second failure is not healed again.
    const callsBefore = world.calls().length;
    await world.crash("health-proxy");
    const again = await world.runJson();
    expect(again.code).toBe(1);
    expect(byId(again.services, "health-proxy")).toMatchObject({
      status: "down",
      heal: { outcome: "refused", reason: "cooldown", steps: [] },
    });
    expect(world.calls()).toHaveLength(callsBefore);
    const text = await world.run();
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      /Health Proxy \(port \d+\): DOWN - .*not healed: cooldown \(next heal allowed at /,
    );
    expect(world.calls()).toHaveLength(callsBefore);

    // status reads what the ticks recorded, and changes nothing.
    const files = world.snapshot();
    const status = await world.cli(["status", "--rules", world.rules, "--format", "json"]);
    expect(status.code).toBe(0);
    const views = (JSON.parse(status.stdout) as { services: Record<string, unknown>[] }).services;
    expect(views.map((v) => v.id)).toEqual(["health-proxy", "mcp-bridge", "boss-api"]);
    expect(views[0]).toMatchObject({
      status: "down",
      breaker: { state: "CLOSED" },
      heals: { inWindow: 1, budgetLeft: 2, max: 3, nextAllowedAt: expect.any(String) },
      firingAlerts: [{ rule: "service-down", level: "CRITICAL" }],
    });
    expect(views[1]).toMatchObject({ status: "up" });
    expect(world.snapshot()).toEqual(files);
  });

  it("refuses the fourth heal within the hour: budget 3 per 1h", async () => {
    world.writeRules({ cooldown: "1s", failureThreshold: 10 });
    for (let heal = 1; heal <= 3; heal += 1) {
      await world.crash("mcp-bridge");
      const result = await world.runJson();
      expect(result.code, `heal ${heal}`).toBe(0);
      expect(byId(result.services, "mcp-bridge").heal.outcome, `heal ${heal}`).toBe("healed");
      await sleepUntil(world.lastHealAt("mcp-bridge") + 1000 + 50);
    }
    const callsBefore = world.calls().length;
    await world.crash("mcp-bridge");
    const fourth = await world.runJson();
    expect(fourth.code).toBe(1);
    expect(byId(fourth.services, "mcp-bridge")).toMatchObject({
      status: "down",
      heal: { outcome: "refused", reason: "budget" },
    });
    expect(world.calls()).toHaveLength(callsBefore);
    const heals = world.stateFile("heals.json").heals as Record<string, { recent: number[] }>;
    expect(heals["mcp-bridge"]?.recent).toHaveLength(3);
  });

  it("gives up after failed heals (the breaker opens), stops healing, and tries one trial heal after openFor", async () => {
    // openFor 8s: ticks may come up to 3 s early at the default 300 s interval, so 5 s of it are certain.
    world.writeRules({ cooldown: "100ms", failureThreshold: 2, openFor: "8s", verifyTimeout: "500ms" });
    world.writePlist("mcp-bridge", "crash");
    await world.crash("mcp-bridge");

    for (let tick = 1; tick <= 2; tick += 1) {
      const failed = await world.runJson();
      expect(failed.code, `tick ${tick}`).toBe(1);
      expect(byId(failed.services, "mcp-bridge").heal.outcome, `tick ${tick}`).toBe("failed");
      await sleepUntil(world.lastHealAt("mcp-bridge") + 100 + 20);
    }
    const breakers = world.stateFile("breakers.json").breakers as Record<
      string,
      { state: string; openUntil: number }
    >;
    const open = breakers["mcp-bridge"];
    expect(open?.state).toBe("OPEN");

    const callsBefore = world.calls().length;
    const refused = await world.runJson();
    expect(refused.code).toBe(1);
    expect(byId(refused.services, "mcp-bridge")).toMatchObject({
      breaker: "OPEN",
      gaveUp: true,
      heal: { outcome: "refused", reason: "breaker-open" },
    });
    expect(world.calls()).toHaveLength(callsBefore);

    // After openFor the breaker half-opens: one trial heal, which now works.
    world.writePlist("mcp-bridge", "stub");
    await sleepUntil((open?.openUntil ?? 0) + 50);
    const trial = await world.runJson();
    expect(trial.code).toBe(0);
    expect(byId(trial.services, "mcp-bridge")).toMatchObject({ status: "up", heal: { outcome: "healed" } });
    expect(launchctlVerbs(world.calls().slice(callsBefore))).toEqual(["unload", "load"]);
    expect(world.logLines().some((l) => l.msg === "healing mcp-bridge" && l.trial === true)).toBe(true);
  });

  it("a refused heal names every gate that refuses, why the breaker does, and the true next heal", async () => {
    // 2 failed heals give up; the budget of 2 is used up; the 5m cooldown runs from the 2nd (forced) heal.
    world.writeRules({ failureThreshold: 2, budgetMax: 2, verifyTimeout: "500ms" });
    world.writePlist("mcp-bridge", "crash");
    await world.crash("mcp-bridge");
    const first = await world.runJson();
    expect(byId(first.services, "mcp-bridge").heal.outcome).toBe("failed");
    const forced = await world.cli(["heal", "mcp-bridge", "--force", "--by", "ops", "--rules", world.rules]);
    expect(forced.code).toBe(1);
    const heals = world.stateFile("heals.json").heals as Record<string, { recent: number[] }>;
    const [firstHeal, forcedHeal] = heals["mcp-bridge"]?.recent ?? [];
    const breakers = world.stateFile("breakers.json").breakers as Record<string, { openUntil: number }>;
    const openUntil = breakers["mcp-bridge"]?.openUntil ?? 0;
    expect(firstHeal).toBeDefined();
    expect(forcedHeal).toBeDefined();

    const callsBefore = world.calls().length;
    const json = await world.runJson();
    expect(json.code).toBe(1);
    const mcp = byId(json.services, "mcp-bridge");
    expect(mcp).toMatchObject({
      status: "down",
      breaker: "OPEN",
      gaveUp: true,
      heal: { outcome: "refused" },
    });
    expect(mcp.heal.refusedBy).toEqual([
      { gate: "breaker-open", until: openUntil, why: "gave-up" },
      { gate: "budget", until: (firstHeal ?? 0) + 3_600_000 },
      { gate: "cooldown", until: (forcedHeal ?? 0) + 300_000 },
    ]);
    // The budget holds longest: that is the next heal, and the reason named.
    expect(mcp.heal.nextAllowedAt).toBe((firstHeal ?? 0) + 3_600_000);
    expect(mcp.heal.reason).toBe("budget");

    const text = await world.run();
    expect(text.code).toBe(1);
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(text.stdout).toContain(
      `; not healed: breaker-open until ${iso(openUntil)}, budget until ${iso((firstHeal ?? 0) + 3_600_000)}, ` +
        `cooldown until ${iso((forcedHeal ?? 0) + 300_000)} (next heal allowed at ${iso((firstHeal ?? 0) + 3_600_000)}) ` +
        "[upkeep gave up: heals did not help]",
    );
    expect(text.stdout).toMatch(/^MCP Bridge \(port \d+\): DOWN - .*; not healed: breaker-open until /m);
    expect(world.calls()).toHaveLength(callsBefore);

    // explain says the same, from the state the ticks wrote.
    const explain = await world.cli(["explain", "mcp-bridge", "--rules", world.rules, "--format", "json"]);
    expect(explain.code).toBe(0);
    const history = (
      JSON.parse(explain.stdout) as {
        history: { heals: { refusedBy: { gate: string; why?: string }[]; nextAllowedAt: string } };
      }
    ).history;
    expect(history.heals.refusedBy.map((r) => [r.gate, r.why])).toEqual([
      ["breaker-open", "gave-up"],
      ["budget", undefined],
      ["cooldown", undefined],
    ]);
    expect(history.heals.nextAllowedAt).toBe(iso((firstHeal ?? 0) + 3_600_000));
  });

  it("gives up on a crash loop: heals that revive the service until the next tick count as failed", async () => {
    world.writeRules({ cooldown: "100ms", failureThreshold: 2 });
    world.writePlist("mcp-bridge", "crash-loop");
    await world.crash("mcp-bridge");
    const first = await world.runJson();
    expect(byId(first.services, "mcp-bridge")).toMatchObject({ status: "up", heal: { outcome: "healed" } });
    for (let tick = 2; tick <= 3; tick += 1) {
      await waitFor(async () => !(await portAnswers(world.port("mcp-bridge"))), 10_000, "the crash");
      const relapsed = await world.runJson();
      const mcp = byId(relapsed.services, "mcp-bridge");
      if (tick === 2) expect(mcp).toMatchObject({ status: "up", heal: { outcome: "healed" }, gaveUp: false });
      else
        expect(mcp).toMatchObject({
          status: "down",
          breaker: "OPEN",
          gaveUp: true,
          heal: { outcome: "refused", reason: "breaker-open" },
        });
    }
    const breakers = world.stateFile("breakers.json").breakers as Record<string, { failStreak: number }>;
    expect(breakers["mcp-bridge"]?.failStreak).toBe(2);
    expect(world.logLines().some((l) => l.msg === "breaker heal-failed" && l.service === "mcp-bridge")).toBe(
      true,
    );
  });

  it("a second concurrent run exits 3 and touches nothing", async () => {
    const release = join(world.root, "release");
    world.writeRules({
      extraServices: [
        "  holder:",
        `    probe: { type: exec, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixture("run-wait-file.mjs"))}, ${JSON.stringify(release)}], timeout: 25s }`,
      ].join("\n"),
    });
    // State files exist before the race (a run of only the stubs writes them).
    writeFileSync(release, "");
    expect((await world.run()).code).toBe(0);
    rmSync(release);
    const files = world.snapshot();
    expect(Object.values(files).every((v) => v !== null)).toBe(true);
    const calls = world.calls().length;

    const first = world.spawnCli(["run", "--rules", world.rules]);
    const firstDone = finished(first);
    await waitFor(() => lockHolder(world.state), 15_000, "the first run to hold the lock");
    const second = await world.run();
    expect(second.code).toBe(3);
    expect(second.stdout).toBe("");
    expect(second.stderr).toMatch(/lock/i);
    expect(world.snapshot()).toEqual(files);
    expect(world.calls()).toHaveLength(calls);
    const status = await world.cli(["status", "--rules", world.rules, "--format", "json"]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ tickRunning: true });

    writeFileSync(release, "");
    expect((await firstDone).code).toBe(0);
  });

  it("kills a hung heal command with its children at its timeout, and bounds a probe that never answers", async () => {
    const silent = await silentServer();
    cleanups.push(() => silent.close());
    const pids = join(world.root, "hung-pids.json");
    world.writeRules({
      onlyExtra: true,
      extraServices: [
        "  hung-heal:",
        `    probe: { type: tcp, host: 127.0.0.1, port: ${await freePort()} }`,
        "    heal:",
        "      steps:",
        `        - action: exec`,
        "          # Long enough for node to start the fixture and write its pids on a loaded machine.",
        "          timeout: 3s",
        `          with: { command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixture("run-hung-heal.mjs"))}, ${JSON.stringify(pids)}] }`,
        "        - { action: verify, timeout: 200ms }",
        "  silent:",
        `    probe: { type: http, url: "http://127.0.0.1:${silent.port}/health", timeout: 500ms }`,
      ].join("\n"),
    });
    cleanups.push(() => {
      if (!existsSync(pids)) return;
      const tree = JSON.parse(readFileSync(pids, "utf8")) as { child: number; grandchild: number };
      killTree(tree.child);
      killTree(tree.grandchild);
    });
    const result = await world.runJson();
    expect(result.code).toBe(1);
    expect(result.doc.timedOut).toBe(false);
    const hung = byId(result.services, "hung-heal");
    expect(hung.heal.outcome).toBe("failed");
    expect(hung.heal.steps[0]).toMatchObject({ action: "exec", status: "failed" });
    expect(hung.heal.steps[0]?.detail).toMatch(/step timeout after 3000 ms.*process tree killed/);
    const tree = JSON.parse(readFileSync(pids, "utf8")) as { child: number; grandchild: number };
    expect(isGone(tree.child)).toBe(true);
    expect(isGone(tree.grandchild)).toBe(true);
    const silentReport = byId(result.services, "silent");
    expect(silentReport.status).toBe("down");
    expect(silentReport.detail).toBe("probe timeout after 500 ms");
    expect(result.doc.failed).toBe(2);
  });

  it("plan runs no side-effecting handler: no launchctl call, state unchanged, `would run:` lines", async () => {
    world.writeRules();
    expect((await world.run()).code).toBe(0);
    await world.crash("health-proxy");
    const files = world.snapshot();
    const calls = world.calls().length;
    const plan = await world.cli(["plan", "--rules", world.rules]);
    expect(plan.code).toBe(0);
    expect(world.calls()).toHaveLength(calls);
    expect(world.snapshot()).toEqual(files);
    expect(await portAnswers(world.port("health-proxy"))).toBe(false);
    const plist = world.plist("health-proxy");
    expect(plan.stdout).toContain(`would run: ${LAUNCHCTL_STANDIN} unload ${plist}`);
    expect(plan.stdout).toContain("would run: wait 100ms");
    expect(plan.stdout).toContain(`would run: ${LAUNCHCTL_STANDIN} load ${plist}`);
    expect(plan.stdout).toMatch(/would run: verify/);

    const dry = await world.run("--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would run: ${LAUNCHCTL_STANDIN} unload ${plist}`);
    expect(world.calls()).toHaveLength(calls);
    expect(world.snapshot()).toEqual(files);
  });

  it("`run --format json` prints one JSON document with services[].id and status", async () => {
    world.writeRules();
    const result = await world.runJson();
    expect(result.code).toBe(0);
    expect(result.services.map((s) => [s.id, s.status])).toEqual([
      ["health-proxy", "up"],
      ["mcp-bridge", "up"],
      ["boss-api", "up"],
    ]);
  });

  it("never prints or logs an ${env:..} value", async () => {
    const secret = "e2e-secret-token-9f8e7d";
    world.writeRules({
      onlyExtra: true,
      extraServices: [
        "  secretive:",
        `    probe: { type: tcp, host: 127.0.0.1, port: ${await freePort()} }`,
        "    heal:",
        "      steps:",
        `        - { action: exec, with: { command: [${JSON.stringify(process.execPath)}, -e, "process.exit(0)", "\${env:UPKEEP_E2E_TOKEN}"] } }`,
        "        - { action: verify, timeout: 200ms }",
      ].join("\n"),
    });
    const result = await world.cli(["run", "--rules", world.rules, "--format", "json"], {
      UPKEEP_E2E_TOKEN: secret,
    });
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout) as { services: ServiceReportJson[] };
    expect(byId(doc.services, "secretive").heal.steps[0]?.status).toBe("ok");
    expect(result.stdout).toContain("[REDACTED]");
    expect(result.stdout + result.stderr).not.toContain(secret);
    expect(readFileSync(world.logFile, "utf8")).not.toContain(secret);
  });

  it("bad rules: exit 2, nothing run, state untouched", async () => {
    world.writeRules();
    expect((await world.run()).code).toBe(0);
    await world.crash("health-proxy");
    const files = world.snapshot();
    const calls = world.calls().length;
    const bad = join(world.root, "bad-rules");
    mkdirSync(bad);
    world.writeRules({}, bad);
    const yaml = readFileSync(join(bad, "services.yaml"), "utf8").replace(
      "    title: Health Proxy",
      "    titel: Health Proxy",
    );
    writeFileSync(join(bad, "services.yaml"), yaml);
    const result = await world.cli(["run", "--rules", bad]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("titel");
    expect(world.calls()).toHaveLength(calls);
    expect(world.snapshot()).toEqual(files);
  });

  it("a mistyped flag is a usage error (exit 2, one line with a hint), never an internal error", async () => {
    world.writeRules();
    for (const [command, flag, hint] of [
      ["run", "--rulez", "--rules"],
      ["plan", "--servic", "--service"],
      ["watch", "--intervall", "--interval"],
      ["status", "--formt", "--format"],
    ] as const) {
      const result = await world.cli([command, "--rules", world.rules, flag, "x"]);
      expect(result.code, command).toBe(2);
      expect(result.stderr, command).toContain(
        `upkeep ${command}: unknown option ${flag} (did you mean ${hint}?)`,
      );
      expect(result.stderr, command).not.toMatch(/internal error|at .*\.js:\d+/);
    }
    expect(world.calls()).toHaveLength(SERVICES.length);
    expect(existsSync(world.state)).toBe(false);
  });

  it("`run --service ID` probes and heals only that service and what it depends on", async () => {
    world.writeRules();
    await world.crash("mcp-bridge");
    const calls = world.calls().length;
    const result = await world.runJson("--service", "boss-api");
    expect(result.code).toBe(0);
    expect(result.services.map((s) => s.id).sort()).toEqual(["boss-api", "health-proxy"]);
    expect(world.calls()).toHaveLength(calls);
    expect(await portAnswers(world.port("mcp-bridge"))).toBe(false);

    const unknown = await world.run("--service", "boss-apj");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('did you mean "boss-api"');
  });

  it("`watch --interval 200ms --max-ticks 3` runs three ticks and exits 0", async () => {
    world.writeRules();
    const result = await world.cli([
      "watch",
      "--rules",
      world.rules,
      "--interval",
      "200ms",
      "--max-ticks",
      "3",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.match(/^Summary: 0 healed, 0 failed$/gm)).toHaveLength(3);
    // Each tick is headed by its number and start time, in order.
    const headers = [...result.stdout.matchAll(/^Tick (\d+) at (\S+)$/gm)];
    expect(headers.map((m) => Number(m[1]))).toEqual([1, 2, 3]);
    const times = headers.map((m) => Date.parse(m[2] ?? ""));
    expect(times.every((t, i) => Number.isFinite(t) && (i === 0 || t > (times[i - 1] ?? 0)))).toBe(true);
  });

  it("a watch sent SIGTERM mid-tick finishes the tick and exits 0", async () => {
    const release = join(world.root, "release");
    world.writeRules({
      onlyExtra: true,
      extraServices: [
        "  holder:",
        `    probe: { type: exec, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixture("run-wait-file.mjs"))}, ${JSON.stringify(release)}], timeout: 25s }`,
      ].join("\n"),
    });
    const watch = world.spawnCli(["watch", "--rules", world.rules, "--interval", "200ms"]);
    const done = finished(watch);
    await waitFor(() => lockHolder(world.state), 15_000, "the watch's tick to hold the lock");
    watch.kill("SIGTERM");
    writeFileSync(release, "");
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stdout.match(/^Summary: /gm)).toHaveLength(1);
    expect(result.stdout).toContain("holder (exec");
    const services = world.stateFile("services.json").services as Record<string, { lastStatus: string }>;
    expect(services.holder?.lastStatus).toBe("up");
    expect(world.logLines().some((l) => l.msg === "watch stopped")).toBe(true);
  });
});
