/**
 * `upkeep pack validate DIR`: a pack checked on its own, through the same loader a consumer uses. A
 * throwaway consumer (in a temp dir) uses the pack with example parameters (`--with`, else each param's
 * `examples[0]`, `default`, or a value of its type) and grants what the pack declares; the diagnostics
 * that depend on a consumer (alert levels are the consumer's) are left out.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Diagnostic } from "../config/diagnostics.js";
import { loadRules } from "../config/validate.js";
import { checkManifest, MANIFEST_FILE } from "./manifest.js";
import { loadYamlFile } from "../config/load.js";
import { isRec } from "./namespace.js";

export async function validatePack(
  dir: string,
  given?: Readonly<Record<string, unknown>>,
): Promise<{ diagnostics: Diagnostic[] }> {
  const read = await loadYamlFile(join(dir, MANIFEST_FILE), join(dir, MANIFEST_FILE));
  if (!read.ok) {
    const message = `${join(dir, MANIFEST_FILE)} cannot be read: ${read.error.message}`;
    return {
      diagnostics: [
        { severity: "error", code: "pack-not-found", message, file: dir, line: 1, column: 1, pointer: "" },
      ],
    };
  }
  const checked = checkManifest(read.yaml);
  const own = [...read.yaml.diagnostics, ...checked.findings.map((f) => read.yaml.toDiagnostic(f))];
  if (checked.manifest === undefined) return { diagnostics: own };
  const params = given ?? exampleParams(checked.manifest.params);
  const consumer = await mkdtemp(join(tmpdir(), "upkeep-pack-validate-"));
  try {
    const entry = { use: resolve(dir), as: "pack", with: params, trust: checked.manifest.capabilities ?? [] };
    await writeFile(join(consumer, "services.yaml"), JSON.stringify({ version: 1, packs: [entry] }));
    await writeFile(join(consumer, "alerts.yaml"), JSON.stringify({ version: 1 }));
    const { diagnostics } = await loadRules(consumer, { env: {}, normalize: false });
    return {
      diagnostics: diagnostics
        .filter((d) => d.code !== "unknown-level" && d.code !== "env-unset")
        .map((d) =>
          d.file.startsWith(consumer)
            ? {
                ...d,
                file: join(dir, MANIFEST_FILE),
                line: 1,
                column: 1,
                pointer: "/params",
                hint: "the example parameters do not fit the params schema: pass real ones with --with '{...}'",
              }
            : d,
        ),
    };
  } finally {
    await rm(consumer, { recursive: true, force: true });
  }
}

/** A value for each property: examples[0], else default, else a value of its type. */
export function exampleParams(
  schema: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  const props = isRec(schema?.["properties"]) ? schema["properties"] : {};
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(props)) {
    if (!isRec(prop)) continue;
    const examples = prop["examples"];
    if (Array.isArray(examples) && examples.length > 0) out[name] = examples[0];
    else if (prop["default"] !== undefined) out[name] = prop["default"];
    else out[name] = byType(prop);
  }
  return out;
}

function byType(prop: Readonly<Record<string, unknown>>): unknown {
  switch (prop["type"]) {
    case "integer":
    case "number":
      return typeof prop["minimum"] === "number" ? prop["minimum"] : 1;
    case "boolean":
      return false;
    case "array":
      return [];
    case "object":
      return {};
    default:
      return "example";
  }
}
