/**
 * Small helpers every built-in handler shares: lazy schema loading and careful coercion of rendered
 * parameters. Parameters arrive after templating, so a number may be a numeric string ("3002") and a
 * boolean may be "true"; anything else is a ParamError that the handler turns into a failed result.
 */
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { parseDuration } from "../duration.js";
import { UpkeepError } from "../errors.js";
import type { HandlerKind, JsonSchema } from "./types.js";
import { isTimeoutReason } from "../runtime/http-request.js";
import { redactOutput } from "../runtime/redact.js";

const requireJson = createRequire(import.meta.url);

/**
 * Reads `schemas/handlers/<kind>/<name>.schema.json` (src/actions and dist/actions sit at the same
 * depth). Per kind, because `http` and `exec` are both a probe and a step. Handlers call this from a
 * getter, so importing the registry reads no JSON.
 */
export function loadSchema(kind: HandlerKind, name: string): JsonSchema {
  return requireJson(`../../schemas/handlers/${kind}/${name}.schema.json`) as JsonSchema;
}

export class ParamError extends UpkeepError {
  constructor(param: string, message: string) {
    super("E_HANDLER", `invalid parameter ${param}: ${message}`, { param });
    this.name = "ParamError";
  }
}

/** The message of a ParamError, or rethrows anything else (a bug, not a bad parameter). */
export function paramFailure(error: unknown): string {
  if (error instanceof ParamError) return error.message;
  throw error;
}

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

export function requireString(value: unknown, param: string): string {
  if (typeof value === "string" && value.length > 0) return value;
  if (typeof value === "number") return String(value);
  throw new ParamError(
    param,
    value === undefined ? "is required" : `${show(value)} is not a non-empty string`,
  );
}

export function optionalString(value: unknown, param: string): string | undefined {
  return value === undefined || value === null ? undefined : requireString(value, param);
}

/** A finite number, from a number or a numeric string. */
export function toNumber(value: unknown, param: string): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  throw new ParamError(param, value === undefined ? "is required" : `${show(value)} is not a number`);
}

export function toInteger(value: unknown, param: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = toNumber(value, param);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ParamError(param, `${show(value)} is not an integer in ${min}..${max}`);
  }
  return n;
}

/** Milliseconds from a duration string (`2s`, `1m30s`), a number of ms, or a numeric string of ms. */
export function toDurationMs(value: unknown, param: string): number {
  if (typeof value === "string") {
    const ms = parseDuration(value.trim());
    if (ms !== undefined) return ms;
  }
  try {
    const n = toNumber(value, param);
    if (n >= 0) return n;
  } catch {
    // fall through to one clear message
  }
  throw new ParamError(
    param,
    value === undefined ? "is required" : `${show(value)} is not a duration like 2s or 500ms`,
  );
}

export function toBoolean(value: unknown, param: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new ParamError(param, `${show(value)} is not true or false`);
}

export function toStringMap(value: unknown, param: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw new ParamError(param, "is not a map of strings");
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === "string") out[key] = v;
    else if (typeof v === "number" || typeof v === "boolean") out[key] = String(v);
    else throw new ParamError(`${param}.${key}`, `${show(v)} is not a string`);
  }
  return out;
}

export function toArgv(value: unknown, param: string): string[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new ParamError(param, "must be a non-empty array of strings");
  return value.map((word, i) => {
    if (typeof word === "string") return word;
    if (typeof word === "number" || typeof word === "boolean") return String(word);
    throw new ParamError(`${param}[${i}]`, `${show(word)} is not a string`);
  });
}

export function toObject(value: unknown, param: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new ParamError(param, "is not an object");
  return value as Record<string, unknown>;
}

/** `status` as one code or a list; undefined means the caller's default range. */
export function toStatusList(value: unknown, param: string): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  return list.map((v, i) => toInteger(v, Array.isArray(value) ? `${param}[${i}]` : param, 100, 599));
}

export function toRegExp(value: unknown, param: string): RegExp | undefined {
  const source = optionalString(value, param);
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (error) {
    throw new ParamError(param, `invalid regular expression (${(error as Error).message})`);
  }
}

/** `~` and `~/x` become the user's home directory. */
export function expandHome(path: string, home: string = homedir()): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return `${home}${path.slice(1)}`;
  return path;
}

/** Why a signal ended a handler: the runtime's deadline or another abort. */
export function abortDetail(signal: AbortSignal): string {
  return isTimeoutReason(signal.reason) ? "timed out" : "aborted";
}

/** A child's or endpoint's words for a detail: redacted before the cut, so no secret prefix survives it. */
export function firstLine(text: string, max = 200): string {
  const line = redactOutput(text.trim().split("\n")[0] ?? "");
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
