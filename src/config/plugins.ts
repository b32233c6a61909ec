/**
 * Plugins named in `runtime.plugins`: a local module (a path, relative to the rules dir) or an npm
 * package installed in the project (resolved from the rules dir). A plugin module exports `handlers`,
 * an array of handler objects with the same shape as built-ins; each is registered once per process,
 * so `watch` re-reading the rules does not register twice.
 */
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Handler } from "../actions/types.js";
import type { Finding } from "./diagnostics.js";

const loaded = new Map<string, readonly string[]>();

function isPath(spec: string): boolean {
  return spec.startsWith("./") || spec.startsWith("../") || isAbsolute(spec) || spec.startsWith("~/");
}

function resolveSpecifier(spec: string, rulesDir: string): string {
  if (spec.startsWith("~/")) return join(process.env.HOME ?? "", spec.slice(2));
  if (isPath(spec)) return resolve(rulesDir, spec);
  // An npm package installed in the consumer's project: resolve it the way Node would from the rules dir.
  return createRequire(join(rulesDir, "noop.js")).resolve(spec);
}

/** Loads and registers every plugin; problems come back as findings at `/runtime/plugins/<i>`. */
export async function loadPlugins(specs: unknown, rulesDir: string): Promise<Finding[]> {
  if (!Array.isArray(specs)) return [];
  const findings: Finding[] = [];
  const { registerHandler } = await import("../actions/registry.js");
  for (const [index, spec] of specs.entries()) {
    if (typeof spec !== "string") continue;
    const pointer = `/runtime/plugins/${index}`;
    const fail = (message: string, hint?: string): void => {
      findings.push({ pointer, code: "plugin-load", message, ...(hint === undefined ? {} : { hint }) });
    };
    let file: string;
    try {
      file = resolveSpecifier(spec, rulesDir);
    } catch {
      fail(
        `plugin "${spec}" cannot be found`,
        `install it in the project (npm install ${spec}) or give a path like ./plugins/x.mjs`,
      );
      continue;
    }
    if (loaded.has(file)) continue;
    let module: { handlers?: unknown; default?: { handlers?: unknown } };
    try {
      module = (await import(pathToFileURL(file).href)) as typeof module;
    } catch (error) {
      fail(`plugin "${spec}" failed to load: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const handlers = module.handlers ?? module.default?.handlers;
    if (!Array.isArray(handlers)) {
      fail(
        `plugin "${spec}" exports no \`handlers\` array`,
        "export const handlers = [ { name, kind, schema, sideEffects, describe, run } ]",
      );
      continue;
    }
    const names: string[] = [];
    for (const handler of handlers as Handler[]) {
      try {
        registerHandler(handler);
        names.push(`${handler.kind}:${handler.name}`);
      } catch (error) {
        fail(`plugin "${spec}": ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    loaded.set(file, names);
  }
  return findings;
}
