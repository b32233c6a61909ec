/**
 * A fast path for the YAML rules are written in. `yaml` builds a syntax tree with a range on every node,
 * which for 5,000 services (1 MB) costs about 1.5 s of CPU in a fresh process; a valid file needs only
 * its value, and a file with findings needs the positions of a few nodes.
 *
 * This reader accepts a strict subset: block mappings and sequences indented with spaces, flow
 * collections that close on their line, one-line plain and quoted scalars, comments. On anything else
 * (anchors, aliases, tags, block or multi-line scalars, directives, document markers, tabs, CRs, rare
 * escapes, duplicate or reserved keys, odd indentation, deep nesting) it gives up and the caller parses
 * with `yaml` exactly as before, so every YAML diagnostic and every safety check still comes from there.
 * For what it accepts it builds the value `yaml` builds (YAML 1.2 core schema, keys stringified as its
 * toJS does) and, on request, the start offsets `yaml` gives the same nodes; test/config/yaml-fast.test.ts
 * and yaml-fast-adversarial.test.ts compare both with load.ts's full path on generated documents.
 */

import { keyString, resolvePlain } from "./yaml-scalars.js";

/** Start offsets of the nodes, as `yaml` reports them (`node.range[0]`). */
export interface Offsets {
  /** Where the root mapping starts (its first key). */
  root: number;
  /** Per mapping, its pairs flat: key, key offset, value offset (-1 for an empty value like `key:`). */
  readonly maps: Map<object, (string | number)[]>;
  /** Per sequence: where each item starts. */
  readonly seqs: Map<unknown[], number[]>;
  /** Big mappings (5,000 services) indexed on first lookup: key -> position in the flat pairs. */
  readonly index: Map<object, Map<string, number>>;
}

export function newOffsets(): Offsets {
  return { root: 0, maps: new Map(), seqs: new Map(), index: new Map() };
}

/**
 * The document's value, or undefined when the text is outside the subset (then ask `yaml`). With
 * `offsets`, also records where every node starts.
 */
export function parseFast(text: string, offsets?: Offsets): { value: Record<string, unknown> } | undefined {
  // Tabs and CRs change what whitespace means in places; such files take the full parser.
  if (text.includes("\t") || text.includes("\r")) return undefined;
  try {
    return { value: new Reader(text, offsets).document() };
  } catch (error) {
    if (error === GIVE_UP) return undefined;
    throw error;
  }
}

/** The offset `offsetOf` (yaml-tree.ts) finds in the `yaml` document, found in a fast-path value. */
export function fastOffsetOf(
  value: unknown,
  offsets: Offsets,
  segments: readonly string[],
  wantKey: boolean,
): number {
  let node = value;
  let best = offsets.root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (Array.isArray(node)) {
      const starts = offsets.seqs.get(node);
      const index = /^\d+$/.test(segment) ? Number(segment) : -1;
      const start = starts?.[index];
      if (start === undefined) return best;
      best = start;
      node = node[index];
    } else if (node !== null && typeof node === "object") {
      const pairs = offsets.maps.get(node);
      const at = pairs === undefined ? -1 : pairAt(offsets, node, pairs, segment);
      if (at === -1) return best;
      const keyStart = (pairs as (string | number)[])[at + 1] as number;
      const valueStart = (pairs as (string | number)[])[at + 2] as number;
      if (i === segments.length - 1 && wantKey) return keyStart;
      best = valueStart === -1 ? keyStart : valueStart;
      node = (node as Record<string, unknown>)[segment];
    } else {
      return best;
    }
  }
  return best;
}

function pairAt(offsets: Offsets, map: object, pairs: (string | number)[], key: string): number {
  if (pairs.length <= 48) {
    for (let i = 0; i < pairs.length; i += 3) if (pairs[i] === key) return i;
    return -1;
  }
  let index = offsets.index.get(map);
  if (index === undefined) {
    index = new Map();
    for (let i = 0; i < pairs.length; i += 3) index.set(pairs[i] as string, i);
    offsets.index.set(map, index);
  }
  return index.get(key) ?? -1;
}

