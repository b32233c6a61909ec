/**
 * The event history on disk: one SQLite file (`runtime.history.file`, default <stateDir>/history.db),
 * one row per event, written by ticks (not plan or dry runs) and manual commands.
 *
 * Quiet ticks are cheap. A tick in which nothing happened but the tick itself (every service as the
 * tick before saw it, no heal, no refusal, no alert) joins a *quiet span*: a pending tick row kept in
 * `<file>.pending.json` (an atomic file write) listing the ticks it stands for. The span goes into
 * SQLite as one row when something happens, when a tick comes late (a gap stays a gap), or once it
 * holds a day of ticks. So a healthy cold `upkeep run` never loads SQLite, and a tick that has
 * something to say writes it in one transaction together with the pending span and the retention
 * prune. A kill between the commit and the pending file's removal re-sends the span next time; the
 * unique index on tick times makes that a no-op.
 *
 * Every open happens under the history lock (`<file>.access.lock`), so readers (report, status) and
 * writers never meet inside SQLite.
 */
import { redactText } from "./redact.js";
import { rm, stat } from "node:fs/promises";
import type { Logger } from "../actions/types.js";
import type { Config } from "../config/model.js";
import { UpkeepError } from "../errors.js";
import {
  COVER_INTERVALS,
  expandTicks,
  extendsSpan,
  HISTORY_KINDS,
  serviceOf,
  type HistoryEvent,
  type HistoryKind,
} from "../history/events.js";
import { describeUnreadable, readRegularFile, writeFileAtomic } from "./atomic-file.js";
import { withLock } from "./lock.js";
import { openSqlite, type SqliteDb } from "./sqlite.js";

export interface HistorySettings {
  /** Absolute path of the SQLite file. */
  readonly file: string;
  /** Events older than this are pruned when the history is written. */
  readonly retentionMs: number;
  /** The schedule interval: a quiet span never bridges a gap longer than 1.5 of these. */
  readonly intervalMs: number;
}

type TickEvent = Extract<HistoryEvent, { kind: "tick" }>;

