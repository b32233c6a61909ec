/**
 * Probe patterns (`http` expect.bodyMatches, `exec` expect.stdoutMatches): a pattern JavaScript cannot
 * compile is an error (the probe could never pass); one that invites catastrophic backtracking is a
 * warning. The probe bounds every match by its timeout (src/runtime/pattern-match.ts), so such a pattern
 * cannot hang a tick, but an endpoint can still make its probe fail by timing out instead of answering.
 *
 * The warning looks for the shapes that take exponential time on a backtracking engine, inside a group
 * repeated without bound (`*`, `+`, `{n,}`, or `{n,m}` with m >= 10):
 * - a nested unbounded quantifier with nothing the repetitions must pass between them: `(a+)+`,
 *   `(\w+\s?)*`, `(.*,)+`; a separator the inner quantifier cannot match keeps it linear: `(\d+\.)+`;
 * - a body that can match the empty text while it holds such a quantifier: `(.*)*`, `(a*)*`;
 * - alternatives that can begin the same way: `(a|a)*`, `(\w|\d)+`; `(bar|baz)+` differ at their third
 *   letter and are fine.
 * It is a heuristic over one parse of the pattern: it may miss a rarer shape, and polynomial ones like
 * `.*.*=` are left to the runtime bound.
 */
import { type Finding, toPointer } from "./diagnostics.js";
import { isRec, type Path, rec, str } from "./semantic-util.js";

/** Which parameter of which probe type holds a pattern. */
const PATTERN_PARAMS: Readonly<Record<string, string>> = { http: "bodyMatches", exec: "stdoutMatches" };

export function checkPatterns(doc: unknown): Finding[] {
  const out: Finding[] = [];
  if (!isRec(doc)) return out;
  for (const [id, raw] of Object.entries(rec(doc["services"]))) {
    const probe = rec(rec(raw)["probe"]);
    const param = PATTERN_PARAMS[str(probe["type"]) ?? ""];
    if (param === undefined) continue;
    const source = str(rec(probe["expect"])[param]);
    // A template is resolved at run time; its value is checked by the probe then.
    if (source === undefined || source.includes("${")) continue;
    const finding = checkPattern(source, ["services", id, "probe", "expect", param]);
    if (finding !== undefined) out.push(finding);
  }
  return out;
}

function checkPattern(source: string, at: Path): Finding | undefined {
  const pointer = toPointer(at);
  try {
    new RegExp(source);
  } catch (error) {
    const message = (error as Error).message;
    const what = message.replace(/^Invalid regular expression: \/[\s\S]*\/[a-z]*: /, "");
    return {
      pointer,
      code: "invalid-pattern",
      message: `${at.at(-1)} is not a valid JavaScript regular expression: ${what} (at character ${errorOffset(source) + 1})`,
      hint: syntaxHint(source, message),
    };
  }
  const problem = backtrackingProblem(source);
  if (problem === undefined) return undefined;
  return {
    pointer,
    code: "backtracking-pattern",
    severity: "warning",
    message: `${at.at(-1)} ${problem.why}: on text that almost matches, a backtracking engine tries exponentially many ways; upkeep stops a match at the probe timeout, so the probe can fail instead of answering`,
    hint: problem.hint,
  };
}

/**
 * Where a pattern goes wrong: the end of its longest prefix that compiles. V8's message names the
 * problem but not its place ("abc(def" -> 3, the unclosed parenthesis).
 */
function errorOffset(source: string): number {
  for (let n = Math.min(source.length, 1000); n > 0; n--) {
    try {
      new RegExp(source.slice(0, n));
      return n;
    } catch {
      // shorter
    }
  }
  return 0;
}

