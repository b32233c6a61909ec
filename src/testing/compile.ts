/**
 * A schema-valid test file + the Config it tests -> compiled tests (ticks resolved, series expanded,
 * every expectation placed at its ticks with the position of the value it came from), or diagnostics
 * for what only the Config can tell: unknown services, rules, levels and channels, series notation
 * errors (pointing inside the string), ticks outside the run.
 */
import type { Diagnostic, DiagnosticCode } from "../config/diagnostics.js";
import { compareDiagnostics, didYouMean, escapeSegment } from "../config/diagnostics.js";
import type { Position, YamlFile } from "../config/load.js";
import type { Config } from "../config/model.js";
import { suggest } from "../config/suggest.js";
import { parseDuration } from "../duration.js";
import { compileExpectation } from "./compile-expect.js";
import { IDENTITY, type IdMap } from "./ids.js";
import type { CompiledTest, PlacedCheck, RawTest, RawTestFile } from "./model.js";
import { DEFAULT_START_MS } from "./moment.js";
import { MAX_TICKS, parseSeries } from "./notation.js";

/** Descriptions of launchd steps show `gui/501/...` on every machine. */
export const DEFAULT_UID = 501;

export interface CompileResult {
  readonly tests: CompiledTest[];
  readonly diagnostics: Diagnostic[];
}

/** Reports problems against the test file, at a pointer (or at an offset inside a string value). */
export interface Reporter {
  readonly config: Config;
  /** File ids -> Config ids (a pack's tests write the pack's ids, see ids.ts). */
  readonly ids: IdMap;
  error(
    pointer: string,
    code: DiagnosticCode,
    message: string,
    options?: { hint?: string; atKey?: boolean; index?: number },
  ): void;
  position(pointer: string): Position;
  /** A did-you-mean hint among known ids. */
  hint(value: string, known: Iterable<string>): string | undefined;
}

export function compileTestFile(
  yaml: YamlFile,
  doc: RawTestFile,
  config: Config,
  ids: IdMap = IDENTITY,
): CompileResult {
  const diagnostics: Diagnostic[] = [];
  const reporter: Reporter = {
    config,
    ids,
    error(pointer, code, message, options = {}) {
      const base = yaml.toDiagnostic({
        pointer,
        code,
        message,
        ...(options.hint === undefined ? {} : { hint: options.hint }),
        ...(options.atKey === true ? { atKey: true } : {}),
      });
      diagnostics.push(
        options.index === undefined ? base : { ...base, ...insideString(yaml, base, options.index) },
      );
    },
    position: (pointer) => yaml.positionOf(pointer),
    hint: (value, known) => didYouMean(suggest(value, ids.written(known))),
  };
  const tests: CompiledTest[] = [];
  let group = 0;
  for (const [name, test] of Object.entries(doc.tests)) {
    const base = `/tests/${escapeSegment(name)}`;
    const compiled = compileTest(name, test, doc, base, reporter, () => group++);
    if (compiled !== undefined)
      tests.push({
        ...compiled,
        file: yaml.file,
        position: yaml.positionOf(base, { key: true }),
        ...(ids === IDENTITY ? {} : { ownsRule: ids.ownsRule }),
      });
  }
  return { tests, diagnostics: diagnostics.sort(compareDiagnostics) };
}

function compileTest(
  name: string,
  test: RawTest,
  doc: RawTestFile,
  base: string,
  r: Reporter,
  nextGroup: () => number,
): Omit<CompiledTest, "file" | "position" | "ownsRule"> | undefined {
  let ok = true;
  const intervalText = test.interval ?? doc.interval;
  const intervalMs =
    intervalText === undefined ? r.config.runtime.intervalMs : (parseDuration(intervalText) ?? 0);
  if (intervalMs <= 0) {
    r.error(
      test.interval === undefined ? "/interval" : `${base}/interval`,
      "out-of-range",
      "the interval must be longer than 0",
    );
    return undefined;
  }
  const startText = test.start ?? doc.start;
  const startMs = startText === undefined ? DEFAULT_START_MS : Date.parse(startText);
  if (Number.isNaN(startMs)) {
    r.error(
      test.start === undefined ? "/start" : `${base}/start`,
      "invalid-value",
      `"${startText ?? ""}" is not a date`,
    );
    return undefined;
  }

  const series = new Map<string, Uint8Array>();
  const services = new Map(r.config.services.map((s) => [s.id, s]));
  for (const [written, text] of Object.entries(test.services ?? {})) {
    const pointer = `${base}/services/${escapeSegment(written)}`;
    const id = r.ids.service(written);
    const service = services.get(id);
    if (service === undefined) {
      ok = false;
      const hint = r.hint(written, services.keys());
      r.error(pointer, "unknown-service", `the rules have no service ${r.ids.describe(written)}`, {
        atKey: true,
        ...(hint === undefined ? {} : { hint }),
      });
      continue;
    }
    if (!service.enabled) {
      ok = false;
      r.error(pointer, "invalid-value", `service "${id}" is disabled in the rules: upkeep never probes it`, {
        atKey: true,
      });
      continue;
    }
    const parsed = parseSeries(text);
    if (!parsed.ok) {
      ok = false;
      r.error(pointer, "invalid-value", parsed.message, {
        index: parsed.index,
        ...(parsed.hint === undefined ? {} : { hint: parsed.hint }),
      });
      continue;
    }
    series.set(id, parsed.entries);
  }
  const longest = Math.max(0, ...[...series.values()].map((s) => s.length));
  // After a bad series the length is unknown: still check the expectations' ids, but not their ticks.
  const ticks = test.ticks ?? (ok ? longest : Number.MAX_SAFE_INTEGER);
  if (ticks === 0) {
    r.error(base, "missing-key", "nothing to run: give `ticks` or a series under `services`", {
      atKey: true,
    });
    return undefined;
  }
  if (test.ticks !== undefined && test.ticks > MAX_TICKS) {
    r.error(`${base}/ticks`, "out-of-range", `ticks must be at most ${MAX_TICKS}, got ${test.ticks}`);
    return undefined;
  }

  const checks: PlacedCheck[] = [];
  test.expect.forEach((expectation, index) => {
    const placed = compileExpectation(
      expectation,
      `${base}/expect/${index}`,
      { ticks, startMs, intervalMs },
      r,
      nextGroup,
    );
    if (placed === undefined) ok = false;
    else checks.push(...placed);
  });
  if (!ok) return undefined;
  checks.sort((a, b) => a.tick - b.tick);
  return {
    name,
    ...(test.description === undefined ? {} : { description: test.description }),
    ticks,
    startMs,
    intervalMs,
    uid: doc.uid ?? DEFAULT_UID,
    series,
    checks,
  };
}

/** The column of character `index` inside a one-line string value (after its opening quote). */
function insideString(yaml: YamlFile, at: Diagnostic, index: number): Position {
  const lines = yaml.text.split(/\r?\n/);
  const line = lines[at.line - 1];
  if (line === undefined) return at;
  const quote = line[at.column - 1];
  const offset = quote === '"' || quote === "'" ? 1 : 0;
  return { line: at.line, column: Math.min(line.length + 1, at.column + offset + index) };
}
