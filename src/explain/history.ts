/**
 * A service's recent history for `explain`: what the state files recorded (status, breaker, heals, alert
 * states) and the last log lines about it. The log is read from its end only (at most TAIL_BYTES), so a
 * big log costs the same as a small one.
 */
import { open } from "node:fs/promises";
import type { Config, ServiceConfig } from "../config/model.js";
import type { Silence } from "../config/model.js";
import { healStanding } from "../core/standing.js";
import { alertKey, emptyBreaker, own, type UpkeepState } from "../core/state.js";
import type { HistoryEvent } from "../history/events.js";
import { recentFor } from "../history/recent.js";

export const TAIL_BYTES = 256 * 1024;

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();

export interface LogLine {
  readonly time: string | null;
  readonly level: string;
  readonly msg: string;
  /** The line's other fields (pid, hostname and the service id left out). */
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface History {
  status: string;
  /** From the event history when it has the change, else the state files. */
  since: string | null;
  /** The last time it was down or blocked (from the event history). */
  lastOutage: { start: string | null; end: string | null; cause: string } | null;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastProbeAt: string | null;
  lastDetail: string;
  lastLatencyMs: number | null;
  breaker: {
    state: string;
    retryAt: string | null;
    isolated: boolean;
    /** Failed heals since the last one that held (what opens the breaker). */
    failures: number;
    level: number;
    gaveUp: boolean;
    failedSince: string | null;
  };
  heals: {
    budgetLeft: number;
    /** When every gate lets the next heal through; null when nothing holds healing back (or no end). */
    nextAllowedAt: string | null;
    /** Every gate that would refuse a heal now. */
    refusedBy: { gate: string; until: string | null; why?: string }[];
    totals: { healed: number; failed: number };
    history: { at: string | null; outcome: string; forced: boolean; by: string | null }[];
  };
  alerts: {
    rule: string;
    level: string;
    status: string;
    streak: number;
    since: string | null;
    sent: number;
  }[];
  log: LogLine[];
}

export function stateHistory(
  config: Config,
  service: ServiceConfig,
  state: UpkeepState,
  now: number,
  silences: readonly Silence[] = config.alerts.silences,
  changes: readonly HistoryEvent[] = [],
): Omit<History, "log"> {
  const id = service.id;
  const record = own(state.services.services, id);
  const recent = recentFor(changes, id, record?.lastStatus ?? "unknown");
  const outage = recent.lastOutage;
  const stored = own(state.breakers.breakers, id) ?? emptyBreaker();
  const heal = own(state.heals.heals, id);
  const standing = healStanding(config, service, state, silences, now);
  return {
    status: record?.lastStatus ?? "unknown",
    since: iso(recent.since ?? record?.since),
    lastOutage:
      outage === null ? null : { start: iso(outage.start), end: iso(outage.end), cause: outage.cause },
    consecutiveFailures: record?.consecutiveFailures ?? 0,
    consecutiveSuccesses: record?.consecutiveSuccesses ?? 0,
    lastProbeAt: iso(record?.lastProbeAt),
    lastDetail: record?.lastDetail ?? "",
    lastLatencyMs: record?.lastLatencyMs ?? null,
    breaker: {
      state: standing.breaker.state,
      retryAt: iso(standing.breaker.retryAt),
      isolated: standing.breaker.isolated,
      failures: standing.failedInRow,
      level: stored.level,
      gaveUp: standing.gaveUp,
      failedSince: iso(standing.failedSince),
    },
    heals: {
      budgetLeft: standing.budget.left,
      nextAllowedAt: standing.refusedBy.length === 0 ? null : iso(standing.nextAllowedAt),
      refusedBy: standing.refusedBy.map((r) => ({
        gate: r.gate,
        until: iso(r.until),
        ...(r.why === undefined ? {} : { why: r.why }),
      })),
      totals: { healed: heal?.totals?.healed ?? 0, failed: heal?.totals?.failed ?? 0 },
      history: (heal?.history ?? []).map((h) => ({
        at: iso(h.at),
        outcome: h.outcome,
        forced: h.forced === true,
        by: h.by ?? null,
      })),
    },
    alerts: config.alerts.rules.flatMap((rule) => {
      const alert = own(state.alerts.alerts, alertKey(rule.id, id));
      if (alert === undefined) return [];
      return [
        {
          rule: rule.id,
          level: rule.level,
          status: alert.status,
          streak: alert.streak,
          since: iso(alert.since),
          sent: alert.sent,
        },
      ];
    }),
  };
}

/** The last `limit` pino lines whose `service` is `id`, oldest first; a missing log gives none. */
export async function logTail(
  file: string,
  id: string,
  limit: number,
  maxBytes = TAIL_BYTES,
): Promise<LogLine[]> {
  let text: string;
  try {
    const handle = await open(file, "r");
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - maxBytes);
      const buffer = Buffer.alloc(size - start);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
      text = buffer.subarray(0, bytesRead).toString("utf8");
      // Reading from the middle of the file: the first line is partial.
      if (start > 0) text = text.slice(text.indexOf("\n") + 1);
    } finally {
      await handle.close();
    }
  } catch {
    return [];
  }
  const lines: LogLine[] = [];
  for (const line of text.split("\n")) {
    const parsed = parseLine(line);
    if (parsed === undefined || parsed["service"] !== id) continue;
    const { time, level, msg, pid: _pid, hostname: _host, service: _service, ...fields } = parsed;
    lines.push({
      time: typeof time === "number" ? iso(time) : typeof time === "string" ? time : null,
      level: typeof level === "string" ? level : String(level ?? ""),
      msg: typeof msg === "string" ? msg : "",
      fields,
    });
  }
  return limit <= 0 ? [] : lines.slice(-limit);
}

function parseLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
