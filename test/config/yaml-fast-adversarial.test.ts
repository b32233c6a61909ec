import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Finding, toPointer } from "../../src/config/diagnostics.js";
import { parseYaml, type YamlFile } from "../../src/config/load.js";
import { parseFast } from "../../src/config/yaml-fast.js";

/**
 * An adversarial check of the fast YAML reader's promise: for any text, `parseFast` either declines (and
 * `yaml` reads the text as before) or gives exactly what the full path gives a file without a single
 * diagnostic: the same value (key order, -0 and NaN included) and the same position for every pointer,
 * key or value. A rules file must mean one thing, whichever reader read it.
 *
 * The reference is load.ts itself, loaded a second time with `parseFast` switched off, so it is the real
 * full path (yaml, duplicate/forbidden-key and alias checks, warnings) on the very same text.
 * YAML_FAST_RUNS=<n> runs the generated documents n times instead of the suite's count.
 */

type Parse = (text: string, file: string) => YamlFile;
let parseFull: Parse;
let fullCalls = 0;

beforeAll(async () => {
  // yaml warns on the process (not in diagnostics) when it stringifies a collection key: noise here.
  vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
  vi.resetModules();
  vi.doMock("../../src/config/yaml-fast.js", async (importOriginal) => ({
    ...(await importOriginal<typeof import("../../src/config/yaml-fast.js")>()),
    parseFast: () => {
      fullCalls++;
      return undefined;
    },
  }));
  parseFull = (await import("../../src/config/load.js")).parseYaml;
  vi.doUnmock("../../src/config/yaml-fast.js");
});

afterAll(() => {
  vi.restoreAllMocks();
});

/** Same value as the full path builds: same prototypes, own keys in the same order, Object.is leaves. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return false;
    const da = Object.getOwnPropertyDescriptor(a, ka[i] as PropertyKey);
    const db = Object.getOwnPropertyDescriptor(b, kb[i] as PropertyKey);
    if (da?.enumerable !== db?.enumerable || da?.writable !== db?.writable) return false;
    if (!sameValue(da?.value, db?.value)) return false;
  }
  return true;
}

/** Every pointer into `value`, and from each a few that lead nowhere (nearest-ancestor fallback). */
function pointers(value: unknown, path: string[] = [], out: string[] = []): string[] {
  out.push(toPointer(path));
  for (const extra of ["nope", "0", "7", ""]) out.push(toPointer([...path, extra]));
  if (Array.isArray(value)) value.forEach((v, i) => pointers(v, [...path, String(i)], out));
  else if (value !== null && typeof value === "object")
    for (const [k, v] of Object.entries(value)) pointers(v, [...path, k], out);
  return out;
}

/** Asserts the promise for one text; returns whether the fast path took it. */
function keepsPromise(text: string, compareFallback = false): boolean {
  const json = JSON.stringify(text);
  const shown = json.length > 300 ? `${json.slice(0, 300)}… (${text.length} characters)` : json;
  const taken = parseFast(text) !== undefined;
  const fast = parseYaml(text, "f.yaml");
  const full = parseFull(text, "f.yaml");
  if (!taken) {
    if (compareFallback) {
      expect(fast.diagnostics, shown).toEqual(full.diagnostics);
      expect(sameValue(fast.value, full.value), shown).toBe(true);
    }
    return false;
  }
  const found = full.diagnostics.map((d) => `${d.severity} ${d.code} ${d.line}:${d.column} ${d.message}`);
  expect(found, `the full path reports problems in a text the fast path accepted: ${shown}`).toEqual([]);
  expect(full.usable, shown).toBe(true);
  expect(fast.diagnostics, shown).toEqual([]);
  expect(
    sameValue(fast.value, full.value),
    `values differ for ${shown}:\nfast ${JSON.stringify(fast.value)}\nfull ${JSON.stringify(full.value)}`,
  ).toBe(true);
  for (const pointer of pointers(full.value)) {
    for (const key of [false, true]) {
      expect(fast.positionOf(pointer, { key }), `${pointer} key=${key} in ${shown}`).toEqual(
        full.positionOf(pointer, { key }),
      );
    }
  }
  // The last node's key, as a finding about it would be reported.
  const all = pointers(full.value);
  const finding: Finding = {
    pointer: all[all.length - 5] as string,
    code: "unknown-key",
    message: "m",
    atKey: true,
  };
  expect(fast.toDiagnostic(finding), shown).toEqual(full.toDiagnostic(finding));
  return true;
}

