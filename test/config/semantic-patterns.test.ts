import { describe, expect, it } from "vitest";
import { backtrackingProblem, checkPatterns } from "../../src/config/semantic-patterns.js";

/** A services document with one http probe per pattern (ids p0, p1, ...). */
function doc(...patterns: string[]): unknown {
  return {
    version: 1,
    services: Object.fromEntries(
      patterns.map((bodyMatches, i) => [
        `p${i}`,
        { probe: { type: "http", url: "http://127.0.0.1:1/", expect: { bodyMatches } } },
      ]),
    ),
  };
}

/** Patterns that take exponential time on a backtracking engine against some text. */
const EXPONENTIAL = [
  "^(a+)+$",
  "(a|a)*",
  "(.*)*",
  "(a*)*b",
  "^(\\w+\\s?)*$",
  "(.*,)+x",
  "(\\w|\\d)+!",
  "(.|\\s)*$",
  "((ab)+)+c",
  "(x+x+)+y",
  '(?:"[^"]*"|[^,]*)*;',
  "(a+){1,20}",
  "(?=(a+)+$)",
];

/** Patterns health checks use, and repetitions a separator keeps linear: no warning. */
const FINE = [
  '"status"\\s*:\\s*"ok"',
  "^version \\d+\\.\\d+",
  "^(\\d+\\.)+\\d+$",
  "^(?:[a-z0-9-]+\\.)+[a-z]{2,}$",
  "(a+b+)+",
  "(\\w+\\s)+$",
  "(bar|baz)+",
  "(a*b|c)+",
  '(?:[^"\\\\]|\\\\.)*',
  "^(\\d+\\.){3}\\d+$",
  "\\bready\\b",
  "(a)\\1",
  "[(+*]+",
  "\\(a+\\)+",
];

describe("backtracking-pattern: the shapes that backtrack exponentially", () => {
  it.each(EXPONENTIAL)("warns about %s", (source) => {
    expect(backtrackingProblem(source)).toBeDefined();
  });

  it.each(FINE)("says nothing about %s", (source) => {
    expect(backtrackingProblem(source)).toBeUndefined();
  });

  it("names the repeated group, what it holds, and a rewrite", () => {
    const [finding, ...rest] = checkPatterns(doc("^(a+)+$"));
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      pointer: "/services/p0/probe/expect/bodyMatches",
      code: "backtracking-pattern",
      severity: "warning",
      message:
        "bodyMatches repeats `(a+)+`, which holds `a+` with nothing between the repetitions that `a+` cannot match itself: on text that almost matches, a backtracking engine tries exponentially many ways; upkeep stops a match at the probe timeout, so the probe can fail instead of answering",
    });
    expect(finding?.hint).toMatch(/`\(a\+\)\+` -> `a\+`/);
    expect(backtrackingProblem("(a|a)*")?.why).toBe(
      "repeats `(a|a)*`, whose alternatives 1 and 2 can begin with the same text",
    );
    expect(backtrackingProblem("(.*)*")?.why).toBe(
      "repeats `(.*)*`, which can match empty text and holds a quantifier without bound",
    );
  });
});

describe("invalid-pattern: what JavaScript cannot compile is an error, with where and what to do", () => {
  it.each([
    ["version (\\d+", "Unterminated group (at character 9)", /parentheses must pair up/],
    ["a)b", "Unmatched ')' (at character 2)", /parentheses must pair up/],
    ["*ok", "Nothing to repeat (at character 1)", /write \\\*, \\\+ or \\\? to match the character/],
    ["ok [a-z", "Unterminated character class (at character 4)", /write \\\[ to match a bracket/],
    ["(?P<v>\\d+)", "Invalid group (at character 1)", /\(\?<name>\.\.\.\)/],
    ["(?i)ok", "Invalid group (at character 1)", /no inline flags/],
    ["ok\\", "\\ at end of pattern (at character 3)", /lone backslash/],
  ])("%s", (source, what, hint) => {
    const [finding, ...rest] = checkPatterns(doc(source));
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      pointer: "/services/p0/probe/expect/bodyMatches",
      code: "invalid-pattern",
      message: `bodyMatches is not a valid JavaScript regular expression: ${what}`,
    });
    expect(finding?.severity ?? "error").toBe("error");
    expect(finding?.hint).toMatch(hint);
  });
});

describe("checkPatterns: where patterns are", () => {
  it("reads bodyMatches of http probes and stdoutMatches of exec probes only", () => {
    const findings = checkPatterns({
      services: {
        web: { probe: { type: "http", url: "x", expect: { bodyMatches: "(" } } },
        job: { probe: { type: "exec", command: ["x"], expect: { stdoutMatches: "(a+)+" } } },
        // Another probe type's parameter of the same name is not a pattern upkeep runs.
        other: { probe: { type: "tcp", port: 1, expect: { bodyMatches: "(" } } },
        wrongKey: { probe: { type: "exec", command: ["x"], expect: { bodyMatches: "(" } } },
      },
    });
    expect(findings.map((f) => [f.pointer, f.code])).toEqual([
      ["/services/web/probe/expect/bodyMatches", "invalid-pattern"],
      ["/services/job/probe/expect/stdoutMatches", "backtracking-pattern"],
    ]);
  });

  it("leaves templated patterns to run time and odd shapes to the schema", () => {
    expect(checkPatterns(doc("${env:PATTERN}", "^${{ service.id }}(a+)+$"))).toEqual([]);
    expect(
      checkPatterns({ services: { a: { probe: { type: "http", expect: { bodyMatches: 5 } } } } }),
    ).toEqual([]);
    expect(checkPatterns({ services: [] })).toEqual([]);
    expect(checkPatterns(null)).toEqual([]);
  });
});