/** The schema this build reads and writes (`PRAGMA user_version`). */
export const HISTORY_SCHEMA_VERSION = 1;
/** A quiet span holds at most this many ticks (a day at the baseline's 300 s). */
export const MAX_SPAN_TICKS = 288;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  service TEXT,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
CREATE INDEX IF NOT EXISTS events_service_at ON events(service, at);
CREATE UNIQUE INDEX IF NOT EXISTS events_tick_at ON events(at) WHERE kind = 'tick';
`;

/** The history settings of a Config: `runtime.history` and the schedule interval. */
export function historySettings(config: Config): HistorySettings {
  const { history, intervalMs } = config.runtime;
  return { file: history.file, retentionMs: history.retentionMs, intervalMs };
}

export function pendingPath(settings: HistorySettings): string {
  return `${settings.file}.pending.json`;
}

/**
 * Records one tick's events (the first is its `tick` event). Quiet ticks extend the pending span
 * without opening SQLite; anything else is written in one transaction.
 *
 * The caller holds the tick lock, and only ticks write the pending file, so extending a span needs no
 * history lock: readers see the old or the new file (an atomic rename), and whatever touches SQLite (a
 * flush, a reader) takes the history lock. A healthy tick costs one read and one atomic write.
 */
export async function recordTick(
  settings: HistorySettings,
  events: readonly HistoryEvent[],
  now: number,
  logger?: Logger,
): Promise<void> {
  const [tick, ...rest] = events;
  if (tick?.kind !== "tick")
    throw new UpkeepError("E_INTERNAL", "a tick's history must start with its tick event");
  const quiet = rest.length === 0 && tick.timedOut !== true;
  const extend = (pending: TickEvent | undefined): TickEvent | undefined =>
    quiet && pending !== undefined && extendsSpan(pending, tick, settings.intervalMs)
      ? { ...pending, more: [...(pending.more ?? []), tick.at - pending.at] }
      : undefined;
  const full = (span: TickEvent): boolean => (span.more?.length ?? 0) + 1 >= MAX_SPAN_TICKS;
  const fast = extend(await readPending(settings)); // an unreadable one is reported under the lock below
  if (fast !== undefined && !full(fast)) return writePending(settings, fast);
  await withHistoryLock(settings, async () => {
    const pending = await readPending(settings, logger);
    const span = extend(pending);
    if (span !== undefined) {
      if (!full(span)) return writePending(settings, span);
      await write(settings, [span], now);
      return rm(pendingPath(settings), { force: true });
    }
    const flush = pending === undefined ? [] : [pending];
    if (quiet) {
      if (flush.length > 0) await write(settings, flush, now);
      return writePending(settings, tick);
    }
    await write(settings, [...flush, ...events], now);
    if (pending !== undefined) await rm(pendingPath(settings), { force: true });
  });
}

/** Records events outside a tick (manual commands). */
export async function recordEvents(
  settings: HistorySettings,
  events: readonly HistoryEvent[],
  now: number,
): Promise<void> {
  if (events.length === 0) return;
  await withHistoryLock(settings, () => write(settings, events, now));
}

/**
 * Every event from `since` on (all when absent), oldest first, with quiet spans expanded into their
 * ticks and the pending span included. A missing history file is an empty history.
 */
export async function readHistory(
  settings: HistorySettings,
  options: { since?: number; kinds?: readonly HistoryKind[]; logger?: Logger } = {},
): Promise<HistoryEvent[]> {
  const kinds = options.kinds ?? HISTORY_KINDS;
  return withHistoryLock(settings, async () => {
    const pending = await readPending(settings, options.logger);
    // A span row is filed under its first tick but may reach MAX_SPAN_TICKS intervals further.
    const from =
      options.since === undefined
        ? 0
        : options.since - MAX_SPAN_TICKS * COVER_INTERVALS * settings.intervalMs;
    const rows = await withDb(settings, { create: false }, (db) =>
      db
        .all(
          `SELECT body FROM events WHERE at >= ? AND kind IN (${kinds.map(() => "?").join(", ")}) ORDER BY at, id`,
          [from, ...kinds],
        )
        .map((row) => JSON.parse(String(row.body)) as HistoryEvent),
    );
    const withPending = pending !== undefined && kinds.includes("tick");
    const events = [...(rows ?? []), ...(withPending ? [pending] : [])];
    const since = options.since ?? Number.NEGATIVE_INFINITY;
    return expandTicks(events).filter((e) => e.at >= since);
  });
}

/**
 * The history lock. Its holder's death frees it at once; a live holder keeps it for up to 10 minutes
 * (not the 30 s of other short sections): the WebAssembly engine clears SQLite's own lock directory
 * when it opens the file, which is only safe while no other process can have it open.
 */
function withHistoryLock<T>(settings: HistorySettings, fn: () => Promise<T>): Promise<T> {
  return withLock(`${settings.file}.access`, fn, {
    owner: "upkeep history",
    timeoutMs: 15_000,
    staleMs: 10 * 60_000,
  });
}

const INSERT_TICK = `INSERT INTO events (at, kind, service, body) VALUES (?, 'tick', NULL, ?)
  ON CONFLICT (at) WHERE kind = 'tick' DO UPDATE SET body = excluded.body
  WHERE json_array_length(excluded.body, '$.more') > coalesce(json_array_length(body, '$.more'), 0)`;
const INSERT_EVENT = "INSERT INTO events (at, kind, service, body) VALUES (?, ?, ?, ?)";

async function write(settings: HistorySettings, events: readonly HistoryEvent[], now: number): Promise<void> {
  await withDb(settings, { create: true, schemaInTransaction: true }, (db, needsSchema) => {
    db.exec("BEGIN IMMEDIATE");
    try {
      // A new file gets its tables in the transaction of its first rows: each CREATE on its own was a
      // commit with its own fsyncs, most of a first tick's history time.
      if (needsSchema) createSchema(db);
      // Compiled once for the whole tick: a first tick records a status event for every service.
      const tickRow = db.prepare(INSERT_TICK);
      const eventRow = db.prepare(INSERT_EVENT);
      try {
        for (const event of events) {
          // The store is a boundary: whatever a caller forgot to redact is redacted here.
          const body = redactText(JSON.stringify(event));
          // A tick row sent again (killed after a commit, before the pending file went) is stored once;
          // when it is a span that has grown since, the longer one wins.
          if (event.kind === "tick") tickRow.run([event.at, body]);
          else eventRow.run([event.at, event.kind, serviceOf(event), body]);
        }
      } finally {
        tickRow.finalize();
        eventRow.finalize();
      }
      db.run("DELETE FROM events WHERE at < ?", [now - settings.retentionMs]);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  });
}

function createSchema(db: SqliteDb): void {
  db.exec(SCHEMA);
  db.exec(`PRAGMA user_version = ${HISTORY_SCHEMA_VERSION}`);
}

/**
 * Opens the store for `fn`. A file without the schema gets it in one transaction, or, with
 * `schemaInTransaction`, from `fn` inside its own (`needsSchema` says so).
 */
async function withDb<T>(
  settings: HistorySettings,
  options: { create: boolean; schemaInTransaction?: boolean },
  fn: (db: SqliteDb, needsSchema: boolean) => T,
): Promise<T | undefined> {
  if (!options.create && !(await exists(settings.file))) return undefined;
  let db: SqliteDb;
  try {
    db = await openSqlite(settings.file);
  } catch (error) {
    throw historyError(settings, "could not open", error);
  }
  try {
    const version = Number(db.all("PRAGMA user_version")[0]?.user_version ?? 0);
    if (version > HISTORY_SCHEMA_VERSION)
      throw new UpkeepError(
        "E_STATE_VERSION",
        `history ${settings.file} was written by a newer upkeep (schema ${version}, this one reads ${HISTORY_SCHEMA_VERSION})`,
        { file: settings.file },
      );
    const needsSchema = version < HISTORY_SCHEMA_VERSION;
    if (needsSchema && options.schemaInTransaction !== true) {
      db.exec("BEGIN IMMEDIATE");
      try {
        createSchema(db);
        db.exec("COMMIT");
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
      return fn(db, false);
    }
    return fn(db, needsSchema);
  } catch (error) {
    if (error instanceof UpkeepError) throw error;
    throw historyError(settings, "could not use", error);
  } finally {
    db.close();
  }
}

function historyError(settings: HistorySettings, what: string, error: unknown): UpkeepError {
  const message = error instanceof Error ? error.message : String(error);
  return new UpkeepError(
    "E_STATE_IO",
    `${what} history ${settings.file}: ${message}`,
    { file: settings.file },
    { cause: error },
  );
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

async function readPending(settings: HistorySettings, logger?: Logger): Promise<TickEvent | undefined> {
  // Regular files only: a FIFO here would block the read (and the tick holding the lock) forever.
  const read = await readRegularFile(pendingPath(settings));
  if (read.kind === "missing") return undefined;
  if (read.kind === "unreadable")
    throw historyError(settings, "could not read the pending span of", new Error(describeUnreadable(read)));
  const parsed = parsePending(read.text);
  if (parsed === undefined)
    logger?.warn(
      { file: pendingPath(settings) },
      "history: ignoring an unreadable pending span (its quiet ticks are lost)",
    );
  return parsed;
}

function parsePending(text: string): TickEvent | undefined {
  try {
    const raw = JSON.parse(text) as { version?: unknown; tick?: unknown };
    const tick = raw.tick as Partial<TickEvent> | undefined;
    if (raw.version !== 1 || typeof tick !== "object" || tick === null) return undefined;
    if (tick.kind !== "tick" || typeof tick.at !== "number" || typeof tick.observed !== "object")
      return undefined;
    if (
      tick.more !== undefined &&
      !(Array.isArray(tick.more) && tick.more.every((n) => typeof n === "number"))
    )
      return undefined;
    return tick as TickEvent;
  } catch {
    return undefined;
  }
}

function writePending(settings: HistorySettings, tick: TickEvent): Promise<void> {
  return writeFileAtomic(pendingPath(settings), redactText(JSON.stringify({ version: 1, tick })));
}
