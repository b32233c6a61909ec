/**
 * `upkeep logs [SERVICE]`: upkeep's pino log (runtime.logFile), filtered by service, level and time, one
 * readable line per entry (or the JSON lines as written), optionally following the live file across
 * rotation until SIGINT/SIGTERM. Read-only. Output goes through the CLI's output guard like every
 * command's, so a secret the rules know is redacted here too, even in a line written before it was.
 */
import { ExitCode } from "../../errors.js";
import { parseDuration } from "../../duration.js";
import { chooseFormat, parseFlags } from "../args.js";
import { loadConfigOrReport, unknownService } from "../load-config.js";
import { LogCursor, parseEntry, pause, rotatedFiles, type LogEntry } from "../log-reader.js";
import { outputWasCutOff } from "../output-guard.js";

const HELP = `Usage: upkeep logs [SERVICE] [options]

Prints upkeep's log (runtime.logFile, pino JSON lines) one entry per line: time, level, command, service,
message and the entry's other fields. Without --since it reads the current log file; with --since also
the rotated ones (upkeep.log.1, .2, ...), in time order. A missing log file is not an error: it says
where it looked and exits 0.

Options:
  SERVICE            only entries about this service (its id)
  -f, --follow       keep printing new entries, across log rotation, until Ctrl-C (SIGINT) or SIGTERM
  --since WHEN       only entries since a duration ago (30m, 1h, 2d) or a time (2025-01-31T08:00:00Z)
  --level LEVEL      only entries at LEVEL or above: debug, info, warn, error, fatal
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES)
  --state-dir DIR    state directory (env UPKEEP_STATE_DIR)
  --format FORMAT    text (default) or json (the log's JSON lines as written)
  -h, --help         this help

Exit codes: 0 (also when there is no log yet, and on SIGINT/SIGTERM while following), 2 usage or bad rules.
`;

const OPTIONS = {
  follow: { type: "boolean", short: "f" },
  since: { type: "string" },
  level: { type: "string" },
  rules: { type: "string" },
  "state-dir": { type: "string" },
  format: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const LEVELS: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};
const LEVEL_NAMES = ["debug", "info", "warn", "error", "fatal"] as const;
/** How often a follower looks for new lines: a human reads them, so a quarter second is prompt enough. */
const FOLLOW_POLL_MS = 250;
/** Fields every line has, or that the line's columns already show. */
const SHOWN = new Set(["time", "level", "msg", "cmd", "service", "pid", "hostname"]);

function usage(message: string): number {
  process.stderr.write(`upkeep logs: ${message}\nRun \`upkeep logs --help\` for its options.\n`);
  return ExitCode.usage;
}

function levelOf(fields: Readonly<Record<string, unknown>>): number | undefined {
  const level = fields["level"];
  return typeof level === "number" ? level : typeof level === "string" ? LEVELS[level] : undefined;
}

interface Filter {
  readonly service?: string;
  readonly minLevel?: number;
  readonly since?: number;
}

