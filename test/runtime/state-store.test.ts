import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isUpkeepError } from "../../src/errors.js";
import { sweepTempFiles } from "../../src/runtime/atomic-file.js";
import {
  concernPath,
  peekStateFile,
  readAll,
  readConcern,
  writeAll,
  writeConcern,
} from "../../src/runtime/state-store.js";
import { Children, distMissing } from "../fixtures/state-children.js";

interface Counter {
  version: 1;
  count: number;
}
const counter = { version: 1, fresh: (): Counter => ({ version: 1, count: 0 }) };

let dir: string;
const children = new Children();
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "upkeep-state-"));
});
afterEach(async () => {
  await children.killAll();
  await rm(dir, { recursive: true, force: true });
});

describe("readConcern / writeConcern", () => {
  it("returns fresh state when the file is missing, without warnings", async () => {
    expect(await readConcern(join(dir, "nope"), "counter", counter)).toEqual({
      value: { version: 1, count: 0 },
      warnings: [],
    });
  });

  it("round-trips a value, creating the state dir, as a private 0600 file", async () => {
    const stateDir = join(dir, "a", "b");
    await writeConcern(stateDir, "counter", { version: 1, count: 7 });
    expect((await readConcern(stateDir, "counter", counter)).value).toEqual({ version: 1, count: 7 });
    expect((await stat(concernPath(stateDir, "counter"))).mode & 0o777).toBe(0o600);
    expect(await readdir(stateDir)).toEqual(["counter.json"]);
  });

  it.each([
    ["bad JSON", "{ not json"],
    ["an empty file", ""],
    ["not an object", "[1, 2]"],
    ["a missing version", '{"count": 3}'],
    ["a non-integer version", '{"version": "1", "count": 3}'],
  ])("moves a file with %s aside with a warning and returns fresh state", async (_label, content) => {
    await writeFile(join(dir, "counter.json"), content);
    const warned: string[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (_o: object, m?: string) => warned.push(m ?? ""),
    };
    const result = await readConcern(dir, "counter", {
      ...counter,
      logger,
      now: () => Date.UTC(2024, 0, 2, 3, 4, 5, 6),
    });
    expect(result.value).toEqual({ version: 1, count: 0 });
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain("counter.json.corrupt-2024-01-02T03-04-05-006Z");
    expect(warned).toEqual(result.warnings);
    expect(await readdir(dir)).toEqual(["counter.json.corrupt-2024-01-02T03-04-05-006Z"]);
    expect(await readFile(join(dir, "counter.json.corrupt-2024-01-02T03-04-05-006Z"), "utf8")).toBe(content);
  });

  // Only content that does not parse is corrupt: a file that cannot be read may hold good state
  // (heal totals, breaker states), and starting fresh would silently reset the limits it records.
  it.each([false, true])(
    "refuses a file it cannot read with E_STATE_UNREADABLE naming file and errno, and leaves it in place (readOnly %s)",
    async (readOnly) => {
      // A symlink loop fails open(2) with ELOOP for every user, root included.
      await symlink("counter.json", join(dir, "counter.json"));
      const error = await readConcern(dir, "counter", { ...counter, readOnly }).catch((e: unknown) => e);
      expect(isUpkeepError(error, "E_STATE_UNREADABLE")).toBe(true);
      expect((error as Error).message).toContain(
        `cannot read state file ${join(dir, "counter.json")} (ELOOP)`,
      );
      expect((error as Error).message).toContain("left in place");
      expect(await readdir(dir)).toEqual(["counter.json"]);
    },
  );

  it("reads a path below a file (ENOTDIR) as missing, since no file can be there, and fails to write it", async () => {
    await writeFile(join(dir, "file"), "");
    expect(await readConcern(join(dir, "file"), "counter", counter)).toEqual({
      value: { version: 1, count: 0 },
      warnings: [],
    });
    const error = await writeConcern(join(dir, "file"), "counter", { version: 1, count: 1 }).catch(
      (e: unknown) => e,
    );
    expect(isUpkeepError(error, "E_STATE_IO")).toBe(true);
  });

  it("refuses a directory in the file's place, and leaves it there", async () => {
    await mkdir(join(dir, "counter.json"));
    const error = await readConcern(dir, "counter", counter).catch((e: unknown) => e);
    expect(isUpkeepError(error, "E_STATE_UNREADABLE")).toBe(true);
    expect((error as Error).message).toMatch(
      /counter\.json \(EISDIR\): it is a directory, not a regular file/,
    );
    expect((await stat(join(dir, "counter.json"))).isDirectory()).toBe(true);
  });

  // Reading a FIFO blocks until a writer opens it: a tick would hang forever holding the lock.
  it("refuses a FIFO at once, without blocking on it, for locked and read-only readers and peeks", async () => {
    const fifo = join(dir, "counter.json");
    execFileSync("mkfifo", [fifo]);
    for (const readOnly of [false, true]) {
      const error = await readConcern(dir, "counter", { ...counter, readOnly }).catch((e: unknown) => e);
      expect(isUpkeepError(error, "E_STATE_UNREADABLE")).toBe(true);
      expect((error as Error).message).toContain("it is a FIFO, not a regular file");
    }
    expect(peekStateFile(fifo, counter)).toBeUndefined();
    expect((await stat(fifo)).isFIFO()).toBe(true);
  }, 10_000);

  it("moves aside a file that fails the concern's validate check", async () => {
    await writeFile(join(dir, "counter.json"), '{"version": 1, "count": "many"}');
    const result = await readConcern(dir, "counter", {
      ...counter,
      validate: (raw) => typeof raw["count"] === "number",
    });
    expect(result.value.count).toBe(0);
    expect(result.warnings[0]).toContain("unexpected shape");
  });

  it("refuses a newer version with E_STATE_VERSION naming file and versions, leaving the file in place", async () => {
    await writeFile(join(dir, "counter.json"), '{"version": 3, "count": 9}');
    const error = await readConcern(dir, "counter", counter).catch((e: unknown) => e);
    expect(isUpkeepError(error, "E_STATE_VERSION")).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(join(dir, "counter.json"));
    expect(message).toContain("version 3");
    expect(message).toContain("supports version 1");
    expect(message).toContain("upgrade upkeep");
    expect(await readFile(join(dir, "counter.json"), "utf8")).toBe('{"version": 3, "count": 9}');
  });

  it("migrates an older version when the concern can, and moves it aside when it cannot", async () => {
    const v2 = { version: 2, fresh: () => ({ version: 2, total: 0 }) };
    await writeFile(join(dir, "counter.json"), '{"version": 1, "count": 4}');
    const migrated = await readConcern(dir, "counter", {
      ...v2,
      migrate: (raw, from) => ({ version: 2, total: from === 1 ? (raw["count"] as number) : -1 }),
    });
    expect(migrated).toEqual({ value: { version: 2, total: 4 }, warnings: [] });
    const unmigrated = await readConcern(dir, "counter", v2);
    expect(unmigrated.value).toEqual({ version: 2, total: 0 });
    expect(unmigrated.warnings[0]).toContain("old version 1");
  });

  it("refuses concern names that could leave the state dir", () => {
    expect(() => concernPath(dir, "../etc/passwd")).toThrow(/invalid state concern name/);
  });
});

