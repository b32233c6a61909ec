/**
 * `upkeep demo` (npm start): a self-contained tour on loopback. It starts three stub services through a
 * stand-in `launchctl`, runs a healthy tick, kills one service, runs the tick that detects and heals it
 * with the baseline sequence (unload, wait 2 s, load, wait 3 s, verify) and raises an alert, then stops
 * everything it started and removes its temporary folder.
 */
import { mkdtemp, mkdir, rm, writeFile, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode } from "../../errors.js";
import { DEMO_DIR } from "../paths.js";
import { commandFlags } from "../args.js";
import { systemClock } from "../../runtime/clock.js";
import { createLogger } from "../../runtime/logger.js";
import { createRedactor } from "../../runtime/redact.js";
import { runSession } from "../../runtime/session.js";
import { formatTickText } from "../format/tick.js";

const LAUNCHCTL = join(DEMO_DIR, "launchctl.mjs");
const STUB = join(DEMO_DIR, "stub-service.mjs");

const SERVICES = [
  { id: "health-proxy", title: "Health Proxy", label: "com.02luka.health-proxy" },
  { id: "mcp-bridge", title: "MCP Bridge", label: "com.02luka.mcp-bridge" },
  { id: "boss-api", title: "Boss API", label: "com.02luka.boss-api" },
] as const;

const HELP = `Usage: upkeep demo [--keep]

Starts three stub services (Health Proxy, MCP Bridge, Boss API) on free loopback ports behind a
stand-in launchctl, shows a healthy tick, kills one, shows the tick that heals it and the alert it
raised, then stops everything. Needs no configuration and touches nothing outside a temporary folder.

Options:
  --keep       keep the temporary folder (rules, state files, log) and print where it is
  -h, --help   this help

Exit codes: 0 when the heal worked, 1 when it did not.
`;

const OPTIONS = { keep: { type: "boolean" }, help: { type: "boolean", short: "h" } } as const;

