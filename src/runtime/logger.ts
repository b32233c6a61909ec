/**
 * pino JSON lines to the log file (sync destination: a short CLI that exits loses async lines) and,
 * optionally, a readable copy on stderr. Secret values are redacted by value, because pino's
 * path-based redact misses nested and free-text occurrences.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "../actions/types.js";
import { redactText, type Redactor } from "./redact.js";

export interface LoggerOptions {
  /** Absolute log file path; omitted = no file. */
  readonly logFile?: string;
  /** Mirror lines to stderr (pretty when stderr is a TTY). */
  readonly stderr?: boolean;
  readonly level?: "debug" | "info" | "warn" | "error";
  /** Kept for callers; lines are redacted against the process-wide registry every redactor feeds. */
  readonly redactor: Redactor;
  readonly bindings?: Record<string, unknown>;
}

export interface RuntimeLogger extends Logger {
  /** Flush and release file handles. */
  close(): void;
}

export async function createLogger(options: LoggerOptions): Promise<RuntimeLogger> {
  // pino is CommonJS: its named export exists unbundled, only `default` once bundled.
  const pinoModule = await import("pino");
  const pino = (pinoModule.pino ?? pinoModule.default) as typeof pinoModule.pino;
  const streams: { stream: NodeJS.WritableStream | import("pino").DestinationStream; level?: string }[] = [];
  let fileDest: (import("pino").DestinationStream & { flushSync?: () => void; end?: () => void }) | undefined;
  if (options.logFile !== undefined) {
    mkdirSync(dirname(options.logFile), { recursive: true });
    fileDest = pino.destination({ dest: options.logFile, sync: true, mkdir: true });
    streams.push({ stream: fileDest });
  }
  if (options.stderr === true) {
    if (process.stderr.isTTY) {
      const { default: pretty } = await import("pino-pretty");
      streams.push({
        stream: pretty({ destination: 2, sync: true, ignore: "pid,hostname", colorize: stderrColour() }),
      });
    } else {
      streams.push({ stream: pino.destination({ dest: 2, sync: true }) });
    }
  }
  const level = options.level ?? "info";
  const base = pino(
    {
      level,
      base: { pid: process.pid, ...options.bindings },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // Redact by value on the final serialized line, against every secret the process knows: catches
        // secrets at any depth and inside messages.
        streamWrite: (line) => redactText(line),
      },
    },
    streams.length === 0
      ? pino.destination({ dest: "/dev/null", sync: true })
      : pino.multistream(streams.map((s) => ({ ...s, level }))),
  );
  return {
    debug: (obj, msg) => base.debug(obj, msg),
    info: (obj, msg) => base.info(obj, msg),
    warn: (obj, msg) => base.warn(obj, msg),
    error: (obj, msg) => base.error(obj, msg),
    close: () => {
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
