/**
 * Runs test files. All a runner needs is the files and, for each, the Config it tests (`configFor`):
 * `upkeep test` loads the rules a file names, a rule pack can hand its tests a consumer's Config.
 */
import { readFile } from "node:fs/promises";
import { compareDiagnostics, type Diagnostic } from "../config/diagnostics.js";
import type { Config } from "../config/model.js";
import { compileTestFile } from "./compile.js";
import type { IdMap } from "./ids.js";
import { memoize } from "../core/memo.js";
import type { RawTestFile } from "./model.js";
import { parseTestFile, type ParsedTestFile } from "./parse.js";
import { runTest, type RunDeps, type TestResult } from "./run-test.js";

export interface ConfigResult {
  /** Absent when the rules have errors (then `diagnostics` says why). */
  readonly config?: Config;
  readonly diagnostics: readonly Diagnostic[];
  /** The rules directory, for reports. */
  readonly rulesDir?: string;
  /** How the file's ids map to the Config's (a pack's tests: `namespacedIds(as)`); default as written. */
  readonly ids?: IdMap;
  /** Set when the file is a pack's test run for these rules: reports group it under the pack. */
  readonly pack?: PackOfTest;
}

/** The pack a test file came with, as the consumer uses it. */
export interface PackOfTest {
  readonly as: string;
  readonly name: string;
  readonly version: string;
}

export interface RunTestFilesOptions {
  /** The Config a parsed test file runs against. Called once per file; cache it when files share rules. */
  configFor(file: ParsedTestFile): Promise<ConfigResult>;
  /** Default: the registry's handlers and the rules' json-logic evaluator. */
  readonly deps?: RunDeps;
  /** Default: read from disk. */
  readonly readText?: (file: string) => Promise<string>;
}

export interface FileResult {
  readonly file: string;
  readonly rulesDir?: string;
  readonly pack?: PackOfTest;
  readonly tests: readonly TestResult[];
  /** Errors in the test file or in the rules it tests: its tests did not run. */
  readonly diagnostics: readonly Diagnostic[];
  /** The file's text, for quoting lines in reports. */
  readonly text?: string;
}

export interface TestRun {
  readonly files: readonly FileResult[];
  readonly passed: number;
  readonly failed: number;
  /** Files whose tests could not run. */
  readonly broken: number;
  readonly ticks: number;
  /** 0 all passed, 1 a test failed, 2 a test file or its rules have errors. */
  readonly exitCode: 0 | 1 | 2;
}

export async function runTestFiles(files: readonly string[], options: RunTestFilesOptions): Promise<TestRun> {
  const deps = options.deps ?? (await defaultDeps());
  const read = options.readText ?? ((file: string) => readFile(file, "utf8"));
  const results: FileResult[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await read(file);
    } catch (error) {
      results.push({ file, tests: [], diagnostics: [unreadable(file, error)] });
      continue;
    }
    results.push(await runParsed(parseTestFile(text, file), options, deps));
  }
  return summarize(results);
}

/** One file already in memory (e.g. shipped inside a pack) against a Config. */
export async function runTestText(
  text: string,
  file: string,
  config: Config,
  deps?: RunDeps,
): Promise<TestRun> {
  const parsed = parseTestFile(text, file);
  const result = await runParsed(
    parsed,
    { configFor: async () => ({ config, diagnostics: [] }) },
    deps ?? (await defaultDeps()),
  );
  return summarize([result]);
}

async function runParsed(
  parsed: ParsedTestFile,
  options: RunTestFilesOptions,
  deps: RunDeps,
): Promise<FileResult> {
  const base = { file: parsed.file, text: parsed.yaml.text };
  const errors = parsed.diagnostics.filter((d) => d.severity === "error").sort(compareDiagnostics);
  if (parsed.doc === undefined || errors.length > 0) {
    // Every problem in one round: the tests without schema errors are still checked against the rules.
    const rest = parsed.partial === undefined ? [] : await restDiagnostics(parsed, parsed.partial, options);
    return { ...base, tests: [], diagnostics: [...errors, ...rest].sort(compareDiagnostics) };
  }
  const rules = await options.configFor(parsed);
  const withRules = {
    ...base,
    ...(rules.rulesDir === undefined ? {} : { rulesDir: rules.rulesDir }),
    ...(rules.pack === undefined ? {} : { pack: rules.pack }),
  };
  const ruleErrors = rules.diagnostics.filter((d) => d.severity === "error");
  if (rules.config === undefined || ruleErrors.length > 0)
    return { ...withRules, tests: [], diagnostics: ruleErrors };
  const compiled = compileTestFile(parsed.yaml, parsed.doc, rules.config, rules.ids);
  if (compiled.diagnostics.length > 0) return { ...withRules, tests: [], diagnostics: compiled.diagnostics };
  const config = rules.config;
  const tests: TestResult[] = [];
  for (const t of compiled.tests) tests.push(await runTest(t, config, deps));
  return { ...withRules, tests, diagnostics: [] };
}

/** What the rules say about the schema-valid tests of a file that has other errors (not run). */
async function restDiagnostics(
  parsed: ParsedTestFile,
  partial: RawTestFile,
  options: RunTestFilesOptions,
): Promise<Diagnostic[]> {
  const rules = await options.configFor({ ...parsed, doc: partial });
  const ruleErrors = rules.diagnostics.filter((d) => d.severity === "error");
  if (rules.config === undefined || ruleErrors.length > 0) return ruleErrors;
  return compileTestFile(parsed.yaml, partial, rules.config, rules.ids).diagnostics;
}

/** One run of several: e.g. the rules' own tests, then their packs' tests. */
export function combineRuns(...runs: readonly TestRun[]): TestRun {
  return summarize(runs.flatMap((r) => r.files));
}

function summarize(files: readonly FileResult[]): TestRun {
  const tests = files.flatMap((f) => f.tests);
  const passed = tests.filter((t) => t.passed).length;
  const broken = files.filter((f) => f.diagnostics.length > 0).length;
  const failed = tests.length - passed;
  return {
    files,
    passed,
    failed,
    broken,
    ticks: tests.reduce((n, t) => n + t.ticks, 0),
    exitCode: broken > 0 ? 2 : failed > 0 ? 1 : 0,
  };
}

export async function defaultDeps(): Promise<RunDeps> {
  const [{ getHandler }, { evaluateLogic }] = await Promise.all([
    import("../actions/registry.js"),
    import("../config/logic.js"),
  ]);
  return {
    getHandler: (name, kind) => getHandler(name, kind),
    evaluate: memoize((expr, data) => evaluateLogic(expr, data)),
  };
}

function unreadable(file: string, error: unknown): Diagnostic {
  const code = (error as NodeJS.ErrnoException).code;
  return {
    severity: "error",
    code: "rules-not-found",
    message:
      code === "ENOENT"
        ? `test file "${file}" does not exist`
        : `cannot read test file "${file}": ${String(error)}`,
    file,
    line: 1,
    column: 1,
    pointer: "",
  };
}
