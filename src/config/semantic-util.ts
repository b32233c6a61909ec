/** Small readers and reporters the semantic checks share. */
import { DURATION_PATTERN, parseDuration } from "../duration.js";
import { closest, didYouMean, type DiagnosticCode, type Finding, toPointer } from "./diagnostics.js";
import { forEachString } from "./semantic-templates.js";

export type Path = (string | number)[];
export type Rec = Record<string, unknown>;

const DURATION = new RegExp(DURATION_PATTERN);

export const isRec = (v: unknown): v is Rec => v !== null && typeof v === "object" && !Array.isArray(v);
export const rec = (v: unknown): Rec => (isRec(v) ? v : {});
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

export function unknownName(
  out: Finding[],
  at: Path,
  code: DiagnosticCode,
  what: string,
  name: string,
  known: readonly string[],
): void {
  const hint = didYouMean(closest(name, known));
  out.push({
    pointer: toPointer(at),
    code,
    message: `unknown ${what} "${name}"`,
    hint: hint ?? (known.length === 0 ? `no ${what}s are defined` : `known: ${shortList(known)}`),
  });
}

function shortList(names: readonly string[], max = 8): string {
  return names.length <= max
    ? names.join(", ")
    : `${names.slice(0, max).join(", ")}, ... (${names.length} in all)`;
}

/** The schema checks the form of durations; this catches what has the form but cannot be used. */
export function checkDurations(doc: unknown, out: Finding[]): void {
  forEachString(doc, (text, path) => {
    // Cheap test first: a duration ends with its unit letter and is short.
    if (text.length > 40 || !/[smhd]$/.test(text) || !DURATION.test(text)) return;
    const ms = parseDuration(text);
    if (ms === undefined || !Number.isSafeInteger(ms)) {
      out.push({
        pointer: toPointer(path),
        code: "invalid-duration",
        message: `duration "${text}" is too long to use`,
      });
    }
  });
}
