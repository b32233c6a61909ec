import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir, uptime } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isUpkeepError, type UpkeepError } from "../../src/errors.js";
import { acquireLock, lockHolder, withLock, type LockRecord } from "../../src/runtime/lock.js";
import { Children, distMissing } from "../fixtures/state-children.js";

let dir: string;
const children = new Children();
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "upkeep-lock-"));
});
afterEach(async () => {
  await children.killAll();
  await rm(dir, { recursive: true, force: true });
});

const lockDir = (): string => join(dir, "tick.lock");
async function plantLock(record: Partial<LockRecord>, gen = 7): Promise<void> {
  const full: LockRecord = {
    state: "held",
    pid: process.pid,
    host: hostname(),
    startedAt: Date.now(),
    command: "planted",
    ...record,
  };
  await mkdir(lockDir(), { recursive: true });
  await writeFile(join(lockDir(), `${gen}.json`), JSON.stringify(full));
}
async function rejection(promise: Promise<unknown>): Promise<UpkeepError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isUpkeepError(error)) throw new Error(`expected an UpkeepError, got ${String(error)}`);
  return error;
}
/** A pid that is certainly dead: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = children.spawn("state-writer.mjs", ["unknown-mode"]);
  await child.exited;
  return child.proc.pid as number;
}

describe("acquireLock", () => {
  it("fails at once with E_LOCKED naming pid, start time and command while held, and succeeds after release", async () => {
    const release = await acquireLock(dir, { owner: "upkeep run --service a" });
    const error = await rejection(acquireLock(dir));
    expect(error.code).toBe("E_LOCKED");
    expect(error.message).toContain(`pid ${process.pid}`);
    expect(error.message).toMatch(/since \d{4}-\d\d-\d\dT/);
    expect(error.message).toContain("upkeep run --service a");
    expect(error.details).toMatchObject({
      pid: process.pid,
      host: hostname(),
      command: "upkeep run --service a",
    });
    expect(await lockHolder(dir)).toMatchObject({ pid: process.pid, state: "held" });
    await release();
    await release(); // idempotent
    expect(await lockHolder(dir)).toBeUndefined();
    const again = await acquireLock(dir);
    await again();
    // One generation file remains (rewritten as free), plus nothing else.
    expect(await readdir(lockDir())).toHaveLength(1);
  });

  it("takes over a lock whose owner pid is dead on this host", async () => {
    await plantLock({ pid: await deadPid() });
    const release = await acquireLock(dir);
    expect(await lockHolder(dir)).toMatchObject({ pid: process.pid });
    await release();
  });

  it("takes over a lock older than staleMs even if its pid is alive, but not a younger one", async () => {
    await plantLock({ startedAt: Date.now() - 60_000 });
    expect((await rejection(acquireLock(dir))).code).toBe("E_LOCKED");
    const release = await acquireLock(dir, { staleMs: 30_000 });
    await release();
  });

  it("takes over a lock that predates the last boot", async () => {
    await plantLock({ startedAt: Date.now() - uptime() * 1000 - 3_600_000 });
    const release = await acquireLock(dir, { staleMs: Number.MAX_SAFE_INTEGER });
    await release();
  });

  it("does not judge another host's lock by pid", async () => {
    await plantLock({ host: `not-${hostname()}`, pid: 999_999_999 });
    expect((await rejection(acquireLock(dir))).details).toMatchObject({ host: `not-${hostname()}` });
  });

  it("treats an unparsable generation file as abandoned", async () => {
    await mkdir(lockDir(), { recursive: true });
    await writeFile(join(lockDir(), "3.json"), "{");
    const release = await acquireLock(dir);
    expect(await readdir(lockDir())).toEqual(["4.json"]);
    await release();
  });

  it("lets exactly one of many concurrent takeovers of a stale lock win (30 rounds, in process)", async () => {
    const dead = await deadPid();
    for (let round = 0; round < 30; round++) {
      await rm(lockDir(), { recursive: true, force: true });
      await plantLock({ pid: dead }, round + 1);
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireLock(dir)));
      const winners = results.filter((r) => r.status === "fulfilled");
      expect(winners).toHaveLength(1);
      for (const r of results)
        if (r.status === "rejected") expect(isUpkeepError(r.reason, "E_LOCKED")).toBe(true);
      await (winners[0] as PromiseFulfilledResult<() => Promise<void>>).value();
    }
  });

  it("removes temp files that killed contenders left in the lock dir", async () => {
    await mkdir(lockDir(), { recursive: true });
    await writeFile(join(lockDir(), `.lock.${await deadPid()}.deadbeef.tmp`), "{}");
    const release = await acquireLock(dir);
    expect(await readdir(lockDir())).toEqual(["1.json"]);
    await release();
  });
});

describe("withLock", () => {
  it("serializes read-modify-write sections in one process: no lost update", async () => {
    const file = join(dir, "n.txt");
    await writeFile(file, "0");
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withLock(file, async () => {
          const n = Number(await readFile(file, "utf8"));
          await new Promise((resolve) => setTimeout(resolve, 1));
          await writeFile(file, String(n + 1));
        }),
      ),
    );
    expect(await readFile(file, "utf8")).toBe("20");
  });

  it("returns fn's value, and releases the lock when fn throws", async () => {
    const file = join(dir, "x.json");
    expect(await withLock(file, () => 42)).toBe(42);
    await expect(withLock(file, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await withLock(file, () => "free again")).toBe("free again");
  });

  it("gives up with E_LOCKED after timeoutMs without running fn while the lock stays held", async () => {
    const file = join(dir, "x.json");
    let ran = false;
    await withLock(file, async () => {
      const error = await rejection(withLock(file, () => (ran = true), { timeoutMs: 50 }));
      expect(error.code).toBe("E_LOCKED");
      expect(error.message).toContain(`pid ${process.pid}`);
    });
    expect(ran).toBe(false);
  });
});

describe("across processes", () => {
  const missing = distMissing("runtime/lock.js", "runtime/state-store.js");
  const skip = missing === undefined ? "" : ` [skipped: ${missing}]`;

  it.skipIf(missing !== undefined)(`a second process gets E_LOCKED naming the holder${skip}`, async () => {
    const holder = children.spawn("state-writer.mjs", ["hold", dir, "upkeep watch"]);
    const { locked } = await holder.waitFor((m) => "locked" in m);
    const error = await rejection(acquireLock(dir));
    expect(error.code).toBe("E_LOCKED");
    expect(error.message).toContain(`pid ${String(locked)}`);
    expect(error.message).toContain("upkeep watch");
    holder.proc.stdin?.end();
    expect(await holder.exited).toEqual({ code: 0, signal: null });
    const release = await acquireLock(dir);
    await release();
  });

  it.skipIf(missing !== undefined)(`a lock held by a SIGKILLed process is recovered${skip}`, async () => {
    const holder = children.spawn("state-writer.mjs", ["hold", dir]);
    await holder.waitFor((m) => "locked" in m);
    holder.proc.kill("SIGKILL");
    await holder.exited;
    const release = await acquireLock(dir);
    expect(await lockHolder(dir)).toMatchObject({ pid: process.pid });
    await release();
  });

  it.skipIf(missing !== undefined)(
    `exactly one of 4 processes racing to take over a dead holder's lock wins (5 rounds)${skip}`,
    async () => {
      for (let round = 0; round < 5; round++) {
        const holder = children.spawn("state-writer.mjs", ["hold", dir]);
        await holder.waitFor((m) => "locked" in m);
        holder.proc.kill("SIGKILL");
        await holder.exited;
        const racers = Array.from({ length: 4 }, () => children.spawn("state-writer.mjs", ["take", dir]));
        // Start them together once every racer has loaded the code.
        await Promise.all(racers.map((r) => r.waitFor((m) => "ready" in m)));
        for (const racer of racers) racer.proc.stdin?.write("go\n");
        const outcomes = await Promise.all(racers.map((r) => r.waitFor((m) => "ok" in m)));
        expect(outcomes.filter((o) => o["ok"] === true)).toHaveLength(1);
        for (const o of outcomes) if (o["ok"] !== true) expect(o["code"]).toBe("E_LOCKED");
        for (const racer of racers) racer.proc.stdin?.end();
        await Promise.all(racers.map((r) => r.exited));
      }
    },
  );
});
