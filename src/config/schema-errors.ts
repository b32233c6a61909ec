/**
 * ajv errors -> findings a person understands. ajv with allErrors reports every failing branch of an
 * anyOf/oneOf and an extra error for each if/then; we keep the most specific branch and say what was
 * expected in words ("expected a duration like 2s, 5m or 1h", "port must be between 1 and 65535").
 * Only runs when there are errors, so the schema files it reads for hints are loaded lazily.
 */
import {
  closest,
  didYouMean,
  escapeSegment,
  type DiagnosticCode,
  type Finding,
  parsePointer,
} from "./diagnostics.js";
import {
  describeValue,
  HIDDEN,
  namePattern,
  patternFinding,
  rangeFinding,
  typeWords,
  valueAt,
} from "./schema-messages.js";
import { allowedKeys, patternsAt, type SchemaRoot } from "./schema-navigate.js";

export { describeValue, valueAt } from "./schema-messages.js";

export interface SchemaErrorLike {
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly keyword: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message?: string;
}

const BRANCHING = new Set(["anyOf", "oneOf"]);
/** Handler schemas accept `${{ ... }}` / `${env:NAME}` where a number or boolean is expected. */
const TEMPLATE_PATTERN_START = "^(\\$\\{\\{";
/** Keywords that only say "a sub-schema failed": the sub-schema's own errors say what. */
const WRAPPERS = new Set(["if", "then", "else", "allOf", "$ref"]);

/**
 * @param data the document the errors are about
 * @param root where hints read allowed keys from
 * @param base pointer prefix when `data` is a part of the document (plugin handler parameters)
 * @param options.hideValues never quote the offending values (they came from the environment)
 */
export function schemaFindings(
  errors: readonly SchemaErrorLike[],
  data: unknown,
  root: SchemaRoot,
  base = "",
  options: { hideValues?: boolean } = {},
): Finding[] {
  const kept = collapseBranches(errors).filter((e) => !WRAPPERS.has(e.keyword));
  const out: Finding[] = [];
  // propertyNames reports a bare `pattern` error on the map plus one naming the key: keep the latter.
  const named = new Set(kept.filter((e) => e.keyword === "propertyNames").map((e) => e.instancePath));
  for (const error of kept) {
    if (
      error.keyword === "pattern" &&
      error.schemaPath.endsWith("/propertyNames/pattern") &&
      named.has(error.instancePath)
    ) {
      continue;
    }
    const finding = describe(error, data, root, base, options.hideValues === true);
    if (finding !== undefined) out.push(finding);
  }
  return withoutMissingExplained(out);
}

/**
 * `cmd:` where `command` is required is one mistake, and the unknown key's "did you mean" says all of it:
 * the "missing required key" beside it goes.
 */
function withoutMissingExplained(findings: Finding[]): Finding[] {
  const meant = new Set<string>();
  for (const f of findings) {
    if (f.code !== "unknown-key" || f.hint === undefined) continue;
    const guess = /^did you mean "(.*)"\?$/.exec(f.hint)?.[1];
    if (guess !== undefined) meant.add(`${f.pointer.slice(0, f.pointer.lastIndexOf("/"))}\0${guess}`);
  }
  if (meant.size === 0) return findings;
  return findings.filter(
    (f) => f.code !== "missing-key" || !meant.has(`${f.pointer}\0${missingKeyOf(f.message)}`),
  );
}

function missingKeyOf(message: string): string {
  return /^missing required key "(.*?)"/.exec(message)?.[1] ?? "";
}

/**
 * Replaces each failed anyOf/oneOf (and its branches' errors) by the errors of its best branch. A group
 * is one schema location at one instance: two services failing the same `port` anyOf are two groups
 * (grouping by schema path alone merged them and dropped all but one). Deeper groups go first, so a
 * recursive schema's inner group is settled before the outer one sees its errors.
 */
