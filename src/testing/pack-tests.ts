/**
 * A pack's own tests (`<pack>/tests/*.test.yaml`) run for a consumer: against the consumer's Config
 * (its `with:` params, overrides, defaults, levels and channels), with the pack's ids mapped to the
 * consumer's namespace. A consumer whose settings break what the pack promises sees it fail: that is
 * the point of running them here rather than only in the pack's repository.
 */
import { stat } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import { findTestFiles } from "./files.js";
import { namespacedIds } from "./ids.js";
import type { RunDeps } from "./run-test.js";
import { combineRuns, type ConfigResult, type PackOfTest, runTestFiles, type TestRun } from "./runner.js";

export const PACK_TESTS_DIR = "tests";

/** What a pack test run needs of a loaded pack (src/packs/apply.ts PackInfo has it). */
export interface PackUse {
  readonly as: string;
  /** The pack's folder, resolved. */
  readonly dir: string;
  readonly manifest: { readonly name: string; readonly version: string };
}

export interface PackTestOptions {
  /** How a pack file is shown in reports; default relative to the working directory. */
  readonly show?: (absolute: string) => string;
  readonly deps?: RunDeps;
}

/** The test files a pack ships, as shown in reports; none when it has no `tests/` folder. */
export async function packTestFiles(
  pack: PackUse,
  show: (absolute: string) => string = shownFromCwd,
): Promise<string[]> {
  const dir = join(pack.dir, PACK_TESTS_DIR);
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) return [];
  const found = await findTestFiles([dir]);
  return found.ok ? found.files.map(show) : [];
}

/**
 * Every pack's tests against the consumer's rules (`rules`: the consumer's loaded Config, or the
 * diagnostics that kept it from loading). A pack used twice (two `as:`) is tested once per use.
 */
export async function runPackTests(
  packs: readonly PackUse[],
  rules: ConfigResult,
  options: PackTestOptions = {},
): Promise<TestRun> {
  const runs: TestRun[] = [];
  for (const pack of packs) {
    const files = await packTestFiles(pack, options.show);
    if (files.length === 0) continue;
    const of: PackOfTest = { as: pack.as, name: pack.manifest.name, version: pack.manifest.version };
    const forPack: ConfigResult = { ...rules, ids: namespacedIds(pack.as), pack: of };
    runs.push(
      await runTestFiles(files, {
        configFor: () => Promise.resolve(forPack),
        ...(options.deps === undefined ? {} : { deps: options.deps }),
      }),
    );
  }
  return combineRuns(...runs);
}

function shownFromCwd(absolute: string): string {
  const shown = relative(process.cwd(), absolute);
  return shown === "" || isAbsolute(shown) ? absolute : shown;
}
