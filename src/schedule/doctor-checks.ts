/**
 * The checks of `upkeep doctor` that do not depend on the scheduler: each returns a result value with
 * what was found and, for a problem, how to fix it. None of them changes anything except a temp file
 * created and removed to prove a folder is writable.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, open, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { LockRecord } from "../runtime/lock.js";
import { runProcess } from "../runtime/process.js";

export type CheckStatus = "ok" | "problem" | "skipped";

export interface CheckResult {
  readonly id: string;
  readonly status: CheckStatus;
  readonly message: string;
  readonly fix?: string;
}

export const MIN_NODE = "20.19.0";

export const ok = (id: string, message: string): CheckResult => ({ id, status: "ok", message });
export const skipped = (id: string, message: string): CheckResult => ({ id, status: "skipped", message });
export const problem = (id: string, message: string, fix: string): CheckResult => ({
  id,
  status: "problem",
  message,
  fix,
});

/** major.minor.patch comparison; prerelease tags ignored. */
export function versionAtLeast(version: string, min: string): boolean {
  const parts = (v: string): number[] => v.replace(/^v/, "").split(/[.-]/).slice(0, 3).map(Number);
  const [a, b] = [parts(version), parts(min)];
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

export function checkNodeVersion(version = process.versions.node): CheckResult {
  return versionAtLeast(version, MIN_NODE)
    ? ok("node-version", `node ${version} (>= ${MIN_NODE})`)
    : problem(
        "node-version",
        `node ${version} is older than ${MIN_NODE}`,
        `install Node.js ${MIN_NODE} or newer (20, 22 and 24 are supported)`,
      );
}

/**
 * The node a scheduler starts: it must exist, be executable, and be new enough. `reinstall` is the command
 * that writes a fresh path (e.g. `upkeep launchd install`).
 */
export async function checkNodePath(
  nodePath: string,
  source: string,
  reinstall: string,
): Promise<CheckResult> {
  const fix = `run \`${reinstall}\` again with the node you want to use (or pass --node /absolute/path/to/node)`;
  if (
    !(await access(nodePath, constants.X_OK).then(
      () => true,
      () => false,
    ))
  ) {
    return problem(
      "node-path",
      `${source} runs ${nodePath}, which does not exist or is not executable (a node upgrade or nvm switch removes old paths)`,
      fix,
    );
  }
  const result = await runProcess([nodePath, "--version"], { timeoutMs: 10_000 });
  const version = result.stdout.trim();
  if (result.exitCode !== 0 || !/^v\d/.test(version)) {
    return problem(
      "node-path",
      `${source} runs ${nodePath}, which did not answer --version (${result.error ?? `exit ${result.exitCode}`})`,
      fix,
    );
  }
  if (!versionAtLeast(version, MIN_NODE)) {
    return problem(
      "node-path",
      `${source} runs ${nodePath}, which is node ${version} (needs >= ${MIN_NODE})`,
      fix,
    );
  }
  return ok("node-path", `${source} runs ${nodePath} (${version})`);
}

/** The CLI a scheduler starts, and the compiled code it loads (bin/upkeep.js imports ../dist). */
export async function checkCliPath(cliPath: string, source: string, reinstall: string): Promise<CheckResult> {
  const exists = (p: string): Promise<boolean> =>
    stat(p).then(
      (s) => s.isFile(),
      () => false,
    );
  if (!(await exists(cliPath))) {
    return problem(
      "cli-path",
      `${source} runs ${cliPath}, which does not exist`,
      `run \`${reinstall}\` again from the upkeep you want the scheduler to use`,
    );
  }
  const main = join(dirname(cliPath), "..", "dist", "cli", "main.js");
  if (!(await exists(main))) {
    return problem(
      "cli-path",
      `${cliPath} needs ${main}, which is missing (upkeep is not built)`,
      `run \`npm run build\` in ${dirname(dirname(cliPath))}`,
    );
  }
  return ok("cli-path", `${source} runs ${cliPath}`);
}

/**
 * A folder upkeep writes into. Present: a temp file is created and removed. Missing: fine when
 * `createdOnUse` and the nearest existing parent is writable (upkeep creates it), a problem otherwise.
 */
export async function checkWritable(
  id: string,
  dir: string,
  what: string,
  createdOnUse: boolean,
): Promise<CheckResult> {
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined) {
    let parent = dirname(dir);
    while (parent !== dirname(parent) && (await stat(parent).catch(() => undefined)) === undefined)
      parent = dirname(parent);
    const writable = await access(parent, constants.W_OK).then(
      () => true,
      () => false,
    );
    if (createdOnUse && writable)
      return ok(id, `${what} ${dir} does not exist yet; it is created at the first run`);
    return problem(
      id,
      `${what} ${dir} does not exist${writable ? "" : ` and ${parent} is not writable`}`,
      `mkdir -p '${dir}'`,
    );
  }
  if (!info.isDirectory())
    return problem(id, `${what} ${dir} is not a folder`, `move ${dir} away, then mkdir -p '${dir}'`);
  const probe = join(dir, `.upkeep-doctor-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    const handle = await open(probe, "wx", 0o600);
    await handle.close();
    await unlink(probe);
    return ok(id, `${what} ${dir} is writable`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return problem(
      id,
      `${what} ${dir} is not writable (${code})`,
      `fix its owner or mode: chown -R "$USER" '${dir}' && chmod u+rwx '${dir}'`,
    );
  }
}

export function checkRules(rulesDir: string, errors: number, warnings: number): CheckResult {
  if (errors > 0) {
    return problem(
      "rules",
      `${rulesDir}: ${errors} error(s), ${warnings} warning(s); ticks refuse to run (exit 2)`,
      `upkeep validate --rules '${rulesDir}' shows each one with its fix`,
    );
  }
  return ok(
    "rules",
    `${rulesDir} is valid${warnings > 0 ? ` (${warnings} warning(s): upkeep validate shows them)` : ""}`,
  );
}

/**
 * A lock held by a live process longer than a tick may run (tickTimeout) plus a margin is stuck: that
 * process hangs. Locks of dead processes are not reported: the next tick recovers them by itself.
 */
export function checkLock(
  holder: LockRecord | undefined,
  tickTimeoutMs: number,
  now = Date.now(),
): CheckResult {
  if (holder === undefined) return ok("lock", "the tick lock is free");
  const heldMs = now - holder.startedAt;
  const since = new Date(holder.startedAt).toISOString();
  if (heldMs <= tickTimeoutMs + 60_000)
    return ok("lock", `a tick is running now (pid ${holder.pid} since ${since})`);
  return problem(
    "lock",
    `pid ${holder.pid} (${holder.command}) has held the tick lock since ${since}, longer than a tick may run; every scheduled run exits 3 meanwhile`,
    `look at it with \`ps -o pid,etime,command -p ${holder.pid}\` and, if it hangs, \`kill ${holder.pid}\`: the lock is recovered once the process is gone`,
  );
}
