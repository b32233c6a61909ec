/**
 * Durable state: one JSON file per concern, `<stateDir>/<concern>.json` (e.g. services.json,
 * breakers.json, heals.json, alerts.json), each a JSON object with an integer `version` field.
 *
 * - Writes are atomic (temp file + fsync + rename + directory fsync, mode 0600, dir created 0700),
 *   so a reader or a crash never sees half a file. Each file is atomic on its own; the concerns are
 *   independent, so a crash between two files' writes leaves each one consistent.
 * - Read-modify-write across processes is the caller's job: `upkeep run` holds the tick lock
 *   (lock.ts) around read -> decide -> write; other writers use `withLock`.
 * - A missing file is fresh state. A corrupt file (bad JSON, not an object, no valid version, failed
 *   `validate`) is moved aside to `<concern>.json.corrupt-<timestamp>` with a warning and fresh state
 *   is used, so one bad file never stops the tick.
 * - A file that cannot be read (EACCES, EIO, a directory, a FIFO or a device in its place) is refused
 *   with E_STATE_UNREADABLE and left in place: its content may be good state (heal totals, breakers),
 *   and starting fresh would silently reset the limits it records. Only regular files are read, and
 *   the open never blocks, so a FIFO cannot hang a tick that holds the lock.
 * - A file written by a newer upkeep (version above the supported one) is refused with
 *   E_STATE_VERSION and left in place: overwriting it would destroy state the user may still need.
 * - An older version goes through `migrate` when given; without one it is moved aside like a corrupt file.
 */
import { mkdir, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Logger } from "../actions/types.js";
import { UpkeepError } from "../errors.js";
import {
  describeUnreadable,
  readRegularFile,
  readRegularFileSync,
  STATE_FILE_MODE,
  sweepTempFiles,
  writeFileAtomic,
  type FileRead,
} from "./atomic-file.js";
import { redactText } from "./redact.js";

export interface Versioned {
  readonly version: number;
}

export interface ConcernSpec<T extends Versioned> {
  /** The version this build reads and writes. */
  readonly version: number;
  readonly fresh: () => T;
  /** Extra shape check after the version check; false = corrupt. */
  readonly validate?: (raw: Readonly<Record<string, unknown>>) => boolean;
  /** Upgrades an older file; absent = an older file is treated as corrupt. */
  readonly migrate?: (raw: Readonly<Record<string, unknown>>, fromVersion: number) => T;
}

export interface ReadOptions<T extends Versioned> extends ConcernSpec<T> {
  readonly logger?: Logger;
  /**
   * For readers that do not hold the lock (e.g. `status`): a corrupt file is reported and read as
   * fresh but left in place, because moving it aside could race with a locked writer replacing it.
   */
  readonly readOnly?: boolean;
  /** Clock for the corrupt-file timestamp (tests). */
  readonly now?: () => number;
}

export interface ReadResult<T> {
  readonly value: T;
  readonly warnings: string[];
  /** Why the file was corrupt, when it was (and fresh state was used). */
  readonly corrupt?: string;
  /** `value` is the file's content as it was parsed: not fresh, not migrated. */
  readonly stored?: true;
}

export { STATE_FILE_MODE };
export const STATE_DIR_MODE = 0o700;

const CONCERN_NAME = /^[a-z][a-z0-9-]*$/;

export function concernPath(stateDir: string, name: string): string {
  // A name is a fixed identifier in code, never user input; refuse anything that could escape the dir.
  if (!CONCERN_NAME.test(name))
    throw new UpkeepError("E_INTERNAL", `invalid state concern name: ${JSON.stringify(name)}`);
  return join(stateDir, `${name}.json`);
}

type Parsed =
  | { kind: "ok"; raw: Readonly<Record<string, unknown>>; version: number }
  | { kind: "corrupt"; reason: string };

function parse(text: string): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { kind: "corrupt", reason: `invalid JSON (${(error as Error).message})` };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { kind: "corrupt", reason: "not a JSON object" };
  }
  const record = raw as Record<string, unknown>;
  const version = record["version"];
  if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
    return { kind: "corrupt", reason: "missing or invalid `version` field" };
  }
  return { kind: "ok", raw: record, version };
}

export async function readConcern<T extends Versioned>(
  stateDir: string,
  name: string,
  options: ReadOptions<T>,
): Promise<ReadResult<T>> {
  return readStateFile(concernPath(stateDir, name), options);
}

/** readConcern for a file at any path (the library's CircuitBreaker state file). */
export async function readStateFile<T extends Versioned>(
  file: string,
  options: ReadOptions<T>,
): Promise<ReadResult<T>> {
  const read = await readRegularFile(file);
  if (read.kind === "missing") return { value: options.fresh(), warnings: [] };
  if (read.kind === "unreadable") throw unreadable(file, read);
  const checked = check(file, read.text, options);
  return checked.kind === "ok"
    ? { value: checked.value, warnings: [], ...(checked.migrated ? {} : { stored: true }) }
    : moveAside(file, checked.reason, options);
}

function unreadable(file: string, read: Extract<FileRead, { kind: "unreadable" }>): UpkeepError {
  return new UpkeepError(
    "E_STATE_UNREADABLE",
    `cannot read state file ${file}${describeUnreadable(read)}; it was left in place and nothing was run or ` +
      `changed: fix its owner or permissions (or replace it with a regular file), or move it aside to ` +
      `start that state fresh`,
    { file, ...(read.code === undefined ? {} : { code: read.code }) },
  );
}

