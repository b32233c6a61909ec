/**
 * YAML with positions. Parsing never throws: syntax errors, duplicate keys, alias bombs and forbidden
 * keys all come back as diagnostics, and `positionOf` maps any JSON pointer back to a line and column.
 * Files in the plain subset rules are usually written in are read by yaml-fast.ts (same value, and
 * positions looked up only when a finding needs one); everything else, problems included, by `yaml`.
 */
import { readFile } from "node:fs/promises";
import { LineCounter, parseDocument, visit } from "yaml";
import type { Document, YAMLError } from "yaml";
import { type Diagnostic, type Finding, parsePointer, toPointer } from "./diagnostics.js";
import { indentProblems, reindented } from "./yaml-indent.js";
import { fastOffsetOf, newOffsets, parseFast } from "./yaml-fast.js";
import { aliasFinding, duplicateFinding, offsetOf, sanitize, type Scan, scanTree } from "./yaml-tree.js";

export { FORBIDDEN_KEYS } from "./yaml-tree.js";

const MAX_ALIAS_COUNT = 50;

export interface Position {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

export interface YamlFile {
  /** As shown in diagnostics. */
  readonly file: string;
  readonly text: string;
  /** The document as plain JS (forbidden keys removed); undefined when it could not be built. */
  readonly value: unknown;
  readonly diagnostics: readonly Diagnostic[];
  /** False after a syntax error: the structure cannot be trusted for further checks. */
  readonly usable: boolean;
  /** 1-based position of the value at `pointer` (or of its key), else of the nearest existing ancestor. */
  positionOf(pointer: string, options?: { key?: boolean }): Position;
  /** A finding turned into a diagnostic of this file. */
  toDiagnostic(finding: Finding): Diagnostic;
}

export type ReadResult =
  | { readonly ok: true; readonly yaml: YamlFile }
  | { readonly ok: false; readonly error: NodeJS.ErrnoException };

export async function loadYamlFile(path: string, file: string): Promise<ReadResult> {
  try {
    const text = await readFile(path, "utf8");
    return { ok: true, yaml: parseYaml(text, file) };
  } catch (error) {
    return { ok: false, error: error as NodeJS.ErrnoException };
  }
}

export function parseYaml(text: string, file: string): YamlFile {
  const fast = parseFast(text);
  return fast === undefined ? parseDocumentYaml(text, file) : fastYamlFile(text, file, fast.value);
}

/**
 * A file the fast path read: it has no YAML problems (anything unusual took the full parser), and
 * positions are found only when a finding asks for one, by reading the text again with offsets.
 */
function fastYamlFile(text: string, file: string, value: unknown): YamlFile {
  let locate: ((segments: readonly string[], wantKey: boolean) => Position) | undefined;
  const positionOf = (pointer: string, options?: { key?: boolean }): Position => {
    locate ??= locator(text, file);
    return locate(parsePointer(pointer), options?.key === true);
  };
  return {
    file,
    text,
    value,
    diagnostics: [],
    usable: true,
    positionOf,
    toDiagnostic: (f) => findingDiagnostic(f, file, positionOf(f.pointer, { key: f.atKey === true })),
  };
}

function locator(text: string, file: string): (segments: readonly string[], wantKey: boolean) => Position {
  const offsets = newOffsets();
  const again = parseFast(text, offsets);
  if (again === undefined) {
    // Cannot happen (same text, same reader); the full parser's positions are the reference anyway.
    const full = parseDocumentYaml(text, file);
    return (segments, wantKey) => full.positionOf(toPointer(segments), { key: wantKey });
  }
  const at = lineColumn(text);
  return (segments, wantKey) => at(fastOffsetOf(again.value, offsets, segments, wantKey));
}

/** 1-based line and column of an offset, counted like yaml's LineCounter. */
function lineColumn(text: string): (offset: number) => Position {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((starts[mid] as number) <= offset) low = mid + 1;
      else high = mid;
    }
    const start = starts[low - 1] ?? 0;
    return { line: Math.max(1, low), column: Math.max(1, offset - start + 1) };
  };
}

