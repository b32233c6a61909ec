import { describe, expect, it } from "vitest";
import { parseYaml } from "../../src/config/load.js";

/** Syntax mistakes: one diagnostic each, on the line that is wrong, saying what was expected. */
const errors = (text: string): unknown[][] =>
  parseYaml(text, "services.yaml")
    .diagnostics.filter((d) => d.severity === "error")
    .map((d) => [d.line, d.column, d.message, d.hint]);

const HEAD = "version: 1\nservices:\n  web:\n    probe:\n";

describe("YAML indentation and quoting mistakes", () => {
  it("a key between two levels: the line itself, with both columns that would fit", () => {
    expect(errors(`${HEAD}      type: tcp\n     port: 8080\n`)).toEqual([
      [
        6,
        6,
        '"port" is indented 5 spaces, which matches no open block',
        'indent it 6 spaces like "type" on line 5, or 4 spaces like "probe" on line 4',
      ],
    ]);
  });

  it("a key deeper than the one above it: that line, not the one before (and no quoting hint)", () => {
    expect(
      errors(`${HEAD}      type: tcp\n        port: 8080\n  db:\n    probe: { type: tcp, port: 1 }\n`),
    ).toEqual([
      [
        6,
        9,
        '"port" is indented 8 spaces, deeper than "type" on line 5, which already has a value',
        'indent it 6 spaces like "type" (or fewer to end that block)',
      ],
    ]);
  });

  it("a tab: one error with the number of spaces that fit there", () => {
    expect(errors(`${HEAD}\ttype: tcp\n      port: 8080\n`)).toEqual([
      [
        5,
        1,
        "a tab indents this line: YAML indents with spaces only",
        'indent it with 6 spaces (deeper than "probe" on line 4)',
      ],
    ]);
  });

  it("a list item out of line with its siblings", () => {
    const text = `${HEAD}      type: tcp\n      port: 1\n    heal:\n      steps:\n        - action: wait\n          with: { for: 1s }\n         - action: verify\n`;
    expect(errors(text)).toEqual([
      [
        11,
        10,
        "this list item is indented 9 spaces, which matches no open block",
        'indent it 8 spaces like the list item on line 9, or 10 spaces like "with" on line 10',
      ],
    ]);
  });

  it("an unclosed quote: reported where it opens, not at the end of the file", () => {
    const text = `${HEAD.replace("    probe:\n", '    title: "My web\n    probe:\n')}      type: tcp\n      port: 8080\n  db:\n    probe: { type: tcp, port: 5432 }\n`;
    expect(errors(text)).toEqual([
      [
        4,
        12,
        "this double-quoted string is never closed",
        'add the closing " on line 4; without it the string runs to the end of the file',
      ],
    ]);
  });

  it('keeps the quoting hint where it applies: a value with ": " in it', () => {
    expect(errors(`${HEAD}      type: tcp\n      port: 1\n    title: a: b\n`)).toEqual([
      [
        7,
        12,
        "Nested mappings are not allowed in compact mappings",
        'a value that contains ": " must be quoted, e.g. title: "a: b"',
      ],
    ]);
  });

  it("valid files with block scalars, flow maps over lines and multi-line strings stay valid", () => {
    const text = `${HEAD}      type: exec\n      command:\n      - sh\n      - -c\n      - |\n          echo a\n            echo b\n    description: >\n      folded\n        more\n    tags: [a,\n        b]\n    title: "two\n        lines"\n`;
    expect(errors(text)).toEqual([]);
  });
});
