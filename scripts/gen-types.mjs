#!/usr/bin/env node
/**
 * Generates src/config/raw-types.ts (the raw, pre-normalization document types) from schemas/.
 *
 *   node scripts/gen-types.mjs            write the file
 *   node scripts/gen-types.mjs --stdout   print it (test/config/schemas.test.ts compares it with the committed file)
 *   node scripts/gen-types.mjs --check    exit 1 when the committed file is stale
 *
 * The schemas carry validation-only keywords (if/then conditionals, `not`, the probe discriminator) that
 * have no useful TypeScript shape; they are stripped in memory before json-schema-to-typescript runs, so
 * the types describe the shape and ajv enforces the rest.
 */
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { compile } from "json-schema-to-typescript";
import prettier from "prettier";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SCHEMAS = `${ROOT}schemas/`;
const OUT = `${ROOT}src/config/raw-types.ts`;
const KINDS = ["probe", "step", "channel"];

const BANNER = `/**
 * generated, do not edit: change schemas/ and run \`npm run gen:types\` (scripts/gen-types.mjs).
 * The raw shapes of services.yaml and alerts.yaml before normalization, and the parameters of the built-in
 * handlers. Constraints the types cannot express (patterns, ranges, conditionals) are enforced by the schemas.
 */
`;

const pascal = (text) =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join("");

/** Names of the `$defs` that become exported types; anything else is inlined. */
const DEF_NAMES = {
  "services.schema.json": {
    runtime: "RawRuntime",
    defaults: "RawDefaults",
    breaker: "RawBreaker",
    budget: "RawBudget",
    recipe: "RawRecipe",
    recipeParam: "RawRecipeParam",
    step: "RawStep",
    probe: "RawProbe",
    heal: "RawHeal",
    service: "RawService",
  },
  "alerts.schema.json": {
    channel: "RawChannel",
    level: "RawLevel",
    rule: "RawAlertRule",
    silence: "RawSilence",
  },
};

const VALIDATION_ONLY = new Set([
  "if",
  "then",
  "else",
  "not",
  "dependentRequired",
  "dependentSchemas",
  "discriminator",
  "examples",
]);
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs"]);
const SCHEMA_LISTS = new Set(["anyOf", "oneOf", "allOf", "prefixItems"]);
const SCHEMA_VALUES = new Set(["items", "additionalProperties", "propertyNames", "contains"]);
const SHAPED = ["type", "$ref", "enum", "const", "anyOf", "oneOf", "allOf", "properties", "items"];

/**
 * A copy of a schema file shaped for json-schema-to-typescript: validation-only keywords dropped (see the
 * header comment), local `$defs` inlined unless they are listed in DEF_NAMES (those get their type name as
 * an in-memory `title`), and value-only schemas (a recipe param's `default`) typed `unknown`.
 */
function forTypes(file, rootName, defNames) {
  const defs = file.$defs ?? {};
  const convert = (schema) => {
    if (typeof schema !== "object" || schema === null) return schema;
    const ref = typeof schema.$ref === "string" ? /^#\/\$defs\/(.+)$/.exec(schema.$ref) : null;
    if (ref !== null && defNames[ref[1]] === undefined) {
      const inlined = convert(defs[ref[1]]);
      return schema.description === undefined ? inlined : { ...inlined, description: schema.description };
    }
    const out = {};
    for (const [key, value] of Object.entries(schema)) {
      if (VALIDATION_ONLY.has(key)) continue;
      if (key === "allOf") {
        const kept = value.filter((s) => !("if" in s));
        if (kept.length > 0) out.allOf = kept.map(convert);
      } else if (SCHEMA_MAPS.has(key)) {
        out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v)]));
      } else if (SCHEMA_LISTS.has(key)) {
        out[key] = value.map(convert);
      } else if (SCHEMA_VALUES.has(key)) {
        out[key] = convert(value);
      } else {
        out[key] = value;
      }
    }
    // A description beside $ref would make the generator declare a second copy of the referenced type.
    if (typeof out.$ref === "string") delete out.description;
    if (!SHAPED.some((k) => k in out)) out.tsType = "unknown";
    return out;
  };
  const { $defs: _defs, ...rest } = file;
  const out = convert(rest);
  delete out.$id;
  delete out.$schema;
  out.title = rootName;
  const named = Object.entries(defNames).map(([key, name]) => [key, { ...convert(defs[key]), title: name }]);
  if (named.length > 0) out.$defs = Object.fromEntries(named);
  return out;
}

function handlerFiles() {
  return KINDS.flatMap((kind) =>
    readdirSync(`${SCHEMAS}handlers/${kind}`)
      .filter((file) => file.endsWith(".schema.json"))
      .sort()
      .map((file) => ({
        kind,
        name: file.slice(0, -".schema.json".length),
        file: `handlers/${kind}/${file}`,
      })),
  );
}

const typeName = (kind, name) => `${pascal(name)}${pascal(kind)}Params`;

async function compileOne(file, rootName, defNames) {
  const schema = forTypes(JSON.parse(readFileSync(SCHEMAS + file, "utf8")), rootName, defNames);
  return compile(schema, rootName, {
    cwd: SCHEMAS,
    bannerComment: "",
    format: false,
    additionalProperties: true,
    ignoreMinAndMaxItems: true,
    unknownAny: true,
    declareExternallyReferenced: true,
  });
}

export async function generateTypes() {
  const parts = [BANNER];
  parts.push(await compileOne("services.schema.json", "RawServicesFile", DEF_NAMES["services.schema.json"]));
  parts.push(await compileOne("alerts.schema.json", "RawAlertsFile", DEF_NAMES["alerts.schema.json"]));
  const handlers = handlerFiles();
  for (const h of handlers) parts.push(await compileOne(h.file, typeName(h.kind, h.name), {}));
  for (const kind of KINDS) {
    const entries = handlers
      .filter((h) => h.kind === kind)
      .map((h) => `  "${h.name}": ${typeName(kind, h.name)};`);
    parts.push(`/** Parameters of each built-in ${kind} handler, by handler name. */`);
    parts.push(`export interface Builtin${pascal(kind)}Params {\n${entries.join("\n")}\n}\n`);
  }
  const config = (await prettier.resolveConfig(OUT)) ?? {};
  return prettier.format(parts.join("\n"), { ...config, parser: "typescript" });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await generateTypes();
  if (process.argv.includes("--stdout")) {
    process.stdout.write(code);
  } else if (process.argv.includes("--check")) {
    const current = readFileSync(OUT, "utf8");
    if (current !== code) {
      process.stderr.write("src/config/raw-types.ts is stale: run `npm run gen:types`\n");
      process.exitCode = 1;
    }
  } else {
    writeFileSync(OUT, code);
  }
}
