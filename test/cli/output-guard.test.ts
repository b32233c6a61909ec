/**
 * The CLI's streams are a boundary: a reader that goes away ends the command quietly (exit 141, no stack
 * trace) without cutting a tick's state writes short, and every line passes the redactor, also for
 * secrets the command never resolved itself (named by the rules, stored by an earlier tick).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BROKEN_PIPE_EXIT } from "../../src/cli/output-guard.js";

const BIN = fileURLToPath(new URL("../../bin/upkeep.js", import.meta.url));
const TOKEN = "Pl4nted-Guard-Token-93be1c77f0";

let dir: string;
let rules: string;
let state: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "upkeep-guard-"));
  rules = join(dir, "rules");
  state = join(dir, "state");
  mkdirSync(rules);
  writeFileSync(
    join(rules, "services.yaml"),
    [
      "version: 1",
      "runtime:",
      `  stateDir: ${state}`,
      "  history: { enabled: false }",
      "services:",
      "  leaky:",
      "    probe:",
      "      type: exec",
      '      command: ["sh", "-c", "echo \\"probe failed for $PT\\" >&2; exit 1"]',
      '      env: { PT: "${env:GUARD_TOKEN}" }',
      ...Array.from({ length: 40 }, (_, i) => [
        `  file-${i}:`,
        `    probe: { type: file, path: ${join(dir, `beat-${i}`)}, maxAge: 1h }`,
      ]).flat(),
      "",
    ].join("\n"),
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], options: { closeStdout?: boolean } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, "--rules", rules, "--state-dir", state], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, GUARD_TOKEN: TOKEN, XDG_CACHE_HOME: join(dir, "cache") },
    });
    let stdout = "";
    let stderr = "";
    // Closing our end before the child writes anything makes every write of its stdout fail with EPIPE.
    if (options.closeStdout === true) child.stdout.destroy();
    else child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    if (process.env.DEBUG_GUARD) child.stderr.on("data", (d: Buffer) => process.stdout.write(d));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("a closed stdout", () => {
  it.each([["status"], ["run"], ["explain", "leaky"], ["--help"]])(
    "ends `upkeep %s` quietly with 141, no stack trace",
    async (...args) => {
      const ran = await cli(args, { closeStdout: true });
      expect(ran.stderr).not.toMatch(/EPIPE|internal error|at .*\.js:\d+/);
      expect(ran.code).toBe(BROKEN_PIPE_EXIT);
    },
  );

  it("does not cut a tick's state writes short", async () => {
    const ran = await cli(["run"], { closeStdout: true });
    expect(ran.code).toBe(BROKEN_PIPE_EXIT);
    const services = JSON.parse(readFileSync(join(state, "services.json"), "utf8")) as {
      services: Record<string, unknown>;
    };
    expect(Object.keys(services.services)).toHaveLength(41);
  });
});

describe("every line the CLI prints", () => {
  it("hides a secret a child printed, in the tick and in commands that never resolved it", async () => {
    const outputs = [await cli(["run"]), await cli(["status"]), await cli(["status", "--format", "json"])];
    outputs.push(await cli(["explain", "leaky"]), await cli(["explain", "leaky", "--format", "json"]));
    for (const ran of outputs) {
      expect(ran.stdout + ran.stderr).not.toContain(TOKEN.slice(0, 16));
      expect(ran.stdout + ran.stderr).not.toContain(TOKEN.slice(-16));
    }
    expect(outputs[0]?.stdout).toContain("probe failed for [REDACTED]");
    expect(readFileSync(join(state, "services.json"), "utf8")).not.toContain(TOKEN.slice(4, 20));
  });
});
