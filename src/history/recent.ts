/**
 * What `status` and `explain` show from the history (pure): since when a service has had its current
 * status (a heal inside a tick counts: "up since the heal finished", not since the first tick that
 * ever saw it up) and its last outage.
 */
import type { HistoryEvent } from "./events.js";

export interface Outage {
  readonly start: number;
  /** When it came back; null while it is still down. */
  readonly end: number | null;
  readonly cause: string;
}

export interface Recent {
  /** When the last status change to `status` happened; null when the history has none. */
  readonly since: number | null;
  readonly lastOutage: Outage | null;
}

export function recentFor(events: readonly HistoryEvent[], service: string, status: string): Recent {
  const changes = events.filter(
    (e): e is Extract<HistoryEvent, { kind: "status" }> => e.kind === "status" && e.service === service,
  );
  let since: number | null = null;
  let start: { at: number; cause: string } | null = null;
  let end: number | null = null;
  for (const change of changes) {
    const open = start !== null && end === null;
    if (change.to !== "up" && !open) {
      start = { at: change.at, cause: change.detail };
      end = null;
    } else if (change.to === "up" && open) end = change.at;
    since = change.to === status ? change.at : null;
  }
  return { since, lastOutage: start === null ? null : { start: start.at, end, cause: start.cause } };
}