// ---- hand-picked inputs ---------------------------------------------------------------------------------

const SCALARS = [
  ...["b#c", "b #c", "b  #c", "'#'", '"#"', "'a #b'", "'it''s'", "''", '""', "''''", "'a''", "a'b", 'a"b'],
  ...[
    '"\\u0041"',
    '"\\x41"',
    '"\\/"',
    '"\\t"',
    '"\\N"',
    '"\\_"',
    '"\\L"',
    '"\\P"',
    '"\\e"',
    '"\\0"',
    '"\\a"',
  ],
  ...[
    '"\\uD83D\\uDE00"',
    '"\\U0001F600"',
    '"\\ "',
    '"\\""',
    '"\\\\"',
    '"\\q"',
    '"a\\\\"',
    '"\\\\\\""',
    '"\\b\\f\\v"',
  ],
  ...[
    "1e3",
    "+1",
    "-0",
    "+0",
    "0x1F",
    "0X1F",
    "0o17",
    "0O17",
    "017",
    "08",
    "1_000",
    ".5",
    "5.",
    "-.5",
    "+.5",
  ],
  ...[
    ".inf",
    "-.Inf",
    "+.INF",
    ".NaN",
    ".nan",
    ".NAN",
    "-.nan",
    ".Nan",
    "1.0e+3",
    "1.0E-3",
    "1e+3",
    "1.e3",
    "1e",
  ],
  ...[
    "9007199254740993",
    "123456789012345678901234567890",
    "0x123456789abcdef0123",
    "1e400",
    "-1e400",
    "1.50",
  ],
  ...["0.1", "00", "0.0", "-0.0", "0o", "0x", "1.5.3", "1,000", ".", "..", "+", "-.x", "0b101", "1:20"],
  ...["True", "TRUE", "true", "tRUE", "yes", "Yes", "on", "off", "no", "y", "n", "~", "~~", "Null", "NULL"],
  ...["null", "nULL", "False", "FALSE", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "12:30:45"],
  ...["-a", ":a", "?a", "@a", "`a", "%a", "*a", "&a", "!a", "|a", ">a", "<<", "=", "-#", "-:x", "-:", "--x"],
  ...["---", "...", "- a", "-", "?", ":", "a:b", "a :b", "a: b", "a ,b", "a, b", "a]", "a}", "a[b]", "a b"],
  ...["a  b", "é", "😀", "a\u00a0b", "a\u00a0", "\u00a0a", "a\u00a0#c", "a\u3000", "a\u2000#c", "a\u2028b"],
  ...["a\u0085b", "a\u0000b", "a\u0001", "a\u007f", "a\ufeff", "a\ufffe", "a\uffff", "a\ud800", "\udc00b"],
  ...["[a, b,]", "{a: 1,}", "{a: [1, {b: 2}]}", "[a: 1]", "{a}", '{"a": 1}', '{"a":1}', "{'a': 1}", "[ ]"],
  ...["{ }", "[]", "{}", '["a,b", "c]"]', "['a]', '{b}']", "[a, [b, [c]]]", "{a: {b: {c: d}}}", "[a b, c d]"],
  ...["[a:b]", "[a :b]", "[-a]", "[-]", "[- a]", "[a#b]", "[a #b]", "[.5, -1, ~, true, Null]", "{a: -1}"],
  ...["{1: a}", "{true: a}", "{null: a}", "{~: a}", "{a: 1, a: 2}", '{a: 1, "a": 2}', "[a]#c", "{a: b:c}"],
  ...[
    "{a: b: c}",
    "[a?]",
    "[?a]",
    "[ a ]",
    "[a,b]",
    "[a ,b]",
    "{a: 1 ,b: 2}",
    "[{a: 1}, {b: 2}]",
    "[[], {}]",
  ],
  ...["[a, 'b''c', \"d\\\"e\"]", '["a":1]', '["a" : 1]', "[{a: 1}: x]", "[a, b", "{a: 1", "[a]]", "{a: }"],
  ...["!!str 1", "&x 1", "*x", "|", ">-", "'unclosed", '"unclosed', "{__proto__: 1}", "{'constructor': 1}"],
];

