/**
 * `upkeep report`: uptime, incidents, MTTR, MTBF and heal outcomes per service, computed from history
 * events alone (pure: events in, numbers out).
 *
 * Time observed: a tick that probed a service vouches for it from the tick's start until the next tick
 * that probed it, but for at most 1.5 x the interval (scheduler jitter); what no tick vouches for is
 * unknown, never up. Within a tick, a service a heal brought back was down from the tick's start until
 * the heal finished.
 *
 * Incidents: from the first tick that saw a service fail on its own or blocked, after one that saw it up,
 * until the first that saw it up again (or the heal that brought it back). How one ended:
 *   healed     a heal upkeep ran on its schedule brought it back
 *   by-hand    a manual `upkeep heal` brought it back, or it came back while upkeep was not healing it
 *              (it had given up, the service was isolated, or healing was paused): someone acted
 *   recovered  it came back by itself while upkeep was healing it normally (between heals, or a heal
 *              refused by cooldown or budget)
 *   ongoing    still down at the end of the report
 */
import type { ServiceStatus } from "../core/facts.js";
import { COVER_INTERVALS, expandTicks, type HistoryEvent, type Observed } from "./events.js";

export type IncidentEnd = "healed" | "by-hand" | "recovered" | "ongoing";

export interface Incident {
  readonly service: string;
  readonly start: number;
  readonly end: number | null;
  readonly durationMs: number;
  readonly cause: string;
  readonly ended: IncidentEnd;
  /** Heals upkeep ran during the incident. */
  readonly heals: number;
}

export interface ServiceUptime {
  readonly id: string;
  readonly title: string;
  readonly observedMs: number;
  readonly upMs: number;
  readonly downMs: number;
  readonly blockedMs: number;
  readonly unknownMs: number;
  /** upMs / observedMs; null when nothing was observed. */
  readonly uptime: number | null;
  readonly incidents: readonly Incident[];
  /** How the incidents ended: the share healed by upkeep against fixed by hand is the manual work saved. */
  readonly ended: Readonly<Record<IncidentEnd, number>>;
  /** Mean duration of the incidents that ended. */
  readonly mttrMs: number | null;
  /** Time up / incidents begun in the window. */
  readonly mtbfMs: number | null;
  readonly heals: {
    readonly attempted: number;
    readonly healed: number;
    readonly failed: number;
    readonly forced: number;
    /** Ticks a heal was refused or skipped, by reason. */
    readonly notHealed: Readonly<Record<string, number>>;
  };
  /** Mean time from the start of an incident to the heal that ended it (incidents ended by `healed`). */
  readonly detectToHealedMs: number | null;
  /** Alert notices sent, by level. */
  readonly alerts: Readonly<Record<string, number>>;
}

export interface ReportGap {
  readonly from: number;
  readonly to: number;
  /** Scheduled ticks that did not run in between. */
  readonly missed: number;
}

export interface Report {
  readonly since: number;
  readonly until: number;
  readonly intervalMs: number;
  readonly ticks: { readonly count: number; readonly scheduled: number; readonly missed: number };
  readonly gaps: readonly ReportGap[];
  readonly services: readonly ServiceUptime[];
}

export interface ReportOptions {
  readonly since: number;
  readonly until: number;
  readonly intervalMs: number;
  readonly services: readonly { readonly id: string; readonly title: string }[];
}

interface Sample {
  readonly at: number;
  readonly o: Observed;
  readonly trigger: string;
  /** The interval its tick was scheduled at, when the tick recorded one. */
  readonly interval: number | undefined;
}

type Tick = Extract<HistoryEvent, { kind: "tick" }>;
type Heal = Extract<HistoryEvent, { kind: "heal" }>;
type Refusal = Extract<HistoryEvent, { kind: "refusal" }>;

/** Reasons that mean upkeep was not healing the service: whoever brought it back, it was not upkeep. */
const NOT_HEALING = new Set(["breaker-open", "paused", "no-steps", "disabled"]);

/**
 * `events` may start before `since`: incidents already going on at `since` then keep their real start
 * (and are reported in full), while uptime counts only what lies inside [since, until).
 */
