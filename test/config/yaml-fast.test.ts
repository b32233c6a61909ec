import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { LineCounter, parseDocument } from "yaml";
import { parsePointer, toPointer } from "../../src/config/diagnostics.js";
import { parseYaml } from "../../src/config/load.js";
import { loadRules } from "../../src/config/validate.js";
import { parseFast } from "../../src/config/yaml-fast.js";
import { resolvePlain } from "../../src/config/yaml-scalars.js";
import { offsetOf, type Scan, scanTree } from "../../src/config/yaml-tree.js";

/**
 * The fast path must mean what `yaml` means: whenever it accepts a text, `yaml` parses the same text
 * without an error, a warning, a duplicate or reserved key or an alias, builds the same value, and
 * puts every node at the same line and column. Whatever it does not accept goes to `yaml` unchanged.
 */

/** What `yaml` (the reference) makes of a text, as load.ts's full parser reads it. */
function reference(text: string) {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const scan: Scan = { forbidden: [], duplicates: [] };
  if (doc.errors.length === 0) scanTree(doc.contents, [], new Set(), new Set(), scan);
  const clean =
    doc.errors.length === 0 &&
    doc.warnings.length === 0 &&
    scan.duplicates.length === 0 &&
    scan.forbidden.length === 0 &&
    scan.firstAlias === undefined;
  const position = (pointer: string, key: boolean) => {
    const { line, col } = lineCounter.linePos(offsetOf(doc, parsePointer(pointer), key));
    return { line: Math.max(1, line), column: Math.max(1, col) };
  };
  return { clean, value: clean ? doc.toJS({ maxAliasCount: 50 }) : undefined, position };
}

/** Every pointer into `value`, and a few that lead nowhere from each (nearest-ancestor fallback). */
function pointers(value: unknown, path: string[] = [], out: string[] = []): string[] {
  out.push(toPointer(path));
  for (const extra of ["nope", "0", "7"]) out.push(toPointer([...path, extra]));
  if (Array.isArray(value)) value.forEach((v, i) => pointers(v, [...path, String(i)], out));
  else if (value !== null && typeof value === "object")
    for (const [k, v] of Object.entries(value)) pointers(v, [...path, k], out);
  return out;
}

/** Checks one text; returns whether the fast path took it. */
function agrees(text: string): boolean {
  const fast = parseFast(text);
  if (fast === undefined) return false;
  const ref = reference(text);
  expect(ref.clean, `yaml finds a problem in a text the fast path accepted:\n${text}`).toBe(true);
  expect(isDeepStrictEqual(fast.value, ref.value), `values differ for:\n${text}`).toBe(true);
  expect(Object.getPrototypeOf(fast.value)).toBe(Object.prototype);
  const file = parseYaml(text, "f.yaml");
  for (const pointer of pointers(fast.value)) {
    for (const key of [false, true]) {
      expect(file.positionOf(pointer, { key }), `${pointer} key=${key} in:\n${text}`).toEqual(
        ref.position(pointer, key),
      );
    }
  }
  return true;
}

// ---- generated documents ----------------------------------------------------------------------------

/** Scalars and keys the fast path takes, and near misses it must leave to `yaml` (or get exactly right). */
const SCALARS = [
  ...["a", "b c", "1", "-1", "+1", "0o17", "0x1F", "1e3", "1.5", "1.", ".5", "-.5", ".inf", "-.Inf", ".nan"],
  ...["null", "Null", "~", "true", "False", "yes", "on", "2s", "127.0.0.1", "http://x:80/a#b", "a#b"],
  ...["x:y", "'q'", "'it''s'", "''", '""', '"a\\"b"', '"\\n\\t"', "café", "<<", "0", "007", "-0", "1_000"],
  ...['"${{ p }}"', "{}", "[]", "1:1", "é", "-c", "--x", "-.x", "a-", "😀"],
];
/** Plain text that means something else inside a flow collection. */
const BLOCK_ONLY = ["a #c", "a, b", "a ,b", "a]", "a {b}", "${{ params.x }}"];
const NEAR_MISSES = [
  ...["a: b", "a:", "- x", "-", "? x", ":x", "&a x", "*a", "!!str 1", "!x y", "|", ">-", "'a", '"a'],
  ...['"\\x41"', '"\\u00e9"', "%x", "@x", "`x", "a\u2028b", "a\u0085b", "#c", "[a", "{a: 1"],
  ...["a\tb", "-[", "-}"],
];
const KEYS = [
  ...["a", "b", "x.y", "x-y", "x/y", "_x", "toString", '"q k"', "'s k'", '"a"'],
  ...["1", "1.0", "01", "0x1", "1e2", "null", "Null", "true", "True", "n", "y"],
];
const ODD_KEYS = ["~", "-x", ".x", "a b", "a:b", "é", "<<", "$x", "__proto__", "constructor", "prototype"];