const KEYS = [
  ...["a", "1", "1.0", "1.50", "01", "0x1", "0o7", "1e2", "1e-5", "1e-7", "1e400", "5.", "null", "Null"],
  ...["NULL", "true", "True", "FALSE", "n", "y", "~", "_", "_x", "x.y", "x-y", "x/y", "a~b", "toString"],
  ...["hasOwnProperty", "valueOf", "__proto__", "constructor", "prototype", '"__proto__"', "'__proto__'"],
  ...['"constructor"', "'prototype'", '"a"', "'a'", '"a:b"', '"a b"', "a b", "a:b", "-a", ".a", "é", "<<"],
  ...["$x", "9007199254740993", "123456789012345678901234567890", "00", "0", "-0", "+1", '"\\u0041"'],
  ...['"\\x41"', '""', "''", '"#"', "a#b", "1_0", "0x_1", "NaN", "Infinity", "?a", "&a", "*a", "!a"],
];

/** Whole documents: structure, indentation, comments, markers, odd characters. */
const DOCUMENTS = [
  ...["", "\n", "# only\n", "# a\n# b", " \n", "a: 1", "a:", "a:\n", "a: \n", "a:  # c", "\ufeffa: 1\n"],
  ...["a: 1\n\ufeff", "a: 1\n\ufeff# c\n", "a: 1 # \ufeff\n", "a: 1 # \u0000\n", "# \u0000\na: 1\n"],
  ...["a: 1\n# \u0001\n", "a: 1 # \u2028 x\nb: 2\n", "a: 1 # \u0085\nb: 2\n", "# \u2028\na: 1\n"],
  ...["# \u001f\na: 1\n", "# \u0002\na: 1\n", "# \u0018\na: 1\n", "a: 1 #\u001f\n", "a: 1 # \ud800\n"],
  ...[
    "a: 1 # \uffff\n",
    "# x\r\na: 1\n",
    "a: 1\r\n",
    "a: 1\rb: 2\n",
    "a:\tb\n",
    "a: 1\n\tb: 2\n",
    "a\u0000: 1\n",
  ],
  ...["- a\n- b\n", "a\n", "'a'\n", "[a]\n", "{a: 1}\n", "1\n", "~\n", "a: 1\n---\n", "---\na: 1\n"],
  ...["a: 1\n...\n", "a: 1\n--- \nb: 1\n", "%YAML 1.2\n---\na: 1\n", "a: 1\n...\n%x\n", "--- a: 1\n"],
  ...["key:value\n", "a: b: c\n", "key: - a\n", "? complex\n: v\n", "a:\n- x\n- y\nb: 1\n", "a:\n  - - a\n"],
  ...["a:\n  - - a\n    - b\n", "a:\n  -\n    - a\n", "a:\n  -\n    b: 1\n", "a:\n  -\n  - b\n", "a:\n  -\n"],
  ...[
    "a:\n  -   b: 1\n      c: 2\n",
    "a:\n - b: 1\n   c: 2\n",
    "a:\n   b: 1\n   c: 2\n",
    "a:\n b:\n  c:\n   d: 1\n",
  ],
  ...["a:\n     b: 1\nc: 2\n", "a:\n  b: 1\n c: 2\n", "a:\n  b: 1\n    c: 2\n", "a: 1\n b: 2\n", " a: 1\n"],
  ...[" a: 1\n b: 2\n", "a: 1\n  # deeper comment\nb: 2\n", "a: b\n   # c\nd: 1\n", "a: b\n# c\n  d\n"],
  ...[
    "a: b\n\n  c\n",
    "a: 1   \nb: 2   \n",
    "a:   \n  b: 1\n",
    "a: 'x'   \n",
    "a: [1]   # c\n",
    "a: 1\n\n\n",
  ],
  ...[
    "\n\na: 1\n",
    "  \na: 1\n",
    "a: 1\n  \n",
    "a:\n\n  b: 1\n",
    "k:\n  - a:\n    b: 1\n",
    "k:\n  - a:\n   b: 1\n",
  ],
  ...["k:\n  - a:\n     b: 1\n", "k:\n  -   a:\n    b: 1\n", "k:\n  -\n   a: 1\n", "a:\n- b:\n- c\n"],
  ...["a:\n- b:\n  - 1\n  c: 2\n", "x:\n  a:\n  - 1\n  b: 2\n", "k:\n- a: 1\n  b:\n  - x\n  c: 3\nd: 4\n"],
  ...["a: - b\n", "a: -b\n", "a:\n  - -b\n", "a:\n  - a:b\n", "a:\n  - a: b: c\n", 'a:\n  - "a": 1\n'],
  ...['a:\n  - "a" : 1\n', "a:\n  - 'a':x\n", "a:\n  - 1: a\n", "a:\n  - a b: 1\n", "a:\n  - -1: a\n"],
  ...['a:\n  - "a"b: 1\n', "a:\n  - #c\n    b\n", "a:\n  - # c\n    b: 1\n", "a:\n  # c\n  - x\n"],
  ...[
    "a:\n# c\n- x\n",
    "a:\n  # c\n  b: 1\n",
    "# c\na: 1\n",
    "\n\n# c\n  # d\na: 1\n",
    "a:\n  - x\n  # c\n  - y\n",
  ],
  ...[
    "a:\n- x\n# c\n- y\nb: 1\n",
    "a:\n  -\n    # c\n    b: 1\n",
    "a:\n  - # c\n    - b\n",
    "a:\n  -\n\n    b: 1\n",
  ],
  ...["a:  # c\n\n  # d\n\n  b:   # e\n    - 1  # f\n", "a: 1 #c\n#d\n  #e\n    #f\nb: 2"],
  ...[
    "a: 'multi\n  line'\n",
    'a: "multi\n  line"\n',
    'a: "x\\\n  y"\n',
    "a: [1,\n  2]\n",
    "a: {b: 1,\n  c: 2}\n",
  ],
  ...[
    "a: one\n  two\n",
    "a : 1\n",
    "a  : 1\n",
    "a:  1\n",
    "a:\u00a01\n",
    "a:\u30001\n",
    "a:#c\n",
    "a: 1#c\n",
  ],
  ...["a: 1\nb: 2\na: 3\n", 'a: 1\n"a": 2\n', "a: 1\n'a': 2\n", "1: a\n1.0: b\n", "0x1F: a\n31: b\n"],
  ...[
    "null: a\n~: b\n",
    'null: a\n"": b\n',
    "1e400: a\n2e400: b\n",
    "true: a\nTrue: b\n",
    "a:\n  b: 1\n  b: 2\n",
  ],
  ...["a: &x 1\nb: *x\n", "a: !!str 1\n", "a: !x 1\n", "a: |\n  text\n", "a: >-\n  text\n", "<<: {a: 1}\n"],
  ...[`a${"b".repeat(1030)}: 1\n`, `"${"b".repeat(1030)}": 1\n`, `k: {${"b".repeat(1030)}: 1}\n`],
  ...[`a${"b".repeat(998)}: 1\n`, `a${"b".repeat(1022)}: 1\n`, `a${"b".repeat(1023)}: 1\n`],
  ...[`a: ${"[".repeat(70)}${"]".repeat(70)}\n`, `a: ${"[".repeat(60)}${"]".repeat(60)}\n`],
  ...[`a: ${"{b: ".repeat(60)}1${"}".repeat(60)}\n`],
];

