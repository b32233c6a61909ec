/**
 * Rule tests (`upkeep test`) as a library: what a rule pack, an editor integration or another command
 * needs to run test files against a Config it already has.
 */
export { runTestFiles, runTestText, combineRuns, defaultDeps } from "./runner.js";
export type { ConfigResult, FileResult, PackOfTest, RunTestFilesOptions, TestRun } from "./runner.js";
export { packTestFiles, runPackTests, PACK_TESTS_DIR, type PackUse } from "./pack-tests.js";
export { IDENTITY, namespacedIds, type IdMap } from "./ids.js";
export { configLoader, findTestFiles, rulesDirFor, TEST_FILE } from "./files.js";
export { parseTestFile, type ParsedTestFile } from "./parse.js";
export { compileTestFile, DEFAULT_UID } from "./compile.js";
export { runTest, type RunDeps, type TestResult } from "./run-test.js";
export { simulate, type SimulationCounts, type SimulationInput, type TickOutcome } from "./simulate.js";
export { parseSeries, MAX_TICKS } from "./notation.js";
export { formatRun, packLabel, runJson, summaryLine, TEST_FORMATS, type TestFormat } from "./format.js";
export { memoize } from "../core/memo.js";
export type { CompiledTest, Failure, RawTestFile } from "./model.js";
