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
import { DEFAULT_LOG_ROTATION, parseByteSize, type LogRotation } from "../byte-size.js";

export { DEFAULT_LOG_ROTATION, parseByteSize, type LogRotation };

export interface RotationResult {
  readonly rotated: boolean;
  /** Size that triggered the rotation (or the current size). */
  readonly size: number;
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