/** Mappings past the sizes where both readers index their pairs (16 in yaml-tree.ts, 48 in yaml-fast.ts). */
function bigMaps(): string[] {
  const keys = Array.from({ length: 60 }, (_, i) => (i % 7 === 3 ? `"k ${i}"` : `k${i}`));
  return [
    keys.map((k, i) => `${k}: ${i}\n`).join(""),
    `services:\n${keys.map((k, i) => `  ${k}:\n    port: ${i}\n    tags: [a, {b: ${i}}]\n`).join("")}`,
    `list:\n${keys.map((k) => `- ${k}: 1\n  x: [${k}]\n`).join("")}`,
    `flow: {${keys.map((k, i) => `${k}: ${i}`).join(", ")}}\n`,
  ];
}

function handList(): string[] {
  const out = [...DOCUMENTS, ...bigMaps()];
  for (const s of SCALARS) {
    out.push(`a: ${s}\n`, `k:\n  - ${s}\n`, `k: [${s}]\n`, `k: {x: ${s}}\n`, `a: ${s}`, `${s}: 1\n`);
    out.push(`k: {${s}: 1}\n`, `- ${s}\n`, `${s}\n`, `a: ${s} # c\n`, `a: ${s}  \n`, `a: [x, ${s}, y]\n`);
  }
  for (const k of KEYS) {
    out.push(`${k}: 1\n`, `a: 0\n${k}: 1\n`, `${k}: 1\na: 0\n`, `k: {${k}: 1}\n`, `k:\n  - ${k}: 1\n`);
    out.push(`${k}:\n  b: 1\n`, `${k}:\n- 1\n`, `${k}: 1\n${k}: 2\n`, `a:\n  ${k}:\n  b: 2\n`);
  }
  // Pairs of keys that may stringify alike (duplicates) or are refused.
  const alike = ["a", '"a"', "'a'", "1", "1.0", "01", "0x1", "1e400", "9007199254740993", "0", "00", "null"];
  alike.push("Null", '""', "''", "true", "True", "toString", "__proto__", '"\\u0041"', "A");
  for (const k of alike) for (const k2 of alike) out.push(`${k}: 1\n${k2}: 2\n`, `k: {${k}: 1, ${k2}: 2}\n`);
  return out;
}

