/**
 * pack.yaml: the manifest. Checked against schemas/pack.schema.json (compiled here, on the packs path
 * only, so rules without packs never load it), plus what a schema cannot say: the `upkeep` range must be
 * a valid semver range and `params` must compile as a JSON Schema.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import semver from "semver";
import type { Finding } from "../config/diagnostics.js";
import { loadYamlFile, type YamlFile } from "../config/load.js";
import { schemaFindings } from "../config/schema-errors.js";
import type { SchemaErrorLike } from "../config/schema-errors.js";
import { AJV_OPTIONS, SCHEMA_DIR } from "../config/schema-validate.js";

export const MANIFEST_FILE = "pack.yaml";

export interface PackManifest {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly upkeep: string;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly capabilities?: readonly string[];
}

/** Validates `with:` values (defaults filled in on a copy). */
export type ParamsValidator = (given: unknown) => {
  values: Record<string, unknown>;
  errors: SchemaErrorLike[];
};

export interface LoadedManifest {
  readonly yaml: YamlFile;
  /** Present when the manifest is valid. */
  readonly manifest?: PackManifest;
  readonly validateParams?: ParamsValidator;
  /** Declared parameter names (params.properties). */
  readonly paramNames: readonly string[];
}

type Validate = ((data: unknown) => boolean) & { errors?: SchemaErrorLike[] | null };
let manifestValidator: Validate | undefined;

function manifestSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMA_DIR, "pack.schema.json"), "utf8")) as Record<string, unknown>;
}

export async function loadManifest(dir: string, display: string): Promise<LoadedManifest | undefined> {
  const read = await loadYamlFile(join(dir, MANIFEST_FILE), display);
  return read.ok ? checkManifest(read.yaml) : undefined;
}

/** The manifest's own findings go to `out` (as findings of `yaml`). */
export function checkManifest(yaml: YamlFile, out: Finding[] = []): LoadedManifest & { findings: Finding[] } {
  const fail = { yaml, paramNames: [], findings: out };
  if (!yaml.usable) return fail;
  const schema = manifestSchema();
  manifestValidator ??= new Ajv2020(AJV_OPTIONS).compile(schema) as Validate;
  if (!manifestValidator(yaml.value)) {
    out.push(...schemaFindings(manifestValidator.errors ?? [], yaml.value, { schema }));
    return fail;
  }
  const manifest = yaml.value as PackManifest;
  if (semver.validRange(manifest.upkeep) === null) {
    out.push({
      pointer: "/upkeep",
      code: "invalid-value",
      message: `"${manifest.upkeep}" is not a semver range`,
      hint: 'write a range such as ">=0.1 <1" or "^0.1"',
    });
    return fail;
  }
  if (manifest.params !== undefined && manifest.params["type"] !== "object") {
    out.push({
      pointer: manifest.params["type"] === undefined ? "/params" : "/params/type",
      code: "invalid-value",
      message: "params must be a JSON Schema with type: object (the parameters are named)",
    });
    return fail;
  }
  let validateParams: ParamsValidator | undefined;
  try {
    validateParams = paramsValidator(manifest.params ?? { type: "object" });
  } catch (error) {
    out.push({
      pointer: "/params",
      code: "invalid-value",
      message: `params is not a usable JSON Schema: ${error instanceof Error ? error.message : String(error)}`,
    });
    return fail;
  }
  const props = manifest.params?.["properties"];
  const paramNames = props !== null && typeof props === "object" ? Object.keys(props) : [];
  return { yaml, manifest, validateParams, paramNames, findings: out };
}

/** A pack author's schema: lenient about unknown keywords (strict off), and defaults fill absent values. */
function paramsValidator(schema: Readonly<Record<string, unknown>>): ParamsValidator {
  const ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: true });
  const validate = ajv.compile({ type: "object", ...schema }) as Validate;
  return (given) => {
    const values = structuredClone(given ?? {}) as Record<string, unknown>;
    return validate(values) ? { values, errors: [] } : { values, errors: [...(validate.errors ?? [])] };
  };
}

/** Whether this upkeep version is inside the pack's supported range. */
export function supportsUpkeep(manifest: PackManifest, upkeepVersion: string): boolean {
  return semver.satisfies(upkeepVersion, manifest.upkeep, { includePrerelease: true });
}
