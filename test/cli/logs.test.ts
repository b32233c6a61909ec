/**
 * `upkeep logs`: reads the pino log that real ticks wrote (and files written by hand where the test
 * needs exact times or rotated files), filters it, and follows the live file across rotation in a real
 * child process (the built CLI) that the test stops with a signal.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { upkeep } from "../testing/helpers.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(REPO, "bin", "upkeep.js");
const BUILT =
  existsSync(join(REPO, "dist", "bundle", "main.js")) || existsSync(join(REPO, "dist", "cli", "main.js"));
const SECRET = "https://hooks.example.invalid/logs-test-9f3a7c1e5b";
const SECRET_ENV = "UPKEEP_LOGS_TEST_HOOK";

interface World {
  readonly root: string;
  readonly rules: string;
  readonly logFile: string;
}

function world(): World {
  const root = mkdtempSync(join(tmpdir(), "upkeep-logs-"));
  const rules = join(root, "rules");
  const logFile = join(root, "logs", "upkeep.log");
  mkdirSync(rules);
  writeFileSync(
    join(rules, "services.yaml"),
    `version: 1
runtime:
  stateDir: ${JSON.stringify(join(root, "state"))}
  logFile: ${JSON.stringify(logFile)}
services:
  web:
    title: Web
    probe: { type: tcp, host: 127.0.0.1, port: 1, timeout: 1s }
    heal:
      steps:
        - action: wait
          with: { for: 10ms }
  api:
    title: Api
    probe: { type: tcp, host: 127.0.0.1, port: 1, timeout: 1s }
`,
  );
  writeFileSync(
    join(rules, "alerts.yaml"),
    `version: 1
channels:
  hook:
    type: webhook
    with: { url: "\${env:${SECRET_ENV}}" }
levels:
  CRITICAL: { threshold: 1000, cooldown: 1h, channels: [hook] }
`,
  );
  return { root, rules, logFile };
}

const worlds: World[] = [];
function newWorld(): World {
  const w = world();
  worlds.push(w);
  return w;
}

beforeAll(() => {
  process.env[SECRET_ENV] = SECRET;
});
afterAll(() => {
  delete process.env[SECRET_ENV];
  for (const w of worlds) rmSync(w.root, { recursive: true, force: true });
});

/** A pino line as upkeep writes it. */
function line(time: number, fields: Record<string, unknown>): string {
  return `${JSON.stringify({ level: "info", time, pid: 1, cmd: "run", ...fields })}\n`;
}

describe("upkeep logs (log files written by real ticks)", () => {
  const w = newWorld();
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const tick = await upkeep("run", "--rules", w.rules);
      expect(tick.code, tick.stderr).toBe(1);
    }
  });

  it("prints one readable line per entry: time, level, command, service, message, other fields", async () => {
    const result = await upkeep("logs", "--rules", w.rules);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const healing = lines.find((l) => l.includes("healing web"));
    expect(healing).toMatch(
      /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} {2}INFO {3}run {2}web {2}healing web {2}/,
    );
    expect(healing).toContain("forced=false");
    expect(healing).not.toContain("pid=");
  });

  it("--format json passes the log's lines through unchanged", async () => {
    const file = (await readFile(w.logFile, "utf8")).trim().split("\n");
    const result = await upkeep("logs", "--rules", w.rules, "--format", "json");
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(file);
  });

  it("filters by service and by level", async () => {
    const api = await upkeep("logs", "api", "--rules", w.rules, "--format", "json");
    expect(api.code).toBe(0);
    const services = api.stdout
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { service?: string }).service);
    expect(services.every((s) => s === "api")).toBe(true);
    const web = await upkeep("logs", "web", "--rules", w.rules);
    expect(web.stdout).toContain("healing web");
    const errors = await upkeep("logs", "--rules", w.rules, "--level", "error");
    expect(errors.code).toBe(0);
    expect(errors.stdout).not.toContain("INFO");
  });
});