function matches(entry: LogEntry, filter: Filter): boolean {
  if (filter.service !== undefined && entry.fields["service"] !== filter.service) return false;
  if (filter.minLevel !== undefined && (levelOf(entry.fields) ?? 0) < filter.minLevel) return false;
  if (filter.since !== undefined && (entry.time === undefined || entry.time < filter.since)) return false;
  return true;
}

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** Local time, to the millisecond: the log is read next to the machine's clock. */
function localTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`
  );
}

function fieldText(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

export function formatEntry(entry: LogEntry): string {
  const f = entry.fields;
  const level = levelOf(f);
  const levelName =
    typeof f["level"] === "string"
      ? f["level"]
      : (Object.keys(LEVELS).find((k) => LEVELS[k] === level) ?? "?");
  const columns = [
    entry.time === undefined ? "-" : localTime(entry.time),
    levelName.toUpperCase().padEnd(5),
    typeof f["cmd"] === "string" ? f["cmd"] : "-",
    typeof f["service"] === "string" ? f["service"] : "-",
    typeof f["msg"] === "string" ? f["msg"] : "",
  ];
  const extra = Object.entries(f)
    .filter(([key]) => !SHOWN.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  return [...columns, ...extra].join("  ");
}

/** Entries in time order; one without a time keeps the place of the line before it. */
function inTimeOrder(entries: LogEntry[]): LogEntry[] {
  let last = Number.NEGATIVE_INFINITY;
  return entries
    .map((entry, index) => {
      if (entry.time !== undefined) last = entry.time;
      return { entry, at: last, index };
    })
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map(({ entry }) => entry);
}

function sinceFrom(text: string, now: number): number | undefined {
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isFinite(at) ? at : undefined;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, OPTIONS);
  if (!parsed.ok) return usage(parsed.message);
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(HELP);
    return ExitCode.ok;
  }
  const [service, ...extra] = positionals;
  if (extra.length > 0) return usage(`unexpected argument "${extra[0]}"`);
  const format = chooseFormat(values.format, ["text", "json"] as const, "text");
  if (!format.ok) return usage(format.message);
  const minLevel = values.level === undefined ? undefined : LEVELS[values.level];
  if (values.level !== undefined && (minLevel === undefined || values.level === "trace"))
    return usage(`--level must be ${LEVEL_NAMES.join(", ")}, not "${values.level}"`);
  const since = values.since === undefined ? undefined : sinceFrom(values.since, Date.now());
  if (values.since !== undefined && since === undefined)
    return usage(
      `--since expects a duration like 30m or 1h, or a time like 2025-01-31T08:00:00Z, not "${values.since}"`,
    );

  const { config } = await loadConfigOrReport(values, process.env);
  if (config === undefined) return ExitCode.usage;
  if (service !== undefined) {
    const missing = unknownService(config, service);
    if (missing !== undefined) return usage(missing);
  }
  const logFile = config.runtime.logFile;
  const filter: Filter = {
    ...(service === undefined ? {} : { service }),
    ...(minLevel === undefined ? {} : { minLevel }),
    ...(since === undefined ? {} : { since }),
  };
  let skipped = 0;
  const print = (lines: readonly string[]): void => {
    const out: string[] = [];
    for (const raw of lines) {
      const entry = parseEntry(raw);
      if (entry === undefined) skipped += 1;
      else if (matches(entry, filter)) out.push(format.value === "json" ? entry.raw : formatEntry(entry));
    }
    if (out.length > 0) process.stdout.write(`${out.join("\n")}\n`);
  };

  const cursor = await LogCursor.open(logFile);
  try {
    const older: string[] = [];
    if (since !== undefined) {
      for (const file of await rotatedFiles(logFile)) {
        const rotated = await LogCursor.open(file);
        if (rotated === undefined) continue;
        try {
          older.push(...(await rotated.read()), ...rotated.takePending());
        } finally {
          await rotated.close();
        }
      }
    }
    const current = cursor === undefined ? [] : await cursor.read();
    // A follower leaves an unfinished last line for the next poll; a one-shot read prints it now.
    if (values.follow !== true && cursor !== undefined) current.push(...cursor.takePending());
    if (cursor === undefined && older.length === 0) {
      process.stderr.write(
        `upkeep logs: no log file at ${logFile} yet (ticks write it; runtime.logFile in the rules sets where)` +
          `${values.follow === true ? "; waiting for it" : ""}\n`,
      );
    }
    const entries = inTimeOrder(
      [...older, ...current].flatMap((raw) => {
        const entry = parseEntry(raw);
        if (entry === undefined) skipped += 1;
        return entry === undefined ? [] : [entry];
      }),
    );
    print(entries.map((e) => e.raw));
    if (values.follow === true) await follow(logFile, cursor, print);
  } finally {
    await cursor?.close();
  }
  if (skipped > 0)
    process.stderr.write(`upkeep logs: skipped ${skipped} line(s) that are not JSON log entries\n`);
  return ExitCode.ok;
}

/** Prints what the live file gains until SIGINT/SIGTERM, or until stdout's reader goes away. */
async function follow(
  logFile: string,
  start: LogCursor | undefined,
  print: (lines: readonly string[]) => void,
): Promise<void> {
  const stopper = new AbortController();
  const stop = (): void => stopper.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let cursor = start;
  try {
    while (!stopper.signal.aborted && !outputWasCutOff()) {
      await pause(FOLLOW_POLL_MS, stopper.signal);
      if (cursor === undefined) {
        cursor = await LogCursor.open(logFile);
        if (cursor !== undefined) print(await cursor.read());
      } else print(await cursor.poll(logFile));
    }
  } finally {
    process.removeListener("SIGINT", stop);
    process.removeListener("SIGTERM", stop);
    if (cursor !== start) await cursor?.close();
  }
}