function findingDiagnostic(f: Finding, file: string, position: Position): Diagnostic {
  return {
    severity: f.severity ?? "error",
    code: f.code,
    message: f.message,
    file,
    ...position,
    pointer: f.pointer,
    ...(f.hint === undefined ? {} : { hint: f.hint }),
  };
}

/** The full parser: every YAML error and warning, duplicate and reserved keys, alias limits. */
function parseDocumentYaml(text: string, file: string): YamlFile {
  const lineCounter = new LineCounter();
  // uniqueKeys is off on purpose: yaml's own check is quadratic per map (80 ms at 5,000 services);
  // scanTree below finds duplicates in one linear pass and reports them the same way.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: Math.max(1, line), column: Math.max(1, col) };
  };
  const positionOf = (pointer: string, options?: { key?: boolean }): Position =>
    at(offsetOf(doc, parsePointer(pointer), options?.key === true));
  const toDiagnostic = (f: Finding, offset?: number): Diagnostic =>
    findingDiagnostic(
      f,
      file,
      offset === undefined ? positionOf(f.pointer, { key: f.atKey === true }) : at(offset),
    );
  const result = (diagnostics: Diagnostic[], value: unknown, usable: boolean): YamlFile => ({
    file,
    text,
    value,
    diagnostics,
    usable,
    positionOf,
    toDiagnostic: (f) => toDiagnostic(f),
  });

  const diagnostics: Diagnostic[] = [];
  const yamlDiagnostic = (
    e: YAMLError,
    severity: "error" | "warning",
    position: Position = at(e.pos[0]),
  ): Diagnostic => {
    const hint = syntaxHint(e, text, position.line);
    return {
      severity,
      code: severity === "error" ? "yaml-syntax" : "yaml-warning",
      message: e.message,
      file,
      ...position,
      pointer: "",
      ...(hint === undefined ? {} : { hint }),
    };
  };
  if (doc.errors.length > 0) {
    diagnostics.push(...syntaxDiagnostics(doc, text, file, at, yamlDiagnostic));
  }
  for (const warning of doc.warnings) diagnostics.push(yamlDiagnostic(warning, "warning"));
  if (doc.errors.length > 0) return result(diagnostics, undefined, false);

  const scan: Scan = { forbidden: [], duplicates: [] };
  scanTree(doc.contents, [], new Set(), new Set(), scan);
  for (const dup of scan.duplicates) {
    // The position comes from the key node: a pointer would lead to the first of the two keys.
    diagnostics.push(toDiagnostic(duplicateFinding(dup, at(dup.first).line), dup.offset));
  }
  for (const path of scan.forbidden) {
    diagnostics.push(
      toDiagnostic({
        pointer: toPointer(path),
        code: "forbidden-key",
        message: `"${path[path.length - 1] ?? ""}" cannot be used as a key`,
        hint: "rename the key; __proto__, constructor and prototype are reserved",
        atKey: true,
      }),
    );
  }
  const aliasProblem = aliasFinding(scan);
  if (aliasProblem !== undefined) {
    diagnostics.push(toDiagnostic(aliasProblem));
    return result(diagnostics, undefined, false);
  }

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const isBomb = error instanceof ReferenceError && /alias count/i.test(error.message);
    diagnostics.push(
      toDiagnostic({
        pointer: toPointer(scan.firstAlias ?? []),
        code: isBomb ? "alias-limit" : "yaml-syntax",
        message: isBomb
          ? `too many alias expansions (more than ${MAX_ALIAS_COUNT}): refusing to expand this document`
          : `cannot build the document: ${error instanceof Error ? error.message : String(error)}`,
        ...(isBomb ? { hint: "rules need only a few aliases; write the values out instead" } : {}),
      }),
    );
    return result(diagnostics, undefined, false);
  }
  if (scan.forbidden.length > 0) value = sanitize(value);
  return result(diagnostics, value, true);
}

/**
 * One diagnostic per mistake, at the line that is wrong. An indentation mistake (yaml-indent.ts) stands
 * for the parser errors it causes on the lines around it; an unclosed quote is reported where it opens,
 * not at the end of the file where the parser ran out of text.
 */
