/**
 * The documents `upkeep serve` answers with, read from the same state files and history as the CLI on
 * every request (a page left open while launchd runs ticks stays current).
 */
import type { Config } from "../config/model.js";
import { statusDocument, type StatusDocument } from "../cli/commands/status.js";
import { reportJson } from "../cli/commands/report.js";
import { computeReport } from "../history/report.js";
import type { HistoryEvent } from "../history/events.js";
import { historySettings, readHistory } from "../runtime/history-store.js";
import { BARS, uptimeBars, type Bucket } from "./timeline.js";

export interface PageService {
  readonly bars: Record<string, Bucket[]>;
  /** Time up over time observed per bar window; null when nothing was observed. */
  readonly uptime: Record<string, number | null>;
  /** The last incidents of the 30 days, newest first (at most 10). */
  readonly incidents: readonly unknown[];
}

export interface PageDocument {
  readonly generatedAt: string;
  readonly intervalMs: number;
  readonly actions: boolean;
  readonly history: { readonly enabled: boolean; readonly error: string | null };
  readonly status: StatusDocument;
  readonly services: Record<string, PageService>;
}

const DAY = 86_400_000;

async function history(config: Config): Promise<{ events: HistoryEvent[]; error: string | null }> {
  if (!config.runtime.history.enabled) return { events: [], error: null };
  try {
    return {
      events: await readHistory(historySettings(config), { since: Date.now() - 31 * DAY }),
      error: null,
    };
  } catch (error) {
    return { events: [], error: error instanceof Error ? error.message : String(error) };
  }
}

export async function pageDocument(
  config: Config,
  options: { actions: boolean; now: number },
): Promise<PageDocument> {
  const warnings: string[] = [];
  const [status, { events, error }] = await Promise.all([
    statusDocument(config, options.now, (w) => warnings.push(w)),
    history(config),
  ]);
  const services = config.services.map((s) => ({ id: s.id, title: s.title }));
  const intervalMs = config.runtime.intervalMs;
  const bars = uptimeBars(events, { until: options.now, intervalMs, services });
  const month = reportJson(
    computeReport(events, { since: options.now - 30 * DAY, until: options.now, intervalMs, services }),
    config,
  ) as { services: { id: string; incidents: unknown[] }[] };
  const out: Record<string, PageService> = {};
  for (const s of services) {
    const own = bars[s.id] ?? {};
    const uptime: Record<string, number | null> = {};
    for (const bar of BARS) {
      const list = own[bar.name] ?? [];
      const up = list.reduce((a, b) => a + b.upMs, 0);
      const observed = list.reduce((a, b) => a + b.upMs + b.downMs + b.blockedMs, 0);
      uptime[bar.name] = observed === 0 ? null : up / observed;
    }
    const incidents = month.services.find((m) => m.id === s.id)?.incidents ?? [];
    out[s.id] = { bars: own, uptime, incidents: [...incidents].reverse().slice(0, 10) };
  }
  return {
    generatedAt: new Date(options.now).toISOString(),
    intervalMs,
    actions: options.actions,
    history: { enabled: config.runtime.history.enabled, error },
    status,
    services: out,
  };
}