/** `depth` mappings, each one space deeper than its key. */
function deeplyNested(depth: number, value = "1"): string {
  let text = "";
  for (let i = 0; i < depth; i++) text += `${" ".repeat(i)}k:\n`;
  return `${text}${" ".repeat(depth)}v: ${value}\n`;
}

describe("fast YAML reader, adversarial inputs", () => {
  it("compares against the real full path, not against itself", () => {
    const before = fullCalls;
    expect(parseFull("a: 1\n", "f.yaml").value).toEqual({ a: 1 });
    expect(fullCalls).toBeGreaterThan(before);
    expect(parseFast("a: 1\n")).toBeDefined();
  });

  it("keeps its promise on hand-picked tricky inputs", () => {
    const texts = handList();
    let taken = 0;
    for (const text of texts) if (keepsPromise(text, true)) taken++;
    // Both sides must be exercised: accepted texts prove agreement, declined ones fall back.
    expect(taken).toBeGreaterThan(texts.length / 4);
    expect(taken).toBeLessThan(texts.length);
  });

  it("declines nesting deeper than yaml can compose (it reports a stack overflow there)", () => {
    expect(parseFull(deeplyNested(2000), "f.yaml").diagnostics.length).toBeGreaterThan(0);
    for (const depth of [10, 63, 64, 65, 100, 2000]) keepsPromise(deeplyNested(depth));
    expect(parseFast(deeplyNested(2000))).toBeUndefined();
    expect(parseFast(`a: ${"[".repeat(40)}${"]".repeat(40)}\n`)).toBeDefined();
    // Block and flow nesting add up.
    const flow = `${"[".repeat(40)}${"]".repeat(40)}`;
    expect(parseFast(deeplyNested(10, flow))).toBeDefined();
    expect(parseFast(deeplyNested(40, flow))).toBeUndefined();
  });
});

// ---- generated documents --------------------------------------------------------------------------------

const RUNS = Number(process.env["YAML_FAST_RUNS"] ?? 0) || undefined;

/** Characters that mean something somewhere in YAML, and some that only look like whitespace. */
const CHARS = Array.from(
  "ab1 :-#'\"[]{},.~!&*?|>%@`\\/_+eExX0nNtT<=$é😀\u00a0\u3000\u2028\u0085\u0000\ufeff\u007f",
);
const ESCAPE_SEQUENCES = [
  ...["\\n", "\\t", "\\\\", '\\"', "\\/", "\\ ", "\\0", "\\a", "\\b", "\\e", "\\f", "\\r", "\\v", "\\N"],
  ...["\\_", "\\L", "\\P", "\\x41", "\\u0041", "\\U0001F600", "\\uD83D\\uDE00", "\\q", "\\'"],
];
const text = (max: number) => fc.string({ unit: fc.constantFrom(...CHARS), minLength: 1, maxLength: max });
const singleQuoted = text(6).map((t) => `'${t.replaceAll("'", "''")}'`);
const doubleQuoted = fc
  .array(fc.oneof(text(3), fc.constantFrom(...ESCAPE_SEQUENCES)), { maxLength: 4 })
  .map((parts) => `"${parts.join("")}"`);