/** What to do about V8's syntax error (its messages name the problem but not where it is). */
function syntaxHint(source: string, message: string): string {
  if (/\(\?P[<=>]/.test(source))
    return "JavaScript names groups (?<name>...) and refers back with \\k<name>, not (?P<name>...)";
  if (/\(\?[a-z]*-?[a-z]+[):]/.test(source) && /Invalid group/.test(message))
    return "JavaScript patterns take no inline flags like (?i); spell the cases out, e.g. [Oo][Kk]";
  if (/Nothing to repeat/.test(message))
    return "*, + and ? repeat what comes before them; write \\*, \\+ or \\? to match the character itself";
  if (/Unterminated group|Unmatched '\)'/.test(message))
    return "parentheses must pair up; write \\( or \\) to match a parenthesis";
  if (/Unterminated character class/.test(message)) return "write \\[ to match a bracket";
  if (/\\ at end of pattern/.test(message))
    return "the pattern ends with a lone backslash; write \\\\ to match one";
  if (/out of order/.test(message)) return "in {min,max} the minimum comes first";
  return "write \\ before ( ) [ ] { } * + ? . ^ $ | \\ to match the character itself";
}

// ---------------------------------------------------------------------------------------------------
// A small parser of JavaScript patterns (no flags, Annex B), enough to find quantifiers, groups,
// alternatives and single characters. It runs only on patterns RegExp accepted.

type Node =
  | { readonly t: "char"; readonly text: string }
  | { readonly t: "zero" }
  | { readonly t: "group"; readonly alts: Node[][]; readonly look: boolean }
  | {
      readonly t: "quant";
      readonly body: Node;
      readonly min: number;
      readonly max: number;
      readonly start: number;
      readonly end: number;
    };

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  alternatives(): Node[][] {
    const alts: Node[][] = [this.sequence()];
    while (this.s[this.i] === "|") {
      this.i++;
      alts.push(this.sequence());
    }
    return alts;
  }

  sequence(): Node[] {
    const items: Node[] = [];
    while (this.i < this.s.length && this.s[this.i] !== "|" && this.s[this.i] !== ")") {
      const start = this.i;
      const atom = this.atom();
      const q = this.quantifier();
      items.push(q === undefined ? atom : { t: "quant", body: atom, ...q, start, end: this.i });
    }
    return items;
  }

  atom(): Node {
    const s = this.s;
    const c = s[this.i];
    if (c === "(") {
      let look = false;
      this.i++;
      if (s[this.i] === "?") {
        const m = /^\?(?::|=|!|<=|<!|<[^>]*>)/.exec(s.slice(this.i));
        look = m !== null && /^\?(=|!|<=|<!)$/.test(m[0]);
        this.i += m === null ? 1 : m[0].length;
      }
      const alts = this.alternatives();
      this.i++; // ")"
      return { t: "group", alts, look };
    }
    if (c === "[") {
      const start = this.i;
      this.i++;
      if (s[this.i] === "^") this.i++;
      while (this.i < s.length && s[this.i] !== "]") this.i += s[this.i] === "\\" ? 2 : 1;
      this.i++;
      return { t: "char", text: s.slice(start, this.i) };
    }
    if (c === "^" || c === "$") {
      this.i++;
      return { t: "zero" };
    }
    if (c === "\\") return this.escape();
    this.i++;
    return { t: "char", text: c === "." ? "." : escapeChar(c ?? "") };
  }

  escape(): Node {
    const rest = this.s.slice(this.i);
    if (/^\\[bB]/.test(rest)) {
      this.i += 2;
      return { t: "zero" };
    }
    // A back-reference can match any text; as a character set it is "anything".
    const backref = /^\\(?:[1-9]\d*|k<[^>]*>)/.exec(rest);
    if (backref !== null) {
      this.i += backref[0].length;
      return { t: "char", text: "[^]" };
    }
    const m = /^\\(?:c[A-Za-z]|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|0[0-7]*|[\s\S])/.exec(rest);
    const text = m?.[0] ?? "\\";
    this.i += text.length;
    return { t: "char", text };
  }

  quantifier(): { min: number; max: number } | undefined {
    const m = /^(?:([*+?])|\{(\d+)(,(\d*))?\})\??/.exec(this.s.slice(this.i));
    if (m === null) return undefined;
    this.i += m[0].length;
    if (m[1] === "*") return { min: 0, max: Infinity };
    if (m[1] === "+") return { min: 1, max: Infinity };
    if (m[1] === "?") return { min: 0, max: 1 };
    const min = Number(m[2]);
    return { min, max: m[3] === undefined ? min : m[4] === "" ? Infinity : Number(m[4]) };
  }
}

function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

// Character sets, judged on a sample of characters: ASCII and Latin-1, and a few beyond (line and
// paragraph separators, an ideographic space, a Cyrillic and a CJK letter).
const SAMPLE = [
  ...Array.from({ length: 0x100 }, (_, i) => String.fromCharCode(i)),
  "\u0416",
  "\u2028",
  "\u2029",
  "\u3000",
  "\u4e00",
  "\ufeff",
];
type CharSet = readonly boolean[];
const setCache = new Map<string, CharSet>();

function charSet(text: string): CharSet {
  let set = setCache.get(text);
  if (set === undefined) {
    let re: RegExp | undefined;
    try {
      re = new RegExp(`^(?:${text})$`);
    } catch {
      // Unknown: treat it as any character, which only makes a warning more likely.
    }
    set = SAMPLE.map((c) => re?.test(c) ?? true);
    setCache.set(text, set);
  }
  return set;
}

const overlaps = (a: CharSet, b: CharSet): boolean => a.some((x, i) => x && b[i] === true);
const union = (sets: CharSet[]): CharSet => SAMPLE.map((_, i) => sets.some((s) => s[i] === true));

/** Every character a node can consume. */
function charsOf(node: Node): CharSet {
  switch (node.t) {
    case "char":
      return charSet(node.text);
    case "zero":
      return SAMPLE.map(() => false);
    case "group":
      return node.look ? SAMPLE.map(() => false) : union(node.alts.flat().map(charsOf));
    case "quant":
      return charsOf(node.body);
  }
}

