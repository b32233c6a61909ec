/**
 * json-logic, made safe to use from rules: every expression is checked at load time against an
 * allow-list, and this is the one module that calls json-logic-js at run time.
 *
 * Why the checks: json-logic treats an object with two keys as a literal (always truthy), so a typo
 * turns a condition into "always"; unknown operators only fail when evaluated; `var` walks prototypes.
 */
import { createRequire } from "node:module";
import { closest, didYouMean, escapeSegment, type Finding } from "./diagnostics.js";
import { checkFactPath, type FactFields } from "./fact-paths.js";

/** json-logic-js built-ins, minus `log` (writes to the console). `method` no longer exists in 2.x. */
export const LOGIC_OPERATORS: readonly string[] = [
  "==", "===", "!=", "!==", ">", ">=", "<", "<=", "!!", "!", "%", "in", "cat", "substr",
  "+", "*", "-", "/", "min", "max", "merge", "if", "?:", "and", "or",
  "filter", "map", "reduce", "all", "none", "some", "var", "missing", "missing_some",
]; // prettier-ignore
const ALLOWED: ReadonlySet<string> = new Set(LOGIC_OPERATORS);
/** What people write from other languages; edit distance alone would suggest "!" for "=". */
const OPERATOR_ALIASES: Readonly<Record<string, string>> = {
  "=": "==",
  eq: "==",
  equals: "==",
  ne: "!=",
  "<>": "!=",
  gt: ">",
  gte: ">=",
  lt: "<",
  lte: "<=",
  "&&": "and",
  "||": "or",
  not: "!",
  contains: "in",
};
const UNSAFE_SEGMENTS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
/** Operators whose second argument runs against each array item instead of the facts. */
const SCOPED_OPERATORS: ReadonlySet<string> = new Set(["filter", "map", "reduce", "all", "none", "some"]);
const MAX_DEPTH = 64;

export interface LogicCheckOptions {
  /**
   * When given, every `var` path (outside filter/map/...) must name a fact: a list checks the first
   * segment only, a shape (src/config/fact-paths.ts) checks nested fields too (`heal.outcom`).
   */
  readonly facts?: readonly string[] | FactFields;
}

export type LogicFinding = Finding;

/** Problems in a json-logic expression, with JSON pointers under `pointer`. Empty = fine. */
export function checkLogic(expr: unknown, pointer: string, options: LogicCheckOptions = {}): LogicFinding[] {
  const out: LogicFinding[] = [];
  const facts: FactFields | undefined = Array.isArray(options.facts)
    ? Object.fromEntries(options.facts.map((name: string) => [name, "open"]))
    : (options.facts as FactFields | undefined);
  walk(expr, pointer, false, 0, facts, out);
  return out;
}

function walk(
  node: unknown,
  pointer: string,
  scoped: boolean,
  depth: number,
  facts: FactFields | undefined,
  out: LogicFinding[],
): void {
  if (depth > MAX_DEPTH) {
    out.push({
      pointer,
      code: "invalid-logic",
      message: `expression nested deeper than ${MAX_DEPTH} levels`,
    });
    return;
  }
  if (Array.isArray(node)) {
    node.forEach((item, i) => walk(item, `${pointer}/${i}`, scoped, depth + 1, facts, out));
    return;
  }
  if (node === null || typeof node !== "object") return;
  const keys = Object.keys(node);
  if (keys.length !== 1) {
    out.push({
      pointer,
      code: "invalid-logic",
      message:
        keys.length === 0
          ? "an empty object is not an operation: json-logic would treat it as a value that is always true"
          : `an object with ${keys.length} keys (${keys.join(", ")}) is not an operation: json-logic would treat it as a value that is always true`,
      hint:
        keys.length === 0
          ? 'write an operation such as { "==": [{ var: status }, "down"] }'
          : "give each operation its own object and combine them, e.g. { and: [ {...}, {...} ] }",
    });
    return;
  }
  const op = keys[0] as string;
  const opPointer = `${pointer}/${escapeSegment(op)}`;
  const raw = (node as Record<string, unknown>)[op];
  const args: unknown[] = Array.isArray(raw) ? raw : [raw];
  const argPointer = (i: number): string => (Array.isArray(raw) ? `${opPointer}/${i}` : opPointer);
  if (!ALLOWED.has(op)) {
    const alias = Object.hasOwn(OPERATOR_ALIASES, op.toLowerCase())
      ? OPERATOR_ALIASES[op.toLowerCase()]
      : undefined;
    const hint = didYouMean(alias ?? closest(op, LOGIC_OPERATORS));
    out.push({
      pointer: opPointer,
      code: "unknown-operator",
      message: `unknown json-logic operator "${op}"`,
      ...(hint === undefined ? {} : { hint }),
      atKey: true,
    });
  }
  if (op === "var") {
    checkPath(args[0], argPointer(0), scoped, facts, out);
    args.slice(1).forEach((arg, i) => walk(arg, argPointer(i + 1), scoped, depth + 1, facts, out));
    return;
  }
  if (op === "missing" || op === "missing_some") {
    const names = op === "missing" ? args : args.slice(1);
    const offset = op === "missing" ? 0 : 1;
    if (op === "missing_some") walk(args[0], argPointer(0), scoped, depth + 1, facts, out);
    names.forEach((name, i) => {
      const p = argPointer(i + offset);
      if (Array.isArray(name)) name.forEach((n, j) => checkPath(n, `${p}/${j}`, scoped, facts, out));
      else checkPath(name, p, scoped, facts, out);
    });
    return;
  }
  args.forEach((arg, i) => {
    const inner = SCOPED_OPERATORS.has(op) && i === 1;
    walk(arg, argPointer(i), scoped || inner, depth + 1, facts, out);
  });
}

