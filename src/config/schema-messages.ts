/** Words for schema errors: what a pattern, a range or a type means to the person editing the rules. */
import type { DiagnosticCode, Finding } from "./diagnostics.js";
import type { SchemaErrorLike } from "./schema-errors.js";

export type Make = (
  code: DiagnosticCode,
  message: string,
  hint?: string,
  atKey?: boolean,
  at?: string,
) => Finding;

export function patternFinding(pattern: string, value: unknown, make: Make): Finding {
  const got = describeValue(value);
  const templates = pattern.includes("\\$\\{") ? " (or a ${{ ... }} / ${env:NAME} template)" : "";
  if (pattern.includes("(ms|s|m|h|d)")) {
    return make(
      "invalid-duration",
      `expected a duration like 2s, 5m or 1h${templates}, got ${got}`,
      "units: ms, s, m, h, d; combine them like 1h30m",
    );
  }
  if (pattern.includes("T([01]"))
    return make("invalid-value", `expected a date-time like 2025-06-01T22:00:00Z, got ${got}`);
  if (pattern.includes("24:00"))
    return make("invalid-value", `expected a time of day like 02:00 (HH:MM), got ${got}`);
  if (pattern.startsWith("^(https?://"))
    return make("invalid-value", `expected an http:// or https:// URL, got ${got}`);
  if (pattern === "^[a-z0-9][a-z0-9._-]*$" || pattern === "^([a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*$") {
    return make("invalid-value", `expected an id (lowercase letters, digits, ".", "_" and "-"), got ${got}`);
  }
  if (pattern === "^[a-z][a-z0-9]*(\\.[a-z][a-z0-9-]*)*$") {
    return make("invalid-value", `expected a handler name like "tcp" or "launchd.load", got ${got}`);
  }
  const shown = pattern.length <= 60 ? ` (pattern ${pattern})` : "";
  return make("invalid-value", `${got} does not have the expected form${templates}${shown}`);
}

export function rangeFinding(error: SchemaErrorLike, value: unknown, last: string, make: Make): Finding {
  const limit = Number(error.params["limit"]);
  if (last === "port" || error.schemaPath.includes("/port/")) {
    return make("port-range", `port must be between 1 and 65535, got ${describeValue(value)}`);
  }
  const words: Record<string, string> = {
    minimum: `at least ${limit}`,
    maximum: `at most ${limit}`,
    exclusiveMinimum: `more than ${limit}`,
    exclusiveMaximum: `less than ${limit}`,
  };
  const name = last === "" || /^\d+$/.test(last) ? "value" : last;
  return make(
    "out-of-range",
    `${name} must be ${words[error.keyword] ?? String(limit)}, got ${describeValue(value)}`,
  );
}

export function namePattern(error: SchemaErrorLike): string {
  if (error.schemaPath.includes("params") || error.schemaPath.includes("with")) {
    return "use letters, digits and _, starting with a letter or _";
  }
  return 'use lowercase letters, digits, ".", "_" and "-", starting with a letter or digit';
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: "a string",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
  null: "nothing (null)",
};

export function typeWords(type: unknown): string {
  const list = (Array.isArray(type) ? type : [type]).map((t) => TYPE_WORDS[String(t)] ?? String(t));
  const unique = [...new Set(list)];
  return unique.length <= 1
    ? (unique[0] ?? "another type")
    : `${unique.slice(0, -1).join(", ")} or ${unique[unique.length - 1]}`;
}

/** Stands for a value that must not be printed (it came from the environment). */
export const HIDDEN = Symbol("hidden");

export function describeValue(value: unknown): string {
  if (value === HIDDEN) return "a value from the environment";
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string")
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

export function valueAt(data: unknown, segments: readonly string[]): unknown {
  let node = data;
  for (const s of segments) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, s)) return undefined;
    node = (node as Record<string, unknown>)[s];
  }
  return node;
}