// Thrown (always this one object, so no stack is captured) when the text leaves the subset.
const GIVE_UP = new Error("outside the fast YAML subset");
function giveUp(): never {
  throw GIVE_UP;
}

const LF = 10;
const SPACE = 32;
const DQUOTE = 34;
const HASH = 35;
const SQUOTE = 39;
const COMMA = 44;
const DASH = 45;
const DOT = 46;
const COLON = 58;
const LBRACKET = 91;
const BACKSLASH = 92;
const RBRACKET = 93;
const LBRACE = 123;
const RBRACE = 125;
/**
 * Block and flow levels together. `yaml` composes recursively and past a few hundred levels reports its
 * own stack overflow as an error (where depends on the stack left); rules need about ten levels.
 */
const MAX_DEPTH = 64;
/** `yaml` refuses implicit keys longer than 1024 characters. */
const MAX_KEY = 1000;

/** Characters that cannot start a plain scalar (or that start something else). */
const INDICATORS = new Set([..."-?:,[]{}#&*!|>'\"%@`"].map((c) => c.charCodeAt(0)));
const FLOW_INDICATORS = new Set([..."[]{},"].map((c) => c.charCodeAt(0)));

/** Double-quoted escapes of one character, as `yaml` resolves them; \x, \u and \U give up. */
const ESCAPES: ReadonlyMap<string, string> = new Map([
  ["0", "\0"],
  ["a", "\x07"],
  ["b", "\b"],
  ["e", "\x1b"],
  ["f", "\f"],
  ["n", "\n"],
  ["r", "\r"],
  ["t", "\t"],
  ["v", "\v"],
  ["N", "\u0085"],
  ["_", "\u00a0"],
  ["L", "\u2028"],
  ["P", "\u2029"],
  [" ", " "],
  ['"', '"'],
  ["/", "/"],
  ["\\", "\\"],
]);

/** Control characters, C1 controls, line/paragraph separators and BOMs: left to `yaml`. */
function isOdd(c: number): boolean {
  return c < SPACE || (c >= 0x7f && (c <= 0x9f || c === 0x2028 || c === 0x2029 || c === 0xfeff));
}

/** Plain keys the fast path takes: letters, digits, `_`, and `.`, `-`, `/` after the first. */
function isKeyChar(c: number, first: boolean): boolean {
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95) return true;
  return !first && (c === DOT || c === DASH || c === 47);
}

const MAP = 0;
const SEQ = 1;
type Kind = typeof MAP | typeof SEQ;

interface Frame {
  readonly kind: Kind;
  /** Column of its keys or dashes. */
  readonly indent: number;
  readonly map: Record<string, unknown>;
  readonly seq: unknown[];
  /** A sequence at the same column as the key that holds it (`steps:\n- action: x`). */
  readonly compact: boolean;
}

/** A `key:` or `-` whose value starts on a later line (or is empty). */
interface Pending {
  readonly map: Record<string, unknown> | undefined;
  readonly key: string;
  readonly seq: unknown[] | undefined;
  readonly keyStart: number;
  /** Column of the key or dash. */
  readonly indent: number;
}

const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);
const NO_MAP: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
const NO_SEQ: unknown[] = Object.freeze([]) as unknown as unknown[];

class Reader {
  /** Where the last scalar or flow collection read ended. */
  private end = 0;
  private pending: Pending | undefined;
  private readonly stack: Frame[] = [];

  constructor(
    private readonly s: string,
    private readonly offsets: Offsets | undefined,
  ) {}