function syntaxDiagnostics(
  doc: Document.Parsed,
  text: string,
  file: string,
  at: (offset: number) => Position,
  raw: (e: YAMLError, severity: "error", position: Position) => Diagnostic,
): Diagnostic[] {
  let parsed = doc;
  let position = at;
  let errors = doc.errors.map((e) => ({ error: e, line: at(e.pos[0]).line }));
  const indents = indentProblems(text).filter((p) =>
    errors.some((e) => e.line >= p.line - 2 && e.line <= p.line + 1),
  );
  if (indents.length > 0) {
    // After a bad indentation the parser's later errors may only be echoes of it (a tab derails it for
    // the rest of its block): what remains once those lines are re-indented is wrong on its own.
    // Re-indenting keeps line numbers, and columns on every other line.
    const lineCounter = new LineCounter();
    parsed = parseDocument(reindented(text, indents), {
      lineCounter,
      prettyErrors: false,
      uniqueKeys: false,
    });
    position = (offset) => {
      const { line, col } = lineCounter.linePos(offset);
      return { line: Math.max(1, line), column: Math.max(1, col) };
    };
    errors = parsed.errors.map((e) => ({ error: e, line: position(e.pos[0]).line }));
  }
  const out: Diagnostic[] = indents.map((p) => ({
    severity: "error",
    code: "yaml-syntax",
    message: p.message,
    file,
    line: p.line,
    column: p.column,
    pointer: "",
    hint: p.hint,
  }));
  for (const { error, line } of errors) {
    if (indents.some((p) => line >= p.line - 1 && line <= p.line + 1)) continue;
    const opened = error.code === "MISSING_CHAR" ? unclosedQuote(parsed, error) : undefined;
    if (opened === undefined) {
      out.push(raw(error, "error", position(error.pos[0])));
      continue;
    }
    const start = position(opened.offset);
    out.push({
      severity: "error",
      code: "yaml-syntax",
      message: `this ${opened.quote === '"' ? "double" : "single"}-quoted string is never closed`,
      file,
      ...start,
      pointer: "",
      hint: `add the closing ${opened.quote} on line ${start.line}; without it the string runs to the end of the file`,
    });
  }
  return out;
}

/** The quoted scalar the parser was still reading when the text ended. */
function unclosedQuote(
  doc: Document.Parsed,
  error: YAMLError,
): { offset: number; quote: string } | undefined {
  if (!/quote/i.test(error.message)) return undefined;
  let found: { offset: number; quote: string } | undefined;
  visit(doc, {
    Scalar(_, node) {
      const range = node.range;
      if (found !== undefined || range === undefined || range === null) return;
      if ((node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE") && range[1] >= error.pos[0]) {
        found = { offset: range[0], quote: node.type === "QUOTE_DOUBLE" ? '"' : "'" };
      }
    },
  });
  return found;
}

/** The parser reports where it noticed a problem; these say where it usually is. */
function syntaxHint(error: YAMLError, text: string, line: number): string | undefined {
  const message = error.message;
  if (error.code === "BAD_INDENT" && /^Flow (map|sequence)/.test(message)) {
    const lines = text.split(/\r?\n/, line);
    for (let n = line - 2; n >= 0 && n >= line - 20; n--) {
      const l = lines[n] ?? "";
      const open = (l.match(/[{[]/g) ?? []).length;
      const close = (l.match(/[}\]]/g) ?? []).length;
      if (open > close)
        return `the "${l.includes("{") ? "{" : "["}" on line ${n + 1} is not closed: add "${l.includes("{") ? "}" : "]"}" at the end of that line`;
    }
    return undefined;
  }
  if (error.code === "MISSING_CHAR" && message.includes("quote")) return "a quoted string is not closed";
  if (error.code === "BLOCK_AS_IMPLICIT_KEY" && message.includes("compact mappings")) {
    return 'a value that contains ": " must be quoted, e.g. title: "a: b"';
  }
  if (error.code === "TAB_AS_INDENT") return "indent with spaces, not tabs";
  return undefined;
}
