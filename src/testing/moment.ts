/**
 * Ticks and simulated times in test files: `at: 5` (tick 5), `at: 25m` (25 minutes after tick 1, which
 * must fall on a tick), `at: 3..6` / `10m..25m` (every tick of the range, both ends included).
 */
import { formatDuration, parseDuration } from "../duration.js";
import type { RawMoment } from "./model.js";

/** 2026-01-05T00:00:00Z, a Monday: tests that do not say `start` see the same calendar everywhere. */
export const DEFAULT_START_MS = Date.UTC(2026, 0, 5);

export type MomentResult =
  | { readonly ok: true; readonly first: number; readonly last: number }
  | { readonly ok: false; readonly message: string; readonly hint?: string };

/** A moment as ticks (1-based), checked against the interval. */
export function ticksOf(moment: RawMoment, intervalMs: number): MomentResult {
  const text = typeof moment === "number" ? String(moment) : moment.trim();
  const [from, to, ...rest] = text.split("..").map((part) => part.trim());
  if (rest.length > 0 || from === undefined || from === "" || to === "") {
    return {
      ok: false,
      message: `"${text}" is not a tick, a time or a range`,
      hint: "write a tick (5), a time (25m, 1h30m) or a range of either (3..6, 10m..25m)",
    };
  }
  const first = tickOf(from, intervalMs);
  if (!first.ok) return first;
  if (to === undefined) return { ok: true, first: first.tick, last: first.tick };
  const last = tickOf(to, intervalMs);
  if (!last.ok) return last;
  if (last.tick < first.tick) {
    return { ok: false, message: `the range ${text} ends before it starts` };
  }
  return { ok: true, first: first.tick, last: last.tick };
}

type TickResult =
  | { readonly ok: true; readonly tick: number }
  | { readonly ok: false; readonly message: string; readonly hint?: string };

function tickOf(text: string, intervalMs: number): TickResult {
  if (/^\d+$/.test(text)) {
    const tick = Number(text);
    return tick >= 1 ? { ok: true, tick } : { ok: false, message: "ticks are numbered from 1" };
  }
  const ms = parseDuration(text);
  if (ms === undefined) {
    return {
      ok: false,
      message: `"${text}" is neither a tick number nor a time since tick 1 like 25m`,
      hint: "write a tick (5), a time (25m, 1h30m) or a range of either (3..6, 10m..25m)",
    };
  }
  if (ms % intervalMs !== 0) {
    const before = Math.floor(ms / intervalMs);
    return {
      ok: false,
      message: `${text} after tick 1 is not on a tick (one every ${formatDuration(intervalMs)})`,
      hint: `the nearest ticks are tick ${before + 1} (${elapsed(before * intervalMs)}) and tick ${before + 2} (${elapsed((before + 1) * intervalMs)})`,
    };
  }
  return { ok: true, tick: ms / intervalMs + 1 };
}

/** A point in time for `nextAllowed`: a tick number, or any duration after tick 1. */
export function timeOf(moment: RawMoment, startMs: number, intervalMs: number): number | undefined {
  const text = typeof moment === "number" ? String(moment) : moment.trim();
  if (/^\d+$/.test(text)) return Number(text) >= 1 ? startMs + (Number(text) - 1) * intervalMs : undefined;
  const ms = parseDuration(text);
  return ms === undefined ? undefined : startMs + ms;
}

/** `0s`, `25m`, `1d2h`: time since tick 1 as people write it. */
export function elapsed(ms: number): string {
  return ms === 0 ? "0s" : formatDuration(ms);
}

/** `tick 6 (25m)`. */
export function tickLabel(tick: number, intervalMs: number): string {
  return `tick ${tick} (${elapsed((tick - 1) * intervalMs)})`;
}
