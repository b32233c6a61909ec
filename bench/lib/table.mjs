/**
 * Rows of the one table the bench prints. A row is plain strings plus a verdict: `met` judged on wall
 * time (what a user waits for), `metCpu` on CPU time when it was measured (steadier on a busy machine);
 * when the two disagree the result column says so.
 */
import { readFileSync } from "node:fs";
import { median } from "./measure.mjs";

const num = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : "?");

/** "246 / 189 ms": wall / CPU, or the wall time alone when CPU time was not measured. */
export function ms({ wall, cpu }, sign = "") {
  const s = (x) => (sign === "+" && x >= 0 ? "+" : "") + num(x);
  return Number.isFinite(cpu) ? `${s(wall)} / ${s(cpu)} ms` : `${s(wall)} ms`;
}

export function ratios(value, reference) {
  return { wall: value.wall / reference.wall, cpu: value.cpu / reference.cpu };
}

export function x({ wall, cpu }) {
  return Number.isFinite(cpu) ? `${num(wall, 2)}x / ${num(cpu, 2)}x` : `${num(wall, 2)}x`;
}

/** A figure as a ratio to a reference measured in the same loop; `max` is the goal (none: a context row). */
export function ratioRow(figure, value, refName, reference, max) {
  const r = ratios(value, reference);
  return {
    figure,
    value: ms(value),
    reference: `${refName} ${ms(reference)}`,
    ratio: x(r),
    goal: max === undefined ? "-" : `<= ${max}x`,
    met: max === undefined ? undefined : r.wall <= max,
    metCpu: max === undefined || !Number.isFinite(r.cpu) ? undefined : r.cpu <= max,
  };
}

/** A row that cannot be measured here, with the reason in the reference column. */
export function missingRow(figure, why) {
  return { figure, value: "-", reference: why, ratio: "-", goal: "-", met: undefined };
}

function result(row) {
  if (row.met === undefined) return "-";
  const word = (m) => (m ? "met" : "NOT MET");
  if (row.metCpu === undefined || row.metCpu === row.met) return word(row.met);
  return `${word(row.met)} (cpu: ${row.metCpu ? "met" : "not"})`;
}

const COLUMNS = [
  ["figure", "figure"],
  ["value", "value"],
  ["reference", "reference"],
  ["ratio", "ratio"],
  ["goal", "goal"],
  ["result", "result"],
];

/** sections: [{ title, rows }] -> the table as text, column widths fitted to the contents. */
export function renderTable(sections) {
  const shown = sections.map((s) => ({
    title: s.title,
    rows: s.rows.map((r) => ({ ...r, figure: `  ${r.figure}`, result: result(r) })),
  }));
  const all = shown.flatMap((s) => s.rows);
  const width = Object.fromEntries(
    COLUMNS.map(([key, head]) => [key, Math.max(head.length, ...all.map((r) => String(r[key]).length))]),
  );
  const line = (r) =>
    COLUMNS.map(([key], i) => (i === COLUMNS.length - 1 ? r[key] : String(r[key]).padEnd(width[key])))
      .join("  ")
      .trimEnd();
  const head = line(Object.fromEntries(COLUMNS));
  return [head, "-".repeat(head.length), ...shown.flatMap((s) => [s.title, ...s.rows.map(line)])].join("\n");
}

/** Medians of wall and CPU over a list of measured runs. */
export function medians(runs) {
  return { wall: median(runs.map((r) => r.wallMs)), cpu: median(runs.map((r) => r.cpuMs)) };
}

/** The last lines of a child's stderr file, for an error message. */
export function tail(file, lines = 8) {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** A figure that is an added cost (value minus its baseline), against an absolute goal in ms. */
export function deltaRow(figure, delta, refName, reference, maxMs) {
  const r = ratios(delta, reference);
  return {
    figure,
    value: ms(delta, "+"),
    reference: `${refName} ${ms(reference, "+")}`,
    ratio: x(r),
    goal: `<= +${maxMs} ms`,
    met: delta.wall <= maxMs,
    metCpu: Number.isFinite(delta.cpu) ? delta.cpu <= maxMs : undefined,
  };
}

export const minus = (a, b) => ({ wall: a.wall - b.wall, cpu: a.cpu - b.cpu });