function canBeEmpty(node: Node): boolean {
  switch (node.t) {
    case "char":
      return false;
    case "zero":
      return true;
    case "group":
      return node.look || node.alts.some((alt) => alt.every(canBeEmpty));
    case "quant":
      return node.min === 0 || canBeEmpty(node.body);
  }
}

/** Unbounded quantifiers inside a node (not inside lookarounds, which consume nothing). */
function unbounded(node: Node, out: Extract<Node, { t: "quant" }>[] = []): Extract<Node, { t: "quant" }>[] {
  if (node.t === "quant") {
    if (node.max === Infinity) out.push(node);
    unbounded(node.body, out);
  } else if (node.t === "group" && !node.look) {
    for (const item of node.alts.flat()) unbounded(item, out);
  }
  return out;
}

/** Characters (as sets) a sequence must consume, in order, before anything optional or repeated. */
function leadingChars(seq: readonly Node[]): CharSet[] {
  const out: CharSet[] = [];
  for (const node of seq) {
    if (node.t === "zero") continue;
    if (node.t === "char") out.push(charsOf(node));
    else if (node.t === "group" && !node.look && node.alts.length === 1) {
      const inner = node.alts[0] ?? [];
      const lead = leadingChars(inner);
      out.push(...lead);
      if (lead.length < inner.filter((n) => n.t !== "zero").length) return out;
    } else if (node.t === "quant" && node.min >= 1) {
      out.push(charsOf(node.body));
      return out;
    } else return out;
  }
  return out;
}

/** Two alternatives can begin with the same text: position by position their characters overlap. */
function sameStart(a: readonly Node[], b: readonly Node[]): boolean {
  const la = leadingChars(a);
  const lb = leadingChars(b);
  const n = Math.min(la.length, lb.length);
  // Nothing known about how one of them begins: say nothing rather than guess.
  if (n === 0) return false;
  for (let i = 0; i < n; i++) if (!overlaps(la[i] ?? [], lb[i] ?? [])) return false;
  return true;
}

/** Atoms a sequence must consume at least once (its separators), at its top level. */
function mandatory(seq: readonly Node[]): Node[] {
  const out: Node[] = [];
  for (const node of seq) {
    if (node.t === "char") out.push(node);
    else if (node.t === "quant" && node.min >= 1) out.push(node);
    else if (node.t === "group" && !node.look && node.alts.length === 1)
      out.push(...mandatory(node.alts[0] ?? []));
  }
  return out;
}

interface Problem {
  readonly why: string;
  readonly hint: string;
}

/** The first repeated group that can backtrack exponentially, described; undefined when none is found. */
export function backtrackingProblem(source: string): Problem | undefined {
  const parser = new Parser(source);
  const root: Node = { t: "group", alts: parser.alternatives(), look: false };
  return search(root, source);
}

function search(node: Node, source: string): Problem | undefined {
  if (node.t === "quant") {
    if (node.max === Infinity || node.max >= 10) {
      const problem = repeated(node, source);
      if (problem !== undefined) return problem;
    }
    return search(node.body, source);
  }
  if (node.t === "group") {
    for (const item of node.alts.flat()) {
      const problem = search(item, source);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

function repeated(node: Extract<Node, { t: "quant" }>, source: string): Problem | undefined {
  const text = source.slice(node.start, node.end);
  const body = node.body;
  const alts = body.t === "group" && !body.look ? body.alts : [[body]];
  const inner = unbounded(body);
  if (inner.length > 0 && canBeEmpty(body)) {
    return {
      why: `repeats \`${text}\`, which can match empty text and holds a quantifier without bound`,
      hint: `make each repetition consume something, e.g. \`(a*)*\` -> \`a*\``,
    };
  }
  for (const alt of alts) {
    for (const q of unbounded({ t: "group", alts: [alt], look: false })) {
      const qChars = charsOf(q.body);
      const separated = mandatory(alt).some((m) => m !== q && !overlaps(charsOf(m), qChars));
      if (!separated) {
        const qText = source.slice(q.start, q.end);
        return {
          why: `repeats \`${text}\`, which holds \`${qText}\` with nothing between the repetitions that \`${qText}\` cannot match itself`,
          hint: `drop the outer repetition (\`(a+)+\` -> \`a+\`) or require a separator it cannot match (\`(\\d+\\.)+\`)`,
        };
      }
    }
  }
  for (let i = 0; i < alts.length; i++) {
    for (let j = i + 1; j < alts.length; j++) {
      if (sameStart(alts[i] ?? [], alts[j] ?? [])) {
        return {
          why: `repeats \`${text}\`, whose alternatives ${i + 1} and ${j + 1} can begin with the same text`,
          hint: "make the alternatives start differently, or merge them into one character class (`(a|b)*` -> `[ab]*`)",
        };
      }
    }
  }
  return undefined;
}
