/**
 * Diagnostics as text (compiler style, with the source line and a caret), json (DESIGN.md contract),
 * GitHub workflow commands (annotations) and SARIF 2.1.0 (code scanning). Pure functions of their
 * input, except that text reads the source lines it quotes when no reader is given.
 */
import { readFileSync } from "node:fs";
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { DIAGNOSTIC_CODES, type Diagnostic, type DiagnosticCode } from "../../config/diagnostics.js";

export const DIAGNOSTIC_FORMATS = ["text", "json", "github", "sarif"] as const;
export type DiagnosticFormat = (typeof DIAGNOSTIC_FORMATS)[number];

export interface FormatOptions {
  /** Text of a file as named in diagnostics; default reads it from disk (undefined when unreadable). */
  readonly readSource?: (file: string) => string | undefined;
  /** Tool version for SARIF. */
  readonly version?: string;
}

export function formatDiagnostics(
  format: DiagnosticFormat,
  diagnostics: readonly Diagnostic[],
  options: FormatOptions = {},
): string {
  switch (format) {
    case "text":
      return formatText(diagnostics, options);
    case "json":
      return formatJson(diagnostics);
    case "github":
      return formatGithub(diagnostics);
    case "sarif":
      return formatSarif(diagnostics, options);
  }
}