const scalar = fc.oneof(
  { arbitrary: fc.constantFrom(...SCALARS), weight: 40 },
  { arbitrary: fc.constantFrom(...BLOCK_ONLY), weight: 1 },
  { arbitrary: fc.constantFrom(...NEAR_MISSES), weight: 1 },
);
const blockScalar = fc.oneof(
  { arbitrary: fc.constantFrom(...SCALARS), weight: 30 },
  { arbitrary: fc.constantFrom(...BLOCK_ONLY), weight: 10 },
  { arbitrary: fc.constantFrom(...NEAR_MISSES), weight: 1 },
);
const key = fc.oneof(
  { arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{0,3}$/), weight: 30 },
  { arbitrary: fc.constantFrom(...KEYS), weight: 10 },
  { arbitrary: fc.constantFrom(...ODD_KEYS), weight: 1 },
);
const colon = fc.oneof(
  { arbitrary: fc.constant(": "), weight: 40 },
  { arbitrary: fc.constantFrom(":", " : "), weight: 1 },
);

type Flow = string | { map: [string, string, Flow][] } | { seq: Flow[] };
const flow: fc.Arbitrary<Flow> = fc.letrec<{ flow: Flow }>((tie) => ({
  flow: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.record({
      map: fc.array(fc.tuple(key, colon, tie("flow")), {
        maxLength: 3,
      }),
    }),
    fc.record({ seq: fc.array(tie("flow"), { maxLength: 3 }) }),
  ),
})).flow;

function renderFlow(f: Flow, spaced: boolean): string {
  if (typeof f === "string") return f;
  const [open, close] = spaced ? ["{ ", " }"] : ["{", "}"];
  if ("map" in f)
    return `${open}${f.map.map(([k, c, v]) => `${k}${c}${renderFlow(v, spaced)}`).join(", ")}${close}`;
  return `[${f.seq.map((v) => renderFlow(v, spaced)).join(", ")}]`;
}

type Block =
  | { kind: "map"; entries: { key: string; value: Block | Flow; comment: string }[] }
  | { kind: "seq"; items: { value: Block | Flow; comment: string }[] };
const comment = fc.oneof(
  { arbitrary: fc.constantFrom("", " # note", "  #x"), weight: 20 },
  { arbitrary: fc.constant("# not a comment"), weight: 1 },
);
const block: fc.Arbitrary<Block> = fc.letrec<{ block: Block; value: Block | Flow }>((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, blockScalar, flow, tie("block")),
  block: fc.oneof(
    fc.record({
      kind: fc.constant("map" as const),
      entries: fc.array(fc.record({ key, value: tie("value"), comment }), {
        minLength: 1,
        maxLength: 4,
      }),
    }),
    fc.record({
      kind: fc.constant("seq" as const),
      items: fc.array(fc.record({ value: tie("value"), comment }), { minLength: 1, maxLength: 4 }),
    }),
  ),
})).block;

interface Style {
  step: number;
  /** Sequences under a key at the key's column (`steps:\n- a`). */
  compactSeq: boolean;
  /** `- key: v` rather than `-` and the mapping below. */
  inlineMap: boolean;
  spaced: boolean;
  comments: boolean;
}

function renderBlock(b: Block, indent: number, style: Style, out: string[]): void {
  const pad = " ".repeat(indent);
  const nested = (value: Block, owner: number): void => {
    const at = value.kind === "seq" && style.compactSeq ? owner : owner + style.step;
    renderBlock(value, at, style, out);
  };
  if (b.kind === "map") {
    for (const { key, value, comment: c } of b.entries) {
      if (style.comments && c !== "") out.push(`${pad}#${c}`);
      if (typeof value === "object" && "kind" in value) {
        out.push(`${pad}${key}:${style.comments ? c : ""}`);
        nested(value, indent);
      } else out.push(`${pad}${key}: ${renderFlow(value, style.spaced)}${style.comments ? c : ""}`);
    }
    return;
  }
  for (const { value, comment: c } of b.items) {
    if (typeof value === "object" && "kind" in value) {
      if (value.kind === "map" && style.inlineMap) {
        const inner: string[] = [];
        renderBlock(value, indent + 2, style, inner);
        const first = inner.findIndex((l) => !l.trimStart().startsWith("#"));
        inner[first] = `${pad}- ${(inner[first] as string).slice(indent + 2)}`;
        out.push(...inner);
      } else {
        out.push(`${pad}-${style.comments ? c : ""}`);
        renderBlock(value, indent + 2, style, out);
      }
    } else out.push(`${pad}- ${renderFlow(value, style.spaced)}${style.comments ? c : ""}`);
  }
}

