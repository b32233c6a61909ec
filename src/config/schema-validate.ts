/**
 * JSON Schema validation of rules documents and handler parameters.
 *
 * `npm run build` precompiles schemas/ into generated/validators.cjs (scripts/build-validators.mjs): loading
 * those plain functions costs about 10 ms, compiling the schemas about 130 ms, and a cold `upkeep run` is
 * the product's hot path. When the generated file is missing (tests or a checkout before the first build)
 * the schemas are compiled here at run time with the same ajv options, so behaviour is the same, only slower.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { HandlerKind } from "../actions/types.js";
import { UpkeepError } from "../errors.js";

/** One schema violation (the fields of ajv's ErrorObject that upkeep uses). */
export interface SchemaError {
  /** JSON pointer to the offending value in the document. */
  readonly instancePath: string;
  /** Where in the schema the failing keyword is. */
  readonly schemaPath: string;
  readonly keyword: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message: string;
  /** For `propertyNames` failures: the offending key (instancePath is its parent object). */
  readonly propertyName?: string;
}

interface AjvErrorLike {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  propertyName?: string;
}
type ValidateFunction = ((data: unknown) => boolean) & { errors?: AjvErrorLike[] | null };

/** Must equal the options in scripts/build-validators.mjs (the tests compare both validators' errors). */
export const AJV_OPTIONS = {
  allErrors: true,
  strict: true,
  discriminator: true,
  useDefaults: false,
} as const;

/** schemas/ at the repository root; the same relative path works from src/config and dist/config. */
export const SCHEMA_DIR = fileURLToPath(new URL("../../schemas/", import.meta.url));
const SCHEMA_BASE_ID = "https://upkeep.dev/schemas/";
const SUFFIX = ".schema.json";
const GENERATED = "../../generated/validators.cjs";
const KINDS: readonly HandlerKind[] = ["probe", "step", "channel"];

interface ValidatorSource {
  readonly names: readonly string[];
  get(name: string): ValidateFunction | undefined;
}

let source: ValidatorSource | undefined;

/** Schema names under schemas/ without the suffix: "services", "alerts", "handlers/step/wait", ... */
export function listSchemas(): string[] {
  return readdirSync(SCHEMA_DIR, { recursive: true })
    .map((file) => String(file).split("\\").join("/"))
    .filter((file) => file.endsWith(SUFFIX))
    .map((file) => file.slice(0, -SUFFIX.length))
    .sort();
}

function validators(): ValidatorSource {
  if (source !== undefined) return source;
  const require = createRequire(import.meta.url);
  if (existsSync(fileURLToPath(new URL(GENERATED, import.meta.url)))) {
    const compiled = require(GENERATED) as Record<string, ValidateFunction>;
    source = {
      names: Object.keys(compiled).sort(),
      get: (name) => (Object.hasOwn(compiled, name) ? compiled[name] : undefined),
    };
  } else {
    source = compileAtRuntime(require);
  }
  return source;
}

/** Fallback without generated/validators.cjs: ajv is loaded only here, and each schema compiles on first use. */
function compileAtRuntime(require: NodeJS.Require): ValidatorSource {
  const { Ajv2020 } = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
  const ajv = new Ajv2020(AJV_OPTIONS);
  const names = listSchemas();
  for (const name of names)
    ajv.addSchema(JSON.parse(readFileSync(`${SCHEMA_DIR}${name}${SUFFIX}`, "utf8")) as object);
  return {
    names,
    get: (name) =>
      names.includes(name)
        ? (ajv.getSchema(`${SCHEMA_BASE_ID}${name}${SUFFIX}`) as ValidateFunction)
        : undefined,
  };
}

function run(validate: ValidateFunction, data: unknown): SchemaError[] {
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => ({
    instancePath: e.instancePath,
    schemaPath: e.schemaPath,
    keyword: e.keyword,
    params: { ...e.params },
    message: e.message ?? e.keyword,
    ...(e.propertyName === undefined ? {} : { propertyName: e.propertyName }),
  }));
}

/** Validates a whole rules document; an empty array means valid. */
export function validateSchema(kind: "services" | "alerts", data: unknown): SchemaError[] {
  const validate = validators().get(kind);
  if (validate === undefined) throw new UpkeepError("E_INTERNAL", `no validator for the ${kind} schema`);
  return run(validate, data);
}

/** Schema name of a built-in handler, e.g. `handlers/step/wait`; undefined when there is none. */
export function handlerSchemaName(name: string, kind?: HandlerKind): string | undefined {
  const available = validators().names;
  if (kind !== undefined) {
    const key = `handlers/${kind}/${name}`;
    return available.includes(key) ? key : undefined;
  }
  if (name.includes("/")) {
    const key = name.startsWith("handlers/") ? name : `handlers/${name}`;
    return available.includes(key) ? key : undefined;
  }
  const matches = KINDS.map((k) => `handlers/${k}/${name}`).filter((key) => available.includes(key));
  if (matches.length > 1) {
    // exec and http are both a probe and a step, with different parameters: the caller must say which.
    throw new UpkeepError(
      "E_INTERNAL",
      `handler name "${name}" is ambiguous (${matches.join(", ")}): pass its kind`,
    );
  }
  return matches[0];
}

/**
 * Validates a built-in handler's parameters. `name` is a handler name (`wait`, `launchd.unload`) or
 * kind-qualified (`step/exec`); `exec` and `http` exist as probe and step, so they need `kind` or the
 * qualified form. Returns undefined when no built-in schema exists (a plugin handler validates itself).
 */
export function validateHandlerParams(
  name: string,
  data: unknown,
  kind?: HandlerKind,
): SchemaError[] | undefined {
  const key = handlerSchemaName(name, kind);
  if (key === undefined) return undefined;
  const validate = validators().get(key);
  return validate === undefined ? undefined : run(validate, data);
}
