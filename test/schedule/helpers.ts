/**
 * Shared by the schedule and CLI tests: a temporary HOME (and environment) per test, a rules folder,
 * stand-in launchctl/systemctl that record their argv, and running `main([...])` in-process with its
 * output captured.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";

export const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

const ENV_KEYS = [
  "HOME",
  "XDG_CONFIG_HOME",
  "UPKEEP_RULES",
  "UPKEEP_STATE_DIR",
  "SCHEDULE_STANDIN_LOG",
  "SCHEDULE_STANDIN_MODE",
  "SCHEDULE_STANDIN_BUSY",
  "SCHEDULE_STANDIN_LOAD_FAILS",
  "SCHEDULE_STANDIN_NO_BUS",
  "SCHEDULE_STANDIN_LAST_EXIT",
] as const;

export interface Sandbox {
  readonly root: string;
  readonly home: string;
  readonly rules: string;
  readonly stateDir: string;
  /** The stand-ins' argv log. */
  readonly callLog: string;
  readonly launchctl: string;
  readonly systemctl: string;
  /** argv of every stand-in call so far (without the program). */
  calls(): string[][];
  clearCalls(): void;
  cleanup(): void;
}

/** A shell wrapper, so the stand-in runs with this node whatever PATH holds (as a real tool path would). */
function wrapper(dir: string, name: string, script: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nexec '${process.execPath}' '${join(FIXTURES, script)}' "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

export function rulesYaml(runtime: Record<string, string>): string {
  const lines = Object.entries(runtime).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
  return [
    "version: 1",
    "runtime:",
    ...lines,
    "services:",
    "  api:",
    "    title: API",
    "    probe: { type: tcp, host: 127.0.0.1, port: 9 }",
    "  boss-api:",
    "    title: Boss API",
    "    probe: { type: tcp, host: 127.0.0.1, port: 9 }",
    "",
  ].join("\n");
}

/** Sets HOME etc. to a fresh temp folder; `cleanup` restores the environment and removes it. */
export function sandbox(runtime: Record<string, string> = {}): Sandbox {
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  const root = mkdtempSync(join(tmpdir(), "upkeep-schedule-"));
  const home = join(root, "home");
  const rules = join(root, "project", "rules");
  const stateDir = join(root, "state");
  const bin = join(root, "bin");
  for (const dir of [home, rules, bin]) mkdirSync(dir, { recursive: true });
  const callLog = join(root, "calls.jsonl");
  const launchctl = wrapper(bin, "launchctl", "schedule-launchctl.mjs");
  const systemctl = wrapper(bin, "systemctl", "schedule-systemctl.mjs");
  writeFileSync(
    join(rules, "services.yaml"),
    rulesYaml({
      stateDir,
      logFile: join(root, "logs", "upkeep.log"),
      interval: "120s",
      launchctl,
      systemctl,
      ...runtime,
    }),
  );
  for (const key of ENV_KEYS) delete process.env[key];
  process.env.HOME = home;
  process.env.SCHEDULE_STANDIN_LOG = callLog;
  return {
    root,
    home,
    rules,
    stateDir,
    callLog,
    launchctl,
    systemctl,
    calls: () =>
      existsSync(callLog)
        ? readFileSync(callLog, "utf8")
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => JSON.parse(l) as string[])
        : [],
    clearCalls: () => rmSync(callLog, { force: true }),
    cleanup: () => {
      for (const key of ENV_KEYS) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface MainResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process and captures what it writes. */
export async function runMain(args: string[]): Promise<MainResult> {
  const out: string[] = [];
  const err: string[] = [];
  const original = { out: process.stdout.write, err: process.stderr.write };
  const capture =
    (into: string[]) =>
    (chunk: string | Uint8Array): boolean => {
      into.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    };
  process.stdout.write = capture(out) as typeof process.stdout.write;
  process.stderr.write = capture(err) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = original.out;
    process.stderr.write = original.err;
  }
}

export const uid = (): number => process.getuid?.() ?? 0;
