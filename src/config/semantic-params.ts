/**
 * Handler parameters beyond what the rules schema can see: a plugin handler's own schema, and values
 * that only exist after substitution (a recipe param a service passes, an env variable that is set).
 */
import { createRequire } from "node:module";
import type { HandlerKind, JsonSchema } from "../actions/types.js";
import { type Finding, parsePointer, toPointer } from "./diagnostics.js";
import { type SchemaErrorLike, schemaFindings, valueAt } from "./schema-errors.js";
import { validateHandlerParams } from "./schema-validate.js";
import { findRefs, renderDeep, type Lookup, type ValueRef } from "./template.js";

type Validate = ((data: unknown) => boolean) & { errors?: SchemaErrorLike[] | null };
interface AjvLike {
  compile(schema: object): Validate;
}

let ajv: AjvLike | undefined;
const compiled = new WeakMap<object, Validate | Error>();

/** Plugins only: ajv is loaded on first use, and each plugin schema compiled once. */
export function pluginParamFindings(
  schema: JsonSchema,
  data: unknown,
  at: readonly (string | number)[],
): Finding[] {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    try {
      if (ajv === undefined) {
        const { Ajv2020 } = createRequire(import.meta.url)(
          "ajv/dist/2020.js",
        ) as typeof import("ajv/dist/2020.js");
        ajv = new Ajv2020({ allErrors: true, strict: false }) as unknown as AjvLike;
      }
      validate = ajv.compile(schema);
    } catch (error) {
      validate = error instanceof Error ? error : new Error(String(error));
    }
    compiled.set(schema, validate);
  }
  // A plugin whose schema does not compile is the plugin's bug; its parameters are not checked.
  if (validate instanceof Error || validate(data)) return [];
  return schemaFindings(validate.errors ?? [], data, { schema }, toPointer(at));
}

/** Where a substituted value came from, to point the diagnostic at the place the user can fix. */
export interface Blame {
  readonly pointer: string;
  readonly note: string;
}

/**
 * Validates built-in handler parameters after substitution and reports only the errors substitution
 * caused (the rest were already reported on the written values), at the place `blame` names. Handlers
 * accept numeric and boolean strings ("3002", "true"), so a value counts as wrong only when it is wrong
 * both as written and coerced. Values from the environment are never printed.
 */
export function substitutedFindings(
  kind: HandlerKind,
  name: string,
  written: unknown,
  lookup: Lookup,
  blame: (ref: ValueRef, segments: readonly string[]) => Blame | undefined,
): Finding[] {
  const rendered = renderDeep(written, lookup);
  const plain = validateHandlerParams(name, rendered, kind);
  if (plain === undefined || plain.length === 0) return [];
  const coercedValue = coerceChanged(written, rendered);
  const coerced = validateHandlerParams(name, coercedValue, kind) ?? [];
  const wrongBoth = new Set(plain.map((e) => e.instancePath));
  const caused = coerced.filter((e) => {
    if (!wrongBoth.has(e.instancePath)) return false;
    const before = valueAt(written, parsePointer(e.instancePath));
    return typeof before === "string" && before !== valueAt(rendered, parsePointer(e.instancePath));
  });
  if (caused.length === 0) return [];
  const out: Finding[] = [];
  for (const hideValues of [false, true]) {
    const group = caused.filter(
      (e) => refOf(written, e.instancePath, lookup)?.kind === (hideValues ? "env" : "expr"),
    );
    for (const f of schemaFindings(group, coercedValue, { schema: {} }, "", { hideValues })) {
      const segments = parsePointer(f.pointer);
      const ref = refOf(written, f.pointer, lookup);
      const source = ref === undefined ? undefined : blame(ref, segments);
      if (source === undefined) continue;
      out.push({ ...f, pointer: source.pointer, message: `${f.message} (${source.note})`, atKey: false });
    }
  }
  return out;
}

/** The first substituted reference in the written string at `pointer`. */
function refOf(written: unknown, pointer: string, lookup: Lookup): ValueRef | undefined {
  const before = valueAt(written, parsePointer(pointer));
  if (typeof before !== "string") return undefined;
  const ref = findRefs(before).find((r) => r.kind !== "error" && lookup(r) !== undefined);
  return ref === undefined || ref.kind === "error" ? undefined : ref;
}

/** Substituted strings as a handler would read them: "3002" -> 3002, "true" -> true. */
function coerceChanged(written: unknown, rendered: unknown): unknown {
  if (typeof written === "string" && typeof rendered === "string" && written !== rendered) {
    if (/^-?\d+(\.\d+)?$/.test(rendered)) return Number(rendered);
    if (rendered === "true" || rendered === "false") return rendered === "true";
    return rendered;
  }
  if (Array.isArray(written) && Array.isArray(rendered))
    return rendered.map((r, i) => coerceChanged(written[i], r));
  if (written !== null && typeof written === "object" && rendered !== null && typeof rendered === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rendered))
      out[k] = coerceChanged((written as Record<string, unknown>)[k], v);
    return out;
  }
  return rendered;
}
