/**
 * Finds the sub-schemas that apply at a place in a document, to list the keys allowed there (for
 * "did you mean" hints on unknown keys). ajv's schemaPath cannot be used for this: it is relative to
 * whichever compiled function reported it. Walking the schema along the data is exact instead:
 * $ref, allOf, if/then/else (evaluated on the data) and discriminated oneOf are followed.
 * Only used when there are errors; schema files are read on first use.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

type Schema = Readonly<Record<string, unknown>>;

/** Where hints come from: a shipped rules schema, or an in-memory (plugin) schema. */
export type SchemaRoot = { readonly kind: "services" | "alerts" } | { readonly schema: Schema };

const BASE_ID = "https://upkeep.dev/schemas/";
const SCHEMA_DIR = new URL("../../schemas/", import.meta.url);
const MAX_DEPTH = 32;
const cache = new Map<string, Schema | null>();

interface Located {
  readonly schema: Schema;
  /** Base URL for resolving `$ref`s inside it. */
  readonly base: string;
}

function loadById(url: string): Schema | undefined {
  if (!url.startsWith(BASE_ID)) return undefined;
  const cached = cache.get(url);
  if (cached !== undefined) return cached ?? undefined;
  let schema: Schema | null = null;
  try {
    const file = fileURLToPath(new URL(url.slice(BASE_ID.length), SCHEMA_DIR));
    schema = JSON.parse(readFileSync(file, "utf8")) as Schema;
  } catch {
    schema = null;
  }
  cache.set(url, schema);
  return schema ?? undefined;
}

function rootOf(root: SchemaRoot): Located | undefined {
  if ("schema" in root) {
    const id = typeof root.schema["$id"] === "string" ? root.schema["$id"] : "memory:/plugin.json";
    return { schema: root.schema, base: id };
  }
  const url = `${BASE_ID}${root.kind}.schema.json`;
  const schema = loadById(url);
  return schema === undefined ? undefined : { schema, base: url };
}

function isSchema(value: unknown): value is Schema {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function resolveRef(ref: string, from: Located, memory: Located): Located | undefined {
  let url: URL;
  try {
    url = new URL(ref, from.base);
  } catch {
    return undefined;
  }
  const doc = url.href.split("#")[0] ?? "";
  const target = doc === memory.base.split("#")[0] ? memory.schema : loadById(doc);
  if (target === undefined) return undefined;
  let node: unknown = target;
  const fragment = decodeURIComponent(url.hash.slice(1));
  for (const raw of fragment.split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    node = isSchema(node) ? node[key] : undefined;
  }
  return isSchema(node) ? { schema: node, base: doc } : undefined;
}

/** Cheap evaluation of the `if` shapes rules schemas use: `properties` with const/enum, and `required`. */
function matches(condition: Schema, value: unknown): boolean {
  if (!isSchema(value)) return false;
  const required = Array.isArray(condition["required"]) ? (condition["required"] as unknown[]) : [];
  if (required.some((k) => !Object.hasOwn(value, String(k)))) return false;
  const props = isSchema(condition["properties"]) ? condition["properties"] : {};
  return Object.entries(props).every(([key, sub]) => {
    if (!Object.hasOwn(value, key) || !isSchema(sub)) return true;
    const v = value[key];
    if ("const" in sub) return sub["const"] === v;
    if (Array.isArray(sub["enum"])) return (sub["enum"] as unknown[]).includes(v);
    return true;
  });
}

/** Every sub-schema that applies to `value` at this place. */
function expand(loc: Located, value: unknown, memory: Located, depth = 0): Located[] {
  if (depth > MAX_DEPTH) return [];
  const s = loc.schema;
  const out: Located[] = [loc];
  const follow = (sub: unknown): void => {
    if (isSchema(sub)) out.push(...expand({ schema: sub, base: loc.base }, value, memory, depth + 1));
  };
  if (typeof s["$ref"] === "string") {
    const target = resolveRef(s["$ref"], loc, memory);
    if (target !== undefined) out.push(...expand(target, value, memory, depth + 1));
  }
  if (Array.isArray(s["allOf"])) (s["allOf"] as unknown[]).forEach(follow);
  if (isSchema(s["if"])) follow(matches(s["if"], value) ? s["then"] : s["else"]);
  for (const keyword of ["oneOf", "anyOf"]) {
    const branches = Array.isArray(s[keyword]) ? (s[keyword] as unknown[]).filter(isSchema) : [];
    if (branches.length === 0) continue;
    const tag = isSchema(s["discriminator"]) ? String(s["discriminator"]["propertyName"]) : undefined;
    const picked =
      tag !== undefined && isSchema(value)
        ? branches.filter((b) => matches({ properties: b["properties"] ?? {}, required: [tag] }, value))
        : branches;
    picked.forEach(follow);
  }
  return out;
}

function child(locs: readonly Located[], segment: string, parent: unknown): Located[] {
  const out: Located[] = [];
  for (const { schema, base } of locs) {
    const at = (sub: unknown): void => {
      if (isSchema(sub)) out.push({ schema: sub, base });
    };
    if (Array.isArray(parent)) {
      at(schema["items"]);
      continue;
    }
    const props = isSchema(schema["properties"]) ? schema["properties"] : {};
    if (Object.hasOwn(props, segment)) {
      at(props[segment]);
      continue;
    }
    const patterns = isSchema(schema["patternProperties"]) ? schema["patternProperties"] : {};
    const hit = Object.entries(patterns).find(([pattern]) => safeTest(pattern, segment));
    if (hit !== undefined) at(hit[1]);
    else at(schema["additionalProperties"]);
  }
  return out;
}

function safeTest(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern, "u").test(text);
  } catch {
    return false;
  }
}

/** Every sub-schema that applies at `segments` in `data`. */
function schemasAt(root: SchemaRoot, data: unknown, segments: readonly string[]): Located[] {
  const start = rootOf(root);
  if (start === undefined) return [];
  let value: unknown = data;
  let locs = expand(start, value, start);
  for (const segment of segments) {
    const next =
      isSchema(value) || Array.isArray(value) ? (value as Record<string, unknown>)[segment] : undefined;
    locs = child(locs, segment, value).flatMap((loc) => expand(loc, next, start));
    value = next;
    if (locs.length === 0) return [];
  }
  return locs;
}

/** The `pattern`s that apply at `segments` (to tell a duration from any other string). */
export function patternsAt(root: SchemaRoot, data: unknown, segments: readonly string[]): string[] {
  return schemasAt(root, data, segments).flatMap(({ schema }) =>
    typeof schema["pattern"] === "string" ? [schema["pattern"]] : [],
  );
}

/** The keys the schema defines for the mapping at `segments` in `data` (sorted, no duplicates). */
export function allowedKeys(root: SchemaRoot, data: unknown, segments: readonly string[]): string[] {
  const locs = schemasAt(root, data, segments);
  const keys = new Set<string>();
  for (const { schema } of locs) {
    if (isSchema(schema["properties"])) for (const k of Object.keys(schema["properties"])) keys.add(k);
  }
  return [...keys].sort();
}
