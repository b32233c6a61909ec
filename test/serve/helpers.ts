// A world for the serve tests: a real stub service, rules whose exec heal restarts it, the BUILT CLI for
// ticks, and `upkeep serve` as a real child process. Every process is killed in `close()`.
import type { Readable } from "node:stream";
import { spawn, type ChildProcess, type ChildProcessByStdio } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../../src/config/model.js";
import { loadRules } from "../../src/config/validate.js";
import { freePort, isGone, killTree, portAnswers, STUB_SERVICE, waitFor } from "../actions/helpers.js";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = join(REPO, "bin", "upkeep.js");
export const BUILT = existsSync(join(REPO, "dist", "cli", "main.js"));

export interface RulesOptions {
  /** heal.after (default 1). */
  readonly after?: number;
  /** runtime.interval (default: the rules' default, 300s). */
  readonly interval?: string;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith("UPKEEP_")) env[k] = v;
  return env;
}

export class ServeWorld {
  readonly root = mkdtempSync(join(tmpdir(), "upkeep-serve-"));
  readonly rules = join(this.root, "rules");
  readonly state = join(this.root, "state");
  port = 0;
  private readonly children = new Set<ChildProcess>();
  private readonly pids = new Set<number>();

  /** Writes the rules and starts the stub service they probe (and heal by starting it again). */
  async start(options: RulesOptions = {}): Promise<void> {
    const start = await this.writeRules(options);
    const child = spawn(start[0] as string, start.slice(1), { stdio: "ignore", detached: true });
    child.unref();
    if (child.pid !== undefined) this.pids.add(child.pid);
    await waitFor(() => portAnswers(this.port), 10_000, "the stub to listen");
  }

  /** Writes services.yaml and alerts.yaml for a stub on `port` (a free one) and returns its command. */
  async writeRules(options: RulesOptions = {}): Promise<string[]> {
    this.port = await freePort();
    mkdirSync(this.rules);
    const start = [process.execPath, STUB_SERVICE, "--port", String(this.port), "--name", "api"];
    writeFileSync(
      join(this.rules, "services.yaml"),
      `version: 1
runtime:
  stateDir: ${JSON.stringify(this.state)}
  logFile: ${JSON.stringify(join(this.root, "upkeep.log"))}${options.interval === undefined ? "" : `\n  interval: ${options.interval}`}
services:
  api:
    title: API
    probe: { type: http, url: "http://127.0.0.1:${this.port}/health", timeout: 1s }
    heal:
      after: ${options.after ?? 1}
      cooldown: 1s
      steps:
        - action: exec
          with: { command: ${JSON.stringify(start)}, detach: true }
        - action: verify
          timeout: 5s
          with: { interval: 50ms, maxInterval: 100ms }
`,
    );
    writeFileSync(
      join(this.rules, "alerts.yaml"),
      `version: 1
channels:
  log: { type: log }
levels:
  CRITICAL: { threshold: 1, cooldown: 1h, channels: [log] }
rules:
  api-down:
    level: CRITICAL
    when: { "==": [{ var: status }, "down"] }
`,
    );
    return start;
  }

  /** The rules as the CLI loads them (for serveHandler tests in this process). */
  async config(): Promise<Config> {
    const result = await loadRules(this.rules, { env: cleanEnv(), requireEnv: false });
    if (result.config === undefined) throw new Error(`bad rules: ${JSON.stringify(result.diagnostics)}`);
    return result.config;
  }

  /** The built CLI as a child this world kills in `close()`. */
  private spawnCli(args: string[]): ChildProcessByStdio<null, Readable, Readable> {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO,
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.children.add(child);
    return child;
  }

  cli(args: string[]): Promise<CliResult> {
    const child = this.spawnCli(args);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    return new Promise((resolve) =>
      child.on("close", (code) => {
        clearTimeout(timer);
        this.children.delete(child);
        resolve({ code, stdout, stderr });
      }),
    );
  }

  tick(): Promise<CliResult> {
    return this.cli(["run", "--rules", this.rules]);
  }

  /** Starts `upkeep serve` and resolves with its URL (it prints the URL on stdout once listening). */
  async serve(
    args: string[] = [],
    options: { listen?: string } = {},
  ): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
    const child = this.spawnCli([
      "serve",
      "--rules",
      this.rules,
      "--listen",
      options.listen ?? "127.0.0.1:0",
      ...args,
    ]);
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 20_000);
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
        const line = /^(http:\/\/\S+)\n/m.exec(stdout)?.[1];
        if (line !== undefined) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited ${String(code)}: ${stderr}`));
      });
    });
    return { url, child, stderr: () => stderr };
  }

  async stubPid(): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${this.port}/health`);
    return ((await res.json()) as { pid: number }).pid;
  }

  async killStub(): Promise<void> {
    killTree(await this.stubPid());
    await waitFor(async () => !(await portAnswers(this.port)), 10_000, "the stub to stop answering");
  }

  async close(): Promise<void> {
    if (this.port !== 0 && (await portAnswers(this.port))) this.pids.add(await this.stubPid().catch(() => 0));
    for (const child of this.children) child.kill("SIGKILL");
    for (const pid of this.pids) if (pid > 0) killTree(pid);
    await waitFor(async () => [...this.pids].every((p) => p <= 0 || isGone(p)), 10_000, "the stubs to exit");
    rmSync(this.root, { recursive: true, force: true });
  }
}
