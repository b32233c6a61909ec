/**
 * Test results as text (a line per test, then each failure with the quoted line and a caret, expected and
 * actual), json (one document) or GitHub workflow annotations. Bad test files and rules are reported with
 * the diagnostics formatter `validate` uses.
 */
import { formatGithub, formatText } from "../cli/format/diagnostics.js";
import type { Failure } from "./model.js";
import { elapsed } from "./moment.js";
import { ticksPhrase } from "./show.js";
import type { FileResult, PackOfTest, TestRun } from "./runner.js";

export const TEST_FORMATS = ["text", "json", "github"] as const;
export type TestFormat = (typeof TEST_FORMATS)[number];

export function formatRun(format: TestFormat, run: TestRun): string {
  switch (format) {
    case "text":
      return formatRunText(run);
    case "json":
      return `${JSON.stringify(runJson(run), null, 2)}\n`;
    case "github":
      return formatRunGithub(run);
  }
}

const plural = (n: number, word: string): string =>
  `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

export function summaryLine(run: TestRun): string {
  const total = run.passed + run.failed;
  const parts = [`${plural(total, "test")}: ${run.passed} passed, ${run.failed} failed`];
  if (run.broken > 0) parts.push(`${plural(run.broken, "file")} with errors`);
  return `${parts.join("; ")} (${plural(run.files.length, "file")}, ${plural(run.ticks, "simulated tick")})`;
}

/** `pack api (launchd-service@1.0.0)`: how reports name a pack's tests. */
export function packLabel(pack: PackOfTest): string {
  return `pack ${pack.as} (${pack.name}@${pack.version})`;
}

/** A pack's test file is shown under its pack: `pack api (launchd-service@1.0.0): packs/.../x.test.yaml`. */
function titleOf(file: FileResult): string {
  return file.pack === undefined ? file.file : `${packLabel(file.pack)}: ${file.file}`;
}

export function formatRunText(run: TestRun): string {
  const out: string[] = [];
  const sources = new Map(run.files.map((f) => [f.file, f.text]));
  for (const file of run.files) {
    // Pack tests: a heading per file, its tests indented under it.
    const indent = file.pack === undefined ? "" : "  ";
    if (file.pack !== undefined) out.push(titleOf(file));
    if (file.diagnostics.length > 0) {
      out.push(`${indent}ERROR ${file.file} (not run: the test file or its rules have errors, see below)`);
      continue;
    }
    for (const test of file.tests) {
      out.push(
        `${indent}${test.passed ? "PASS" : "FAIL"} ${file.file} > ${test.name} (${plural(test.ticks, "tick")})`,
      );
    }
  }
  const broken = run.files.filter((f) => f.diagnostics.length > 0);
  if (broken.length > 0) {
    out.push("");
    out.push(formatText(broken.flatMap((f) => f.diagnostics)).trimEnd());
  }
  for (const file of run.files) {
    for (const test of file.tests) {
      if (test.passed) continue;
      out.push(
        "",
        `FAIL ${titleOf(file)} > ${test.name}${test.description === undefined ? "" : `: ${test.description}`}`,
      );
      for (const failure of test.failures) out.push(...failureLines(failure, sources.get(file.file)));
    }
  }
  out.push("", summaryLine(run));
  return `${out.join("\n")}\n`;
}

function failureLines(f: Failure, text: string | undefined): string[] {
  const lines = [`  ${f.file}:${f.line}:${f.column} ${when(f)}: ${f.subject}`];
  const source = text?.split(/\r?\n/)[f.line - 1];
  if (source !== undefined) {
    const gutter = " ".repeat(String(f.line).length);
    lines.push(
      `    ${f.line} | ${source.replaceAll("\t", " ")}`,
      `    ${gutter} | ${" ".repeat(Math.max(0, f.column - 1))}^`,
    );
  }
  lines.push(`    expected: ${f.expected}`, `    actual:   ${f.actual}`);
  for (const note of f.notes) lines.push(`    ${note}`);
  if (f.failedTicks > 1) {
    const more = f.failedTicks - 1 > f.alsoFailedAt.length ? ` (${f.failedTicks - 1} more ticks in all)` : "";
    lines.push(`    also fails at ${ticksPhrase(f.alsoFailedAt)}${more}`);
  }
  return lines;
}

function when(f: Failure): string {
  return `tick ${f.tick} (${elapsed(f.elapsedMs)})`;
}

/** One annotation per failure (GitHub shows it on the expectation's line) and per diagnostic. */
export function formatRunGithub(run: TestRun): string {
  const out: string[] = [formatGithub(run.files.flatMap((f) => f.diagnostics))];
  for (const file of run.files) {
    for (const test of file.tests) {
      for (const f of test.failures) {
        const message = [
          `${when(f)}: ${f.subject}`,
          `expected: ${f.expected}`,
          `actual:   ${f.actual}`,
          ...f.notes,
        ].join("\n");
        const title = `upkeep test: ${file.pack === undefined ? "" : `${packLabel(file.pack)}: `}${test.name}`;
        const props = `file=${escapeProperty(f.file)},line=${f.line},col=${f.column},title=${escapeProperty(title)}`;
        out.push(`::error ${props}::${escapeData(message)}\n`);
      }
    }
  }
  return out.join("");
}

const escapeData = (s: string): string =>
  s.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
const escapeProperty = (s: string): string => escapeData(s).replaceAll(":", "%3A").replaceAll(",", "%2C");

/** The `--format json` document. */
export function runJson(run: TestRun): Record<string, unknown> {
  return {
    ok: run.exitCode === 0,
    summary: {
      tests: run.passed + run.failed,
      passed: run.passed,
      failed: run.failed,
      brokenFiles: run.broken,
      files: run.files.length,
      ticks: run.ticks,
    },
    files: run.files.map(fileJson),
  };
}

function fileJson(file: FileResult): Record<string, unknown> {
  return {
    file: file.file,
    ...(file.rulesDir === undefined ? {} : { rules: file.rulesDir }),
    ...(file.pack === undefined ? {} : { pack: file.pack }),
    diagnostics: file.diagnostics,
    tests: file.tests.map((t) => ({
      name: t.name,
      ...(t.description === undefined ? {} : { description: t.description }),
      line: t.line,
      column: t.column,
      passed: t.passed,
      ticks: t.ticks,
      counts: t.counts,
      failures: t.failures,
    })),
  };
}