  document(): Record<string, unknown> {
    const s = this.s;
    const n = s.length;
    let root: Record<string, unknown> | undefined;
    let i = 0;
    while (i < n) {
      const lineStart = i;
      while (s.charCodeAt(i) === SPACE) i++;
      if (i >= n) break;
      const c = s.charCodeAt(i);
      if (c === LF) {
        i++;
        continue;
      }
      if (c === HASH) {
        i = lineEnd(s, i) + 1;
        continue;
      }
      const indent = i - lineStart;
      const item = c === DASH && isBlank(s, i + 1);
      if (root === undefined) {
        if (indent !== 0 || item) giveUp();
        root = this.newMap();
        if (this.offsets !== undefined) this.offsets.root = i;
        this.open(frame(MAP, 0, root, NO_SEQ, false));
      } else if (this.pending !== undefined) {
        this.openPending(indent, item, i);
      }
      const stack = this.stack;
      let top = stack[stack.length - 1] as Frame;
      while (top.indent > indent) {
        stack.pop();
        top = stack[stack.length - 1] as Frame;
      }
      if (top.indent === indent && top.kind === SEQ && top.compact && !item) {
        stack.pop();
        top = stack[stack.length - 1] as Frame;
      }
      if (top.indent !== indent || (top.kind === SEQ) !== item) giveUp();
      i = item ? this.item(top, i) : this.entry(top.map, i, indent);
    }
    if (root === undefined) giveUp();
    if (this.pending !== undefined) this.openPending(-1, false, n);
    return root;
  }

  /** The pending key's value: a block collection starting on this line, or empty. */
  private openPending(indent: number, item: boolean, at: number): void {
    const p = this.pending as Pending;
    this.pending = undefined;
    const compact = item && indent === p.indent && p.map !== undefined;
    if (indent > p.indent || compact) {
      const seq = item ? this.newSeq() : NO_SEQ;
      const map = item ? NO_MAP : this.newMap();
      this.settle(p, item ? seq : map, at);
      this.open(frame(item ? SEQ : MAP, indent, map, seq, compact));
      return;
    }
    // `-` with nothing under it: `yaml` gives its null a position of its own; not worth mirroring.
    if (p.map === undefined) giveUp();
    this.settle(p, null, -1);
  }

  private open(f: Frame): void {
    if (this.stack.length >= MAX_DEPTH) giveUp();
    this.stack.push(f);
  }

  private settle(p: Pending, value: unknown, at: number): void {
    if (p.map !== undefined) {
      p.map[p.key] = value;
      this.offsets?.maps.get(p.map)?.push(p.key, p.keyStart, at);
    } else {
      (p.seq as unknown[]).push(value);
      this.offsets?.seqs.get(p.seq as unknown[])?.push(at);
    }
  }

  /** `key: value`, `key: # comment` or `key:`; returns where the next line starts. */
  private entry(map: Record<string, unknown>, start: number, indent: number): number {
    const s = this.s;
    const key = this.key(start);
    let i = this.end;
    if (s.charCodeAt(i) !== COLON) giveUp();
    i++;
    if (!isBlank(s, i)) giveUp();
    claim(map, key);
    while (s.charCodeAt(i) === SPACE) i++;
    const c = s.charCodeAt(i);
    if (i >= s.length || c === LF || c === HASH) {
      // Keeps the key's place in the object's order; the value comes with the next lines.
      map[key] = null;
      this.pending = { map, key, seq: undefined, keyStart: start, indent };
      return lineEnd(s, i) + 1;
    }
    map[key] = this.value(i, false, this.stack.length);
    this.offsets?.maps.get(map)?.push(key, start, i);
    return this.restOfLine(this.end);
  }

  /** `- value`, `- key: value` (a mapping in the item) or `-` with the value below. */
  private item(top: Frame, dash: number): number {
    const s = this.s;
    const seq = top.seq;
    let i = dash + 1;
    while (s.charCodeAt(i) === SPACE) i++;
    const c = s.charCodeAt(i);
    if (i >= s.length || c === LF || c === HASH) {
      this.pending = { map: undefined, key: "", seq, keyStart: dash, indent: top.indent };
      return lineEnd(s, i) + 1;
    }
    if (c === DASH && isBlank(s, i + 1)) giveUp();
    if (this.startsEntry(i)) {
      const map = this.newMap();
      seq.push(map);
      this.offsets?.seqs.get(seq)?.push(i);
      const indent = top.indent + (i - dash);
      this.open(frame(MAP, indent, map, NO_SEQ, false));
      return this.entry(map, i, indent);
    }
    seq.push(this.value(i, false, this.stack.length));
    this.offsets?.seqs.get(seq)?.push(i);
    return this.restOfLine(this.end);
  }