/** Scalars and keys rules are written with, so that most documents reach the fast path. */
const TAME_SCALARS = [
  ...["a", "b c", "1", "-1", "0x1F", "1.5", ".inf", "null", "~", "true", "False", "yes", "2s", "127.0.0.1"],
  ...["http://x:80/a#b", "a#b", "x:y", "'q'", "'it''s'", "''", '""', '"a\\"b"', '"\\n\\t"', "café", "-c"],
  ...['"${{ p }}"', "{}", "[]", "😀", "svc-1", "com.example.x", "'a: b'", '"#x"'],
];
const tameScalar = fc.oneof(
  { arbitrary: fc.constantFrom(...TAME_SCALARS), weight: 20 },
  { arbitrary: fc.constantFrom(...SCALARS), weight: 1 },
);
const wildScalar = fc.oneof(
  { arbitrary: fc.constantFrom(...SCALARS), weight: 8 },
  { arbitrary: text(6), weight: 3 },
  { arbitrary: singleQuoted, weight: 2 },
  { arbitrary: doubleQuoted, weight: 2 },
);
const keyChars = Array.from("abxyz019_.-/");
const tameKey = fc.oneof(
  { arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{0,2}$/), weight: 20 },
  { arbitrary: fc.constantFrom(...KEYS), weight: 1 },
);
const wildKey = fc.oneof(
  { arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{0,2}$/), weight: 10 },
  { arbitrary: fc.constantFrom(...KEYS), weight: 5 },
  { arbitrary: fc.string({ unit: fc.constantFrom(...keyChars), minLength: 1, maxLength: 4 }), weight: 3 },
  { arbitrary: singleQuoted, weight: 1 },
  { arbitrary: doubleQuoted, weight: 1 },
  { arbitrary: text(4), weight: 1 },
);

type Flow = string | { map: [string, Flow][] } | { seq: Flow[] };
type Block = { map: [string, Block | Flow][] } | { seq: (Block | Flow)[] };
const isBlock = (v: Block | Flow): v is Block => typeof v === "object" && "block" in (v as object);

function tree(scalar: fc.Arbitrary<string>, key: fc.Arbitrary<string>) {
  return fc.letrec<{ flow: Flow; block: Block; value: Block | Flow }>((tie) => ({
    flow: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      scalar,
      fc.record({ map: fc.array(fc.tuple(key, tie("flow")), { maxLength: 3 }) }),
      fc.record({ seq: fc.array(tie("flow"), { maxLength: 3 }) }),
    ),
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      scalar,
      tie("flow"),
      tie("block").map((b) => ({ block: b }) as unknown as Block),
    ),
    block: fc.oneof(
      fc.record({ map: fc.array(fc.tuple(key, tie("value")), { minLength: 1, maxLength: 4 }) }),
      fc.record({ seq: fc.array(tie("value"), { minLength: 1, maxLength: 4 }) }),
    ),
  })).block;
}

/** Choices for the renderer, drawn once per document and read in turn (wrapping around). */
class Dice {
  private at = 0;
  /** A tame document mostly takes the first (usual) option, so most of it stays in the fast subset. */
  constructor(
    private readonly rolls: readonly number[],
    private readonly wild: boolean,
  ) {}
  /** A number in 0..99. */
  roll(): number {
    const r = this.rolls[this.at % this.rolls.length] as number;
    this.at++;
    return (r + this.at * 37) % 100;
  }
  /** `options[i]` with weight `weights[i]` (weights sum to 100). */
  pick<T>(options: readonly T[], weights: readonly number[]): T {
    if (!this.wild && this.roll() < 85) return options[0] as T;
    let r = this.roll();
    for (let i = 0; i < options.length; i++) {
      r -= weights[i] as number;
      if (r < 0) return options[i] as T;
    }
    return options[options.length - 1] as T;
  }
}