function counts(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number } {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  return { errors, warnings: diagnostics.length - errors };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The closing line of text output, e.g. `2 errors, 1 warning` or `rules are valid`. */
export function summaryLine(diagnostics: readonly Diagnostic[]): string {
  const { errors, warnings } = counts(diagnostics);
  if (errors === 0)
    return warnings === 0 ? "rules are valid" : `rules are valid (${plural(warnings, "warning")})`;
  return `${plural(errors, "error")}, ${plural(warnings, "warning")}`;
}

function diskReader(): (file: string) => string | undefined {
  const cache = new Map<string, string | undefined>();
  return (file) => {
    if (!cache.has(file)) {
      try {
        cache.set(file, readFileSync(file, "utf8"));
      } catch {
        cache.set(file, undefined);
      }
    }
    return cache.get(file);
  };
}

/** Longest source line quoted whole; a longer one is cut to a window around the column. */
const EXCERPT_MAX = 120;

/**
 * The quoted line and the caret's offset in it. A generated or minified rules file can hold one line of
 * megabytes with thousands of findings on it: quoting it whole for each would exhaust memory.
 */
export function excerpt(line: string, column: number): { shown: string; caret: number } {
  const at = Math.max(0, column - 1);
  if (line.length <= EXCERPT_MAX) return { shown: line, caret: at };
  const start = Math.max(0, Math.min(at - EXCERPT_MAX / 2, line.length - EXCERPT_MAX));
  const end = Math.min(line.length, start + EXCERPT_MAX);
  const head = start > 0 ? "…" : "";
  const tail = end < line.length ? "…" : "";
  return { shown: `${head}${line.slice(start, end)}${tail}`, caret: at - start + head.length };
}

export function formatText(diagnostics: readonly Diagnostic[], options: FormatOptions = {}): string {
  const read = options.readSource ?? diskReader();
  const lines = new Map<string, string[] | undefined>();
  const sourceLine = (file: string, line: number): string | undefined => {
    if (!lines.has(file)) lines.set(file, read(file)?.split(/\r?\n/));
    return lines.get(file)?.[line - 1];
  };
  const out: string[] = [];
  for (const d of diagnostics) {
    out.push(`${d.file}:${d.line}:${d.column} ${d.severity} ${d.code}: ${d.message}`);
    const text = sourceLine(d.file, d.line);
    if (text !== undefined) {
      const gutter = String(d.line).length;
      // Tabs shown as one space each, so the caret stays under the column.
      const { shown, caret } = excerpt(text.replaceAll("\t", " "), d.column);
      out.push(` ${String(d.line)} | ${shown}`);
      out.push(` ${" ".repeat(gutter)} | ${" ".repeat(caret)}^`);
    }
    if (d.hint !== undefined) out.push(`  hint: ${d.hint}`);
    out.push("");
  }
  out.push(summaryLine(diagnostics));
  return `${out.join("\n")}\n`;
}

/** DESIGN.md contract: key order and fields exactly as documented. */
export function formatJson(diagnostics: readonly Diagnostic[]): string {
  const doc = {
    valid: counts(diagnostics).errors === 0,
    diagnostics: diagnostics.map((d) => ({
      severity: d.severity,
      code: d.code,
      message: d.message,
      file: d.file,
      line: d.line,
      column: d.column,
      pointer: d.pointer,
      ...(d.hint === undefined ? {} : { hint: d.hint }),
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const escapeData = (s: string): string =>
  s.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
const escapeProperty = (s: string): string => escapeData(s).replaceAll(":", "%3A").replaceAll(",", "%2C");

/** GitHub Actions workflow commands: one annotation per diagnostic. */
export function formatGithub(diagnostics: readonly Diagnostic[]): string {
  return diagnostics
    .map((d) => {
      const props = `file=${escapeProperty(d.file)},line=${d.line},col=${d.column},title=${escapeProperty(d.code)}`;
      const message = d.hint === undefined ? d.message : `${d.message}\nhint: ${d.hint}`;
      return `::${d.severity} ${props}::${escapeData(message)}\n`;
    })
    .join("");
}

function artifactUri(file: string): string {
  if (isAbsolute(file)) return pathToFileURL(file).href;
  return file.split("\\").map(encodeURIComponent).join("/").replaceAll("%2F", "/");
}

/** A minimal valid SARIF 2.1.0 log: one run, rules for the codes used, one result per diagnostic. */
export function formatSarif(diagnostics: readonly Diagnostic[], options: FormatOptions = {}): string {
  const codes = [...new Set(diagnostics.map((d) => d.code))];
  const log = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "upkeep",
            ...(options.version === undefined ? {} : { version: options.version }),
            rules: codes.map((code) => sarifRule(code, diagnostics)),
          },
        },
        columnKind: "utf16CodeUnits",
        results: diagnostics.map((d) => ({
          ruleId: d.code,
          ruleIndex: codes.indexOf(d.code),
          level: d.severity,
          message: { text: d.hint === undefined ? d.message : `${d.message} (hint: ${d.hint})` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: artifactUri(d.file) },
                region: { startLine: d.line, startColumn: d.column },
              },
              ...(d.pointer === "" ? {} : { logicalLocations: [{ fullyQualifiedName: d.pointer }] }),
            },
          ],
        })),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

/**
 * GitHub code scanning shows a rule's fullDescription and help beside each alert; without them an
 * alert is a bare code. The help says how to reproduce locally and where the codes are described.
 */
function sarifRule(code: DiagnosticCode, diagnostics: readonly Diagnostic[]): Record<string, unknown> {
  const description = DIAGNOSTIC_CODES[code];
  const level = diagnostics.some((d) => d.code === code && d.severity === "error") ? "error" : "warning";
  const help =
    `upkeep ${code}: ${description}. Each result's message says what was expected at that line and, ` +
    "where it can, suggests the fix (did you mean ...). Reproduce locally with `upkeep validate`; every " +
    "diagnostic code is listed in the Validation section of upkeep's README.";
  return {
    id: code,
    name: code.replace(/(^|-)([a-z])/g, (_m: string, _d: string, c: string) => c.toUpperCase()),
    shortDescription: { text: description },
    fullDescription: { text: `${description[0]?.toUpperCase() ?? ""}${description.slice(1)}.` },
    help: { text: help, markdown: help.replace("upkeep validate", "`upkeep validate`").replace(/``/g, "`") },
    defaultConfiguration: { level },
  };
}
