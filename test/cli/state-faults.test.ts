/**
 * Heal and alert limits hold when the state cannot be written or read: the built CLI against a real
 * service stand-in (an exec probe that passes while a file exists), an exec heal step and a command
 * channel that each append a line to a file, so every heal and every notification is counted.
 * File modes are real: as root the CLI runs as `nobody` (see unprivileged.ts).
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockHolder } from "../../src/runtime/lock.js";
import { handOver, runCli, skipReason, type CliResult } from "./unprivileged.js";

let root: string;
let rules: string;
let state: string;
const file = (name: string): string => join(root, name);
const lines = (name: string): number =>
  existsSync(file(name)) ? readFileSync(file(name), "utf8").split("\n").filter(Boolean).length : 0;

function writeRules(): void {
  const node = JSON.stringify(process.execPath);
  const append = (name: string): string =>
    JSON.stringify(`require('fs').appendFileSync(${JSON.stringify(file(name))}, 'x\\n')`);
  writeFileSync(
    join(rules, "services.yaml"),
    [
      "version: 1",
      "runtime:",
      `  stateDir: ${JSON.stringify(state)}`,
      `  logFile: ${JSON.stringify(file("logs/upkeep.log"))}`,
      "defaults:",
      "  heal: { cooldown: 1s, budget: { max: 1, per: 1h } }",
      "services:",
      "  svc:",
      `    probe: { type: exec, command: [${node}, -e, ${JSON.stringify(`process.exit(require('fs').existsSync(${JSON.stringify(file("up"))}) ? 0 : 1)`)}] }`,
      "    heal:",
      "      steps:",
      `        - { action: exec, with: { command: [${node}, -e, ${append("heals.log")}] } }`,
      "        - { action: verify, timeout: 200ms }",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(rules, "alerts.yaml"),
    [
      "version: 1",
      "channels:",
      `  note: { type: command, with: { command: [${node}, -e, ${append("notes.log")}] } }`,
      "levels:",
      "  CRITICAL: { threshold: 1, cooldown: 1h, channels: [note] }",
      "rules:",
      '  service-down: { level: CRITICAL, when: { "==": [{ var: status }, "down"] } }',
      "",
    ].join("\n"),
  );
}

const cli = (...args: string[]): Promise<CliResult> =>
  runCli([...args, "--rules", rules], { HOME: root, XDG_CACHE_HOME: file("cache") });

/** A first healthy tick creates the state files (owned by the user the CLI runs as). */
async function healthyFirstTick(): Promise<void> {
  writeFileSync(file("up"), "");
  handOver(root);
  expect((await cli("run")).code).toBe(0);
  rmSync(file("up"));
}

function expectCleanFailure(result: CliResult, pattern: RegExp): void {
  expect(result.signal, result.stderr).toBeNull();
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "upkeep-faults-"));
  rules = file("rules");
  state = file("state");
  mkdirSync(rules);
  writeRules();
});
afterEach(() => {
  chmodSync(root, 0o700);
  if (existsSync(state)) chmodSync(state, 0o700);
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(skipReason !== undefined)(
  `state faults (built CLI)${skipReason === undefined ? "" : ` [skipped: ${skipReason}]`}`,
  () => {
    it("an unwritable state dir: no heal and no notification on any tick, exit 2 with the reason; limits apply again once fixed", async () => {
      await healthyFirstTick();
      // tick.lock inside stays writable, so the lock still works: only the state files cannot be saved.
      chmodSync(state, 0o500);
      for (let tick = 0; tick < 3; tick++) {
        const result = await cli("run");
        expectCleanFailure(
          result,
          /cannot write state in .*state \(EACCES\): no heal or alert ran, because their limits could not be recorded; fix the permissions/,
        );
      }
      expect(lines("heals.log")).toBe(0);
      expect(lines("notes.log")).toBe(0);
      expect(await lockHolder(state)).toBeUndefined();

      chmodSync(state, 0o700);
      expect((await cli("run")).code).toBe(1);
      expect((await cli("run")).code).toBe(1);
      // Budget 1 per hour and one notice per hour cooldown: once each.
      expect(lines("heals.log")).toBe(1);
      expect(lines("notes.log")).toBe(1);
    });

    it("an unreadable state file (EACCES) stops the tick before any heal, names file and errno, and stays in place", async () => {
      await healthyFirstTick();
      const heals = join(state, "heals.json");
      const before = readFileSync(heals, "utf8");
      chmodSync(heals, 0o000);
      const result = await cli("run");
      expectCleanFailure(result, /cannot read state file .*heals\.json \(EACCES\)/);
      expect(lines("heals.log")).toBe(0);
      expect(lines("notes.log")).toBe(0);
      chmodSync(heals, 0o600);
      expect(readFileSync(heals, "utf8")).toBe(before);
      expect(readdirSync(state).filter((n) => n.includes("corrupt"))).toEqual([]);
      expect(await lockHolder(state)).toBeUndefined();
    });

    it.each(["services.json", "outbox.json", "silences.json"])(
      "a FIFO as %s: run and status refuse it at once (no hang, lock released) and leave it in place",
      async (name) => {
        await healthyFirstTick();
        rmSync(join(state, name), { force: true });
        execFileSync("mkfifo", [join(state, name)]);
        handOver(root);
        for (const command of ["run", "status"]) {
          const result = await cli(command);
          expectCleanFailure(result, new RegExp(`${name.replace(".", "\\.")}.*a FIFO, not a regular file`));
          expect(await lockHolder(state)).toBeUndefined();
        }
        expect(lines("heals.log")).toBe(0);
        expect(execFileSync("stat", ["-c", "%F", join(state, name)], { encoding: "utf8" })).toContain("fifo");
      },
    );

    it("a FIFO as the history's pending span: run and status finish (the history is a record, not a gate)", async () => {
      await healthyFirstTick();
      const pending = join(state, "history.db.pending.json");
      rmSync(pending, { force: true });
      execFileSync("mkfifo", [pending]);
      handOver(root);
      const run = await cli("run");
      expect(run.signal, run.stderr).toBeNull();
      expect(run.code, run.stderr).toBe(1);
      expect(lines("heals.log")).toBe(1);
      const status = await cli("status");
      expect(status.signal, status.stderr).toBeNull();
      expect(status.stderr).not.toMatch(/internal error/);
      expect(await lockHolder(state)).toBeUndefined();
    });

    it("a corrupt silences.json is reported by run and status on stderr, and left in place", async () => {
      await healthyFirstTick();
      const silences = join(state, "silences.json");
      writeFileSync(silences, "{ torn");
      handOver(root);
      const run = await cli("run");
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(
        /warning: .*silences\.json is invalid JSON.*ad-hoc silences are not applied/,
      );
      const status = await cli("status");
      expect(status.code, status.stderr).toBe(0);
      expect(status.stderr).toMatch(/upkeep: .*silences\.json is invalid JSON/);
      expect(readFileSync(silences, "utf8")).toBe("{ torn");
    });
  },
);
