import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../src/history/events.js";
import { computeReport } from "../../src/history/report.js";
import {
  HISTORY_SCHEMA_VERSION,
  MAX_SPAN_TICKS,
  pendingPath,
  readHistory,
  recordEvents,
  recordTick,
  type HistorySettings,
} from "../../src/runtime/history-store.js";
import { openSqlite, sqliteEngine } from "../../src/runtime/sqlite.js";
import { Children, distMissing } from "../fixtures/state-children.js";
import { at, DAY, INTERVAL, month, S } from "../history/month.js";

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 1);
type Tick = Extract<HistoryEvent, { kind: "tick" }>;

function tick(at: number, status: "up" | "down" | "blocked" = "up", trigger: Tick["trigger"] = "run"): Tick {
  return { kind: "tick", at, finishedAt: at + 40, trigger, observed: { api: { s: status } } };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const previous = process.env.UPKEEP_SQLITE;
afterEach(() => {
  if (previous === undefined) delete process.env.UPKEEP_SQLITE;
  else process.env.UPKEEP_SQLITE = previous;
});

// Node 20 has only the WebAssembly engine; Node 22.13+ runs the same tests on node:sqlite as well.
describe.each(["default", "wasm"])("history store (%s engine)", (engine) => {
  let dir: string;
  let settings: HistorySettings;
  beforeEach(async () => {
    if (engine === "wasm") process.env.UPKEEP_SQLITE = "wasm";
    dir = await mkdtemp(join(tmpdir(), "upkeep-history-"));
    settings = { file: join(dir, "history.db"), retentionMs: 90 * 1440 * MIN, intervalMs: 5 * MIN };
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`uses ${engine === "wasm" ? "the WebAssembly build" : "node:sqlite where Node has it, else WebAssembly"}`, async () => {
    const expected =
      engine === "wasm" || !process.versions.node.match(/^(2[3-9]|[3-9]\d)|^22\.(1[3-9]|[2-9]\d)/)
        ? "wasm"
        : "node:sqlite";
    expect(await sqliteEngine()).toBe(expected);
  });

  it("quiet ticks extend one pending span and never create the SQLite file", async () => {
    for (let i = 0; i < 10; i++) await recordTick(settings, [tick(T0 + i * 5 * MIN)], T0 + i * 5 * MIN);
    expect(await exists(settings.file)).toBe(false);
    const pending = JSON.parse(await readFile(pendingPath(settings), "utf8")) as { tick: Tick };
    expect(pending.tick.more).toHaveLength(9);
    const events = await readHistory(settings);
    expect(events.map((e) => e.at)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + i * 5 * MIN));
    expect(events.every((e) => e.kind === "tick" && e.more === undefined)).toBe(true);
  });

  it("a tick with events writes the pending span and its events in SQLite, in order", async () => {
    await recordTick(settings, [tick(T0)], T0);
    await recordTick(settings, [tick(T0 + 5 * MIN)], T0 + 5 * MIN);
    const down: HistoryEvent[] = [
      tick(T0 + 10 * MIN, "down"),
      {
        kind: "status",
        at: T0 + 10 * MIN,
        service: "api",
        from: "up",
        to: "down",
        detail: "connect ECONNREFUSED",
      },
    ];
    await recordTick(settings, down, T0 + 10 * MIN);
    expect(await exists(settings.file)).toBe(true);
    expect(await exists(pendingPath(settings))).toBe(false);
    const events = await readHistory(settings);
    expect(events.map((e) => [e.kind, e.at - T0])).toEqual([
      ["tick", 0],
      ["tick", 5 * MIN],
      ["tick", 10 * MIN],
      ["status", 10 * MIN],
    ]);
    // The next quiet tick sees a new status: it starts a new span, which stays pending.
    await recordTick(settings, [tick(T0 + 15 * MIN, "down")], T0 + 15 * MIN);
    expect(await exists(pendingPath(settings))).toBe(true);
    expect((await readHistory(settings)).length).toBe(5);
  });

  it("a first tick with a status per service lands whole in a new file, rows in order", async () => {
    const first: HistoryEvent[] = [
      tick(T0),
      ...Array.from({ length: 300 }, (_, i): HistoryEvent => ({
        kind: "status",
        at: T0,
        service: `svc-${i}`,
        from: null,
        to: "up",
        detail: "connected",
      })),
    ];
    await recordTick(settings, first, T0);
    const db = await openSqlite(settings.file);
    try {
      expect(db.all("PRAGMA user_version")[0]?.user_version).toBe(HISTORY_SCHEMA_VERSION);
      const rows = db.all("SELECT kind, service FROM events ORDER BY id");
      expect(rows.map((r) => r.service)).toEqual([null, ...first.slice(1).map((_, i) => `svc-${i}`)]);
    } finally {
      db.close();
    }
  });

  it("a prepared statement runs many times and is freed", async () => {
    const db = await openSqlite(join(dir, "prepared.db"));
    try {
      db.exec("CREATE TABLE t (n INTEGER, s TEXT)");
      const insert = db.prepare("INSERT INTO t (n, s) VALUES (?, ?)");
      for (let n = 0; n < 50; n += 1) insert.run([n, `row ${n}`]);
      insert.finalize();
      expect(db.all("SELECT count(*) AS c, sum(n) AS total FROM t")[0]).toEqual({ c: 50, total: 1225 });
    } finally {
      db.close();
    }
  });

  it("a late tick does not join the span: the gap stays visible as missed ticks", async () => {
    await recordTick(settings, [tick(T0)], T0);
    await recordTick(settings, [tick(T0 + 5 * MIN)], T0 + 5 * MIN);
    await recordTick(settings, [tick(T0 + 60 * MIN)], T0 + 60 * MIN); // 11 ticks missed
    await recordTick(settings, [tick(T0 + 65 * MIN)], T0 + 65 * MIN);
    const events = await readHistory(settings);
    const report = computeReport(events, {
      since: T0,
      until: T0 + 70 * MIN,
      intervalMs: 5 * MIN,
      services: [{ id: "api", title: "API" }],
    });
    expect(report.ticks).toEqual({ count: 4, scheduled: 4, missed: 10 });
    expect(report.gaps).toEqual([{ from: T0 + 5 * MIN, to: T0 + 60 * MIN, missed: 10 }]);
    // Covered: 0-10 min (the tick at 5 vouches for 7.5 min at most... capped by 1.5 intervals) and 60-70.
    expect(report.services[0]?.upMs).toBe(5 * MIN + 7.5 * MIN + 10 * MIN);
  });

  it("a span follows the interval its ticks were scheduled at; a different interval starts a new one", async () => {
    const every = (at: number, interval: number): Tick => ({ ...tick(at, "up", "watch"), interval });
    for (let i = 0; i < 4; i++)
      await recordTick(settings, [every(T0 + i * 10 * MIN, 10 * MIN)], T0 + i * 10 * MIN);
    await recordTick(settings, [every(T0 + 35 * MIN, 5 * MIN)], T0 + 35 * MIN);
    const pending = JSON.parse(await readFile(pendingPath(settings), "utf8")) as { tick: Tick };
    expect(pending.tick).toMatchObject({ at: T0 + 35 * MIN, interval: 5 * MIN });
    const ticks = (await readHistory(settings)).map((e) => (e.at - T0) / MIN);
    expect(ticks).toEqual([0, 10, 20, 30, 35]);
  });

  it("a different trigger or a manual heal tick starts a new span", async () => {
    await recordTick(settings, [tick(T0)], T0);
    await recordTick(settings, [tick(T0 + 1 * MIN, "up", "heal")], T0 + MIN);
    await recordTick(settings, [tick(T0 + 5 * MIN)], T0 + 5 * MIN);
    const events = await readHistory(settings);
    expect(events.map((e) => (e.kind === "tick" ? e.trigger : e.kind))).toEqual(["run", "heal", "run"]);
  });

  it(`a span holds at most ${MAX_SPAN_TICKS} ticks, then goes into SQLite`, async () => {
    for (let i = 0; i < MAX_SPAN_TICKS + 3; i++)
      await recordTick(settings, [tick(T0 + i * 5 * MIN)], T0 + i * 5 * MIN);
    const db = await openSqlite(settings.file);
    try {
      const rows = db.all("SELECT body FROM events");
      expect(rows).toHaveLength(1);
      expect((JSON.parse(String(rows[0]?.body)) as Tick).more).toHaveLength(MAX_SPAN_TICKS - 1);
    } finally {
      db.close();
    }
    expect((await readHistory(settings)).length).toBe(MAX_SPAN_TICKS + 3);
  });

  it("a span sent twice (killed after the commit, before the pending file went) is stored once", async () => {
    await recordTick(settings, [tick(T0)], T0);
    await recordTick(settings, [tick(T0 + 5 * MIN)], T0 + 5 * MIN);
    const pending = await readFile(pendingPath(settings), "utf8");
    const down = tick(T0 + 10 * MIN, "down");
    const status: HistoryEvent = {
      kind: "status",
      at: T0 + 10 * MIN,
      service: "api",
      from: "up",
      to: "down",
      detail: "x",
    };
    await recordTick(settings, [down, status], T0 + 10 * MIN);
    await writeFile(pendingPath(settings), pending); // as if the process died before removing it
    await recordTick(
      settings,
      [tick(T0 + 15 * MIN, "down"), { ...status, at: T0 + 15 * MIN }],
      T0 + 15 * MIN,
    );
    const ticks = (await readHistory(settings)).filter((e) => e.kind === "tick").map((e) => e.at - T0);
    expect(ticks).toEqual([0, 5 * MIN, 10 * MIN, 15 * MIN]);
  });

  it("a span sent again after it grew replaces the shorter stored one, never the other way", async () => {
    const span = (n: number): Tick => ({
      ...tick(T0),
      more: Array.from({ length: n - 1 }, (_, i) => (i + 1) * 5 * MIN),
    });
    const status = (at: number): HistoryEvent => ({
      kind: "status",
      at,
      service: "api",
      from: "up",
      to: "down",
      detail: "x",
    });
    await recordTick(settings, [span(3), status(T0 + 10 * MIN)], T0 + 10 * MIN);
    await recordTick(settings, [span(4), status(T0 + 15 * MIN)], T0 + 15 * MIN);
    await recordTick(settings, [span(2), status(T0 + 20 * MIN)], T0 + 20 * MIN);
    const ticks = (await readHistory(settings))
      .filter((e) => e.kind === "tick")
      .map((e) => (e.at - T0) / MIN);
    expect(ticks).toEqual([0, 5, 10, 15]);
  });

  it("readHistory({ since }) includes the ticks of a span that began before `since`", async () => {
    for (let i = 0; i < 6; i++) await recordTick(settings, [tick(T0 + i * 5 * MIN)], T0 + i * 5 * MIN);
    await recordTick(
      settings,
      [
        tick(T0 + 30 * MIN, "down"),
        { kind: "status", at: T0 + 30 * MIN, service: "api", from: "up", to: "down", detail: "x" },
      ],
      T0 + 30 * MIN,
    );
    const ticks = (await readHistory(settings, { since: T0 + 12 * MIN })).filter((e) => e.kind === "tick");
    expect(ticks.map((e) => (e.at - T0) / MIN)).toEqual([15, 20, 25, 30]);
  });

  it("prunes events older than the retention in the same write", async () => {
    const short = { ...settings, retentionMs: 60 * MIN };
    const status = (at: number): HistoryEvent => ({
      kind: "status",
      at,
      service: "api",
      from: null,
      to: "down",
      detail: "x",
    });
    await recordTick(short, [tick(T0, "down"), status(T0)], T0);
    await recordEvents(
      short,
      [
        {
          kind: "command",
          at: T0 + 30 * MIN,
          command: "breaker reset",
          service: "api",
          by: "ops",
          detail: "",
        },
      ],
      T0 + 30 * MIN,
    );
    await recordTick(short, [tick(T0 + 90 * MIN, "down"), status(T0 + 90 * MIN)], T0 + 90 * MIN);
    const kept = await readHistory(short);
    expect(kept.map((e) => [e.kind, (e.at - T0) / MIN])).toEqual([
      ["command", 30],
      ["tick", 90],
      ["status", 90],
    ]);
  });

  it("readHistory({ since }) returns what happened from then on; a missing file is an empty history", async () => {
    expect(await readHistory(settings)).toEqual([]);
    for (let i = 0; i < 4; i++) await recordTick(settings, [tick(T0 + i * 5 * MIN)], T0 + i * 5 * MIN);
    expect((await readHistory(settings, { since: T0 + 10 * MIN })).map((e) => e.at - T0)).toEqual([
      10 * MIN,
      15 * MIN,
    ]);
  });

  it("refuses a history written by a newer upkeep, and leaves it alone", async () => {
    await recordEvents(
      settings,
      [{ kind: "command", at: T0, command: "breaker reset", by: "ops", detail: "" }],
      T0,
    );
    const db = await openSqlite(settings.file);
    db.exec(`PRAGMA user_version = ${HISTORY_SCHEMA_VERSION + 1}`);
    db.close();
    await expect(readHistory(settings)).rejects.toMatchObject({ code: "E_STATE_VERSION" });
    await expect(
      recordEvents(settings, [{ kind: "command", at: T0, command: "x", by: "ops", detail: "" }], T0),
    ).rejects.toMatchObject({
      code: "E_STATE_VERSION",
    });
  });

  it("ignores an unreadable pending span with a warning and goes on", async () => {
    await writeFile(pendingPath(settings), "{not json");
    const warnings: string[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (_: object, msg?: string) => warnings.push(msg ?? ""),
    };
    await recordTick(settings, [tick(T0)], T0, logger);
    expect(warnings).toEqual([expect.stringContaining("unreadable pending span")]);
    expect((await readHistory(settings)).map((e) => e.at)).toEqual([T0]);
  });
});

const missing = distMissing("runtime/history-store.js");
describe.each(["default", "wasm"])("history store under SIGKILL (%s engine)", (engine) => {
  const children = new Children();
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "upkeep-history-kill-"));
  });
  afterEach(async () => {
    await children.killAll();
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(missing !== undefined)(
    `a writer killed mid-transaction leaves every tick whole: its status and refusal with it (8 rounds)${missing ? ` [skipped: ${missing}]` : ""}`,
    async () => {
      const file = join(dir, "history.db");
      const settings = { file, retentionMs: 90 * 1440 * MIN, intervalMs: 1000 };
      const env: Record<string, string> = engine === "wasm" ? { UPKEEP_SQLITE: "wasm" } : {};
      let total = 0;
      for (let round = 0; round < 8; round++) {
        const writer = children.spawn(
          "history-writer.mjs",
          ["spin", join(dir, `round-${round}.db`), "100000"],
          env,
        );
        const after = 2 + (round % 3);
        await writer.waitFor((m) => typeof m["wrote"] === "number" && m["wrote"] >= after, 20_000);
        await new Promise((resolve) => setTimeout(resolve, (round * 7) % 13));
        writer.proc.kill("SIGKILL");
        await writer.exited;
        const reported = Math.max(...writer.messages.map((m) => m["wrote"] as number));
        const events = await readHistory({ ...settings, file: join(dir, `round-${round}.db`) });
        const ticks = events.filter((e) => e.kind === "tick");
        expect(ticks.length).toBeGreaterThanOrEqual(reported);
        expect(ticks.length).toBeLessThanOrEqual(reported + 1);
        for (const t of ticks) {
          const same = events.filter((e) => e.at === t.at).map((e) => e.kind);
          expect(same).toEqual(["tick", "status", "refusal"]);
        }
        total += ticks.length;
      }
      expect(total).toBeGreaterThan(0);
    },
  );
});

