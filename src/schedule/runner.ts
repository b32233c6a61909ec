/**
 * What a scheduler starts: the same `node <cli> run --rules DIR` for launchd and systemd, with every
 * path absolute. Schedulers start jobs without a login shell: no `~` expansion, no PATH search for the
 * program, a bare PATH for everything the job runs. So paths are resolved here, once, and checked.
 */
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config/model.js";
import { UpkeepError } from "../errors.js";

/** Appended after node's own folder, so Homebrew and system tools are found too. */
export const BASE_PATH = ["/usr/local/bin", "/opt/homebrew/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"];

export interface RunnerSpec {
  /** Absolute path of the node binary the job runs. */
  readonly nodePath: string;
  /** Absolute path of bin/upkeep.js of this package. */
  readonly cliPath: string;
  /** Arguments after the CLI: `run --rules DIR [--state-dir DIR]`. */
  readonly args: readonly string[];
  /** Extra args after the rules dir (`--state-dir DIR` when one was given), for the plist template. */
  readonly extraArgs: readonly string[];
  readonly rulesDir: string;
  /** The parent of the rules directory: the folder `upkeep run` is usually started from. */
  readonly workingDirectory: string;
  readonly intervalSeconds: number;
  /** The PATH the job gets: node's folder first. */
  readonly path: string;
  readonly home: string;
}

export interface RunnerInput {
  readonly config: Pick<Config, "rulesDir" | "runtime">;
  /** --state-dir (or UPKEEP_STATE_DIR) at install time: baked in, since the job will not see the env. */
  readonly stateDir?: string;
  /** --node; default the node running this command. */
  readonly nodePath?: string;
  readonly home?: string;
}

/** bin/upkeep.js of this package (src/schedule and dist/schedule sit at the same depth). */
export function cliPath(): string {
  return fileURLToPath(new URL("../../bin/upkeep.js", import.meta.url));
}

/** `~` and `~/x` expanded against `home`, then made absolute. */
export function absolutePath(path: string, home: string = homedir()): string {
  const expanded = path === "~" ? home : path.startsWith("~/") ? join(home, path.slice(2)) : path;
  return resolve(expanded);
}

export function searchPath(nodePath: string): string {
  const dirs = [dirname(nodePath), ...BASE_PATH];
  return dirs.filter((dir, i) => dirs.indexOf(dir) === i).join(":");
}

export function intervalSeconds(intervalMs: number): number {
  return Math.max(1, Math.round(intervalMs / 1000));
}

export function runnerSpec(input: RunnerInput): RunnerSpec {
  const home = input.home ?? homedir();
  const nodePath = absolutePath(input.nodePath ?? process.execPath, home);
  const rulesDir = absolutePath(input.config.rulesDir, home);
  const extraArgs = input.stateDir === undefined ? [] : ["--state-dir", absolutePath(input.stateDir, home)];
  const spec: RunnerSpec = {
    nodePath,
    cliPath: cliPath(),
    args: ["run", "--rules", rulesDir, ...extraArgs],
    extraArgs,
    rulesDir,
    workingDirectory: dirname(rulesDir),
    intervalSeconds: intervalSeconds(input.config.runtime.intervalMs),
    path: searchPath(nodePath),
    home,
  };
  for (const [what, path] of [
    ["node", spec.nodePath],
    ["CLI", spec.cliPath],
    ["home", spec.home],
  ] as const) {
    if (!isAbsolute(path))
      throw new UpkeepError("E_USAGE", `the ${what} path must be absolute, not "${path}"`);
  }
  return spec;
}

/** A one-line warning when the CLI lives somewhere that will vanish (an npx cache). */
export function cliPathWarning(path: string): string | undefined {
  return /[/\\]_npx[/\\]/.test(path)
    ? `the CLI path ${path} is inside npx's cache, which npm may delete; install upkeep (npm install -g upkeep, or a project dependency) and run this command from there`
    : undefined;
}
