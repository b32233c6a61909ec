/**
 * `upkeep status`: what the last ticks recorded, per service: status and since when, breaker state and
 * when it may half-open, heals in the current budget window and what is left, when the next heal is
 * allowed, and firing alerts. Reads state without the lock (files are replaced atomically) and never
 * changes it.
 */
import type { Config, ServiceConfig, Silence } from "../../config/model.js";
import { canAttempt } from "../../core/breaker.js";
import { healStanding } from "../../core/standing.js";
import { own, type UpkeepState } from "../../core/state.js";
import { formatDuration } from "../../duration.js";
import { ExitCode } from "../../errors.js";
import type { HistoryEvent } from "../../history/events.js";
import { recentFor } from "../../history/recent.js";
import { commandFlags } from "../args.js";
import { lockHolder } from "../../runtime/lock.js";
import { CHANNEL_BREAKER, loadOutbox, type OutboxState } from "../../runtime/outbox.js";
import { loadSilences, silenceState, toSilence, type SilencesState } from "../../runtime/silences.js";
import { loadState } from "../../runtime/state-files.js";
import { statusChanges } from "../history.js";
import { loadConfigOrReport } from "../load-config.js";

const HELP = `Usage: upkeep status [options]

Shows, per service, the last status and since when, the breaker state and when it may half-open,
heals in the current budget window and the budget left, when the next heal is allowed, and firing alerts;
then alert notifications queued per channel (the outbox) and the ad-hoc silences not yet ended.

Options:
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES)
  --state-dir DIR    state directory (env UPKEEP_STATE_DIR)
  --format FORMAT    text (default) or json
  -h, --help         this help

Exit codes: 0, or 2 on bad rules.
`;

export interface ServiceStatusView {
  id: string;
  title: string;
  status: string;
  /** Since when it has this status: from the history when it has the change (a heal inside a tick counts). */
  since: string | null;
  /** The last time it was down or blocked, from the history; null when the history has none. */
  lastOutage: { start: string | null; end: string | null; durationMs: number | null; cause: string } | null;
  consecutiveFailures: number;
  lastDetail: string;
  lastProbeAt: string | null;
  lastLatencyMs: number | null;
  breaker: { state: string; retryAt: string | null; isolated: boolean };
  /** upkeep stopped healing after failed heals (until a heal holds or `breaker reset`). */
  gaveUp: boolean;
  /** Failed heals since the last one that held. */
  failedHeals: { inRow: number; since: string | null };
  flapping: boolean;
  heals: {
    inWindow: number;
    budgetLeft: number;
    max: number;
    /** When every gate lets the next heal through; null when nothing holds healing back now (or no end). */
    nextAllowedAt: string | null;
    /** Every gate that would refuse a heal now, with when it alone would allow one (null: no end). */
    refusedBy: { gate: string; until: string | null; why?: string }[];
    last: string | null;
  };
  firingAlerts: { rule: string; level: string; since: string | null; sent: number }[];
}

export interface OutboxChannelView {
  channel: string;
  queued: number;
  oldestAt: string | null;
  nextAttemptAt: string | null;
  lastError: string;
  breaker: string;
}

export interface SilenceView {
  id: string;
  state: "active" | "pending";
  services: string[];
  levels: string[];
  startsAt: string | null;
  endsAt: string | null;
  pauseHealing: boolean;
  comment: string;
  createdBy: string;
}

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();

export function statusView(
  config: Config,
  state: UpkeepState,
  now: number,
  silences: readonly Silence[] = config.alerts.silences,
  history: readonly HistoryEvent[] = [],
): ServiceStatusView[] {
  return config.services.map((service) => serviceView(config, service, state, silences, now, history));
}