  /** Whether a `key:` starts at `i` (after a dash). */
  private startsEntry(i: number): boolean {
    const s = this.s;
    const c = s.charCodeAt(i);
    let j = i;
    if (c === DQUOTE || c === SQUOTE) {
      this.quoted(i);
      j = this.end;
    } else {
      if (!isKeyChar(c, true)) return false;
      while (isKeyChar(s.charCodeAt(j), false)) j++;
    }
    return s.charCodeAt(j) === COLON && isBlank(s, j + 1);
  }

  /** After a value: spaces, then the end of the line or a comment. */
  private restOfLine(i: number): number {
    const s = this.s;
    const from = i;
    while (s.charCodeAt(i) === SPACE) i++;
    if (i >= s.length) return i;
    const c = s.charCodeAt(i);
    if (c === LF) return i + 1;
    if (c === HASH && i > from) return lineEnd(s, i) + 1;
    return giveUp();
  }

  /** A key (plain or quoted); sets `end` after it. */
  private key(i: number): string {
    const s = this.s;
    const c = s.charCodeAt(i);
    if (c === DQUOTE || c === SQUOTE) {
      const key = this.quoted(i);
      if (this.end - i > MAX_KEY) giveUp();
      return key;
    }
    if (!isKeyChar(c, true)) giveUp();
    let j = i + 1;
    while (isKeyChar(s.charCodeAt(j), false)) j++;
    if (j - i > MAX_KEY) giveUp();
    this.end = j;
    // Letters other than n, t and f cannot start a null, bool or number: the key is its text.
    const lower = c | 0x20;
    if (lower >= 97 && lower <= 122 && lower !== 110 && lower !== 116 && lower !== 102) return s.slice(i, j);
    return keyString(s.slice(i, j));
  }

  /** A value on this line: flow collection, quoted or plain scalar; sets `end` after it. */
  private value(i: number, flow: boolean, depth: number): unknown {
    const s = this.s;
    const c = s.charCodeAt(i);
    if (c === LBRACE) return this.flowMap(i, depth + 1);
    if (c === LBRACKET) return this.flowSeq(i, depth + 1);
    if (c === DQUOTE || c === SQUOTE) return this.quoted(i);
    if (INDICATORS.has(c)) {
      // `-1`, `-c`, `--x`: a dash before anything but a space or a flow indicator is plain text.
      const next = s.charCodeAt(i + 1);
      if (c !== DASH || isBlank(s, i + 1) || FLOW_INDICATORS.has(next) || isOdd(next)) giveUp();
    }
    return flow ? this.flowPlain(i) : this.blockPlain(i);
  }

