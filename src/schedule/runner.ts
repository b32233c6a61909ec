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

/**
 * The first control character (C0 or DEL) in a value, described, or undefined. Scheduler files are read
 * line by line (systemd) or are XML that cannot carry most of them (launchd): a newline in a path would
 * end the line and start a directive of its own, so such values are refused, never escaped.
 */
export function controlCharacter(value: string): string | undefined {
  // Matching control characters is the point here.
  // eslint-disable-next-line no-control-regex
  const found = /[\u0000-\u001f\u007f]/.exec(value)?.[0];
  if (found === undefined) return undefined;
  const names: Record<string, string> = { "\n": "a newline", "\r": "a carriage return", "\t": "a tab" };
  const code = `U+${found.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
  return `${names[found] ?? "a control character"} (${code})`;
}

/** Throws E_USAGE when `value` holds a control character; `what` names where it came from. */
export function refuseControlCharacters(what: string, value: string, where: string): void {
  const found = controlCharacter(value);
  if (found !== undefined)
    throw new UpkeepError(
      "E_USAGE",
      `${what} ${JSON.stringify(value)} has ${found}, a control character ${where} cannot hold safely: rename it (nothing was written)`,
    );
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
  const where = "a systemd unit or a launchd plist";
  refuseControlCharacters("the rules folder (--rules)", rulesDir, where);
  if (input.stateDir !== undefined)
    refuseControlCharacters("the state folder (--state-dir)", extraArgs[1] as string, where);
  refuseControlCharacters("the node path (--node)", nodePath, where);
  refuseControlCharacters("the CLI path (where upkeep is installed)", spec.cliPath, where);
  refuseControlCharacters("the home folder (HOME)", home, where);
  return spec;
}

/** A one-line warning when the CLI lives somewhere that will vanish (an npx cache). */
export function cliPathWarning(path: string): string | undefined {
  return /[/\\]_npx[/\\]/.test(path)
    ? `the CLI path ${path} is inside npx's cache, which npm may delete; install upkeep (npm install -g upkeep, or a project dependency) and run this command from there`
    : undefined;
}
