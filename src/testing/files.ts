/**
 * Where test files and their rules are: `*.test.yaml` / `*.test.yml` under the given directories, and
 * for each file the rules directory it names (`rules:`), else the directory above its `tests/` folder.
 */
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import type { Diagnostic } from "../config/diagnostics.js";
import type { Config } from "../config/model.js";
import type { ParsedTestFile } from "./parse.js";
import type { ConfigResult } from "./runner.js";

export const TEST_FILE = /\.test\.ya?ml$/;
/** A bound on the directory walk (every loop bounded). */
const MAX_FILES = 10_000;

export type FoundFiles =
  { readonly ok: true; readonly files: string[] } | { readonly ok: false; readonly message: string };

/** Files are taken as given; directories are searched recursively. Sorted, without duplicates. */
export async function findTestFiles(paths: readonly string[]): Promise<FoundFiles> {
  const found = new Set<string>();
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) return { ok: false, message: `"${path}" does not exist` };
    if (!info.isDirectory()) {
      found.add(path);
      continue;
    }
    const entries = await readdir(path, { recursive: true });
    for (const entry of entries.map(String).sort()) {
      if (TEST_FILE.test(entry) && found.size < MAX_FILES) found.add(join(path, entry));
    }
  }
  return { ok: true, files: [...found] };
}

/** The rules a test file tests when the command line does not say. */
export function rulesDirFor(file: string, rules: string | undefined): string {
  const dir = dirname(file);
  if (rules !== undefined) return isAbsolute(rules) ? rules : join(dir, rules);
  return basename(resolve(dir)) === "tests" ? dirname(dir) : dir;
}

export type LoadRules = (
  rulesDir: string,
) => Promise<{ config?: Config; diagnostics: readonly Diagnostic[] }>;

/** `configFor` for `upkeep test`: `override` (--rules) wins over the files; each rules dir loads once. */
export function configLoader(
  load: LoadRules,
  override?: string,
): (file: ParsedTestFile) => Promise<ConfigResult> {
  const cache = new Map<string, Promise<ConfigResult>>();
  return (file) => {
    const rulesDir = override ?? rulesDirFor(file.file, file.doc?.rules);
    const key = resolve(rulesDir);
    let loaded = cache.get(key);
    if (loaded === undefined) {
      loaded = load(rulesDir).then((r) => ({ ...r, rulesDir }));
      cache.set(key, loaded);
    }
    return loaded;
  };
}