const COMMENTS = [" # c", "  #c", "#c", " #", " # \u0000\u2028é", " # 'x' \"y\" [z: {", " #\ufeff"];
const TRAILING = ["  ", " \u00a0", " \u3000"];

function renderFlow(f: Flow, d: Dice): string {
  if (typeof f === "string") return f;
  const sp = d.pick(["", " ", "  "], [20, 70, 10]);
  const comma = d.pick([", ", ",", " , "], [85, 10, 5]);
  const trailing = d.pick(["", ","], [95, 5]);
  if ("map" in f) {
    const colon = d.pick([": ", ":", " : ", ":  "], [88, 5, 4, 3]);
    const body = f.map.map(([k, v]) => `${k}${colon}${renderFlow(v, d)}`).join(comma);
    return `{${sp}${body}${body === "" ? "" : trailing}${sp}}`;
  }
  const body = f.seq.map((v) => renderFlow(v, d)).join(comma);
  return `[${sp}${body}${body === "" ? "" : trailing}${sp}]`;
}

/** Lines of a block collection at `indent`, with the odd comment, blank line and misplaced column. */
function renderBlock(b: Block, indent: number, d: Dice, out: string[], inline = false): void {
  const lineEnd = (): string =>
    d.pick(["", "comment", "trailing"], [80, 15, 5]) === "comment"
      ? d.pick(COMMENTS, [40, 20, 10, 10, 10, 5, 5])
      : d.pick(["", ...TRAILING], [94, 2, 2, 2]);
  const before = (): void => {
    const extra = d.pick(["", "comment", "blank", "spaces"], [88, 6, 3, 3]);
    if (extra === "comment")
      out.push(`${" ".repeat(d.roll() % 9)}#${d.pick(["", " c", "c:", " \u0085"], [25, 25, 25, 25])}`);
    else if (extra === "blank") out.push("");
    else if (extra === "spaces") out.push(" ".repeat(1 + (d.roll() % 6)));
  };
  const jitter = (n: number): number => n + d.pick([0, 1, -1], [96, 2, 2]);
  const step = (): number => d.pick([2, 1, 3, 4, 5], [60, 10, 10, 15, 5]);
  const nested = (value: Block, owner: number): void => {
    const compact = "seq" in value && d.roll() < 35;
    renderBlock(value, compact ? owner : owner + step(), d, out);
  };
  if ("map" in b) {
    for (const [k, v] of b.map) {
      // The first key of `- key: value` goes on the dash's line.
      const first = inline && out.length === 0;
      if (!first) before();
      const pad = first ? "" : " ".repeat(Math.max(0, jitter(indent)));
      const colon = d.pick([":", " :"], [97, 3]);
      const unwrapped = isBlock(v) ? (v as unknown as { block: Block }).block : undefined;
      if (unwrapped !== undefined) {
        out.push(`${pad}${k}${colon}${lineEnd()}`);
        nested(unwrapped, indent);
      } else {
        const space = d.pick([" ", "  ", ""], [88, 9, 3]);
        out.push(`${pad}${k}${colon}${space}${renderFlow(v as Flow, d)}${lineEnd()}`);
      }
    }
    return;
  }
  for (const v of b.seq) {
    before();
    const pad = " ".repeat(Math.max(0, jitter(indent)));
    const dash = d.pick(["- ", "-  ", "-   ", "-"], [80, 10, 7, 3]);
    const unwrapped = isBlock(v) ? (v as unknown as { block: Block }).block : undefined;
    if (unwrapped === undefined) {
      out.push(`${pad}${dash}${renderFlow(v as Flow, d)}${lineEnd()}`);
    } else if ("map" in unwrapped && d.roll() < 65) {
      // `- key: value`, the mapping's other keys under the first one.
      const inner: string[] = [];
      renderBlock(unwrapped, indent + dash.length, d, inner, true);
      inner[0] = `${pad}${dash}${inner[0] as string}`;
      out.push(...inner);
    } else {
      out.push(`${pad}-${lineEnd()}`);
      renderBlock(unwrapped, indent + step(), d, out);
    }
  }
}