function collapseBranches(errors: readonly SchemaErrorLike[]): SchemaErrorLike[] {
  let current = [...errors];
  const branches = current
    .filter((e) => BRANCHING.has(e.keyword))
    .sort(
      (a, b) => b.schemaPath.length - a.schemaPath.length || b.instancePath.length - a.instancePath.length,
    );
  for (const group of branches) {
    if (!current.includes(group)) continue;
    const prefix = `${group.schemaPath}/`;
    const within = (path: string): boolean =>
      path === group.instancePath || path.startsWith(`${group.instancePath}/`);
    const inGroup = current.filter(
      (e) => e !== group && e.schemaPath.startsWith(prefix) && within(e.instancePath),
    );
    const byBranch = new Map<string, SchemaErrorLike[]>();
    for (const e of inGroup) {
      const index = e.schemaPath.slice(prefix.length).split("/")[0] ?? "";
      byBranch.set(index, [...(byBranch.get(index) ?? []), e]);
    }
    const candidates = [...byBranch.values()];
    const wrongType = (list: SchemaErrorLike[]): boolean =>
      list.some((e) => e.keyword === "type" && e.instancePath === group.instancePath);
    // A branch that only accepts a template string fits any string: prefer what the others expected.
    const templateOnly = (list: SchemaErrorLike[]): boolean =>
      list.every(
        (e) => e.keyword === "pattern" && String(e.params["pattern"]).startsWith(TEMPLATE_PATTERN_START),
      );
    const fitting = candidates.filter((list) => !wrongType(list) && !templateOnly(list));
    let replacement: SchemaErrorLike[];
    if (fitting.length > 0) {
      replacement = fitting.reduce((best, list) => (list.length < best.length ? list : best));
    } else {
      // The value fits no branch: one error naming every type the branches accept.
      const types = candidates.flatMap((list) =>
        list
          .filter((e) => e.keyword === "type" && e.instancePath === group.instancePath)
          .map((e) => e.params["type"]),
      );
      const template = candidates.some(templateOnly);
      const named = [...new Set(types.flat())].filter((t) => !(template && t === "string"));
      replacement = [{ ...group, keyword: "type", params: { type: named, template } }];
    }
    current = current.filter((e) => e !== group && !inGroup.includes(e));
    current.push(...replacement);
  }
  return current;
}