function checkPath(
  path: unknown,
  pointer: string,
  scoped: boolean,
  facts: FactFields | undefined,
  out: LogicFinding[],
): void {
  if (path !== null && typeof path === "object") {
    // A computed path: only checkable at run time, where the safe `var` below refuses unsafe segments.
    walk(path, pointer, scoped, 1, facts, out);
    return;
  }
  if (typeof path !== "string" || path === "") return;
  const segments = path.split(".");
  const unsafe = segments.find((s) => UNSAFE_SEGMENTS.has(s));
  if (unsafe !== undefined) {
    out.push({
      pointer,
      code: "unsafe-var-path",
      message: `"${path}" reads "${unsafe}", which conditions may not access`,
    });
    return;
  }
  if (facts === undefined || scoped) return;
  const problem = checkFactPath(facts, segments, closest);
  if (problem !== undefined) {
    const hint = didYouMean(problem.suggestion);
    out.push({
      pointer,
      code: "unknown-fact",
      message: `"${problem.path}" is not a fact conditions can read (${problem.expected})`,
      ...(hint === undefined ? {} : { hint }),
    });
  }
}

// ---- evaluation ------------------------------------------------------------------------------------

export type LogicResult =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

interface JsonLogicModule {
  apply(logic: unknown, data?: unknown): unknown;
  add_operation(name: string, code: (...args: unknown[]) => unknown): void;
}

let engine: JsonLogicModule | undefined;

/** Loaded on first evaluation only: `validate` never needs it. */
function jsonLogic(): JsonLogicModule {
  if (engine === undefined) {
    const loaded = createRequire(import.meta.url)("json-logic-js") as JsonLogicModule;
    // The built-in `var` follows prototypes; this one reads own properties only (also used by `missing`).
    loaded.add_operation("var", function safeVar(this: unknown, path: unknown, fallback: unknown): unknown {
      return readOwn(this, path, fallback === undefined ? null : fallback);
    });
    engine = loaded;
  }
  return engine;
}

function readOwn(data: unknown, path: unknown, notFound: unknown): unknown {
  if (path === undefined || path === null || path === "") return data;
  let node = data;
  for (const segment of String(path).split(".")) {
    if (node === null || node === undefined || UNSAFE_SEGMENTS.has(segment)) return notFound;
    if (!Object.hasOwn(Object(node), segment)) return notFound;
    node = (node as Record<string, unknown>)[segment];
    if (node === undefined) return notFound;
  }
  return node;
}

/** Evaluates without throwing; refuses expressions that `checkLogic` would reject. */
export function tryEvaluateLogic(expr: unknown, data: unknown): LogicResult {
  const problems = checkLogic(expr, "");
  if (problems.length > 0) return { ok: false, error: problems.map((p) => p.message).join("; ") };
  try {
    return { ok: true, value: jsonLogic().apply(expr, plainCopy(data, 0)) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The result of the expression, or `undefined` when it cannot be evaluated (falsy on purpose: a broken
 * condition must never run a step or fire an alert). `onError` hears why.
 */
export function evaluateLogic(expr: unknown, data: unknown, onError?: (message: string) => void): unknown {
  const result = tryEvaluateLogic(expr, data);
  if (result.ok) return result.value;
  onError?.(result.error);
  return undefined;
}

/** Null-prototype objects all the way down, so nothing can be read through a prototype. */
function plainCopy(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_DEPTH) return null;
  if (Array.isArray(value)) return value.map((v: unknown) => plainCopy(v, depth + 1));
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (UNSAFE_SEGMENTS.has(key)) continue;
    out[key] = plainCopy((value as Record<string, unknown>)[key], depth + 1);
  }
  return out;
}