const style: fc.Arbitrary<Style> = fc.record({
  step: fc.constantFrom(1, 2, 2, 4),
  compactSeq: fc.boolean(),
  inlineMap: fc.boolean(),
  spaced: fc.boolean(),
  comments: fc.boolean(),
});

/** Edits that make near misses: a character inserted or removed, a line repeated. */
const edit = fc.tuple(
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.constantFrom(..." \n:-#'\"{}[],!&*?|>\\\t\r".split(""), "  ", "\n  ", "---\n", "", "dup"),
);
const edits = fc.oneof(
  { arbitrary: fc.constant<[number, string][]>([]), weight: 3 },
  { arbitrary: fc.array(edit, { minLength: 1, maxLength: 2 }), weight: 1 },
);

function document(root: Block, s: Style, changes: [number, string][]): string {
  const lines: string[] = [];
  renderBlock(
    root.kind === "map" ? root : { kind: "map", entries: [{ key: "k", value: root, comment: "" }] },
    0,
    s,
    lines,
  );
  let text = `${lines.join("\n")}\n`;
  for (const [where, what] of changes) {
    const at = Math.floor(where * text.length);
    if (what === "") text = text.slice(0, at) + text.slice(at + 1);
    else if (what === "dup") {
      const ls = text.split("\n");
      const i = Math.floor(where * ls.length);
      ls.splice(i, 0, ls[Math.max(0, i - 1)] as string);
      text = ls.join("\n");
    } else text = text.slice(0, at) + what + text.slice(at);
  }
  return text;
}