function describe(
  error: SchemaErrorLike,
  data: unknown,
  root: SchemaRoot,
  base: string,
  hideValues: boolean,
): Finding | undefined {
  const pointer = `${base}${error.instancePath}`;
  const segments = parsePointer(error.instancePath);
  const value = hideValues ? HIDDEN : valueAt(data, segments);
  const last = segments[segments.length - 1] ?? "";
  const p = error.params;
  const make = (
    code: DiagnosticCode,
    message: string,
    hint?: string,
    atKey = false,
    at = pointer,
  ): Finding => ({
    pointer: at,
    code,
    message,
    ...(hint === undefined ? {} : { hint }),
    ...(atKey ? { atKey } : {}),
  });
  const isLogic = error.schemaPath.includes("jsonLogic") || last === "when" || last === "json";

  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(p["additionalProperty"]);
      const allowed = allowedKeys(root, data, segments);
      const guess = closest(key, allowed);
      const hint =
        guess !== undefined
          ? didYouMean(guess)
          : allowed.length > 0
            ? `allowed here: ${allowed.join(", ")}`
            : undefined;
      return make("unknown-key", `unknown key "${key}"`, hint, true, `${pointer}/${escapeSegment(key)}`);
    }
    case "required": {
      const key = String(p["missingProperty"]);
      return make(
        "missing-key",
        `missing required key "${key}"${last === "" ? "" : ` in "${last}"`}`,
        undefined,
        pointer !== "",
      );
    }
    case "dependentRequired": {
      const need = String(p["missingProperty"]);
      const has = String(p["property"]);
      return make(
        "missing-key",
        `"${has}" needs "${need}" next to it`,
        undefined,
        true,
        `${pointer}/${escapeSegment(has)}`,
      );
    }
    case "propertyNames": {
      const name = String(p["propertyName"]);
      return make(
        "invalid-value",
        `"${name}" is not a valid name here: ${namePattern(error)}`,
        undefined,
        true,
        `${pointer}/${escapeSegment(name)}`,
      );
    }
    case "type": {
      if (isLogic && value !== null && typeof value === "object") return undefined;
      const likely = hideValues ? undefined : likelyMistake(p["type"], value, last, root, data, segments);
      if (likely !== undefined) return make(likely.code, likely.message, likely.hint);
      const templated = p["template"] === true ? " (or a ${{ ... }} / ${env:NAME} template)" : "";
      const expected = isLogic
        ? "a json-logic condition (a mapping with one operator) or true/false"
        : `${typeWords(p["type"])}${templated}`;
      return make("invalid-type", `expected ${expected}, got ${describeValue(value)}`);
    }
    case "minProperties":
    case "maxProperties":
      // checkLogic explains json-logic shape problems better (and reports them itself).
      if (isLogic) return undefined;
      return make(
        "invalid-value",
        `must have ${error.keyword === "minProperties" ? "at least" : "at most"} ${String(p["limit"])} keys`,
      );
    case "enum": {
      const allowed = (Array.isArray(p["allowedValues"]) ? p["allowedValues"] : []).map(String);
      const guess = typeof value === "string" ? closest(value, allowed) : undefined;
      return make(
        "invalid-value",
        `${describeValue(value)} is not one of: ${allowed.join(", ")}`,
        didYouMean(guess),
      );
    }
    case "const":
      return make(
        "invalid-value",
        `must be ${JSON.stringify(p["allowedValue"])}, got ${describeValue(value)}`,
      );
    case "pattern":
      return patternFinding(String(p["pattern"]), value, make);
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return rangeFinding(error, value, last, make);
    case "minItems":
    case "minLength":
      return make(
        "invalid-value",
        Number(p["limit"]) === 1
          ? "must not be empty"
          : `must have at least ${String(p["limit"])} ${error.keyword === "minItems" ? "items" : "characters"}`,
      );
    case "maxItems":
    case "maxLength":
      return make(
        "invalid-value",
        `must have at most ${String(p["limit"])} ${error.keyword === "maxItems" ? "items" : "characters"}`,
      );
    case "uniqueItems": {
      // ajv names the two positions in either order: report at the later one.
      const first = Math.min(Number(p["i"]), Number(p["j"]));
      const again = Math.max(Number(p["i"]), Number(p["j"]));
      const item = Array.isArray(value) ? (value as unknown[])[again] : undefined;
      const message = `${describeValue(item)} is listed twice (items ${first + 1} and ${again + 1})`;
      return make("invalid-value", message, undefined, false, `${pointer}/${again}`);
    }
    case "not":
      if (value !== null && typeof value === "object" && "recipe" in value && "steps" in value) {
        return make(
          "invalid-value",
          "use either `recipe` or `steps`, not both",
          undefined,
          true,
          `${pointer}/steps`,
        );
      }
      return make("invalid-value", "this combination of keys is not allowed");
    case "discriminator": {
      // The rules schema guards its discriminated oneOf with an `if`, so the semantic check usually
      // reports unknown probe types (with a hint from the registry); this covers a schema without it.
      const tag = String(p["tag"]);
      const tagValue = p["tagValue"];
      const at = `${pointer}/${escapeSegment(tag)}`;
      if (last === "probe" && tag === "type" && typeof tagValue === "string") {
        return make("unknown-probe", `unknown probe type "${tagValue}"`, undefined, false, at);
      }
      return make(
        "invalid-value",
        `"${tag}" is missing or not one of the known values`,
        undefined,
        false,
        at,
      );
    }
    default:
      return make("invalid-value", error.message ?? `fails the "${error.keyword}" check`);
  }
}

/**
 * Type errors with an obvious fix: a duration written as a bare number (`interval: 30`), and a command
 * written as one string where an argv list is expected (`command: "redis-cli ping"`).
 */
function likelyMistake(
  expected: unknown,
  value: unknown,
  last: string,
  root: SchemaRoot,
  data: unknown,
  segments: readonly string[],
): { code: DiagnosticCode; message: string; hint: string } | undefined {
  const types = Array.isArray(expected) ? expected : [expected];
  if (typeof value === "number" && types.includes("string")) {
    const durations = patternsAt(root, data, segments).some((p) => p.includes("(ms|s|m|h|d)"));
    if (durations) {
      return {
        code: "invalid-duration",
        message: `expected a duration like 2s, 5m or 1h, got ${value}`,
        hint: `add a unit: "${value}s"`,
      };
    }
  }
  if (typeof value === "string" && types.includes("array") && last === "command" && value.trim() !== "") {
    const shell = /[|&;<>()$`*?~"'\\]/.test(value);
    const argv = shell ? ["sh", "-c", value] : value.trim().split(/\s+/);
    const list = `[${argv.map((a) => JSON.stringify(a)).join(", ")}]`;
    return {
      code: "invalid-type",
      message: `expected a list, got ${describeValue(value)}`,
      hint: shell ? `write an argv list; for shell syntax: ${list}` : `write an argv list: ${list}`,
    };
  }
  return undefined;
}
