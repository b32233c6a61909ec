/**
 * The series notation of rule tests: what a service's probe sees at each tick.
 *
 *   series := item ("," item)*
 *   item   := unit ("x" N)?                  repeat the unit N times
 *   unit   := "up" | "down" outcome? | "(" series ")"
 *   outcome:= "(" "heal:ok" | "heal:fails" ")"    how a heal at that tick ends (default: see below)
 *
 * e.g. `up x3, down x5, up`, `down(heal:fails) x3`, `(down x2, up x10) x100`.
 *
 * A series expands into one byte per tick (a thousand days at 5 minutes is 288,000 bytes), so long runs
 * cost nothing to store and reading an entry is an array index.
 */
import { suggest } from "../config/suggest.js";

export const UP = 0;
export const DOWN = 1;
/** Down, and a heal at this tick succeeds whatever the next entry says. */
export const DOWN_HEAL_OK = 2;
/** Down, and a heal at this tick fails whatever the next entry says. */
export const DOWN_HEAL_FAILS = 3;
export type Entry = typeof UP | typeof DOWN | typeof DOWN_HEAL_OK | typeof DOWN_HEAL_FAILS;

/** About 95 years of 5-minute ticks: a bound on memory, far beyond any useful test. */
export const MAX_TICKS = 10_000_000;
const MAX_DEPTH = 16;

export type SeriesResult =
  | { readonly ok: true; readonly entries: Uint8Array }
  | { readonly ok: false; readonly message: string; readonly index: number; readonly hint?: string };

type Node = { readonly code: Entry } | { readonly group: readonly Item[] };
interface Item {
  readonly node: Node;
  readonly times: number;
}

class NotationError extends Error {
  constructor(
    message: string,
    readonly index: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function parseSeries(text: string): SeriesResult {
  try {
    const parser = new Parser(text);
    const items = parser.series(0);
    parser.skipSpace();
    if (parser.pos < text.length) {
      const what = text[parser.pos] === ")" ? 'a ")" without its "("' : `"${text[parser.pos] ?? ""}"`;
      throw new NotationError(
        `unexpected ${what}`,
        parser.pos,
        'separate entries with ",", e.g. "up x3, down"',
      );
    }
    const total = lengthOf(items);
    if (total > MAX_TICKS)
      throw new NotationError(`${total} ticks is more than the limit of ${MAX_TICKS}`, 0);
    const entries = new Uint8Array(total);
    fill(items, entries, 0);
    return { ok: true, entries };
  } catch (error) {
    if (!(error instanceof NotationError)) throw error;
    return {
      ok: false,
      message: error.message,
      index: error.index,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    };
  }
}

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] as string)) this.pos++;
  }

  series(depth: number): Item[] {
    const items = [this.item(depth)];
    for (this.skipSpace(); this.text[this.pos] === ","; this.skipSpace()) {
      this.pos++;
      items.push(this.item(depth));
    }
    return items;
  }

  private item(depth: number): Item {
    this.skipSpace();
    const node = this.unit(depth);
    this.skipSpace();
    if (this.text[this.pos] !== "x" && this.text[this.pos] !== "×") return { node, times: 1 };
    const at = this.pos;
    this.pos++;
    this.skipSpace();
    const digits = /^\d+/.exec(this.text.slice(this.pos))?.[0];
    if (digits === undefined) throw new NotationError('"x" must be followed by a count, e.g. "down x5"', at);
    const times = Number(digits);
    if (times < 1 || times > MAX_TICKS) {
      throw new NotationError(`a count must be between 1 and ${MAX_TICKS}, got ${digits}`, this.pos);
    }
    this.pos += digits.length;
    return { node, times };
  }

  private unit(depth: number): Node {
    const start = this.pos;
    if (this.text[this.pos] === "(") {
      if (depth >= MAX_DEPTH) throw new NotationError(`groups nested deeper than ${MAX_DEPTH} levels`, start);
      this.pos++;
      const group = this.series(depth + 1);
      this.skipSpace();
      if (this.text[this.pos] !== ")") throw new NotationError('missing ")" to close this group', start);
      this.pos++;
      return { group };
    }
    const word = /^[A-Za-z_:-]+/.exec(this.text.slice(this.pos))?.[0] ?? "";
    if (word !== "up" && word !== "down") {
      const got =
        word === ""
          ? this.pos < this.text.length
            ? `"${this.text[this.pos] ?? ""}"`
            : "the end"
          : `"${word}"`;
      const guess = word === "" ? undefined : suggest(word, ["up", "down"]);
      throw new NotationError(
        `expected "up", "down" or a "(" group, got ${got}`,
        start,
        guess === undefined ? undefined : `did you mean "${guess}"?`,
      );
    }
    this.pos += word.length;
    return { code: this.outcome(word) };
  }

  /** `(heal:ok)` / `(heal:fails)` right after `down`; a `(` can follow a word only as this. */
  private outcome(word: "up" | "down"): Entry {
    const before = this.pos;
    this.skipSpace();
    if (this.text[this.pos] !== "(") {
      this.pos = before;
      return word === "up" ? UP : DOWN;
    }
    const start = this.pos;
    const close = this.text.indexOf(")", start);
    const inner = (close === -1 ? this.text.slice(start + 1) : this.text.slice(start + 1, close)).replace(
      /\s+/g,
      "",
    );
    if (close === -1) throw new NotationError('missing ")" after the heal outcome', start);
    if (inner !== "heal:ok" && inner !== "heal:fails") {
      const guess = suggest(inner, ["heal:ok", "heal:fails"]);
      throw new NotationError(
        `unknown heal outcome "${inner}" (use heal:ok or heal:fails)`,
        start + 1,
        guess === undefined ? undefined : `did you mean "${guess}"?`,
      );
    }
    if (word === "up") {
      throw new NotationError(
        "a heal outcome only fits a down entry: upkeep heals only when the probe fails",
        start,
        `write "down(${inner})"`,
      );
    }
    this.pos = close + 1;
    return inner === "heal:ok" ? DOWN_HEAL_OK : DOWN_HEAL_FAILS;
  }
}

function lengthOf(items: readonly Item[]): number {
  let total = 0;
  for (const item of items) {
    const one = "code" in item.node ? 1 : lengthOf(item.node.group);
    total += one * item.times;
    // Stop multiplying early: a huge count must not turn into Infinity or take long.
    if (total > MAX_TICKS) return total;
  }
  return total;
}

/** Writes `items` from `at`; returns the index after the last entry written. */
function fill(items: readonly Item[], out: Uint8Array, at: number): number {
  let pos = at;
  for (const { node, times } of items) {
    if ("code" in node) {
      out.fill(node.code, pos, pos + times);
      pos += times;
      continue;
    }
    const start = pos;
    pos = fill(node.group, out, pos);
    const size = pos - start;
    for (let i = 1; i < times; i++) {
      out.copyWithin(pos, start, start + size);
      pos += size;
    }
  }
  return pos;
}

/** The entry at 0-based tick `i`; past the end of the series its last entry repeats. */
export function entryAt(entries: Uint8Array, i: number): Entry {
  return (entries[Math.min(i, entries.length - 1)] ?? UP) as Entry;
}
