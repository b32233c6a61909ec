/**
 * Inter-process locks: the tick lock (`acquireLock`, fails at once when held) and short critical
 * sections (`withLock`, waits a bounded time).
 *
 * Why not proper-lockfile: its stale takeover removes the lock and retries mkdir, so two processes
 * that both judge a lock stale can both win; it knows no owner pid, so a dead owner is only noticed
 * after its mtime ages; and its refresh timer must be managed on every exit path of a short CLI.
 *
 * Design: a lock is a directory of generation files `<n>.json` holding who took it
 * ({pid, host, startedAt, command, state}). The highest generation is the lock's current state.
 * - Taking the lock (free, or held by a dead/expired owner) = creating generation n+1 with link(2),
 *   which is atomic and fails if the name exists; the record is written to a temp file first, so a
 *   generation file is never seen half written. Exactly one process can create n+1, so exactly one
 *   wins any takeover race.
 * - The highest generation file is never deleted (release rewrites it as `free` via rename), so a
 *   process that links a number below the real top always sees a higher one in its post-check and
 *   backs off. Older generations are deleted by the next winner.
 * - Nothing keeps running while a lock is held: no timers, no exit handlers. A killed holder's lock
 *   is recovered because its pid is dead, it predates the last boot, or it is older than `staleMs`.
 */
import { link, mkdir, readFile, readdir, rename, unlink, writeFile } from "node:fs/promises";
import { hostname, uptime } from "node:os";
import { basename, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { UpkeepError } from "../errors.js";
import { isPidDead, sweepTempFiles } from "./atomic-file.js";
import { uniqueSuffix } from "./unique-suffix.js";

export interface LockRecord {
  readonly state: "held" | "free";
  readonly pid: number;
  readonly host: string;
  /** Epoch ms. */
  readonly startedAt: number;
  /** What holds it, e.g. `upkeep run` or the command line. */
  readonly command: string;
}

export type Release = () => Promise<void>;

export interface LockOptions {
  /** Label shown to a process that finds the lock held (e.g. `upkeep run`); default: the script name. */
  readonly owner?: string;
  /** A held lock older than this is presumed abandoned even if its pid is alive. */
  readonly staleMs?: number;
}

export interface WithLockOptions extends LockOptions {
  /** Give up after this long (E_LOCKED). */
  readonly timeoutMs?: number;
}

export const TICK_LOCK_NAME = "tick.lock";
export const DEFAULT_TICK_STALE_MS = 15 * 60_000;
const DEFAULT_SECTION_STALE_MS = 30_000;
const DEFAULT_SECTION_TIMEOUT_MS = 10_000;
const MAX_ROUNDS = 16;
/** Tolerance for clock adjustments when comparing a lock's start with the boot time. */
const BOOT_MARGIN_MS = 60_000;

type Attempt = { ok: true; release: Release } | { ok: false; holder: LockRecord | undefined };

/** Without an owner label only the script name is recorded: arguments of a library user's app may hold secrets. */
function describeCommand(owner: string | undefined): string {
  const command = owner ?? basename(process.argv[1] ?? process.argv0);
  return command.length > 200 ? `${command.slice(0, 197)}...` : command;
}

interface Listing {
  readonly gens: number[];
  readonly temps: number;
}

async function list(dir: string): Promise<Listing> {
  const names = await readdir(dir);
  const gens = names.flatMap((name) => {
    const match = /^(\d+)\.json$/.exec(name);
    return match === null ? [] : [Number(match[1])];
  });
  return { gens, temps: names.filter((name) => name.endsWith(".tmp")).length };
}

const tempFile = (dir: string): string => join(dir, `.lock.${uniqueSuffix()}.tmp`);

const top = (gens: readonly number[]): number => gens.reduce((a, b) => Math.max(a, b), 0);
const genFile = (dir: string, gen: number): string => join(dir, `${gen}.json`);

/** undefined = vanished (cleaned up under us); "corrupt" = never written by us, treated as abandoned. */
async function readRecord(file: string): Promise<LockRecord | "corrupt" | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const record = JSON.parse(text) as LockRecord;
    return typeof record.pid === "number" && typeof record.startedAt === "number" ? record : "corrupt";
  } catch {
    return "corrupt";
  }
}

function isAbandoned(record: LockRecord, staleMs: number, now: number): boolean {
  if (record.host === hostname() && isPidDead(record.pid)) return true;
  // A record from before this machine booted cannot have a live owner, whatever its pid says now.
  if (record.host === hostname() && record.startedAt < now - uptime() * 1000 - BOOT_MARGIN_MS) return true;
  return now - record.startedAt > staleMs;
}

