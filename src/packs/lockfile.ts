/**
 * rules.lock: per pack (keyed by its namespace) the `use` it was resolved from, the resolved folder, its
 * name and version, and a sha256 over its files (sorted relative paths + contents). `pack lock` writes
 * it; loading rules compares against it when it exists (a warning), and `validate --frozen-lockfile`
 * makes a difference or a missing entry an error, so CI notices a pack that changed without a new lock.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { writeFileAtomic } from "../runtime/atomic-file.js";

export const LOCK_FILE = "rules.lock";
export const LOCKFILE_VERSION = 1;
const MAX_FILES = 2000;
const SKIP_DIRS = new Set(["node_modules", ".git"]);

export interface LockEntry {
  readonly use: string;
  /** The pack folder, relative to the rules directory (posix separators). */
  readonly resolved: string;
  readonly name: string;
  readonly version: string;
  /** "sha256-<base64>" over the pack's files. */
  readonly integrity: string;
}

export interface Lockfile {
  readonly lockfileVersion: number;
  readonly packs: Readonly<Record<string, LockEntry>>;
}

export type LockRead =
  | { readonly ok: true; readonly lock: Lockfile }
  | { readonly ok: false; readonly missing: boolean; readonly message: string };

/** The content hash of a pack folder; deterministic across machines (paths use "/"). */
export async function hashPack(dir: string): Promise<string> {
  const files = (await listFiles(dir, dir)).sort();
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(await readFile(join(dir, file)));
    hash.update("\0");
  }
  return `sha256-${hash.digest("base64")}`;
}

async function listFiles(root: string, dir: string, out: string[] = []): Promise<string[]> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) await listFiles(root, join(dir, entry.name), out);
    } else if (entry.isFile()) {
      out.push(relative(root, join(dir, entry.name)).split(sep).join("/"));
      if (out.length > MAX_FILES) throw new Error(`a pack has more than ${MAX_FILES} files: ${root}`);
    }
  }
  return out;
}

export async function readLock(rulesDir: string): Promise<LockRead> {
  let text: string;
  try {
    text = await readFile(join(rulesDir, LOCK_FILE), "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    return { ok: false, missing, message: missing ? `${LOCK_FILE} does not exist` : String(error) };
  }
  try {
    const lock = JSON.parse(text) as Lockfile;
    if (lock === null || typeof lock !== "object" || typeof lock.packs !== "object" || lock.packs === null)
      return { ok: false, missing: false, message: `${LOCK_FILE} is not a lockfile (no "packs" map)` };
    return { ok: true, lock };
  } catch (error) {
    return {
      ok: false,
      missing: false,
      message: `${LOCK_FILE} is not valid JSON: ${(error as Error).message}`,
    };
  }
}

export async function writeLock(
  rulesDir: string,
  packs: Readonly<Record<string, LockEntry>>,
): Promise<string> {
  const sorted = Object.fromEntries(Object.entries(packs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const path = join(rulesDir, LOCK_FILE);
  await writeFileAtomic(
    path,
    `${JSON.stringify({ lockfileVersion: LOCKFILE_VERSION, packs: sorted }, null, 2)}\n`,
    0o644,
  );
  return path;
}

/** What differs between the lock entry and the pack as found; undefined when they match. */
export function lockDifference(
  entry: LockEntry | undefined,
  current: Omit<LockEntry, "resolved">,
): string | undefined {
  if (entry === undefined) return "it is not in rules.lock";
  if (entry.use !== current.use)
    return `rules.lock has it from "${entry.use}", the rules now use "${current.use}"`;
  if (entry.version !== current.version)
    return `rules.lock has version ${entry.version}, the pack is now ${current.version}`;
  if (entry.integrity !== current.integrity) return "its files changed since rules.lock was written";
  return undefined;
}