  /** Up to the end of the line or ` #`; `: ` inside would make it a mapping. */
  private blockPlain(start: number): unknown {
    const s = this.s;
    const n = s.length;
    let i = start;
    let end = start;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === LF) break;
      if (c === SPACE) {
        if (s.charCodeAt(i + 1) === HASH) break;
        i++;
        continue;
      }
      if ((c === COLON && isBlank(s, i + 1)) || isOdd(c)) giveUp();
      i++;
      end = i;
    }
    this.end = end;
    return resolvePlain(s.slice(start, end));
  }

  /** Plain text inside a flow collection: ends at a flow indicator, `: ` or ` #`. */
  private flowPlain(start: number): unknown {
    const s = this.s;
    const n = s.length;
    let i = start;
    let end = start;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === LF || FLOW_INDICATORS.has(c)) break;
      if (c === SPACE) {
        if (s.charCodeAt(i + 1) === HASH) giveUp();
        i++;
        continue;
      }
      if (c === COLON) {
        const next = s.charCodeAt(i + 1);
        if (isBlank(s, i + 1) || FLOW_INDICATORS.has(next)) break;
      }
      if (isOdd(c)) giveUp();
      i++;
      end = i;
    }
    if (end === start) giveUp();
    this.end = end;
    return resolvePlain(s.slice(start, end));
  }

  private flowMap(open: number, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) giveUp();
    const s = this.s;
    const map = this.newMap();
    let i = skipSpaces(s, open + 1);
    if (s.charCodeAt(i) === RBRACE) {
      this.end = i + 1;
      return map;
    }
    for (;;) {
      const keyStart = i;
      const key = this.key(i);
      i = this.end;
      // `{a:b}`, `{"a":1}`, `{ a : 1 }`, `{ a }`: valid YAML, left to `yaml`.
      if (s.charCodeAt(i) !== COLON || s.charCodeAt(i + 1) !== SPACE) giveUp();
      i = skipSpaces(s, i + 1);
      claim(map, key);
      map[key] = this.value(i, true, depth);
      this.offsets?.maps.get(map)?.push(key, keyStart, i);
      i = skipSpaces(s, this.end);
      const c = s.charCodeAt(i);
      if (c === RBRACE) {
        this.end = i + 1;
        return map;
      }
      if (c !== COMMA) giveUp();
      i = skipSpaces(s, i + 1);
      // A trailing comma: valid, rare, left to `yaml`.
      if (s.charCodeAt(i) === RBRACE) giveUp();
    }
  }

  private flowSeq(open: number, depth: number): unknown[] {
    if (depth > MAX_DEPTH) giveUp();
    const s = this.s;
    const seq = this.newSeq();
    let i = skipSpaces(s, open + 1);
    if (s.charCodeAt(i) === RBRACKET) {
      this.end = i + 1;
      return seq;
    }
    for (;;) {
      seq.push(this.value(i, true, depth));
      this.offsets?.seqs.get(seq)?.push(i);
      i = skipSpaces(s, this.end);
      const c = s.charCodeAt(i);
      if (c === RBRACKET) {
        this.end = i + 1;
        return seq;
      }
      // A `:` here would make the item a one-pair mapping: left to `yaml`.
      if (c !== COMMA) giveUp();
      i = skipSpaces(s, i + 1);
      if (s.charCodeAt(i) === RBRACKET) giveUp();
    }
  }

  /** A quoted scalar closed on its line; sets `end` after the closing quote. */
  private quoted(open: number): string {
    const s = this.s;
    const n = s.length;
    const quote = s.charCodeAt(open);
    let out = "";
    let chunk = open + 1;
    let i = chunk;
    for (;;) {
      if (i >= n) giveUp();
      const c = s.charCodeAt(i);
      if (c === LF || isOdd(c)) giveUp();
      if (c === quote) {
        if (quote === SQUOTE && s.charCodeAt(i + 1) === SQUOTE) {
          out += s.slice(chunk, i + 1);
          i += 2;
          chunk = i;
          continue;
        }
        break;
      }
      if (c === BACKSLASH && quote === DQUOTE) {
        const escaped = ESCAPES.get(s.charAt(i + 1));
        if (escaped === undefined) giveUp();
        out += s.slice(chunk, i) + escaped;
        i += 2;
        chunk = i;
        continue;
      }
      i++;
    }
    this.end = i + 1;
    return out + s.slice(chunk, i);
  }

  private newMap(): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    this.offsets?.maps.set(map, []);
    return map;
  }

  private newSeq(): unknown[] {
    const seq: unknown[] = [];
    this.offsets?.seqs.set(seq, []);
    return seq;
  }
}

function frame(
  kind: Kind,
  indent: number,
  map: Record<string, unknown>,
  seq: unknown[],
  compact: boolean,
): Frame {
  return { kind, indent, map, seq, compact };
}

/** Duplicate and reserved keys get their diagnostics (and their refusal) from the full parser. */
function claim(map: Record<string, unknown>, key: string): void {
  if (FORBIDDEN.has(key) || Object.hasOwn(map, key)) giveUp();
}

/** A space, a line feed or the end of the text. */
function isBlank(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c === SPACE || c === LF || i >= s.length;
}

function skipSpaces(s: string, i: number): number {
  while (s.charCodeAt(i) === SPACE) i++;
  return i;
}

function lineEnd(s: string, i: number): number {
  const at = s.indexOf("\n", i);
  return at === -1 ? s.length : at;
}
