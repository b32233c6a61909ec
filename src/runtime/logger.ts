/**
 * pino JSON lines to the log file (sync destination: a short CLI that exits loses async lines) and,
 * optionally, a readable copy on stderr. Secret values are redacted by value, because pino's
 * path-based redact misses nested and free-text occurrences.
 *
 * pino loads on the first line actually written, not when the logger is created: a healthy tick logs
 * nothing, and pino (with worker_threads, streams and assert behind it) was the largest part of its
 * cold start. It loads synchronously, so a line is written (and timed) when it is logged, as before.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { Logger } from "../actions/types.js";
import { redactText, type Redactor } from "./redact.js";

type Pino = typeof import("pino").pino;
type Level = "debug" | "info" | "warn" | "error";

export interface LoggerOptions {
  /** Absolute log file path; omitted = no file. */
  readonly logFile?: string;
  /** Mirror lines to stderr (pretty when stderr is a TTY). */
  readonly stderr?: boolean;
  readonly level?: Level;
  /** Kept for callers; lines are redacted against the process-wide registry every redactor feeds. */
  readonly redactor: Redactor;
  readonly bindings?: Record<string, unknown>;
}

export interface RuntimeLogger extends Logger {
  /** Flush and release file handles. */
  close(): void;
}

const RANK: Readonly<Record<Level, number>> = { debug: 20, info: 30, warn: 40, error: 50 };

// A plain require (pino and pino-pretty are CommonJS), resolved from this file in dist/ and in the bundle.
const requireHere = createRequire(import.meta.url);

export async function createLogger(options: LoggerOptions): Promise<RuntimeLogger> {
  if (options.logFile !== undefined) {
    // Fail here, before any probe or heal, when the log file cannot be written (as when pino opened it
    // here), and leave the file in place even when the tick writes nothing.
    mkdirSync(dirname(options.logFile), { recursive: true });
    closeSync(openSync(options.logFile, "a"));
  }
  const level = options.level ?? "info";
  let open: { log: Record<Level, (obj: object, msg?: string) => void>; flush: () => void } | undefined;
  const line =
    (at: Level) =>
    (obj: object, msg?: string): void => {
      if (RANK[at] < RANK[level]) return;
      open ??= openPino(options, level);
      open.log[at](obj, msg);
    };
  return {
    debug: line("debug"),
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
    close: () => {
      open?.flush();
    },
  };
}

function openPino(
  options: LoggerOptions,
  level: Level,
): { log: Record<Level, (obj: object, msg?: string) => void>; flush: () => void } {
  const pino = requireHere("pino") as Pino;
  const streams: { stream: NodeJS.WritableStream | import("pino").DestinationStream; level?: string }[] = [];
  let fileDest: (import("pino").DestinationStream & { flushSync?: () => void; end?: () => void }) | undefined;
  if (options.logFile !== undefined) {
    fileDest = pino.destination({ dest: options.logFile, sync: true, mkdir: true });
    streams.push({ stream: fileDest });
  }
  if (options.stderr === true) {
    if (process.stderr.isTTY) {
      const pretty = requireHere("pino-pretty") as typeof import("pino-pretty");
      streams.push({
        stream: pretty({ destination: 2, sync: true, ignore: "pid,hostname", colorize: stderrColour() }),
      });
    } else {
      streams.push({ stream: pino.destination({ dest: 2, sync: true }) });
    }
  }
  const base = pino(
    {
      level,
      base: { pid: process.pid, ...options.bindings },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // Redact by value on the final serialized line, against every secret the process knows: catches
        // secrets at any depth and inside messages.
        streamWrite: (text) => redactText(text),
      },
    },
    streams.length === 0
      ? pino.destination({ dest: "/dev/null", sync: true })
      : pino.multistream(streams.map((s) => ({ ...s, level }))),
  );
  return {
    log: {
      debug: (obj, msg) => base.debug(obj, msg),
      info: (obj, msg) => base.info(obj, msg),
      warn: (obj, msg) => base.warn(obj, msg),
      error: (obj, msg) => base.error(obj, msg),
    },
    flush: () => {
      fileDest?.flushSync?.();
    },
  };
}

/** A logger that drops everything (library use, tests). */
export const silentLogger: RuntimeLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  close: () => undefined,
};

/**
 * Colour on stderr's own terms (pino-pretty's default follows stdout's TTY): FORCE_COLOR wins ("0"
 * turns it off), then NO_COLOR (any non-empty value), then whether stderr is a terminal.
 */
export function stderrColour(env: NodeJS.ProcessEnv = process.env, isTTY = process.stderr.isTTY): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return isTTY;
}