export function computeReport(events: readonly HistoryEvent[], options: ReportOptions): Report {
  const sorted = expandTicks(events).sort((a, b) => a.at - b.at);
  const ticks = sorted.filter((e): e is Tick => e.kind === "tick");
  const services = options.services.map((s) => serviceReport(s, sorted, ticks, options));
  const { scheduled, missed, gaps } = scheduleGaps(ticks, options);
  const inWindow = ticks.filter((t) => t.at >= options.since && t.at < options.until).length;
  return {
    since: options.since,
    until: options.until,
    intervalMs: options.intervalMs,
    ticks: { count: inWindow, scheduled, missed },
    gaps,
    services,
  };
}

export interface Segment {
  readonly status: ServiceStatus;
  readonly from: number;
  readonly to: number;
}

function samplesOf(ticks: readonly Tick[], id: string): Sample[] {
  return ticks.flatMap((t) => {
    const o = Object.hasOwn(t.observed, id) ? t.observed[id] : undefined;
    return o === undefined ? [] : [{ at: t.at, o, trigger: t.trigger, interval: t.interval }];
  });
}

/**
 * What the ticks vouch for, as segments of one status: each tick from its start until the next tick
 * that probed the service, for at most 1.5 intervals (and not past `until`); a service a heal brought
 * back is down from the tick's start until the heal finished.
 */
function segmentsOf(samples: readonly Sample[], intervalMs: number, until: number): Segment[] {
  const out: Segment[] = [];
  samples.forEach((sample, i) => {
    const next = samples[i + 1];
    const cap = sample.at + COVER_INTERVALS * (sample.interval ?? intervalMs);
    const end = Math.min(next === undefined ? until : next.at, cap);
    if (sample.o.f !== undefined && sample.o.up !== undefined) {
      const back = Math.min(Math.max(sample.o.up, sample.at), end);
      out.push(
        { status: sample.o.f, from: sample.at, to: back },
        { status: sample.o.s, from: back, to: end },
      );
    } else out.push({ status: sample.o.s, from: sample.at, to: end });
  });
  return out.filter((s) => s.to > s.from);
}

/** The segments of every service in one pass over the events (the status page's uptime bars). */
export function coverage(
  events: readonly HistoryEvent[],
  options: { readonly ids: readonly string[]; readonly intervalMs: number; readonly until: number },
): Map<string, Segment[]> {
  const ticks = expandTicks(events)
    .filter((e): e is Tick => e.kind === "tick")
    .sort((a, b) => a.at - b.at);
  return new Map(
    options.ids.map((id) => [id, segmentsOf(samplesOf(ticks, id), options.intervalMs, options.until)]),
  );
}

function serviceReport(
  svc: { id: string; title: string },
  events: readonly HistoryEvent[],
  ticks: readonly Tick[],
  options: ReportOptions,
): ServiceUptime {
  const { since, until } = options;
  const samples = samplesOf(ticks, svc.id);
  const mine = events.filter((e) => "service" in e && e.service === svc.id);
  const heals = mine.filter((e): e is Heal => e.kind === "heal");
  const refusals = mine.filter((e): e is Refusal => e.kind === "refusal");
  const time = { up: 0, down: 0, blocked: 0 };
  for (const segment of segmentsOf(samples, options.intervalMs, until)) {
    const a = Math.max(segment.from, since);
    const b = Math.min(segment.to, until);
    if (b > a) time[segment.status] += b - a;
  }
  const observedMs = time.up + time.down + time.blocked;
  const incidents = findIncidents(svc.id, samples, mine, heals, refusals).filter(
    (inc) => (inc.end ?? Number.POSITIVE_INFINITY) > since && inc.start < until,
  );
  const ended = incidents.filter((i) => i.end !== null);
  const healedIncidents = incidents.filter((i) => i.ended === "healed");
  const begun = incidents.filter((i) => i.start >= since).length;
  const inWindow = <T extends { at: number }>(list: readonly T[]): T[] =>
    list.filter((e) => e.at >= since && e.at < until);
  const windowHeals = inWindow(heals);
  const notHealed: Record<string, number> = {};
  for (const r of inWindow(refusals)) notHealed[r.reason] = (notHealed[r.reason] ?? 0) + 1;
  const alerts: Record<string, number> = {};
  for (const e of inWindow(mine)) if (e.kind === "alert") alerts[e.level] = (alerts[e.level] ?? 0) + 1;
  return {
    id: svc.id,
    title: svc.title,
    observedMs,
    upMs: time.up,
    downMs: time.down,
    blockedMs: time.blocked,
    unknownMs: Math.max(0, until - since - observedMs),
    uptime: observedMs === 0 ? null : time.up / observedMs,
    incidents,
    ended: {
      healed: incidents.filter((i) => i.ended === "healed").length,
      recovered: incidents.filter((i) => i.ended === "recovered").length,
      "by-hand": incidents.filter((i) => i.ended === "by-hand").length,
      ongoing: incidents.filter((i) => i.ended === "ongoing").length,
    },
    mttrMs: mean(ended.map((i) => i.durationMs)),
    mtbfMs: begun === 0 ? null : time.up / begun,
    heals: {
      attempted: windowHeals.length,
      healed: windowHeals.filter((h) => h.outcome === "healed").length,
      failed: windowHeals.filter((h) => h.outcome === "failed").length,
      forced: windowHeals.filter((h) => h.forced).length,
      notHealed,
    },
    detectToHealedMs: mean(healedIncidents.map((i) => i.durationMs)),
    alerts,
  };
}

