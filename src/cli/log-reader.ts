/**
 * Reading upkeep's pino log for `upkeep logs`: the rotated files (`upkeep.log.N` ... `.1`, oldest first,
 * see src/runtime/log-rotation.ts) and the live file, and following the live file across rotation.
 * Rotation renames the live file and a later tick creates a new one, so the follower keeps its open
 * handle (which now reads `.1`) until it has drained it, then opens the new file at the same path: a
 * changed inode means rotated, a size below what was already read means truncated in place.
 */
import { open, readdir, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { StringDecoder } from "node:string_decoder";

export interface LogEntry {
  /** The line as written (the JSON text, without its newline). */
  readonly raw: string;
  readonly fields: Readonly<Record<string, unknown>>;
  /** Epoch ms from pino's `time`, when the line has one. */
  readonly time: number | undefined;
}

/** One line of the log, or undefined when it is not a JSON object (a torn or foreign line). */
export function parseEntry(raw: string): LogEntry | undefined {
  if (!raw.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    const fields = value as Record<string, unknown>;
    const time =
      typeof fields["time"] === "number"
        ? fields["time"]
        : typeof fields["time"] === "string"
          ? Date.parse(fields["time"])
          : Number.NaN;
    return { raw, fields, time: Number.isFinite(time) ? time : undefined };
  } catch {
    return undefined;
  }
}

/** Rotated siblings of `logFile` (`logFile.1`, `.2`, ...) that exist, oldest (highest number) first. */
export async function rotatedFiles(logFile: string): Promise<string[]> {
  const base = basename(logFile);
  const names = await readdir(dirname(logFile)).catch(() => [] as string[]);
  return names
    .flatMap((name) => {
      const match = name.startsWith(`${base}.`) ? /^(\d+)$/.exec(name.slice(base.length + 1)) : null;
      return match === null ? [] : [{ name, n: Number(match[1]) }];
    })
    .sort((a, b) => b.n - a.n)
    .map(({ name }) => join(dirname(logFile), name));
}

/** Lines from a chunk of text, keeping an unfinished last line for the next chunk. */
function splitLines(pending: string, chunk: string): { lines: string[]; rest: string } {
  const parts = (pending + chunk).split("\n");
  const rest = parts.pop() ?? "";
  return { lines: parts.filter((line) => line.length > 0), rest };
}

const CHUNK = 64 * 1024;

/** An open log file read forward from an offset; remembers which file (inode) it is. */
export class LogCursor {
  private offset = 0;
  private pending = "";
  // A chunk can end inside a multi-byte character: the decoder keeps its first bytes for the next chunk.
  private decoder = new StringDecoder("utf8");

  private constructor(
    private handle: FileHandle,
    private ino: number,
  ) {}

  /** Opens `file` at its start; undefined when it does not exist. */
  static async open(file: string): Promise<LogCursor | undefined> {
    try {
      const handle = await open(file, "r");
      return new LogCursor(handle, (await handle.stat()).ino);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  /** Complete lines written since the last read. */
  async read(): Promise<string[]> {
    const out: string[] = [];
    const buffer = Buffer.alloc(CHUNK);
    // Bounded by the file's size: each round advances the offset or ends the loop.
    for (;;) {
      const { bytesRead } = await this.handle.read(buffer, 0, CHUNK, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      const { lines, rest } = splitLines(this.pending, this.decoder.write(buffer.subarray(0, bytesRead)));
      this.pending = rest;
      out.push(...lines);
    }
    return out;
  }

  /** The unfinished last line, when the file ends without a newline (only for a final read). */
  takePending(): string[] {
    const rest = this.pending;
    this.pending = "";
    return rest.length > 0 ? [rest] : [];
  }

  /**
   * Lines that appeared since the last call, across rotation of `file`: drains this file, then (when
   * `file` is now another file) switches to it. A truncated file is read again from its start.
   */
  async poll(file: string): Promise<string[]> {
    const out = await this.read();
    const now = await stat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (now === undefined) return out;
    if (now.ino !== this.ino) {
      // Lines written to the renamed file between the read above and the rename check.
      out.push(...(await this.read()), ...this.takePending());
      const next = await open(file, "r");
      await this.handle.close();
      this.handle = next;
      this.ino = (await next.stat()).ino;
      this.offset = 0;
      this.decoder = new StringDecoder("utf8");
      out.push(...(await this.read()));
    } else if (now.size < this.offset) {
      this.offset = 0;
      this.pending = "";
      this.decoder = new StringDecoder("utf8");
      out.push(...(await this.read()));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Waits `ms`, or less when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
