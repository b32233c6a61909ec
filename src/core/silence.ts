/**
 * Silences mute alert notices; a maintenance silence (`pauseHealing`) also pauses healing.
 *
 * A silence is active when every constraint it has holds: `startsAt <= now < endsAt` (either end may be
 * absent) and, with `weekly`, `now` falls in the weekly window.
 *
 * Weekly windows are read in the machine's local time zone (local getters on `new Date(now)`), minute
 * precision, `fromMinute` inclusive, `toMinute` exclusive, starting on each listed day. A window with
 * `toMinute <= fromMinute` crosses midnight and ends on the next day (equal values: a full 24 hours).
 * DST follows from reading the local wall clock: on the day clocks go forward, a window inside the
 * skipped hour does not happen and one spanning it is an hour shorter; on the day they go back, the
 * repeated hour is in the window both times, so the window is an hour longer.
 */
import type { Silence, WeeklyWindow } from "../config/model.js";

/** The silences muting alerts of `level` for `serviceId` at `now`. */
export function activeSilences(
  silences: readonly Silence[],
  serviceId: string,
  level: string,
  now: number,
): Silence[] {
  return silences.filter(
    (s) => appliesTo(s.services, serviceId) && appliesTo(s.levels, level) && isActive(s, now),
  );
}

/** Whether any silence mutes alerts of `level` for `serviceId` at `now` (`activeSilences` is not empty). */
export function isSilenced(
  silences: readonly Silence[],
  serviceId: string,
  level: string,
  now: number,
): boolean {
  return silences.some(
    (s) => appliesTo(s.services, serviceId) && appliesTo(s.levels, level) && isActive(s, now),
  );
}

/** Whether a maintenance silence pauses healing of `serviceId` at `now` (levels do not matter). */
export function isHealingPaused(silences: readonly Silence[], serviceId: string, now: number): boolean {
  return silences.some((s) => s.pauseHealing && appliesTo(s.services, serviceId) && isActive(s, now));
}

export function isActive(silence: Silence, now: number): boolean {
  if (silence.startsAt !== undefined && now < silence.startsAt) return false;
  if (silence.endsAt !== undefined && now >= silence.endsAt) return false;
  return silence.weekly === undefined || inWeeklyWindow(silence.weekly, now);
}

export function inWeeklyWindow(window: WeeklyWindow, now: number): boolean {
  const date = new Date(now);
  const day = date.getDay();
  const minute = date.getHours() * 60 + date.getMinutes();
  const { days, fromMinute, toMinute } = window;
  if (fromMinute < toMinute) return days.includes(day) && minute >= fromMinute && minute < toMinute;
  // Crosses midnight: the evening part on a listed day, the morning part on the day after one.
  const previousDay = (day + 6) % 7;
  return (days.includes(day) && minute >= fromMinute) || (days.includes(previousDay) && minute < toMinute);
}

function appliesTo(list: readonly string[], id: string): boolean {
  return list.length === 0 || list.includes(id);
}

const MINUTE_MS = 60_000;
/** A weekly window ends within a week; one more day covers one that crosses midnight. */
const WEEKLY_SCAN_MINUTES = 8 * 24 * 60;

/**
 * When healing of `serviceId` stops being paused: undefined when it is not paused now, null when no
 * end is known (an open-ended maintenance, or windows that chain for more than a week).
 */
export function healingPausedUntil(
  silences: readonly Silence[],
  serviceId: string,
  now: number,
): number | null | undefined {
  const pausing = silences.filter((s) => s.pauseHealing && appliesTo(s.services, serviceId));
  const paused = (t: number): boolean => pausing.some((s) => isActive(s, t));
  if (!paused(now)) return undefined;
  const ends = pausing
    .flatMap((s) => (s.endsAt !== undefined && s.endsAt > now ? [s.endsAt] : []))
    .sort((a, b) => a - b);
  if (!pausing.some((s) => s.weekly !== undefined)) return ends.find((end) => !paused(end)) ?? null;
  // Weekly windows have minute precision: the first minute boundary (or fixed end) without a pause.
  let previous = now;
  const first = Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  for (let i = 0; i < WEEKLY_SCAN_MINUTES; i++) {
    const t = first + i * MINUTE_MS;
    const end = ends.find((e) => e > previous && e < t && !paused(e));
    if (end !== undefined) return end;
    if (!paused(t)) return t;
    previous = t;
  }
  return null;
}
