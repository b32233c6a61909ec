/**
 * Atomic file replacement: a uniquely named temp file in the same directory (a rename across file
 * systems fails with EXDEV), fsync, rename over the target, then fsync the directory so the rename
 * itself survives a power loss. Readers see the old or the new content, never a mix; a writer killed
 * at any point leaves the target intact and at most a stray temp file, which `sweepTempFiles` removes.
 *
 * Not write-file-atomic: it does not fsync the directory and installs signal-exit handlers in every
 * process that loads it; this file is the same recipe in a few lines with an explicit mode.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from "node:fs";
import { open, readdir, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { uniqueSuffix } from "./unique-suffix.js";

/** State is private to the user who runs the ticks: alert state can hold hostnames and messages. */
export const STATE_FILE_MODE = 0o600;

const TEMP_PREFIX = ".";
const TEMP_SUFFIX = ".tmp";
/** A temp file this old is garbage even if its pid is alive again (pid reuse). */
const TEMP_MAX_AGE_MS = 10 * 60_000;

/** A temp file name next to `target`; `sweepTempFiles` removes it if its writer dies. */
export function tempName(target: string): string {
  return join(dirname(target), `${TEMP_PREFIX}${basename(target)}.${uniqueSuffix()}${TEMP_SUFFIX}`);
}

export async function writeFileAtomic(target: string, data: string, mode = STATE_FILE_MODE): Promise<void> {
  const temp = tempName(target);
  let renamed = false;
  try {
    // "wx": a fresh inode that nobody else can be writing into.
    const handle = await open(temp, "wx", mode);
    try {
      await handle.writeFile(data, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    renamed = true;
    await syncDir(dirname(target));
  } finally {
    if (!renamed) await unlink(temp).catch(() => undefined);
  }
}

async function syncDir(dir: string): Promise<void> {
  // Directory fsync makes the rename durable; some platforms/file systems refuse it, which only
  // weakens durability on power loss, never atomicity.
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}

/** True when `pid` is known dead on this host (EPERM means alive but not ours). */
export function isPidDead(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Removes temp files left in `dir` by killed writers: their pid is dead, or they are old.
 * Never touches a live writer's fresh temp file. Returns the names removed.
 */
export async function sweepTempFiles(dir: string, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name);
    if (match === null) continue;
    const path = join(dir, name);
    let stale = isPidDead(Number(match[1]));
    if (!stale) {
      const info = await stat(path).catch(() => undefined);
      stale = info !== undefined && now - info.mtimeMs > TEMP_MAX_AGE_MS;
    }
    if (
      stale &&
      (await unlink(path).then(
        () => true,
        () => false,
      ))
    )
      removed.push(name);
  }
  return removed;
}

export type FileRead =
  | { readonly kind: "ok"; readonly text: string }
  | { readonly kind: "missing" }
  /** `code`: the errno; `what`: the kind of file found where a regular file was expected. */
  | { readonly kind: "unreadable"; readonly code?: string; readonly what?: string };

// O_NONBLOCK: opening a FIFO for reading otherwise blocks until a writer comes, forever if none does.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

const errno = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? String(error);

// ENOTDIR: a parent is a file, so there is no file here either (writing it fails loudly).
const isMissing = (code: string): boolean => code === "ENOENT" || code === "ENOTDIR";

function notRegular(info: Stats): FileRead {
  if (info.isDirectory()) return { kind: "unreadable", code: "EISDIR", what: "a directory" };
  const what = info.isFIFO()
    ? "a FIFO"
    : info.isSocket()
      ? "a socket"
      : info.isCharacterDevice() || info.isBlockDevice()
        ? "a device"
        : "something else";
  return { kind: "unreadable", what };
}

/**
 * Reads a file only if it is a regular file (checked on the open descriptor, so nothing can be
 * swapped in between); a FIFO, device or directory is refused instead of blocking or misreading.
 */
export async function readRegularFile(file: string): Promise<FileRead> {
  let handle;
  try {
    handle = await open(file, READ_FLAGS);
  } catch (error) {
    const code = errno(error);
    return isMissing(code) ? { kind: "missing" } : { kind: "unreadable", code };
  }
  try {
    const info = await handle.stat();
    return info.isFile() ? { kind: "ok", text: await handle.readFile("utf8") } : notRegular(info);
  } catch (error) {
    return { kind: "unreadable", code: errno(error) };
  } finally {
    await handle.close();
  }
}

/** readRegularFile for synchronous callers. */
export function readRegularFileSync(file: string): FileRead {
  let fd: number;
  try {
    fd = openSync(file, READ_FLAGS);
  } catch (error) {
    const code = errno(error);
    return isMissing(code) ? { kind: "missing" } : { kind: "unreadable", code };
  }
  try {
    const info = fstatSync(fd);
    return info.isFile() ? { kind: "ok", text: readFileSync(fd, "utf8") } : notRegular(info);
  } catch (error) {
    return { kind: "unreadable", code: errno(error) };
  } finally {
    closeSync(fd);
  }
}

/** "(EACCES)", "(EISDIR): it is a directory, not a regular file", ": it is a FIFO, not a regular file". */
export function describeUnreadable(read: { readonly code?: string; readonly what?: string }): string {
  return (
    (read.code === undefined ? "" : ` (${read.code})`) +
    (read.what === undefined ? "" : `: it is ${read.what}, not a regular file`)
  );
}
