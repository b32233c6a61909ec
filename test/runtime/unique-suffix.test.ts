/**
 * Temp file names: `PID.XXXXXXXX`, the form `sweepTempFiles` reads the writer's pid back from, and no two
 * alike among the files one process can have open at once.
 */
import { describe, expect, it } from "vitest";
import { uniqueSuffix } from "../../src/runtime/unique-suffix.js";

describe("uniqueSuffix", () => {
  it("is the pid and eight hex digits", () => {
    for (let i = 0; i < 100; i += 1) {
      const match = /^(\d+)\.([0-9a-f]{8})$/.exec(uniqueSuffix());
      expect(match?.[1]).toBe(String(process.pid));
    }
  });

  it("never repeats within 4,096 consecutive names, whatever the random part draws", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4096; i += 1) seen.add(uniqueSuffix());
    expect(seen.size).toBe(4096);
  });
});
