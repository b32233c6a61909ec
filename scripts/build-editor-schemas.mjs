#!/usr/bin/env node
/**
 * Writes schemas/editor/<name>.json: self-contained copies of the rules schemas for editors.
 *
 *   node scripts/build-editor-schemas.mjs           write them (part of `npm run build`)
 *   node scripts/build-editor-schemas.mjs --check   exit 1 when the committed files are stale
 *
 * Why a second set: every schema in schemas/ has an `$id` under https://upkeep.dev/ and pulls in the
 * handler schemas by relative `$ref`. ajv resolves those against the `$id` among the schemas it was given,
 * but yaml-language-server (VS Code's YAML extension) downloads them from that URL, and then shows one
 * "Problems loading reference" error instead of the document's real mistakes. Here every handler schema a
 * document uses is inlined under `$defs` (as `handlers.<kind>.<name>`), every `$ref` becomes a local
 * `#/...` pointer and no `$id` is left, so the file validates offline wherever it lies.
 * schemas/ stays the source and the runtime validators (scripts/build-validators.mjs) compile from it; the
 * editor files are named `<name>.json`, not `<name>.schema.json`, so that nothing scanning schemas/ for
 * `*.schema.json` (validators, `upkeep schema --list`) picks them up.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import prettier from "prettier";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SCHEMAS = `${ROOT}schemas/`;
export const EDITOR_DIR = `${SCHEMAS}editor/`;
const BASE_ID = "https://upkeep.dev/schemas/";
const SUFFIX = ".schema.json";
/** The documents people edit: the rules files, pack manifests and rule tests. */
export const EDITOR_SCHEMAS = ["services", "alerts", "pack", "test"];

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

function readById(url) {
  if (!url.startsWith(BASE_ID) || !url.endsWith(SUFFIX)) {
    throw new Error(`$ref to ${url}: only schemas under ${BASE_ID} can be inlined`);
  }
  return JSON.parse(readFileSync(`${SCHEMAS}${url.slice(BASE_ID.length)}`, "utf8"));
}

/** Follows a local JSON pointer ("#/a/b"), to prove every rewritten `$ref` lands somewhere. */
function resolvePointer(schema, ref) {
  let node = schema;
  for (const raw of ref.slice(2).split("/")) {
    if (raw === "" && ref === "#") break;
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** One self-contained schema for `name` (services, alerts, ...), as a plain object. */
export function editorSchema(name) {
  const rootUrl = `${BASE_ID}${name}${SUFFIX}`;
  const root = readById(rootUrl);
  const inlined = {};

  /** Where the resource `url` (no fragment) lives in the bundle, as a `#...` pointer prefix. */
  const locate = (url) => {
    if (url === rootUrl) return "#";
    const key = url.slice(BASE_ID.length, -SUFFIX.length).split("/").join(".");
    if (Object.hasOwn(root.$defs ?? {}, key)) throw new Error(`${name}: $defs already has "${key}"`);
    if (!Object.hasOwn(inlined, key)) {
      inlined[key] = {}; // placeholder first, so a schema that refers back to itself terminates
      const { $id: _id, $schema: _schema, ...rest } = readById(url);
      inlined[key] = rewrite(rest, url);
    }
    return `#/$defs/${key}`;
  };

  const rewrite = (node, base) => {
    if (Array.isArray(node)) return node.map((item) => rewrite(item, base));
    if (!isObject(node)) return node;
    const out = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") {
        const target = new URL(value, base);
        const fragment = decodeURIComponent(target.hash.slice(1));
        if (fragment !== "" && !fragment.startsWith("/")) {
          throw new Error(`${name}: $ref ${value} uses an anchor; only JSON pointers can be inlined`);
        }
        target.hash = "";
        out.$ref = `${locate(target.href)}${fragment}`;
      } else {
        out[key] = rewrite(value, base);
      }
    }
    return out;
  };

  const { $id: _id, $schema, ...rest } = root;
  const body = rewrite(rest, rootUrl);
  const schema = {
    $schema,
    $comment: `Generated from schemas/${name}${SUFFIX} by scripts/build-editor-schemas.mjs for editors: self-contained, no remote references. Do not edit.`,
    ...body,
    $defs: { ...body.$defs, ...inlined },
  };
  check(name, schema);
  return schema;
}

function check(name, schema) {
  const visit = (node, path) => {
    if (Array.isArray(node)) return node.forEach((item, i) => visit(item, `${path}/${i}`));
    if (!isObject(node)) return;
    if (Object.hasOwn(node, "$id")) throw new Error(`${name}: $id left at ${path}`);
    if (typeof node.$ref === "string") {
      if (!node.$ref.startsWith("#")) throw new Error(`${name}: non-local $ref ${node.$ref} at ${path}`);
      if (resolvePointer(schema, node.$ref) === undefined) {
        throw new Error(`${name}: $ref ${node.$ref} at ${path} points nowhere`);
      }
    }
    for (const [key, value] of Object.entries(node)) visit(value, `${path}/${key}`);
  };
  visit(schema, "");
}

/** File name -> formatted text, for every editor schema. */
export async function buildEditorSchemas() {
  const options = { ...(await prettier.resolveConfig(`${EDITOR_DIR}services.json`)), parser: "json" };
  const files = {};
  for (const name of EDITOR_SCHEMAS) {
    files[`${name}.json`] = await prettier.format(JSON.stringify(editorSchema(name), null, 2), options);
  }
  return files;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = await buildEditorSchemas();
  if (process.argv.includes("--check")) {
    let present = [];
    try {
      present = readdirSync(EDITOR_DIR);
    } catch {
      // no folder yet: every file is missing
    }
    const stale = Object.keys(files).filter(
      (file) => !present.includes(file) || readFileSync(`${EDITOR_DIR}${file}`, "utf8") !== files[file],
    );
    const extra = present.filter((file) => !Object.hasOwn(files, file));
    if (stale.length > 0 || extra.length > 0) {
      process.stderr.write(
        `schemas/editor/ is stale (${[...stale, ...extra].join(", ")}): run node scripts/build-editor-schemas.mjs\n`,
      );
      process.exitCode = 1;
    }
  } else {
    mkdirSync(EDITOR_DIR, { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(`${EDITOR_DIR}${file}`, text);
  }
}
