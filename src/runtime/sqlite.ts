/**
 * One small SQLite interface over two engines:
 *
 * - `node:sqlite` (Node 22.13 and later): SQLite built into Node, nothing to install, opens in ~2 ms.
 * - `node-sqlite3-wasm` (Node 20, which has no `node:sqlite`): the same SQLite compiled to WebAssembly
 *   with a file-system VFS; a registry package with no install script, so `npm ci` downloads nothing
 *   else. It costs ~80-120 ms to instantiate, which is why a healthy tick never opens the store (see
 *   history-store.ts).
 *
 * Both write through SQLite's own rollback journal or WAL, so a transaction is whole or absent after a
 * SIGKILL. Callers hold the history lock around every open (history-store.ts); the WASM VFS marks its
 * own lock with a `<file>.lock` directory that a killed process leaves behind, so `openSqlite` removes
 * one it finds (only safe because the caller holds our lock).
 */
import { rmSync } from "node:fs";
import { createRequire } from "node:module";

export type SqlValue = string | number | null;
export type Row = Readonly<Record<string, SqlValue>>;

export interface SqliteDb {
  readonly engine: "node:sqlite" | "wasm";
  exec(sql: string): void;
  run(sql: string, params?: readonly SqlValue[]): void;
  all(sql: string, params?: readonly SqlValue[]): Row[];
  /** One statement run many times (a tick's events): `run` above compiles its SQL on every call. */
  prepare(sql: string): SqliteStatement;
  close(): void;
}

export interface SqliteStatement {
  run(params?: readonly SqlValue[]): void;
  /** Frees it; the statement cannot be used afterwards. */
  finalize(): void;
}

/** The part of node:sqlite's DatabaseSync we use (@types/node 20 does not describe it). */
interface NodeDatabaseSync {
  exec(sql: string): void;
  prepare(sql: string): {
    run(...params: SqlValue[]): unknown;
    all(...params: SqlValue[]): Record<string, SqlValue>[];
  };
  close(): void;
}
type NodeSqliteModule = { DatabaseSync: new (path: string) => NodeDatabaseSync };

interface WasmDatabase {
  exec(sql: string): void;
  run(sql: string, values?: SqlValue[]): unknown;
  all(sql: string, values?: SqlValue[]): Record<string, SqlValue>[];
  prepare(sql: string): { run(values?: SqlValue[]): unknown; finalize(): void };
  close(): void;
}
type WasmModule = { Database: new (path: string) => WasmDatabase };

type Open = (path: string) => SqliteDb;
const engines = new Map<boolean, Promise<Open>>();

/** `UPKEEP_SQLITE=wasm` forces the WebAssembly engine (tests run both). */
function engine(): Promise<Open> {
  const wasm = process.env.UPKEEP_SQLITE === "wasm";
  let found = engines.get(wasm);
  if (found === undefined) {
    found = wasm ? Promise.resolve(openWasm) : loadEngine();
    engines.set(wasm, found);
  }
  return found;
}

export async function openSqlite(path: string): Promise<SqliteDb> {
  return (await engine())(path);
}

/** Which engine this Node uses (for `doctor`, `report` and tests). */
export async function sqliteEngine(): Promise<SqliteDb["engine"]> {
  return (await engine()) === openWasm ? "wasm" : "node:sqlite";
}

async function loadEngine(): Promise<Open> {
  const native = await importNodeSqlite();
  if (native === undefined) return openWasm;
  return (path) => wrapNode(new native.DatabaseSync(path));
}

async function importNodeSqlite(): Promise<NodeSqliteModule | undefined> {
  // Node 22 prints an ExperimentalWarning for node:sqlite on every start; it would land in every
  // scheduled tick's stderr log. Only that one warning is dropped.
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning.message;
    if (/SQLite is an experimental feature/.test(text)) return;
    (emit as (w: string | Error, ...r: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    const specifier = "node:sqlite";
    return (await import(/* @vite-ignore */ specifier)) as NodeSqliteModule;
  } catch {
    return undefined; // Node 20, or 22.5-22.12 without --experimental-sqlite
  } finally {
    process.emitWarning = emit;
  }
}

function wrapNode(db: NodeDatabaseSync): SqliteDb {
  return {
    engine: "node:sqlite",
    exec: (sql) => db.exec(sql),
    run: (sql, params = []) => void db.prepare(sql).run(...params),
    all: (sql, params = []) => db.prepare(sql).all(...params),
    prepare: (sql) => {
      const statement = db.prepare(sql);
      // node:sqlite frees a statement when it is collected (or the database closes).
      return { run: (params = []) => void statement.run(...params), finalize: () => {} };
    },
    close: () => db.close(),
  };
}

let baselineOnly = false;

function openWasm(path: string): SqliteDb {
  if (!baselineOnly) {
    // V8 compiles SQLite's busy functions again with its optimising tier on background threads, and
    // Node waits for those compilations before the process exits: at the end of a first tick (a status
    // event per service) that was half a second, and more CPU than the statements. A command runs a few
    // statements, which V8's baseline code (Liftoff) runs as fast once that CPU is not taken from them.
    // The flag only concerns WebAssembly compiled from now on, and upkeep has no other.
    // node:v8 on use: loading it pulls heap and promise-hook internals into every tick.
    process.getBuiltinModule("node:v8").setFlagsFromString("--liftoff-only");
    baselineOnly = true;
  }
  const require = createRequire(import.meta.url);
  const { Database } = require("node-sqlite3-wasm") as WasmModule;
  rmSync(`${path}.lock`, { recursive: true, force: true });
  const db = new Database(path);
  return {
    engine: "wasm",
    exec: (sql) => db.exec(sql),
    run: (sql, params = []) => void db.run(sql, [...params]),
    all: (sql, params = []) => db.all(sql, [...params]),
    prepare: (sql) => {
      const statement = db.prepare(sql);
      return { run: (params = []) => void statement.run([...params]), finalize: () => statement.finalize() };
    },
    close: () => db.close(),
  };
}
