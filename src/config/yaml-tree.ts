/**
 * The YAML syntax tree, walked without following aliases (linear in the text): duplicate and forbidden
 * keys, aliases that would recurse or have no anchor, and JSON pointer -> source offset.
 */
import { isAlias, isMap, isScalar, isSeq } from "yaml";
import type { Document, Node, Pair } from "yaml";
import { type Finding, toPointer } from "./diagnostics.js";

export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
/** Maps whose keys are ids: a repeated key there is a duplicate id, not just a duplicate key. */
const ID_MAPS: ReadonlySet<string> = new Set(["services", "recipes", "channels", "levels", "rules"]);

export interface Duplicate {
  readonly path: string[];
  /** Offset of the repeated key, and of its first occurrence. */
  readonly offset: number;
  readonly first: number;
}

export interface Scan {
  readonly forbidden: string[][];
  readonly duplicates: Duplicate[];
  firstAlias?: string[];
  /** An alias inside the node its anchor names: the JS value would be circular. */
  recursiveAlias?: string[];
  /** An alias used before (or without) its anchor. */
  unresolvedAlias?: string[];
}

/** Aliases are not followed, so this is linear in the size of the text. */
export function scanTree(
  node: unknown,
  path: string[],
  open: Set<string>,
  seen: Set<string>,
  out: Scan,
): void {
  if (isAlias(node)) {
    out.firstAlias ??= [...path];
    if (open.has(node.source)) out.recursiveAlias ??= [...path];
    else if (!seen.has(node.source)) out.unresolvedAlias ??= [...path];
    return;
  }
  const anchor = isMap(node) || isSeq(node) || isScalar(node) ? node.anchor : undefined;
  if (anchor !== undefined) {
    seen.add(anchor);
    open.add(anchor);
  }
  if (isMap(node)) {
    const firstOffsets = new Map<string, number>();
    for (const pair of node.items) {
      const k = keyText(pair.key) ?? "";
      const offset = nodeStart(pair.key) ?? 0;
      path.push(k);
      const first = firstOffsets.get(k);
      if (first === undefined) firstOffsets.set(k, offset);
      else out.duplicates.push({ path: [...path], offset, first });
      if (FORBIDDEN_KEYS.has(k)) out.forbidden.push([...path]);
      else scanTree(pair.value, path, open, seen, out);
      path.pop();
    }
  } else if (isSeq(node)) {
    for (let i = 0; i < node.items.length; i++) {
      path.push(String(i));
      scanTree(node.items[i], path, open, seen, out);
      path.pop();
    }
  }
  if (anchor !== undefined) open.delete(anchor);
}

export function duplicateFinding(dup: Duplicate, firstLine: number): Finding {
  const key = dup.path[dup.path.length - 1] ?? "";
  const parent = dup.path.length === 2 ? (dup.path[0] as string) : undefined;
  const isId = parent !== undefined && ID_MAPS.has(parent);
  return {
    pointer: toPointer(dup.path),
    code: isId ? "duplicate-id" : "duplicate-key",
    message: isId
      ? `duplicate id "${key}" in ${parent} (first defined on line ${firstLine})`
      : `duplicate key "${key}" (first defined on line ${firstLine}): the later value would silently win`,
  };
}

export function aliasFinding(scan: Scan): Finding | undefined {
  if (scan.recursiveAlias !== undefined) {
    return {
      pointer: toPointer(scan.recursiveAlias),
      code: "alias-limit",
      message: "this alias refers to a node that contains it: the value would be infinitely deep",
    };
  }
  if (scan.unresolvedAlias !== undefined) {
    return {
      pointer: toPointer(scan.unresolvedAlias),
      code: "yaml-syntax",
      message: "this alias has no anchor before it (define `&name` before using `*name`)",
    };
  }
  return undefined;
}

/** A copy without forbidden keys, built from fresh plain objects (nothing can reach Object.prototype). */
export function sanitize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sanitize);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) continue;
    out[key] = sanitize((value as Record<string, unknown>)[key]);
  }
  return out;
}

// ---- positions -------------------------------------------------------------------------------------

/** Big maps (5,000 services) are indexed once, so many lookups stay linear overall. */
const mapIndex = new WeakMap<object, Map<string, Pair>>();

function findPair(map: { items: Pair[] }, segment: string): Pair | undefined {
  if (map.items.length <= 16) return map.items.find((pair) => keyText(pair.key) === segment);
  let index = mapIndex.get(map);
  if (index === undefined) {
    index = new Map();
    for (const pair of map.items) {
      const k = keyText(pair.key);
      if (k !== undefined && !index.has(k)) index.set(k, pair);
    }
    mapIndex.set(map, index);
  }
  return index.get(segment);
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null ? "" : String(key.value);
  return undefined;
}

function nodeStart(node: unknown): number | undefined {
  if (node !== null && typeof node === "object" && "range" in node) {
    const range = (node as Node).range;
    if (Array.isArray(range)) return range[0];
  }
  return undefined;
}

/** `key:` with nothing after it still gets a zero-width null scalar. */
function isEmpty(node: unknown): boolean {
  if (!isScalar(node) || node.value !== null || !Array.isArray(node.range)) return false;
  return node.range[0] === node.range[1];
}

/** Walks the segments as far as they exist and returns the best offset for the value (or key). */
export function offsetOf(doc: Document.Parsed, segments: readonly string[], wantKey: boolean): number {
  let node: unknown = doc.contents;
  let best = nodeStart(node) ?? 0;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = findPair(node, segment);
      if (pair === undefined) return best;
      const keyOffset = nodeStart(pair.key);
      if (i === segments.length - 1 && wantKey) return keyOffset ?? best;
      // A key with no value (`probe:`) has no value to point at: its key is the place.
      best = (isEmpty(pair.value) ? undefined : nodeStart(pair.value)) ?? keyOffset ?? best;
      node = pair.value;
    } else if (isSeq(node)) {
      const item: unknown = /^\d+$/.test(segment) ? node.items[Number(segment)] : undefined;
      if (item === undefined) return best;
      best = nodeStart(item) ?? best;
      node = item;
    } else {
      return best;
    }
  }
  return best;
}
