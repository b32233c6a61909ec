/**
 * Memoized json-logic for long simulations. Checking and copying the facts on every evaluation is most
 * of the cost of a simulated tick (three rules x three services x 288,000 ticks), yet a condition like
 * `{ "==": [{ var: status }, "down"] }` sees only a handful of distinct inputs.
 *
 * Sound because a json-logic result depends on the data only through `var` (and `missing`): for an
 * expression whose every `var` path is a literal, the values of the top-level facts those paths start
 * with determine the result. Anything else (computed or empty paths, `missing`, operators that evaluate
 * against array items) is not memoized and goes to the real evaluator every time. Misses always do.
 */
import type { JsonLogic } from "../config/model.js";
type Evaluate = (expr: JsonLogic, data: unknown) => unknown;

/** Bound per expression: a condition reading ever-changing facts (since, counters) must not grow memory. */
const MAX_ENTRIES = 4096;
const UNCACHEABLE = new Set(["missing", "missing_some", "filter", "map", "reduce", "all", "none", "some"]);

interface Plan {
  readonly roots: readonly string[];
  readonly cache: Map<string, unknown>;
}

export function memoize(evaluate: Evaluate): Evaluate {
  const plans = new WeakMap<object, Plan | null>();
  return (expr: JsonLogic, data: unknown) => {
    if (typeof expr !== "object" || expr === null) return evaluate(expr, data);
    let plan = plans.get(expr);
    if (plan === undefined) {
      const roots = new Set<string>();
      plan = collectRoots(expr, roots, 0) ? { roots: [...roots].sort(), cache: new Map() } : null;
      plans.set(expr, plan);
    }
    if (plan === null) return evaluate(expr, data);
    const key = keyOf(plan.roots, data);
    if (key === undefined) return evaluate(expr, data);
    if (plan.cache.has(key)) return plan.cache.get(key);
    const value = evaluate(expr, data);
    if (plan.cache.size >= MAX_ENTRIES) plan.cache.clear();
    plan.cache.set(key, value);
    return value;
  };
}

/** Adds the first segment of every `var` path; false when the expression cannot be memoized. */
function collectRoots(node: unknown, roots: Set<string>, depth: number): boolean {
  if (depth > 64) return false;
  if (Array.isArray(node)) return node.every((item) => collectRoots(item, roots, depth + 1));
  if (node === null || typeof node !== "object") return true;
  const entries = Object.entries(node);
  if (entries.length !== 1) return true; // a literal object (checkLogic refuses these in rules)
  const [op, raw] = entries[0] as [string, unknown];
  if (UNCACHEABLE.has(op)) return false;
  if (op !== "var") return collectRoots(raw, roots, depth + 1);
  const [path, ...fallback] = Array.isArray(raw) ? raw : [raw];
  if (typeof path !== "string" && typeof path !== "number") return false;
  const root = String(path).split(".")[0] ?? "";
  if (root === "") return false;
  roots.add(root);
  return collectRoots(fallback, roots, depth + 1);
}

/** The memo key, or undefined when a value cannot be keyed (then the call is not memoized). */
function keyOf(roots: readonly string[], data: unknown): string | undefined {
  const record = data !== null && typeof data === "object" ? (data as Record<string, unknown>) : undefined;
  let key = "";
  for (const root of roots) {
    const part = encode(record !== undefined && Object.hasOwn(record, root) ? record[root] : undefined);
    if (part === undefined) return undefined;
    key += part;
  }
  return key;
}

/** One value as a self-delimiting string: no two different values share an encoding. */
function encode(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return `s${value.length}:${value}`;
    case "number":
    case "bigint":
      return `n${String(value)};`;
    case "boolean":
      return value ? "t" : "f";
    case "undefined":
      return "u";
    case "object": {
      if (value === null) return "z";
      try {
        // JSON would turn NaN and Infinity into null: write them out.
        const json = JSON.stringify(value, (_k, v: unknown) =>
          typeof v === "number" && !Number.isFinite(v) ? `\u0001${String(v)}` : v,
        );
        return `o${json.length}:${json}`;
      } catch {
        return undefined;
      }
    }
    default:
      return undefined;
  }
}