function findIncidents(
  id: string,
  samples: readonly Sample[],
  events: readonly HistoryEvent[],
  heals: readonly Heal[],
  refusals: readonly Refusal[],
): Incident[] {
  const incidents: Incident[] = [];
  let open: { start: number; cause: string; lastFailedAt: number } | undefined;
  const causeAt = (at: number): string => {
    const status = events.find((e) => e.kind === "status" && e.at === at && e.to !== "up");
    return status?.kind === "status" ? status.detail : "unknown (no status event at its start)";
  };
  const close = (end: number, at: number, healedHere: Heal | undefined, manual: boolean): void => {
    if (open === undefined) return;
    const start = open.start;
    const during = heals.filter((h) => h.at >= start && h.at <= at).length;
    incidents.push({
      service: id,
      start,
      end,
      durationMs: end - start,
      cause: open.cause,
      ended:
        manual && healedHere !== undefined ? "by-hand" : howEnded(healedHere, refusals, open.lastFailedAt),
      heals: during,
    });
    open = undefined;
  };
  const healedAt = new Map(heals.filter((h) => h.outcome === "healed").map((h) => [h.at, h]));
  for (const sample of samples) {
    const first = sample.o.f ?? sample.o.s;
    const healedHere = healedAt.get(sample.at);
    if (first !== "up") {
      open ??= { start: sample.at, cause: causeAt(sample.at), lastFailedAt: sample.at };
      open.lastFailedAt = sample.at;
      if (sample.o.s === "up")
        close(
          Math.max(sample.o.up ?? sample.at, sample.at),
          sample.at,
          healedHere,
          sample.trigger === "heal",
        );
    } else if (open !== undefined) close(sample.at, sample.at, undefined, false);
  }
  if (open !== undefined) {
    const start = open.start;
    const last = samples[samples.length - 1]?.at ?? start;
    incidents.push({
      service: id,
      start,
      end: null,
      durationMs: last - start,
      cause: open.cause,
      ended: "ongoing",
      heals: heals.filter((h) => h.at >= start).length,
    });
  }
  return incidents;
}

function howEnded(
  healedHere: Heal | undefined,
  refusals: readonly Refusal[],
  lastFailedAt: number,
): IncidentEnd {
  if (healedHere !== undefined)
    return healedHere.forced && healedHere.by !== undefined ? "by-hand" : "healed";
  const last = refusals.find((r) => r.at === lastFailedAt);
  return last !== undefined && NOT_HEALING.has(last.reason) ? "by-hand" : "recovered";
}

/** Scheduled ticks (run and watch, not manual heals) more than 1.5 intervals apart missed some ticks. */
function scheduleGaps(
  ticks: readonly Tick[],
  options: ReportOptions,
): { scheduled: number; missed: number; gaps: ReportGap[] } {
  const scheduled = ticks.filter(
    (t) => (t.trigger === "run" || t.trigger === "watch") && t.at >= options.since && t.at < options.until,
  );
  const gaps: ReportGap[] = [];
  let missed = 0;
  for (let i = 1; i < scheduled.length; i++) {
    const from = (scheduled[i - 1] as Tick).at;
    const to = (scheduled[i] as Tick).at;
    // Judged by the interval the earlier tick was scheduled at (`watch --interval` may differ from the rules).
    const interval = (scheduled[i - 1] as Tick).interval ?? options.intervalMs;
    const n = Math.round((to - from) / interval) - 1;
    if (to - from > COVER_INTERVALS * interval && n > 0) {
      gaps.push({ from, to, missed: n });
      missed += n;
    }
  }
  return { scheduled: scheduled.length, missed, gaps };
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}
