/**
 * Runs the built CLI (`node bin/upkeep.js`) as a user that file modes bind. Root ignores `chmod`, so as
 * root the CLI runs as `nobody` through setpriv(1) and the test's files are chowned to it; as any other
 * user it runs as that user. `skipReason` says why these tests cannot run here (nothing else is faked).
 */
import { spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = join(REPO, "bin", "upkeep.js");

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Identity {
  /** Put before `node ...`. */
  readonly prefix: readonly string[];
  readonly ids?: { readonly uid: number; readonly gid: number };
}

function idOf(flag: "-u" | "-g"): number | undefined {
  const out = spawnSync("id", [flag, "nobody"], { encoding: "utf8" });
  const n = Number(out.stdout.trim());
  return out.status === 0 && Number.isInteger(n) && n > 0 ? n : undefined;
}

function identity(): Identity | string {
  if (!existsSync(join(REPO, "dist", "cli", "main.js")))
    return "dist/cli/main.js is missing; build first (`npm run build`)";
  if (process.getuid?.() !== 0) return { prefix: [] };
  const uid = idOf("-u");
  const gid = idOf("-g");
  if (uid === undefined || gid === undefined) return "running as root and there is no user `nobody`";
  const prefix = ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--"];
  // The repository must be readable by that user; setpriv must exist.
  const check = spawnSync(prefix[0] as string, [...prefix.slice(1), process.execPath, BIN, "--version"], {
    encoding: "utf8",
    timeout: 20_000,
  });
  if (check.status !== 0)
    return `running as root and cannot run the CLI as nobody through setpriv (${check.error?.message ?? check.stderr.trim()})`;
  return { prefix, ids: { uid, gid } };
}

const who = identity();
export const skipReason: string | undefined = typeof who === "string" ? who : undefined;

/** Gives `path` (recursively) to the user the CLI runs as; nothing to do when that is us. */
export function handOver(path: string): void {
  if (typeof who === "string" || who.ids === undefined) return;
  const { uid, gid } = who.ids;
  const walk = (p: string): void => {
    chownSync(p, uid, gid);
    if (lstatSync(p).isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(path);
}

/** Runs the CLI to completion; killed (signal set, code null) after `timeoutMs`. */
export function runCli(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  timeoutMs = 20_000,
): Promise<CliResult> {
  if (typeof who === "string") throw new Error(who);
  const [command, ...rest] = [...who.prefix, process.execPath, BIN, ...args];
  const child = spawn(command as string, rest, {
    cwd: REPO,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", UPKEEP_NO_CACHE: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