export async function run(argv: string[]): Promise<number> {
  // A mistyped flag is a usage error (exit 2, one line), never an internal error with a stack.
  const values = commandFlags("demo", argv, OPTIONS, () => HELP);
  if (typeof values === "number") return values;
  const out = (text: string): void => {
    process.stdout.write(text);
  };
  const root = await mkdtemp(join(tmpdir(), "upkeep-demo-"));
  const launchdDir = join(root, "launchd");
  const previousStandinDir = process.env.LAUNCHCTL_STANDIN_DIR;
  process.env.LAUNCHCTL_STANDIN_DIR = launchdDir;
  const { runProcess } = await import("../../runtime/process.js");
  const launchctl = (...args: string[]): ReturnType<typeof runProcess> =>
    runProcess([process.execPath, LAUNCHCTL, ...args], {
      timeoutMs: 15_000,
      env: { LAUNCHCTL_STANDIN_DIR: launchdDir },
    });
  const ports = await freePorts(SERVICES.length);
  try {
    const rulesDir = await writeDemoRules(root, ports);
    const { loadRules } = await import("../../config/validate.js");
    const loaded = await loadRules(rulesDir, { env: process.env, requireEnv: false });
    if (loaded.config === undefined) {
      out(
        `demo rules failed to validate:\n${loaded.diagnostics.map((d) => `  ${d.code}: ${d.message}`).join("\n")}\n`,
      );
      return ExitCode.failure;
    }
    const config = loaded.config;
    const redactor = createRedactor();
    const logger = await createLogger({
      logFile: config.runtime.logFile,
      redactor,
      bindings: { cmd: "demo" },
    });
    const deps = { clock: systemClock, logger, env: process.env, redactor };

    out(`upkeep demo: working in ${root}\n\n1. Starting three stub services through a stand-in launchctl\n`);
    for (const [i, s] of SERVICES.entries()) {
      await launchctl("load", join(root, "LaunchAgents", `${s.label}.plist`));
      out(`   ${s.title} on 127.0.0.1:${ports[i]}\n`);
    }
    await Promise.all(ports.map((port) => waitForPort(port, true)));

    out("\n2. A healthy tick\n");
    const healthy = await runSession(config, deps, { dryRun: false, trigger: "demo" });
    out(indent(formatTickText(healthy.report)));

    const victim = SERVICES[0];
    const pid = await standinPid(launchdDir, victim.label);
    out(`\n3. Killing ${victim.title} (pid ${pid ?? "?"}) to simulate a crash\n`);
    if (pid !== undefined) killQuietly(pid);
    await waitForPort(ports[0] as number, false);

    out("\n4. The next tick detects it and heals it (unload, wait 2s, load, wait 3s, verify)\n");
    const healing = await runSession(config, deps, { dryRun: false, trigger: "demo" });
    out(indent(formatTickText(healing.report)));
    const healed = healing.report.services.find((s) => s.id === victim.id);
    for (const step of healed?.heal.steps ?? [])
      out(`   step ${step.name}: ${step.status} - ${step.description}\n`);

    if (healed !== undefined) {
      out(
        `   heal budget: ${healed.heal.budgetLeft} of ${config.services[0]?.heal.budget.max ?? "?"} left this hour; ` +
          `the next heal of ${victim.title} waits for the 5m cooldown\n`,
      );
    }
    logger.close();
    const logLines = (await readFile(config.runtime.logFile, "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean);
    out(
      `\n5. What was recorded: ${logLines.length} pino JSON lines in ${config.runtime.logFile}, ` +
        `state files in ${config.runtime.stateDir}${values.keep === true ? "" : " (run with --keep to look at them)"}\n`,
    );
    const ok = healed?.heal.outcome === "healed" && healing.report.failed === 0;
    out(ok ? `\nThe heal worked: ${victim.title} is back.\n` : `\nThe heal did not work.\n`);
    return ok ? ExitCode.ok : ExitCode.failure;
  } finally {
    for (const s of SERVICES) await launchctl("unload", join(root, "LaunchAgents", `${s.label}.plist`));
    if (previousStandinDir === undefined) delete process.env.LAUNCHCTL_STANDIN_DIR;
    else process.env.LAUNCHCTL_STANDIN_DIR = previousStandinDir;
    if (values.keep === true) out(`\nKept ${root}\n`);
    else await rm(root, { recursive: true, force: true });
    out("Stopped everything the demo started.\n");
  }
}

async function writeDemoRules(root: string, ports: readonly number[]): Promise<string> {
  const rulesDir = join(root, "rules");
  await mkdir(rulesDir, { recursive: true });
  await mkdir(join(root, "LaunchAgents"), { recursive: true });
  const services = SERVICES.map((s, i) =>
    [
      `  ${s.id}:`,
      `    title: ${s.title}`,
      `    probe: { type: tcp, host: 127.0.0.1, port: ${ports[i]} }`,
      `    heal:`,
      `      recipe: launchd-restart`,
      `      with: { label: ${s.label}, plist: ${JSON.stringify(join(root, "LaunchAgents", `${s.label}.plist`))} }`,
    ].join("\n"),
  );
  for (const [i, s] of SERVICES.entries()) {
    const plist = { Label: s.label, ProgramArguments: [process.execPath, STUB, "--port", String(ports[i])] };
    await writeFile(join(root, "LaunchAgents", `${s.label}.plist`), JSON.stringify(plist, null, 2));
  }
  await writeFile(
    join(rulesDir, "services.yaml"),
    `# Demo rules written by \`upkeep demo\`: the baseline recipe, on free loopback ports.
version: 1
runtime:
  stateDir: ${JSON.stringify(join(root, "state"))}
  logFile: ${JSON.stringify(join(root, "logs", "upkeep.log"))}
  launchctl: ${JSON.stringify(LAUNCHCTL)}
  tickTimeout: 1m
defaults:
  probe: { timeout: 1s }
  heal: { cooldown: 5m, budget: { max: 3, per: 1h } }
recipes:
  launchd-restart:
    description: The baseline heal sequence.
    params:
      label: { required: true, description: LaunchAgent label }
      plist: { required: true, description: Path of the agent's plist }
    steps:
      - action: launchd.unload
        with: { label: "\${{ params.label }}", plist: "\${{ params.plist }}" }
      - action: wait
        with: { for: 2s }
      - action: launchd.load
        with: { label: "\${{ params.label }}", plist: "\${{ params.plist }}" }
      - action: wait
        with: { for: 3s }
      - action: verify
        timeout: 10s
services:
${services.join("\n")}
`,
  );
  await writeFile(
    join(rulesDir, "alerts.yaml"),
    `version: 1
channels:
  log: { type: log }
levels:
  CRITICAL: { threshold: 1, cooldown: 1h, channels: [log] }
  INFO: { threshold: 1, cooldown: 24h, channels: [log] }
rules:
  service-down:
    level: CRITICAL
    when: { "==": [{ var: status }, "down"] }
  service-healed:
    level: INFO
    when: { "==": [{ var: heal.outcome }, "healed"] }
    message: "\${{ service.title }} was down and has been healed"
    sendResolved: false
`,
  );
  return rulesDir;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => (l === "" ? l : `   ${l}`))
    .join("\n");
}

async function standinPid(dir: string, label: string): Promise<number | undefined> {
  try {
    const state = JSON.parse(await readFile(join(dir, "jobs", `${label}.json`), "utf8")) as { pid?: unknown };
    return typeof state.pid === "number" ? state.pid : undefined;
  } catch {
    return undefined;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Free ephemeral loopback ports (bound and released; good enough for a demo on one machine). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import("node:net").Server>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Polls (bounded: 5 s) until the port accepts connections (`open`) or refuses them. */
async function waitForPort(port: number, open: boolean): Promise<void> {
  const { connect } = await import("node:net");
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const isOpen = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (isOpen === open) return;
    await systemClock.sleep(100);
  }
}