/**
 * The parse and version rules without moving anything (for synchronous peeks such as
 * `CircuitBreaker.getState`): corrupt or unreadable = undefined; a newer version still throws.
 */
export function peekStateFile<T extends Versioned>(file: string, options: ConcernSpec<T>): T | undefined {
  const read = readRegularFileSync(file);
  if (read.kind === "missing") return options.fresh();
  if (read.kind === "unreadable") return undefined;
  const checked = check(file, read.text, options);
  return checked.kind === "ok" ? checked.value : undefined;
}

function check<T extends Versioned>(
  file: string,
  text: string,
  options: ConcernSpec<T>,
): { kind: "ok"; value: T; migrated: boolean } | { kind: "corrupt"; reason: string } {
  const parsed = parse(text);
  if (parsed.kind === "corrupt") return parsed;
  if (parsed.version > options.version) {
    throw new UpkeepError(
      "E_STATE_VERSION",
      `state file ${file} has version ${parsed.version}, but this upkeep supports version ${options.version}: ` +
        `it was written by a newer upkeep; upgrade upkeep (the file was left untouched)`,
      { file, version: parsed.version, supported: options.version },
    );
  }
  if (parsed.version < options.version) {
    if (options.migrate === undefined) {
      return { kind: "corrupt", reason: `old version ${parsed.version} (supported: ${options.version})` };
    }
    try {
      return { kind: "ok", value: options.migrate(parsed.raw, parsed.version), migrated: true };
    } catch (error) {
      return {
        kind: "corrupt",
        reason: `migration from version ${parsed.version} failed (${(error as Error).message})`,
      };
    }
  }
  if (options.validate !== undefined && !options.validate(parsed.raw))
    return { kind: "corrupt", reason: "unexpected shape" };
  return { kind: "ok", value: parsed.raw as unknown as T, migrated: false };
}

async function moveAside<T extends Versioned>(
  file: string,
  reason: string,
  options: ReadOptions<T>,
): Promise<ReadResult<T>> {
  if (options.readOnly === true) {
    const warning = `state file ${file} is ${reason}; reading it as fresh state (left in place)`;
    options.logger?.warn({ file, reason }, warning);
    return { value: options.fresh(), warnings: [warning], corrupt: reason };
  }
  const stamp = new Date((options.now ?? Date.now)()).toISOString().replace(/[:.]/g, "-");
  const aside = `${file}.corrupt-${stamp}`;
  try {
    await rename(file, aside);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Another reader moved it first: the same outcome.
    if (code !== "ENOENT") {
      throw new UpkeepError(
        "E_STATE_IO",
        `state file ${file} is ${reason} and could not be moved aside: ${code ?? String(error)}`,
        { file },
        { cause: error },
      );
    }
  }
  const warning = `state file ${file} is ${reason}; moved it to ${aside} and started from fresh state`;
  options.logger?.warn({ file, aside, reason }, warning);
  return { value: options.fresh(), warnings: [warning], corrupt: reason };
}

export async function writeConcern<T extends Versioned>(
  stateDir: string,
  name: string,
  value: T,
): Promise<void> {
  await writeStateFile(concernPath(stateDir, name), value);
}

/** writeConcern for a file at any path; creates its directory. */
export async function writeStateFile<T extends Versioned>(file: string, value: T): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true, mode: STATE_DIR_MODE });
    // A boundary: no secret reaches the disk, whatever path it took to get into the state.
    await writeFileAtomic(file, redactText(`${JSON.stringify(value, null, 2)}\n`));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UpkeepError(
      "E_STATE_IO",
      `could not write state file ${file}: ${code}`,
      { file },
      { cause: error },
    );
  }
}

export type ConcernSpecs = Readonly<Record<string, ConcernSpec<Versioned>>>;
export type ConcernValues<S extends ConcernSpecs> = { -readonly [K in keyof S]: ReturnType<S[K]["fresh"]> };

/**
 * Reads every concern (in parallel); warnings of all files are collected, and `stored` names the
 * concerns whose value is their file's content as parsed.
 */
export async function readAll<S extends ConcernSpecs>(
  stateDir: string,
  specs: S,
  options: { logger?: Logger; now?: () => number; readOnly?: boolean } = {},
): Promise<ReadResult<ConcernValues<S>> & { readonly storedNames: readonly string[] }> {
  const names = Object.keys(specs);
  const results = await Promise.all(
    names.map((name) =>
      readConcern(stateDir, name, { ...(specs[name] as ConcernSpec<Versioned>), ...options }),
    ),
  );
  const value: Record<string, Versioned> = {};
  const warnings: string[] = [];
  const storedNames: string[] = [];
  names.forEach((name, i) => {
    const result = results[i] as ReadResult<Versioned>;
    value[name] = result.value;
    warnings.push(...result.warnings);
    if (result.stored === true) storedNames.push(name);
  });
  return { value: value as ConcernValues<S>, warnings, storedNames };
}

/** Writes every given concern atomically, then sweeps temp files left by killed writers. */
export async function writeAll<V extends Readonly<Record<string, Versioned>>>(
  stateDir: string,
  values: V,
): Promise<void> {
  await Promise.all(Object.entries(values).map(([name, value]) => writeConcern(stateDir, name, value)));
  await sweepTempFiles(stateDir);
}
