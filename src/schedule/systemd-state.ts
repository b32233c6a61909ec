/**
 * What the user manager says about the timer and its service, read from `systemctl --user show` and
 * `systemctl --user list-timers --output=json`, as plain data for `status` and `doctor`.
 *
 * Pitfalls of the real manager that shape this (a stand-in hid them):
 * - NextElapseUSecMonotonic is a point on the monotonic clock (time since boot), not a delay, and it is
 *   `infinity` while a tick runs (OnUnitActiveSec= counts from the tick's start). list-timers converts
 *   the next elapse to wall-clock microseconds itself, so the next run comes from there.
 * - `show` of a unit that is not loaded exits 0 with Result=success and ExecMainStatus=0, and a service
 *   that never ran has the same: a result only counts once ExecMainStartTimestamp is set.
 * - LastTriggerUSec is kept in memory only (without Persistent=): after the manager restarts it says
 *   n/a although ticks ran, so the service's own last start is reported too.
 */

export interface TimerListEntry {
  /** Wall-clock microseconds of the next elapse; null when none is scheduled (a tick is running). */
  readonly next: number | null;
  readonly last: number | null;
}

export interface UnitsSnapshot {
  readonly timer: Readonly<Record<string, string>>;
  readonly service: Readonly<Record<string, string>>;
  /** The timer's list-timers row; undefined when list-timers is unavailable or does not list it. */
  readonly listed?: TimerListEntry;
  /** Why systemctl could not be asked (no user bus...). */
  readonly error?: string;
}

export interface LastExit {
  /** Exit status, or the signal name when the tick was killed. */
  readonly status: string;
  readonly meaning: string;
}

export interface SystemdState {
  /** The user manager knows the timer (its unit file was loaded). */
  readonly loaded: boolean;
  readonly timerState: string | null;
  readonly enabled: string | null;
  readonly tickRunning: boolean;
  readonly nextRunAt: number | null;
  readonly lastTriggerAt: number | null;
  /** The service's last start (by the timer or by hand); null when it never ran. */
  readonly lastRunAt: number | null;
  /** Result= of the last run (`success`, `exit-code`, `signal`...), null when it never ran. */
  readonly result: string | null;
  readonly lastExit: LastExit | null;
  /** The service (or the timer) is in the failed state: it shows in `systemctl --user --failed`. */
  readonly failed: boolean;
}

export function parseShow(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return fields;
}

const usToMs = (value: unknown): number | null =>
  typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value / 1000) : null;

/** The row of `list-timers --output=json` for one timer; undefined when the output is not that. */
export function parseTimerList(text: string, timer: string): TimerListEntry | undefined {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(rows)) return undefined;
  const row = rows.find(
    (r): r is Record<string, unknown> =>
      r !== null && typeof r === "object" && (r as Record<string, unknown>)["unit"] === timer,
  );
  return row === undefined ? undefined : { next: usToMs(row["next"]), last: usToMs(row["last"]) };
}

/**
 * A timestamp property: `@<seconds>` (with --timestamp=unix) or systemd's default text
 * (`Thu 2026-12-03 18:27:39 UTC`); empty or n/a is none.
 */
export function parseTimestamp(value: string | undefined): number | null {
  if (value === undefined || value === "" || value === "n/a" || value === "0") return null;
  const unix = /^@(\d+(?:\.\d+)?)$/.exec(value);
  if (unix !== null) return Math.round(Number(unix[1]) * 1000);
  const parsed = Date.parse(value.replace(/^[A-Za-z]{3} /, "").replace(/ UTC$/, "Z"));
  return Number.isNaN(parsed) ? null : parsed;
}

/** What an exit status of `upkeep run` means (README "Commands"; 203 and up are systemd's own). */
export function exitMeaning(status: string): string {
  const meanings: Record<string, string> = {
    "0": "all services healthy",
    "1": "a watched service is still down",
    "2": "bad rules: nothing ran (upkeep validate shows why)",
    "3": "skipped: another tick held the lock",
    "200": "systemd could not set up the working directory or environment (200/CHDIR etc.)",
    "203": "203/EXEC: the node in the unit could not be started (upkeep doctor)",
  };
  return meanings[status] ?? (/^\d+$/.test(status) ? `exit status ${status}` : `killed by ${status}`);
}

const SIGNAL_CODES = new Set(["2", "3"]); // CLD_KILLED, CLD_DUMPED

const known = (value: string | undefined): string | null =>
  value === undefined || value === "" || value === "n/a" ? null : value;

export function interpretUnits(s: UnitsSnapshot): SystemdState {
  const { timer, service } = s;
  const loaded = timer["LoadState"] === "loaded";
  const lastRunAt = parseTimestamp(service["ExecMainStartTimestamp"]);
  const ran = service["LoadState"] === "loaded" && lastRunAt !== null;
  const status = known(service["ExecMainStatus"]);
  const exited = ran && status !== null && parseTimestamp(service["ExecMainExitTimestamp"]) !== null;
  const exitStatus = SIGNAL_CODES.has(service["ExecMainCode"] ?? "") ? signalName(status ?? "") : status;
  const lastExit =
    exited && exitStatus !== null ? { status: exitStatus, meaning: exitMeaning(exitStatus) } : null;
  const tickRunning = ["activating", "active", "deactivating"].includes(service["ActiveState"] ?? "");
  return {
    loaded,
    timerState: loaded ? known(timer["ActiveState"]) : null,
    enabled: loaded ? known(timer["UnitFileState"]) : null,
    tickRunning,
    nextRunAt: loaded ? (s.listed?.next ?? null) : null,
    lastTriggerAt: loaded ? (s.listed?.last ?? parseTimestamp(timer["LastTriggerUSec"])) : null,
    lastRunAt: ran ? lastRunAt : null,
    result: ran ? known(service["Result"]) : null,
    lastExit,
    failed: service["ActiveState"] === "failed" || (loaded && timer["ActiveState"] === "failed"),
  };
}

function signalName(number: string): string {
  const names: Record<string, string> = { "9": "SIGKILL", "15": "SIGTERM", "6": "SIGABRT", "2": "SIGINT" };
  return names[number] ?? `signal ${number}`;
}

/** `in 8s`, `in 4min 5s`, `in 2h 3min`; a time already past (the manager is about to start it) is `now`. */
export function formatDelay(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s <= 0) return "now";
  if (s < 60) return `in ${s}s`;
  if (s < 3600) return `in ${Math.floor(s / 60)}min${s % 60 === 0 ? "" : ` ${s % 60}s`}`;
  const m = Math.floor(s / 60);
  return `in ${Math.floor(m / 60)}h${m % 60 === 0 ? "" : ` ${m % 60}min`}`;
}

/** One line about the next tick, for install, status and doctor. */
export function describeNextRun(
  state: Pick<SystemdState, "nextRunAt" | "loaded" | "tickRunning" | "timerState">,
  now: number,
): string {
  if (state.nextRunAt !== null)
    return `${new Date(state.nextRunAt).toISOString()} (${formatDelay(state.nextRunAt - now)})`;
  if (!state.loaded) return "none: the timer is not loaded";
  if (state.tickRunning) return "after the tick that is running now (the interval counts from its start)";
  if (state.timerState !== "active") return `none: the timer is ${state.timerState ?? "unknown"}`;
  return "unknown (systemctl list-timers gave no time)";
}