/** Edits that make near misses: a character inserted or removed, a line repeated or re-indented. */
const edit = fc.tuple(
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.constantFrom(...CHARS, "\n", "  ", "\n  ", "\t", "\r", "---\n", "...\n", "", "dup", "indent", "dedent"),
);
const edits = fc.oneof(
  { arbitrary: fc.constant<[number, string][]>([]), weight: 4 },
  { arbitrary: fc.array(edit, { minLength: 1, maxLength: 2 }), weight: 1 },
);

function applyEdits(text: string, changes: readonly [number, string][]): string {
  for (const [where, what] of changes) {
    const at = Math.floor(where * text.length);
    const lines = text.split("\n");
    const n = Math.floor(where * lines.length);
    if (what === "") text = text.slice(0, at) + text.slice(at + 1);
    else if (what === "dup") {
      lines.splice(n, 0, lines[Math.max(0, n - 1)] as string);
      text = lines.join("\n");
    } else if (what === "indent" || what === "dedent") {
      const line = lines[n] ?? "";
      lines[n] = what === "indent" ? ` ${line}` : line.replace(/^ /, "");
      text = lines.join("\n");
    } else text = text.slice(0, at) + what + text.slice(at);
  }
  return text;
}

function documents(wild: boolean) {
  const scalar = wild ? wildScalar : tameScalar;
  const key = wild ? wildKey : tameKey;
  return fc
    .tuple(
      tree(scalar, key),
      fc.array(fc.nat(99), { minLength: 61, maxLength: 61 }),
      wild ? edits : fc.constant([]),
      fc.constantFrom("\n", "\n", "\n", "", "\n\n", "\n  ", "\n# end"),
    )
    .map(([root, rolls, changes, ending]) => {
      const lines: string[] = [];
      const top: Block = "map" in root ? root : { map: [["k", { block: root } as unknown as Block]] };
      renderBlock(top, 0, new Dice(rolls, wild), lines);
      return applyEdits(lines.join("\n") + ending, changes);
    });
}
const document = fc.oneof(documents(false), documents(true));

/** Short runs of YAML pieces, mostly nonsense: they probe the reader's tokenizing, not its structure. */
const PIECES = [
  ...["a", "b", "1", "0x1", ".5", "true", "null", "~", ": ", ":", "- ", "-", "\n", "\n  ", "\n- ", " #c"],
  ...["#", "'", "''", '"', "\\", '\\"', "[", "]", "{", "}", ", ", ",", " ", "  ", "k: ", "\nk: ", "\n  k: "],
  ...["\n    - ", "'a b'", '"a\\tb"', "x", "é", "😀", "\u00a0", "?", "!", "&", "*", "|", ">", "%", "@", "`"],
  ...["---", "...", "<<", "__proto__", "-1", "1e3", "yes", "\u0000", "\ufeff"],
];
const soup = fc
  .tuple(fc.boolean(), fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 14 }), fc.boolean())
  .map(([keyed, pieces, newline]) => `${keyed ? "k: " : ""}${pieces.join("")}${newline ? "\n" : ""}`);

describe("fast YAML reader, generated documents", () => {
  it("keeps its promise on random documents: nesting, quoting, scalars, comments, indentation", () => {
    let runs = 0;
    let taken = 0;
    fc.assert(
      fc.property(document, (doc) => {
        runs++;
        if (process.env["YAML_FAST_SHOW"] !== undefined && runs <= 12) console.log(doc);
        if (keepsPromise(doc)) taken++;
      }),
      { numRuns: RUNS ?? 1500 },
    );
    if (RUNS !== undefined) console.log(`generated documents: ${runs} runs, ${taken} read by the fast path`);
    // The generator must reach the fast path often, not only the fallback.
    expect(taken).toBeGreaterThan(runs / 4);
  });

  it("keeps its promise on short runs of YAML pieces", () => {
    let taken = 0;
    fc.assert(
      fc.property(soup, (doc) => {
        if (keepsPromise(doc)) taken++;
      }),
      { numRuns: RUNS ?? 3000 },
    );
    if (RUNS !== undefined) console.log(`pieces: ${RUNS} runs, ${taken} read by the fast path`);
    expect(taken).toBeGreaterThan(100);
  });
});