function serviceView(
  config: Config,
  service: ServiceConfig,
  state: UpkeepState,
  silences: readonly Silence[],
  now: number,
  history: readonly HistoryEvent[],
): ServiceStatusView {
  const record = own(state.services.services, service.id);
  const recent = recentFor(history, service.id, record?.lastStatus ?? "unknown");
  const outage = recent.lastOutage;
  const standing = healStanding(config, service, state, silences, now);
  const firing = config.alerts.rules.flatMap((rule) => {
    const alert = own(state.alerts.alerts, `${rule.id}/${service.id}`);
    return alert?.status === "firing"
      ? [{ rule: rule.id, level: rule.level, since: iso(alert.since), sent: alert.sent }]
      : [];
  });
  return {
    id: service.id,
    title: service.title,
    status: service.enabled ? (record?.lastStatus ?? "unknown") : "disabled",
    since: iso(recent.since ?? record?.since),
    lastOutage:
      outage === null
        ? null
        : {
            start: iso(outage.start),
            end: iso(outage.end),
            durationMs: outage.end === null ? null : outage.end - outage.start,
            cause: outage.cause,
          },
    consecutiveFailures: record?.consecutiveFailures ?? 0,
    lastDetail: record?.lastDetail ?? "",
    lastProbeAt: iso(record?.lastProbeAt),
    lastLatencyMs: record?.lastLatencyMs ?? null,
    breaker: {
      state: standing.breaker.state,
      retryAt: iso(standing.breaker.retryAt),
      isolated: standing.breaker.isolated,
    },
    gaveUp: standing.gaveUp,
    failedHeals: { inRow: standing.failedInRow, since: iso(standing.failedSince) },
    flapping: (record?.outages?.length ?? 0) >= service.flapping.outages,
    heals: {
      inWindow: standing.budget.used,
      budgetLeft: standing.budget.left,
      max: standing.budget.max,
      nextAllowedAt:
        standing.refusedBy.length === 0 || standing.nextAllowedAt === null
          ? null
          : iso(standing.nextAllowedAt),
      refusedBy: standing.refusedBy.map((r) => ({
        gate: r.gate,
        until: iso(r.until),
        ...(r.why === undefined ? {} : { why: r.why }),
      })),
      last: iso(standing.lastHealAt),
    },
    firingAlerts: firing,
  };
}

/** Queued notifications per channel, plus channels whose breaker is not CLOSED. */
export function outboxView(outbox: OutboxState, now: number): OutboxChannelView[] {
  const channels = new Set([...outbox.entries.map((e) => e.channel), ...Object.keys(outbox.breakers)]);
  const views: OutboxChannelView[] = [];
  for (const channel of [...channels].sort()) {
    const entries = outbox.entries.filter((e) => e.channel === channel);
    const breaker = own(outbox.breakers, channel);
    const state = breaker === undefined ? "CLOSED" : canAttempt(CHANNEL_BREAKER, breaker, now).state;
    if (entries.length === 0 && state === "CLOSED") continue;
    const last = entries[entries.length - 1];
    views.push({
      channel,
      queued: entries.length,
      oldestAt: iso(entries[0]?.createdAt),
      nextAttemptAt: iso(entries.length === 0 ? null : Math.min(...entries.map((e) => e.nextAttemptAt))),
      lastError: last?.lastError ?? "",
      breaker: state,
    });
  }
  return views;
}

/** Ad-hoc silences (`upkeep silence add`) that are active or still to come. */
export function silencesView(silences: SilencesState, now: number): SilenceView[] {
  return silences.silences.flatMap((s) => {
    const state = silenceState(s, now);
    if (state === "expired") return [];
    return [
      {
        id: s.id,
        state,
        services: [...s.services],
        levels: [...s.levels],
        startsAt: iso(s.startsAt),
        endsAt: iso(s.endsAt),
        pauseHealing: s.pauseHealing,
        comment: s.comment,
        createdBy: s.createdBy,
      },
    ];
  });
}

function formatExtras(outbox: OutboxChannelView[], silences: SilenceView[]): string[] {
  const lines: string[] = [];
  if (outbox.length > 0) lines.push("", "Outbox (notifications waiting for a retry):");
  for (const o of outbox) {
    const next = o.nextAttemptAt === null ? "" : `, next try at ${o.nextAttemptAt}`;
    const error = o.lastError === "" ? "" : `, last error: ${o.lastError}`;
    lines.push(`  ${o.channel}: ${o.queued} queued${next}${error} [channel breaker ${o.breaker}]`);
  }
  if (silences.length > 0) lines.push("", "Silences (ad hoc):");
  for (const s of silences) {
    const who = s.services.length === 0 ? "all services" : s.services.join(", ");
    const levels = s.levels.length === 0 ? "" : ` (levels ${s.levels.join(", ")})`;
    const when =
      s.state === "pending"
        ? `from ${s.startsAt ?? "?"} until ${s.endsAt ?? "?"}`
        : `until ${s.endsAt ?? "?"}`;
    lines.push(
      `  ${s.id}: ${s.state} ${when}: ${who}${levels}${s.pauseHealing ? ", healing paused" : ""}` +
        `${s.createdBy === "" ? "" : ` by ${s.createdBy}`}${s.comment === "" ? "" : ` - ${s.comment}`}`,
    );
  }
  return lines;
}

function gateText(r: { gate: string; until: string | null; why?: string }): string {
  const name = r.gate === "breaker-open" ? (r.why === "isolated" ? "isolation" : "giving up") : r.gate;
  return r.until === null ? `${name} (no end)` : `${name} until ${r.until}`;
}

