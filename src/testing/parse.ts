/**
 * A test file's text -> its raw document and diagnostics: YAML with positions (the rules' loader, so
 * duplicate keys, alias bombs and forbidden keys are refused the same way), then schemas/test.schema.json.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { type Diagnostic, parsePointer } from "../config/diagnostics.js";
import { parseYaml, type YamlFile } from "../config/load.js";
import { schemaFindings } from "../config/schema-errors.js";
import { AJV_OPTIONS, SCHEMA_DIR, type SchemaError } from "../config/schema-validate.js";
import type { RawTestFile } from "./model.js";

export interface ParsedTestFile {
  /** As shown in reports. */
  readonly file: string;
  readonly yaml: YamlFile;
  /** Present when the file passed the YAML and schema checks. */
  readonly doc?: RawTestFile;
  /**
   * When only some tests have schema errors: the file without them, so what only the rules can tell
   * (unknown services, series notation...) is reported for the others in the same round.
   */
  readonly partial?: RawTestFile;
  readonly diagnostics: readonly Diagnostic[];
}

type Validate = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };
type Schema = Readonly<Record<string, unknown>>;

const SCHEMA_FILE = `${SCHEMA_DIR}test.schema.json`;
/** `npm run build` precompiles every schema in schemas/, this one included (scripts/build-validators.mjs). */
const GENERATED = "../../generated/validators.cjs";

let validator: Validate | undefined;
let schemaCache: Schema | undefined;

function testSchema(): Schema {
  schemaCache ??= JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as Schema;
  return schemaCache;
}

/** The precompiled validator when built, else compiled on first use (only `upkeep test` pays for it). */
function validate(): Validate {
  if (validator !== undefined) return validator;
  const require = createRequire(import.meta.url);
  if (existsSync(fileURLToPath(new URL(GENERATED, import.meta.url)))) {
    const compiled = require(GENERATED) as Record<string, Validate>;
    if (Object.hasOwn(compiled, "test")) validator = compiled["test"];
  }
  if (validator === undefined) {
    const { Ajv2020 } = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
    validator = new Ajv2020(AJV_OPTIONS).compile(testSchema()) as unknown as Validate;
  }
  return validator as Validate;
}

export function parseTestFile(text: string, file: string): ParsedTestFile {
  const yaml = parseYaml(text, file);
  const diagnostics = [...yaml.diagnostics];
  if (!yaml.usable) return { file, yaml, diagnostics };
  const check = validate();
  let broken: Set<string> | undefined;
  if (!check(yaml.value)) {
    const findings = schemaFindings(check.errors ?? [], yaml.value, { schema: testSchema() });
    diagnostics.push(...findings.map((f) => yaml.toDiagnostic(f)));
    broken = brokenTests(findings.map((f) => f.pointer));
  }
  if (diagnostics.some((d) => d.severity === "error")) {
    const partial = broken === undefined ? undefined : withoutTests(yaml.value, broken);
    return { file, yaml, diagnostics, ...(partial === undefined ? {} : { partial }) };
  }
  return { file, yaml, doc: yaml.value as RawTestFile, diagnostics };
}

/** Names of the tests the pointers are in; undefined when one is outside every test (file-level). */
function brokenTests(pointers: readonly string[]): Set<string> | undefined {
  const names = new Set<string>();
  for (const pointer of pointers) {
    const [root, name] = parsePointer(pointer);
    if (root !== "tests" || name === undefined) return undefined;
    names.add(name);
  }
  return names;
}

function withoutTests(value: unknown, broken: ReadonlySet<string>): RawTestFile | undefined {
  const doc = value as RawTestFile;
  const kept = Object.entries(doc.tests).filter(([name]) => !broken.has(name));
  return kept.length === 0 ? undefined : { ...doc, tests: Object.fromEntries(kept) };
}
