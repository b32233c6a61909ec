import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_LOG_ROTATION, parseByteSize, rotateIfNeeded } from "../../src/runtime/log-rotation.js";

let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "upkeep-rotate-"));
  log = join(dir, "upkeep.log");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (name: string): string | undefined =>
  existsSync(join(dir, name)) ? readFileSync(join(dir, name), "utf8") : undefined;

describe("rotateIfNeeded", () => {
  it("leaves a log below maxBytes alone", async () => {
    writeFileSync(log, "x".repeat(99));
    expect(await rotateIfNeeded(log, { maxBytes: 100, keep: 2 })).toEqual({ rotated: false, size: 99 });
    expect(readdirSync(dir)).toEqual(["upkeep.log"]);
  });

  it("does nothing when there is no log yet", async () => {
    expect(await rotateIfNeeded(log, { maxBytes: 1, keep: 2 })).toEqual({ rotated: false, size: 0 });
  });

  it("shifts upkeep.log -> .1 -> .2 ... and drops the oldest beyond keep", async () => {
    writeFileSync(log, "current".padEnd(100, "."));
    writeFileSync(`${log}.1`, "one");
    writeFileSync(`${log}.2`, "two");
    writeFileSync(`${log}.3`, "three");
    const result = await rotateIfNeeded(log, { maxBytes: 100, keep: 3 });
    expect(result).toEqual({ rotated: true, size: 100 });
    expect(read("upkeep.log")).toBeUndefined();
    expect(read("upkeep.log.1")).toMatch(/^current/);
    expect(read("upkeep.log.2")).toBe("one");
    expect(read("upkeep.log.3")).toBe("two");
    expect(read("upkeep.log.4")).toBeUndefined();
  });

  it("fills gaps without failing (only some older files exist)", async () => {
    writeFileSync(log, "x".repeat(10));
    writeFileSync(`${log}.2`, "two");
    await rotateIfNeeded(log, { maxBytes: 10, keep: 5 });
    expect(read("upkeep.log.1")).toBe("x".repeat(10));
    expect(read("upkeep.log.3")).toBe("two");
  });

  it("with keep 0 deletes the full log", async () => {
    writeFileSync(log, "x".repeat(10));
    expect((await rotateIfNeeded(log, { maxBytes: 10, keep: 0 })).rotated).toBe(true);
    expect(readdirSync(dir).filter((n) => n.startsWith("upkeep.log") && !n.endsWith(".lock"))).toEqual([]);
  });

  it("rotates once when several rotate at the same moment (the file's own lock and a second size check)", async () => {
    writeFileSync(log, "full".padEnd(50, "."));
    writeFileSync(`${log}.1`, "older");
    const results = await Promise.all(
      Array.from({ length: 6 }, () => rotateIfNeeded(log, { maxBytes: 50, keep: 3 })),
    );
    expect(results.filter((r) => r.rotated)).toHaveLength(1);
    expect(read("upkeep.log.1")).toMatch(/^full/);
    expect(read("upkeep.log.2")).toBe("older");
    expect(read("upkeep.log.3")).toBeUndefined();
  });

  it("defaults to 10 MiB and 5 files, and rejects nonsense settings", async () => {
    expect(DEFAULT_LOG_ROTATION).toEqual({ maxBytes: 10 * 1024 * 1024, keep: 5 });
    writeFileSync(log, "small");
    expect((await rotateIfNeeded(log)).rotated).toBe(false);
    await expect(rotateIfNeeded(log, { keep: -1 })).rejects.toThrow(RangeError);
    await expect(rotateIfNeeded(log, { maxBytes: 0 })).rejects.toThrow(RangeError);
  });
});

describe("parseByteSize", () => {
  it("reads binary and decimal units", () => {
    expect(parseByteSize("10MiB")).toBe(10 * 1024 * 1024);
    expect(parseByteSize("500KB")).toBe(500_000);
    expect(parseByteSize("1.5 GiB")).toBe(1.5 * 1024 ** 3);
    expect(parseByteSize("2048")).toBe(2048);
    expect(parseByteSize("10 parsecs")).toBeUndefined();
    expect(parseByteSize("")).toBeUndefined();
  });
});