describe("fast YAML path", () => {
  it("means what yaml means: same value, same positions, or it leaves the text to yaml", () => {
    let taken = 0;
    fc.assert(
      fc.property(block, style, edits, (root, s, changes) => {
        if (agrees(document(root, s, changes))) taken++;
      }),
      { numRuns: 1000 },
    );
    // The generator must exercise the fast path, not only the fallback.
    expect(taken).toBeGreaterThan(300);
  });

  it("reads rules written like the 5,000-service benchmark's", () => {
    const services = [
      "# yaml-language-server: $schema=../schemas/editor/services.json",
      "version: 1",
      "defaults:",
      "  probe: { timeout: 2s }",
      "  heal: { cooldown: 5m, budget: { max: 3, per: 1h } }",
      "recipes:",
      "  launchd-restart:",
      "    params:",
      "      label: { required: true }",
      "    steps:",
      "      - action: launchd.unload",
      '        with: { label: "${{ params.label }}" }',
      "      - action: verify",
      "services:",
      "  svc-1:",
      "    title: Service 1",
      '    probe: { type: http, url: "http://127.0.0.1:1025/health", expect: { status: 200 } }',
      "    dependsOn: [svc-0]",
      "    heal: { recipe: launchd-restart, with: { label: com.example.svc-1 } }",
      "alerts:",
      '  when: { and: [{ "==": [{ var: status }, "down"] }, { ">=": [{ var: consecutiveFailures }, 5] }] }',
      "steps:",
      "- action: exec",
      "  with:",
      "    command: [sh, -c, 'exit 0']",
      "",
    ].join("\n");
    expect(agrees(services)).toBe(true);
  });

  it("leaves everything outside its subset to yaml", () => {
    for (const text of [
      "a: &x 1\nb: *x\n",
      "a: !!str 1\n",
      "a: |\n  text\n",
      "a: >-\n  text\n",
      "a: one\n  two\n",
      "a: { b: 1,\n  c: 2 }\n",
      "a: 1\na: 2\n",
      "__proto__: { polluted: true }\n",
      "a:\n  constructor: 1\n",
      "a:\n\tb: 1\n",
      "a: 1\r\nb: 2\r\n",
      "---\na: 1\n",
      "%YAML 1.2\n---\na: 1\n",
      "a: 1\n...\n",
      "- a\n- b\n",
      "a:\n  -\n  - b\n",
      "a: b: c\n",
      'a: "\\x41"\n',
      "? a\n: b\n",
      "{ a: 1 }\n",
      "# only a comment\n",
      "",
      // Past 64 levels: yaml reports a stack overflow a few hundred levels down.
      Array.from({ length: 65 }, (_, i) => `${" ".repeat(i)}k:\n`).join(""),
      `a: ${"[".repeat(65)}${"]".repeat(65)}\n`,
    ]) {
      expect(parseFast(text), JSON.stringify(text)).toBeUndefined();
      const ref = reference(text);
      if (ref.clean) expect(parseYaml(text, "f.yaml").value).toEqual(ref.value);
    }
  });

  it("resolves plain scalars as yaml's core schema does", () => {
    const samples = [
      ...[
        "~",
        "~~",
        "null",
        "Null",
        "NULL",
        "nULL",
        "nil",
        "n",
        "true",
        "True",
        "TRUE",
        "tRUE",
        "t",
        "false",
      ],
      ...[
        "False",
        "FALSE",
        "f",
        "yes",
        "0",
        "-0",
        "+0",
        "007",
        "+12",
        "-12",
        "1_0",
        "0o17",
        "0o8",
        "0o",
        "0x1F",
      ],
      ...["0xg", "0x", "0b1", "1.5", "1.", ".5", "-.5", "+.5", "1e3", "1E+3", "1.e3", "1e", ".e3", "1.5.3"],
      ...[
        ".inf",
        "-.Inf",
        "+.INF",
        ".nan",
        ".NaN",
        ".NAN",
        "-.nan",
        ".Nan",
        "9007199254740993",
        "1e400",
        ".",
      ],
      ...["+", "..", "2s", "127.0.0.1", "svc-1", "0.0.0.0"],
    ];
    for (const text of samples) {
      const expected = (parseDocument(`a: ${text}\n`).toJS() as { a: unknown }).a;
      expect(
        Object.is(resolvePlain(text), expected) || isDeepStrictEqual(resolvePlain(text), expected),
        text,
      ).toBe(true);
    }
  });

  it("never builds an object with another prototype, whatever the keys", () => {
    const y = parseYaml(
      "a: { toString: 1, hasOwnProperty: 2, valueOf: { __defineGetter__: 3 } }\n",
      "f.yaml",
    );
    expect(parseFast("a: { toString: 1 }\n")).toBeDefined();
    expect(y.value).toEqual({ a: { toString: 1, hasOwnProperty: 2, valueOf: { __defineGetter__: 3 } } });
    expect(Object.getPrototypeOf((y.value as { a: object }).a)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
});

describe("validate through the fast path", () => {
  const FIXTURES = fileURLToPath(new URL("../fixtures/rules/", import.meta.url));
  const SHIPPED = resolve(fileURLToPath(new URL("../../rules/", import.meta.url)));
  const work = mkdtempSync(join(tmpdir(), "upkeep-yaml-fast-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** A copy whose YAML files end with a comment holding a tab, which sends them to the full parser. */
  function slowCopy(dir: string, name: string): string {
    const copy = join(work, name);
    cpSync(dir, copy, { recursive: true });
    for (const file of ["services.yaml", "alerts.yaml"]) {
      if (existsSync(join(copy, file))) appendFileSync(join(copy, file), "\n# \t\n");
    }
    return copy;
  }

  it("reports the same diagnostics, at the same lines and columns, as the full parser", async () => {
    const dirs = readdirSync(FIXTURES).map((name) => [name, join(FIXTURES, name)] as const);
    dirs.push(["shipped", SHIPPED]);
    let fast = 0;
    for (const [name, dir] of dirs) {
      if (!existsSync(join(dir, "services.yaml"))) continue;
      const text = readFileSync(join(dir, "services.yaml"), "utf8");
      // Plugins register their handlers process-wide: a second copy of one would clash with the first.
      if (text.includes("plugins:")) continue;
      const options = { env: {}, normalize: false };
      const copy = slowCopy(dir, name);
      const viaFast = await loadRules(dir, options);
      const viaFull = await loadRules(copy, options);
      const shown = JSON.stringify(viaFull.diagnostics, null, 1).replaceAll(copy, dir);
      expect(JSON.stringify(viaFast.diagnostics, null, 1), name).toBe(shown);
      if (parseFast(text) !== undefined) fast++;
    }
    // Most fixtures (each with one mistake) are read by the fast path, so their positions came from it.
    expect(fast).toBeGreaterThan(40);
  });
});

describe("the yaml version the fast reader was checked against", () => {
  // yaml-fast.ts copies yaml 2.9's rules for plain scalars, escapes and key strings; a new yaml can change
  // one of them. package.json pins it: upgrade it on purpose, then run yaml-fast-adversarial.test.ts with
  // YAML_FAST_RUNS=200000 and update this version.
  it("is the installed one", () => {
    const installed = JSON.parse(
      readFileSync(fileURLToPath(new URL("../../node_modules/yaml/package.json", import.meta.url)), "utf8"),
    ) as { version: string };
    expect(installed.version).toBe("2.9.1");
  });
});