function formatText(views: ServiceStatusView[], tick: string | undefined): string {
  const lines: string[] = [];
  if (tick !== undefined) lines.push(tick, "");
  for (const v of views) {
    lines.push(
      `${v.title} (${v.id}): ${v.status.toUpperCase()}${v.since === null ? "" : ` since ${v.since}`}`,
    );
    if (v.lastOutage !== null && v.status === "up")
      lines.push(
        `  last outage: ${v.lastOutage.start ?? "?"}` +
          `${v.lastOutage.durationMs === null ? "" : ` for ${formatDuration(v.lastOutage.durationMs)}`}: ${v.lastOutage.cause}`,
      );
    if (v.status === "down" && v.lastDetail !== "")
      lines.push(`  last probe: ${v.lastDetail} (${v.consecutiveFailures} failed in a row)`);
    const retry =
      v.breaker.state === "OPEN"
        ? v.breaker.retryAt === null
          ? " until reset"
          : ` until ${v.breaker.retryAt}`
        : "";
    const gaveUp = v.gaveUp
      ? ` - upkeep gave up: ${v.failedHeals.inRow} heals failed since ${v.failedHeals.since ?? "?"}`
      : "";
    lines.push(`  breaker: ${v.breaker.state}${v.breaker.isolated ? " (isolated)" : ""}${retry}${gaveUp}`);
    const held =
      v.heals.refusedBy.length === 0
        ? ""
        : `; held back by ${v.heals.refusedBy.map(gateText).join(", ")}` +
          (v.heals.nextAllowedAt === null ? "" : `; next heal allowed at ${v.heals.nextAllowedAt}`);
    lines.push(
      `  heals: ${v.heals.budgetLeft} of ${v.heals.max} left (${v.heals.inWindow} used in the window)${held}`,
    );
    if (v.flapping) lines.push("  flapping: it went down again and again within the flapping window");
    for (const a of v.firingAlerts)
      lines.push(`  alert firing: ${a.level} ${a.rule} since ${a.since ?? "?"} (${a.sent} sent)`);
  }
  return `${lines.join("\n")}\n`;
}

const OPTIONS = {
  rules: { type: "string" },
  "state-dir": { type: "string" },
  format: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export async function run(argv: string[]): Promise<number> {
  // A mistyped flag is a usage error (exit 2, one line), never an internal error with a stack.
  const values = commandFlags("status", argv, OPTIONS, () => HELP);
  if (typeof values === "number") return values;
  const format = values.format ?? "text";
  if (format !== "text" && format !== "json") {
    process.stderr.write("upkeep: --format must be text or json\n");
    return ExitCode.usage;
  }
  const { config } = await loadConfigOrReport(values, process.env);
  if (config === undefined) return ExitCode.usage;
  const doc = await statusDocument(config, Date.now(), (w) => process.stderr.write(`upkeep: ${w}\n`));
  if (format === "json") {
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const running =
      doc.tick === null ? undefined : `A tick is running (pid ${doc.tick.pid} since ${doc.tick.since}).`;
    const extra = formatExtras(doc.outbox, doc.silences);
    process.stdout.write(
      formatText(doc.services, running) + (extra.length === 0 ? "" : `${extra.join("\n")}\n`),
    );
  }
  return ExitCode.ok;
}

export interface StatusDocument {
  readonly stateDir: string;
  readonly tickRunning: boolean;
  /** The tick holding the lock now, if any. */
  readonly tick: { readonly pid: number; readonly since: string } | null;
  readonly services: ServiceStatusView[];
  readonly outbox: OutboxChannelView[];
  readonly silences: SilenceView[];
}

/** What `status --format json` prints and `upkeep serve` answers at /api/status. */
export async function statusDocument(
  config: Config,
  now: number,
  warn: (message: string) => void,
): Promise<StatusDocument> {
  const stateDir = config.runtime.stateDir;
  const [{ state, warnings }, holder, outbox, silences, history] = await Promise.all([
    loadState(stateDir, { readOnly: true }),
    lockHolder(stateDir),
    loadOutbox(stateDir, { readOnly: true }),
    loadSilences(stateDir, { warn }),
    statusChanges(config),
  ]);
  for (const w of warnings) warn(w);
  const services = statusView(
    config,
    state,
    now,
    [...config.alerts.silences, ...silences.silences.map(toSilence)],
    history,
  );
  return {
    stateDir,
    tickRunning: holder !== undefined,
    tick: holder === undefined ? null : { pid: holder.pid, since: new Date(holder.startedAt).toISOString() },
    services,
    outbox: outboxView(outbox, now),
    silences: silencesView(silences, now),
  };
}