async function attempt(dir: string, options: LockOptions, defaultStaleMs: number): Promise<Attempt> {
  const staleMs = options.staleMs ?? defaultStaleMs;
  const mine: LockRecord = {
    state: "held",
    pid: process.pid,
    host: hostname(),
    startedAt: Date.now(),
    command: describeCommand(options.owner),
  };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = tempFile(dir);
  await writeFile(temp, JSON.stringify(mine), { mode: 0o600 });
  try {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const current = top((await list(dir)).gens);
      if (current > 0) {
        const record = await readRecord(genFile(dir, current));
        if (record === undefined) continue;
        if (record !== "corrupt" && record.state === "held" && !isAbandoned(record, staleMs, Date.now())) {
          return { ok: false, holder: record };
        }
      }
      const next = current + 1;
      try {
        await link(temp, genFile(dir, next));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
        throw error;
      }
      const after = await list(dir);
      if (top(after.gens) > next) {
        // We linked below the real top (our directory listing was old): not ours.
        await unlink(genFile(dir, next)).catch(() => undefined);
        continue;
      }
      await Promise.all(
        after.gens.filter((g) => g < next).map((g) => unlink(genFile(dir, g)).catch(() => undefined)),
      );
      // Temp files besides our own were left by killed contenders (or belong to live ones, which the sweep spares).
      if (after.temps > 1) await sweepTempFiles(dir);
      return { ok: true, release: releaser(dir, next, mine) };
    }
    // Pathological churn (MAX_ROUNDS generations appeared while we looked): report contention.
    return { ok: false, holder: undefined };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Release never throws (it runs in `finally` blocks and must not mask the real outcome): if rewriting
 * fails, the record still names this pid, and the lock is recovered once this process exits.
 */
function releaser(dir: string, gen: number, mine: LockRecord): Release {
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    // Rewrite our generation as free instead of deleting it: the top generation must never vanish.
    // If someone took the lock over meanwhile, this rewrites a non-top file, which changes nothing.
    const temp = tempFile(dir);
    try {
      await writeFile(temp, JSON.stringify({ ...mine, state: "free" }), { mode: 0o600 });
      await rename(temp, genFile(dir, gen));
    } catch {
      await unlink(temp).catch(() => undefined);
    }
  };
}

function lockedError(path: string, holder: LockRecord | undefined): UpkeepError {
  if (holder === undefined) {
    return new UpkeepError("E_LOCKED", `lock ${path} is contended; try again`, { lock: path });
  }
  const since = new Date(holder.startedAt).toISOString();
  return new UpkeepError(
    "E_LOCKED",
    `lock ${path} is held by pid ${holder.pid} on ${holder.host} since ${since}, command: ${holder.command}`,
    { lock: path, pid: holder.pid, host: holder.host, since, command: holder.command },
  );
}

function wrapIo(path: string, error: unknown): unknown {
  if (error instanceof UpkeepError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new UpkeepError(
    "E_STATE_IO",
    `could not use lock ${path}: ${code}`,
    { lock: path },
    { cause: error },
  );
}

/** Takes the tick lock of `stateDir` or fails at once with E_LOCKED naming the holder. */
export async function acquireLock(stateDir: string, options: LockOptions = {}): Promise<Release> {
  const dir = join(stateDir, TICK_LOCK_NAME);
  const result = await attempt(dir, options, DEFAULT_TICK_STALE_MS).catch((error: unknown) => {
    throw wrapIo(dir, error);
  });
  if (!result.ok) throw lockedError(dir, result.holder);
  return result.release;
}

/**
 * Runs `fn` holding the lock `<path>.lock`, waiting (small jittered delays, bounded by `timeoutMs`)
 * while another process holds it. For short critical sections only; not reentrant.
 */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T> | T,
  options: WithLockOptions = {},
): Promise<T> {
  const dir = `${path}.lock`;
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_SECTION_TIMEOUT_MS);
  for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
    const result = await attempt(dir, options, DEFAULT_SECTION_STALE_MS).catch((error: unknown) => {
      throw wrapIo(dir, error);
    });
    if (result.ok) {
      try {
        return await fn();
      } finally {
        await result.release();
      }
    }
    if (Date.now() >= deadline) throw lockedError(dir, result.holder);
    await delay(wait + Math.random() * wait);
  }
}

/** Who holds the lock of `stateDir` now (for `status`), or undefined when it is free. */
export async function lockHolder(
  stateDir: string,
  staleMs = DEFAULT_TICK_STALE_MS,
): Promise<LockRecord | undefined> {
  const dir = join(stateDir, TICK_LOCK_NAME);
  const current = top((await list(dir).catch(() => ({ gens: [] }))).gens);
  if (current === 0) return undefined;
  const record = await readRecord(genFile(dir, current)).catch(() => undefined);
  if (record === undefined || record === "corrupt" || record.state !== "held") return undefined;
  return isAbandoned(record, staleMs, Date.now()) ? undefined : record;
}