describe("quiet spans lose nothing", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "upkeep-history-month-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // The month's first 11 days (an outage at the window's start, a heal within a tick, failed heals and
  // refusals, a 6 h sleep): 3,000 ticks, each through the real store.
  it("eleven simulated days recorded tick by tick give the same report as their raw events, in a few dozen rows", async () => {
    const until = at(11);
    const events = month().filter((e) => e.at < until);
    const settings = { file: join(dir, "history.db"), retentionMs: 90 * DAY, intervalMs: INTERVAL };
    const ticks = events.filter((e) => e.kind === "tick").sort((a, b) => a.at - b.at);
    for (const [i, t] of ticks.entries()) {
      const next = ticks[i + 1]?.at ?? Number.POSITIVE_INFINITY;
      const own = events.filter((e) => e.kind !== "tick" && e.at >= t.at && e.at < next);
      await recordTick(settings, [t, ...own], t.at);
    }
    const options = {
      since: S,
      until,
      intervalMs: INTERVAL,
      services: [{ id: "api", title: "API" }],
    };
    const stored = await readHistory(settings);
    expect(computeReport(stored, options)).toEqual(computeReport(events, options));
    expect(stored.filter((e) => e.kind === "tick")).toHaveLength(ticks.length);
    const db = await openSqlite(settings.file);
    try {
      const rows = Number(db.all("SELECT count(*) AS n FROM events WHERE kind = 'tick'")[0]?.n);
      expect(rows).toBeLessThan(ticks.length / 20);
    } finally {
      db.close();
    }
  }, 120_000);
});