describe("readAll / writeAll", () => {
  it("reads every concern, fresh where missing, collecting warnings", async () => {
    const specs = {
      counter,
      other: { version: 1, fresh: () => ({ version: 1 as const, items: [] as string[] }) },
      broken: { version: 1, fresh: () => ({ version: 1 as const }) },
    };
    await writeAll(dir, { counter: { version: 1, count: 2 } });
    await writeFile(join(dir, "broken.json"), "garbage");
    const { value, warnings } = await readAll(dir, specs);
    expect(value.counter.count).toBe(2);
    expect(value.other.items).toEqual([]);
    expect(value.broken).toEqual({ version: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("broken.json");
  });

  it("sweeps temp files left by dead writers but not by live ones", async () => {
    await writeFile(join(dir, ".counter.json.999999999.0badf00d.tmp"), "half");
    await writeFile(join(dir, `.counter.json.${process.pid}.0000abcd.tmp`), "in flight");
    await writeAll(dir, { counter: { version: 1, count: 1 } });
    expect((await readdir(dir)).sort()).toEqual([
      `.counter.json.${process.pid}.0000abcd.tmp`,
      "counter.json",
    ]);
  });
});

describe("several processes", () => {
  const missing = distMissing("runtime/state-store.js", "runtime/lock.js");

  it.skipIf(missing !== undefined)(
    `lose no update and never expose a partial file (5 processes x 30 locked increments)${missing ? ` [skipped: ${missing}]` : ""}`,
    async () => {
      const writers = Array.from({ length: 5 }, () =>
        children.spawn("state-writer.mjs", ["count", dir, "30"]),
      );
      const done = Promise.all(writers.map((w) => w.exited));
      let finished = false;
      void done.then(() => (finished = true));
      // Read concurrently while they write: every read must parse (bounded by the children's own 30 s guard).
      let reads = 0;
      while (!finished && reads < 100_000) {
        const text = await readFile(join(dir, "counter.json"), "utf8").catch(() => undefined);
        if (text !== undefined) {
          expect(JSON.parse(text)).toMatchObject({ version: 1 });
          reads++;
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      for (const [i, result] of (await done).entries())
        expect(result, writers[i]?.stderr()).toEqual({ code: 0, signal: null });
      expect((await readConcern(dir, "counter", counter)).value.count).toBe(150);
    },
  );

  it.skipIf(missing !== undefined)(
    `a writer SIGKILLed mid-write leaves a parsable file holding the last complete value (20 rounds)${missing ? ` [skipped: ${missing}]` : ""}`,
    async () => {
      for (let round = 0; round < 20; round++) {
        const writer = children.spawn("state-writer.mjs", ["spin", dir, "10000"]);
        // Kill after a varying number of completed writes plus a varying delay: a write is in flight.
        const after = 1 + (round % 4);
        await writer.waitFor((m) => typeof m["wrote"] === "number" && m["wrote"] >= after);
        await new Promise((resolve) => setTimeout(resolve, (round * 7) % 13));
        writer.proc.kill("SIGKILL");
        await writer.exited;
        const reported = Math.max(...writer.messages.map((m) => m["wrote"] as number));
        const text = await readFile(join(dir, "counter.json"), "utf8");
        const parsed = JSON.parse(text) as Counter;
        // Its last reported write completed; the one in flight may have been renamed before the kill.
        expect(parsed.count).toBeGreaterThanOrEqual(reported);
        expect(parsed.count).toBeLessThanOrEqual(reported + 1);
        const { warnings } = await readConcern(dir, "counter", counter);
        expect(warnings).toEqual([]);
      }
      // Writers killed between open and rename left temp files; the sweep removes them (their pids are dead).
      await sweepTempFiles(dir);
      expect(await readdir(dir)).toEqual(["counter.json"]);
    },
  );
});
