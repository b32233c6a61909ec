import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { INLINE_WORK_LIMIT, linearRegExp, matchPattern } from "../../src/runtime/pattern-match.js";

const never = (): AbortSignal => new AbortController().signal;
const EVIL = `${"a".repeat(30)}!`;
/** `^(a+)+$` with a lookahead V8's linear engine refuses: only backtracking (in a worker) can run it. */
const EVIL_BACKTRACKING = "^(?!x)(a+)+$";

/** Patterns the checks use in practice, and the features the linear engine lacks. */
const PATTERNS = [
  '"status"\\s*:\\s*"ok"',
  "^version \\d+\\.\\d+",
  "\\bready\\b",
  "^(a+)+$",
  "(a|ab)*b$",
  "[^\\n]*!$",
  "(?<word>\\w+) \\k<word>",
  "(a)\\1",
  "(?=ab)a",
  "(?<!a)b",
  "\\u00e9",
];

describe("matchPattern", () => {
  it("gives RegExp's answer, in this thread for small texts and in a worker for large ones", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PATTERNS),
        fc.string({ unit: fc.constantFrom("a", "b", "!", " ", "\n", "é", "w"), maxLength: 12 }),
        fc.boolean(),
        async (source, text, large) => {
          // Padding in front changes no answer of these patterns but makes the work too large for this thread.
          const input = large ? `${"\n".repeat(INLINE_WORK_LIMIT)}${text}` : text;
          const expected = new RegExp(source).test(input);
          expect(await matchPattern(source, input, { budgetMs: 10_000, signal: never() })).toEqual({
            kind: "done",
            matched: expected,
          });
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);

  it("answers a pattern that backtracks exponentially at once when the linear engine takes it", async () => {
    expect(linearRegExp("^(a+)+$")).toBeInstanceOf(RegExp);
    expect(await matchPattern("^(a+)+$", EVIL, { budgetMs: 0, signal: never() })).toEqual({
      kind: "done",
      matched: false,
    });
  });

  it("stops a worker at the end of its budget and says how long it had", async () => {
    expect(linearRegExp(EVIL_BACKTRACKING)).toBeUndefined();
    expect(await matchPattern(EVIL_BACKTRACKING, EVIL, { budgetMs: 200, signal: never() })).toEqual({
      kind: "timeout",
      ms: 200,
    });
    expect(await matchPattern(EVIL_BACKTRACKING, EVIL, { budgetMs: -5, signal: never() })).toEqual({
      kind: "timeout",
      ms: 0,
    });
  });

  it("stops when the probe's signal aborts (tick timeout, shutdown)", async () => {
    const aborted = new AbortController();
    aborted.abort();
    expect(await matchPattern("a", "a", { budgetMs: 1000, signal: aborted.signal })).toEqual({
      kind: "aborted",
    });
    const later = new AbortController();
    const pending = matchPattern(EVIL_BACKTRACKING, EVIL, { budgetMs: 20_000, signal: later.signal });
    setTimeout(() => later.abort(), 100);
    expect(await pending).toEqual({ kind: "aborted" });
  }, 10_000);
});
