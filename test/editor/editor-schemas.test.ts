/**
 * schemas/editor/: the self-contained schemas editors load (scripts/build-editor-schemas.mjs), and the
 * `$schema` targets upkeep writes into modelines (src/config/editor-schema.ts). The editor schemas must
 * be fresh, hold no remote reference, and accept and refuse exactly what the source schemas in schemas/
 * (which the runtime validators compile) accept and refuse.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Ajv2020 } from "ajv/dist/2020.js";
import { editorSchemaFile, schemaTarget, type EditorSchemaName } from "../../src/config/editor-schema.js";
import { AJV_OPTIONS, listSchemas, SCHEMA_DIR } from "../../src/config/schema-validate.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NAMES: readonly EditorSchemaName[] = ["services", "alerts", "pack", "test"];
type Json = Record<string, unknown>;

const readJson = (file: string): Json => JSON.parse(readFileSync(file, "utf8")) as Json;
const readYaml = (file: string): unknown => parse(readFileSync(path.join(ROOT, file), "utf8"));

/** Every schema in schemas/ in one ajv, as the runtime validators compile them. */
function sourceValidators(): Ajv2020 {
  const ajv = new Ajv2020(AJV_OPTIONS);
  for (const name of listSchemas()) ajv.addSchema(readJson(`${SCHEMA_DIR}${name}.schema.json`));
  return ajv;
}

/** Errors as `pointer keyword`: schemaPath differs between the two on purpose (refs are rewritten). */
function errorsOf(validate: ((data: unknown) => boolean) & { errors?: unknown }, data: unknown): string[] {
  if (validate(data)) return [];
  const errors = (validate.errors ?? []) as { instancePath: string; keyword: string; params: unknown }[];
  return errors.map((e) => `${e.instancePath} ${e.keyword} ${JSON.stringify(e.params)}`).sort();
}

/**
 * The document and variants of it, one mistake each: an unknown key in every object, every scalar
 * replaced by a value of another type, and every object emptied. Bounded by the document's size.
 */
function variants(doc: unknown): unknown[] {
  const out: unknown[] = [doc];
  const visit = (node: unknown, replace: (value: unknown) => unknown): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) =>
        visit(item, (value) => replace(node.map((old, j) => (j === i ? value : old)))),
      );
    } else if (node !== null && typeof node === "object") {
      const object = node as Json;
      out.push(replace({ ...object, zzUnknown: 1 }), replace({}));
      for (const key of Object.keys(object)) {
        visit(object[key], (value) => replace({ ...object, [key]: value }));
      }
    } else {
      out.push(
        replace(typeof node === "boolean" ? "yes" : true),
        replace(typeof node === "string" ? 7 : "x"),
      );
    }
  };
  visit(doc, (value) => value);
  return out;
}

const DOCUMENTS: Record<EditorSchemaName, readonly string[]> = {
  services: [
    "rules/services.yaml",
    "examples/packs-rules/services.yaml",
    "examples/plugin-rules/services.yaml",
    "packs/http-health/services.yaml",
    "packs/launchd-service/services.yaml",
  ],
  alerts: ["rules/alerts.yaml", "examples/packs-rules/alerts.yaml", "packs/http-health/alerts.yaml"],
  pack: ["packs/http-health/pack.yaml", "packs/launchd-service/pack.yaml"],
  test: readdirSync(path.join(ROOT, "rules/tests")).map((file) => `rules/tests/${file}`),
};

describe("schemas/editor/", () => {
  it("is what scripts/build-editor-schemas.mjs generates from schemas/ (run it after changing a schema)", () => {
    expect(() =>
      execFileSync(process.execPath, [`${ROOT}scripts/build-editor-schemas.mjs`, "--check"], {
        encoding: "utf8",
        stdio: "pipe",
        timeout: 60_000,
      }),
    ).not.toThrow();
  });

  it("holds one schema per edited document and nothing the runtime validators or `upkeep schema` list", () => {
    expect(readdirSync(path.join(SCHEMA_DIR, "editor")).sort()).toEqual(NAMES.map((n) => `${n}.json`).sort());
    expect(listSchemas().filter((name) => name.startsWith("editor"))).toEqual([]);
  });

  it.each(NAMES)("%s.json has no $id and no $ref outside itself", (name) => {
    const text = readFileSync(editorSchemaFile(name), "utf8");
    expect(text).not.toMatch(/"\$id"/);
    const refs = [...text.matchAll(/"\$ref": "([^"]*)"/g)].map((m) => m[1]);
    expect(refs.filter((ref) => !ref?.startsWith("#"))).toEqual([]);
    expect(text).not.toMatch(/upkeep\.dev/);
  });

  it.each(NAMES)("%s.json accepts and refuses exactly what the source schema does", (name) => {
    const source = sourceValidators().getSchema(`https://upkeep.dev/schemas/${name}.schema.json`);
    const editor = new Ajv2020(AJV_OPTIONS).compile(readJson(editorSchemaFile(name)));
    if (source === undefined) throw new Error(`no source schema ${name}`);
    let refused = 0;
    let checked = 0;
    for (const file of DOCUMENTS[name]) {
      for (const doc of variants(readYaml(file))) {
        const expected = errorsOf(source, doc);
        expect({ file, doc, errors: errorsOf(editor, doc) }).toEqual({ file, doc, errors: expected });
        if (expected.length > 0) refused += 1;
        checked += 1;
      }
    }
    // The comparison is worth something only if many variants are refused (pack params are free-form).
    expect({ checked, refused: refused >= 10 }).toEqual({ checked, refused: true });
  });
});

describe("the $schema target upkeep writes into modelines", () => {
  const join = path.join;
  it("is this upkeep's editor schema, by absolute path, for a folder outside its project", () => {
    const installed = join(path.sep, "usr", "lib", "node_modules", "upkeep");
    const pack = join(path.sep, "home", "me", "packs", "web");
    expect(schemaTarget("pack", pack, installed)).toBe(join(installed, "schemas", "editor", "pack.json"));
  });

  it("is relative inside the project that installs upkeep, so it holds for everyone who clones it", () => {
    const project = join(path.sep, "home", "me", "site");
    const installed = join(project, "node_modules", "upkeep");
    expect(schemaTarget("services", join(project, "rules"), installed)).toBe(
      "../node_modules/upkeep/schemas/editor/services.json",
    );
    expect(schemaTarget("alerts", project, installed)).toBe("node_modules/upkeep/schemas/editor/alerts.json");
  });

  it("is relative inside an upkeep checkout (packs/ and rules/ of this repository)", () => {
    expect(schemaTarget("pack", join(ROOT, "packs", "http-health"))).toBe("../../schemas/editor/pack.json");
    expect(schemaTarget("services", join(ROOT, "rules"))).toBe("../schemas/editor/services.json");
  });

  it("is a file: URL when the path holds a space, # or %, which the modeline cannot carry", () => {
    const installed = join(path.sep, "opt", "my tools#1", "node_modules", "upkeep");
    const target = schemaTarget("services", join(path.sep, "elsewhere"), installed);
    expect(target).toMatch(/^file:\/\//);
    expect(fileURLToPath(target)).toBe(join(installed, "schemas", "editor", "services.json"));
  });
});