describe("upkeep logs (files written by hand)", () => {
  const now = Date.now();
  const min = 60_000;

  it("with --since reads the rotated files too, in time order, and leaves out older entries", async () => {
    const w = newWorld();
    mkdirSync(join(w.root, "logs"));
    writeFileSync(
      `${w.logFile}.2`,
      line(now - 120 * min, { msg: "too old" }) + line(now - 50 * min, { msg: "one" }),
    );
    // A writer that still had the old file open appended to .1 after the rotation: out of order.
    writeFileSync(
      `${w.logFile}.1`,
      line(now - 40 * min, { msg: "two" }) + line(now - 20 * min, { msg: "four" }),
    );
    writeFileSync(
      w.logFile,
      line(now - 30 * min, { msg: "three" }) + "not json\n" + line(now - 10 * min, { msg: "five" }),
    );
    const result = await upkeep("logs", "--rules", w.rules, "--since", "1h", "--format", "json");
    expect(result.code).toBe(0);
    expect(
      result.stdout
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { msg: string }).msg),
    ).toEqual(["one", "two", "three", "four", "five"]);
    expect(result.stderr).toContain("skipped 1 line(s) that are not JSON");
    const since = await upkeep("logs", "--rules", w.rules, "--since", new Date(now - 25 * min).toISOString());
    expect(since.stdout).toMatch(/four[\s\S]*five/);
    expect(since.stdout).not.toContain("three");
    // Without --since: the current file only.
    const current = await upkeep("logs", "--rules", w.rules, "--format", "json");
    expect(current.stdout).toContain('"three"');
    expect(current.stdout).not.toContain('"two"');
  });

  it("redacts a secret the rules know, even in a line written before it was one", async () => {
    const w = newWorld();
    mkdirSync(join(w.root, "logs"));
    writeFileSync(w.logFile, line(now, { service: "web", msg: `posting to ${SECRET}`, url: SECRET }));
    for (const format of ["text", "json"]) {
      const result = await upkeep("logs", "--rules", w.rules, "--format", format);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("posting to");
      expect(result.stdout).not.toContain("logs-test-9f3a7c1e5b");
    }
  });

  it("a missing log file: says where it looked, prints nothing, exits 0", async () => {
    const w = newWorld();
    const result = await upkeep("logs", "--rules", w.rules);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`no log file at ${w.logFile}`);
  });

  it.each([
    [["--level", "loud"], '--level must be debug, info, warn, error, fatal, not "loud"'],
    [["--since", "yesterday"], "--since expects a duration"],
    [["wbe"], 'unknown service "wbe" (did you mean "web"?)'],
    [["--format", "yaml"], "--format must be text, json"],
    [["--tail"], "unknown option --tail"],
  ])("usage error %j: exit 2, one clear line", async (args, message) => {
    const w = newWorld();
    const result = await upkeep("logs", "--rules", w.rules, ...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe("");
  });
});

const followSuite = BUILT ? describe : describe.skip;

followSuite("upkeep logs --follow (built CLI in a child process)", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    child = undefined;
  });

  function start(args: string[]): {
    output: () => string;
    errors: () => string;
    exit: Promise<number | null>;
  } {
    let out = "";
    let err = "";
    const proc = spawn(process.execPath, [BIN, "logs", ...args], {
      env: { ...process.env, [SECRET_ENV]: SECRET, TZ: "UTC" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    proc.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    proc.stderr.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
    const exit = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)));
    return { output: () => out, errors: () => err, exit };
  }

  /** Polls until `check` holds: at most 100 rounds of 100 ms. */
  async function until(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (check()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it("prints new entries, keeps following when the file is rotated, and stops on SIGINT with 0", async () => {
    const w = newWorld();
    mkdirSync(join(w.root, "logs"));
    const t = Date.now();
    writeFileSync(w.logFile, line(t, { service: "web", msg: "before" }));
    const run = start(["--rules", w.rules, "-f", "--format", "json"]);
    const msgs = (): string[] =>
      run
        .output()
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { msg: string }).msg);
    await until(() => msgs().includes("before"), "the existing entry");
    appendFileSync(w.logFile, line(t + 1, { service: "web", msg: "appended" }));
    await until(() => msgs().includes("appended"), "an appended entry");
    // Rotation as src/runtime/log-rotation.ts does it: rename to .1; an old writer still appends there.
    renameSync(w.logFile, `${w.logFile}.1`);
    appendFileSync(`${w.logFile}.1`, line(t + 2, { service: "web", msg: "late in the old file" }));
    writeFileSync(
      w.logFile,
      line(t + 3, { service: "web", msg: "new file" }) + line(t + 4, { msg: `x ${SECRET}` }),
    );
    await until(() => msgs().includes("new file") && msgs().length === 5, "the rotated file's entries");
    expect(msgs()).toEqual(["before", "appended", "late in the old file", "new file", `x [REDACTED]`]);
    child?.kill("SIGINT");
    expect(await run.exit).toBe(0);
    expect(run.errors()).toBe("");
  }, 30_000);

  it("waits for a log that does not exist yet, pretty-prints it, and stops on SIGTERM with 0", async () => {
    const w = newWorld();
    const run = start(["web", "--rules", w.rules, "--follow"]);
    await until(() => run.errors().includes("waiting for it"), "the note about the missing log");
    expect(run.errors()).toContain(`no log file at ${w.logFile}`);
    mkdirSync(join(w.root, "logs"));
    writeFileSync(
      w.logFile,
      line(Date.UTC(2025, 0, 31, 8, 0, 0, 5), {
        service: "web",
        msg: "healing web",
        reason: "probe failed",
      }) + line(Date.UTC(2025, 0, 31, 8, 0, 1), { service: "api", msg: "not this one" }),
    );
    await until(() => run.output().includes("healing web"), "the entry in the new file");
    child?.kill("SIGTERM");
    expect(await run.exit).toBe(0);
    expect(run.output()).toBe(
      '2025-01-31 08:00:00.005  INFO   run  web  healing web  reason="probe failed"\n',
    );
  }, 30_000);
});
