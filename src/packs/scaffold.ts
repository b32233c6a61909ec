/** `upkeep pack init`: the files of a new pack, ready to edit; existing files are never overwritten. */
import { access, mkdir, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { schemaTarget, type EditorSchemaName } from "../config/editor-schema.js";

/**
 * The files, keyed by name. `schemaRef` gives each file's `$schema` target: editors validate the pack
 * against the schema of the upkeep that wrote it, from disk (a URL would need that schema online, and
 * the source schemas' remote `$id` breaks editors: see scripts/build-editor-schemas.mjs).
 */
export function scaffoldFiles(
  name: string,
  upkeepVersion: string,
  schemaRef: (schema: EditorSchemaName) => string,
): Record<string, string> {
  const [major = "0", minor = "1"] = upkeepVersion.split(".");
  const range = major === "0" ? `>=0.${minor}.0 <1` : `^${major}.0.0`;
  const modeline = (schema: EditorSchemaName): string =>
    `# yaml-language-server: $schema=${schemaRef(schema)}`;
  return {
    "pack.yaml": `${modeline("pack")}
name: ${name}
version: 0.1.0
description: What this pack watches and how it heals it.
upkeep: "${range}"
# A JSON Schema for the parameters consumers pass in \`with:\`; pack files read them as \${{ pack.params.NAME }}.
params:
  type: object
  additionalProperties: false
  required: [port]
  properties:
    port: { type: integer, minimum: 1, maximum: 65535, examples: [8080] }
    title: { type: string, default: My service }
# Handlers with local side effects the steps use (exec, launchd.*, systemd.*); consumers grant them with trust:.
capabilities: [exec]
`,
    "services.yaml": `${modeline("services")}
# Recipes and services; the consumer namespaces them (as: web makes \`app\` into \`web/app\`).
version: 1
recipes:
  restart:
    steps:
      - action: exec
        with: { command: [/usr/bin/true] }
      - action: verify
services:
  app:
    title: "\${{ pack.params.title }}"
    probe: { type: tcp, host: 127.0.0.1, port: "\${{ pack.params.port }}" }
    heal: { recipe: restart }
`,
    "alerts.yaml": `${modeline("alerts")}
# Alert rules only (channels and levels are the consumer's); without services: a rule watches this pack's services.
version: 1
rules:
  down:
    level: WARNING
    when: { "==": [{ var: status }, "down"] }
`,
  };
}

/** Writes the scaffold into `dir`; returns the files written, or the first that already exists. */
export async function scaffold(
  dir: string,
  upkeepVersion: string,
): Promise<{ written: string[] } | { exists: string }> {
  const name =
    basename(resolve(dir))
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[^a-z0-9]+/, "") || "my-pack";
  await mkdir(dir, { recursive: true });
  const files = scaffoldFiles(name, upkeepVersion, (schema) => schemaTarget(schema, dir));
  for (const file of Object.keys(files)) {
    const exists = await access(join(dir, file)).then(
      () => true,
      () => false,
    );
    if (exists) return { exists: join(dir, file) };
  }
  const written: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    try {
      await writeFile(join(dir, file), text, { flag: "wx" });
      written.push(join(dir, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return { exists: join(dir, file) };
      throw error;
    }
  }
  return { written };
}
