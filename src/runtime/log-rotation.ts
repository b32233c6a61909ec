/**
 * Size-based log rotation: once `upkeep.log` reaches `maxBytes`, it becomes `upkeep.log.1`, the old `.1`
 * becomes `.2`, and so on up to `keep` files; the oldest falls off the end. Call it before opening the
 * log (at the start of a tick), never while this process has the file open.
 *
 * Safe when several processes rotate at once: the cheap size check runs without a lock, the rotation
 * itself runs under the file's own short lock (`<logFile>.lock`) and checks the size again there, so a
 * file that another process has just rotated is not rotated twice. Calling it under the tick lock is
 * safe too (it is a different lock). A process that still has the old file open keeps appending to
 * `upkeep.log.1` until it reopens: lines are never lost, they land one file further down.
 */
import { rename, stat, unlink } from "node:fs/promises";
import { withLock } from "./lock.js";

export interface LogRotation {
  /** Rotate once the file is at least this big. */
  readonly maxBytes: number;
  /** Rotated files kept (`.1` ... `.keep`); 0 = the full log is deleted instead. */
  readonly keep: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = Object.freeze({ maxBytes: 10 * 1024 * 1024, keep: 5 });

export interface RotationResult {
  readonly rotated: boolean;
  /** Size that triggered the rotation (or the current size). */
  readonly size: number;
}

const UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1000,
  KIB: 1024,
  MB: 1000 ** 2,
  MIB: 1024 ** 2,
  GB: 1000 ** 3,
  GIB: 1024 ** 3,
};

/** `10MiB`, `500KB`, `1GiB`, `2048` (bytes); undefined when it is not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (match === null) return undefined;
  const unit = UNITS[(match[2] === "" ? "B" : (match[2] as string)).toUpperCase()];
  if (unit === undefined) return undefined;
  return Math.round(Number(match[1]) * unit);
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function renameIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

export async function rotateIfNeeded(
  logFile: string,
  options: Partial<LogRotation> = {},
): Promise<RotationResult> {
  const { maxBytes, keep } = { ...DEFAULT_LOG_ROTATION, ...options };
  if (!Number.isInteger(keep) || keep < 0 || !(maxBytes > 0)) {
    throw new RangeError(
      `log rotation needs maxBytes > 0 and an integer keep >= 0 (got ${maxBytes}, ${keep})`,
    );
  }
  const size = await sizeOf(logFile);
  if (size === undefined || size < maxBytes) return { rotated: false, size: size ?? 0 };
  return withLock(
    logFile,
    async () => {
      // Someone else may have rotated between our check and the lock.
      const current = await sizeOf(logFile);
      if (current === undefined || current < maxBytes) return { rotated: false, size: current ?? 0 };
      if (keep === 0) {
        await unlink(logFile).catch(() => undefined);
        return { rotated: true, size: current };
      }
      // Oldest first: rename replaces the target, so `.keep` is dropped by the first step.
      for (let n = keep - 1; n >= 1; n--) await renameIfPresent(`${logFile}.${n}`, `${logFile}.${n + 1}`);
      await renameIfPresent(logFile, `${logFile}.1`);
      return { rotated: true, size: current };
    },
    { owner: "upkeep log rotation" },
  );
}
