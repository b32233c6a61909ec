import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DOWN,
  DOWN_HEAL_FAILS,
  DOWN_HEAL_OK,
  entryAt,
  MAX_TICKS,
  parseSeries,
  UP,
} from "../../src/testing/notation.js";

const entries = (text: string): number[] => {
  const result = parseSeries(text);
  if (!result.ok) throw new Error(`${result.message} at ${result.index}`);
  return [...result.entries];
};

const failure = (text: string): { message: string; index: number; hint?: string } => {
  const result = parseSeries(text);
  if (result.ok) throw new Error(`"${text}" parsed`);
  return result;
};

describe("the series notation", () => {
  it("reads up and down, one tick each, separated by commas", () => {
    expect(entries("up")).toEqual([UP]);
    expect(entries("down, up,down")).toEqual([DOWN, UP, DOWN]);
  });

  it("repeats an entry with xN (with or without a space)", () => {
    expect(entries("up x3, down x2, up")).toEqual([UP, UP, UP, DOWN, DOWN, UP]);
    expect(entries("down x 2")).toEqual([DOWN, DOWN]);
    expect(entries("down×2")).toEqual([DOWN, DOWN]);
  });

  it("repeats groups, nested", () => {
    expect(entries("(down, up x2) x2")).toEqual([DOWN, UP, UP, DOWN, UP, UP]);
    expect(entries("((down) x2, up) x2, down")).toEqual([DOWN, DOWN, UP, DOWN, DOWN, UP, DOWN]);
  });

  it("sets a heal's outcome on a down entry", () => {
    expect(entries("down(heal:ok), down (heal:fails) x2")).toEqual([
      DOWN_HEAL_OK,
      DOWN_HEAL_FAILS,
      DOWN_HEAL_FAILS,
    ]);
  });

  it("expands a thousand days at 5 minutes into one byte per tick", () => {
    const result = parseSeries("(down x12, up x276) x1000");
    expect(result.ok && result.entries.length).toBe(288_000);
    expect(result.ok && [...result.entries.subarray(286_000, 288_000)].filter((e) => e === DOWN).length).toBe(
      [...entries("(down x12, up x276) x1000")].slice(286_000).filter((e) => e === DOWN).length,
    );
  });

  it("matches a plain expansion for any list of entries and counts", () => {
    const item = fc.record({ down: fc.boolean(), times: fc.integer({ min: 1, max: 5 }) });
    fc.assert(
      fc.property(
        fc.array(item, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 4 }),
        (items, group) => {
          const text = items.map((i) => `${i.down ? "down" : "up"} x${i.times}`).join(", ");
          const flat = items.flatMap((i) => Array<number>(i.times).fill(i.down ? DOWN : UP));
          expect(entries(text)).toEqual(flat);
          expect(entries(`(${text}) x${group}`)).toEqual(Array.from({ length: group }, () => flat).flat());
        },
      ),
    );
  });

  it("repeats the last entry past the end", () => {
    const series = Uint8Array.from([UP, DOWN]);
    expect([0, 1, 2, 99].map((i) => entryAt(series, i))).toEqual([UP, DOWN, DOWN, DOWN]);
  });
});

describe("notation errors say where and what", () => {
  it("points at an unknown word and suggests the right one", () => {
    expect(failure("down x5, upp")).toMatchObject({
      message: 'expected "up", "down" or a "(" group, got "upp"',
      index: 9,
      hint: 'did you mean "up"?',
    });
    expect(failure("Down")).toMatchObject({ index: 0, hint: 'did you mean "down"?' });
  });

  it("finds a missing count, a missing comma and unbalanced groups", () => {
    expect(failure("down x")).toMatchObject({
      message: '"x" must be followed by a count, e.g. "down x5"',
      index: 5,
    });
    expect(failure("up down")).toMatchObject({ message: 'unexpected "d"', index: 3 });
    expect(failure("(up, down")).toMatchObject({ message: 'missing ")" to close this group', index: 0 });
    expect(failure("up)")).toMatchObject({ message: 'unexpected a ")" without its "("', index: 2 });
    expect(failure("")).toMatchObject({
      message: 'expected "up", "down" or a "(" group, got the end',
      index: 0,
    });
    expect(failure("up,")).toMatchObject({ index: 3 });
  });

  it("accepts only heal:ok and heal:fails, and only on down", () => {
    expect(failure("down(heal:okay)")).toMatchObject({ index: 5, hint: 'did you mean "heal:ok"?' });
    expect(failure("up(heal:ok)")).toMatchObject({
      message: "a heal outcome only fits a down entry: upkeep heals only when the probe fails",
      hint: 'write "down(heal:ok)"',
    });
    expect(failure("down(heal:ok")).toMatchObject({ message: 'missing ")" after the heal outcome' });
  });

  it("refuses counts of zero and runs longer than the limit", () => {
    expect(failure("up x0")).toMatchObject({ message: `a count must be between 1 and ${MAX_TICKS}, got 0` });
    expect(failure("(up x100000) x100000")).toMatchObject({
      message: `10000000000 ticks is more than the limit of ${MAX_TICKS}`,
    });
    expect(failure("(".repeat(20) + "up" + ")".repeat(20))).toMatchObject({
      message: "groups nested deeper than 16 levels",
    });
  });
});
