/**
 * The status page's uptime bars (pure): a window cut into equal buckets, each with the time a service
 * was observed up, down or blocked in it, computed by the same report code as `upkeep report`, so a bar
 * and the report never disagree.
 */
import { expandTicks, type HistoryEvent } from "../history/events.js";
import { computeReport } from "../history/report.js";

export interface Bucket {
  readonly from: number;
  readonly to: number;
  readonly upMs: number;
  readonly downMs: number;
  readonly blockedMs: number;
  /** Time no tick vouched for. */
  readonly unknownMs: number;
}

export interface BarSpec {
  readonly name: string;
  readonly windowMs: number;
  readonly buckets: number;
}

const HOUR = 3_600_000;
export const BARS: readonly BarSpec[] = [
  { name: "24h", windowMs: 24 * HOUR, buckets: 48 },
  { name: "7d", windowMs: 7 * 24 * HOUR, buckets: 56 },
  { name: "30d", windowMs: 30 * 24 * HOUR, buckets: 30 },
];

export function uptimeBars(
  events: readonly HistoryEvent[],
  options: {
    readonly until: number;
    readonly intervalMs: number;
    readonly services: readonly { readonly id: string; readonly title: string }[];
    readonly bars?: readonly BarSpec[];
  },
): Record<string, Record<string, Bucket[]>> {
  const sorted = expandTicks(events).sort((a, b) => a.at - b.at);
  const out: Record<string, Record<string, Bucket[]>> = {};
  for (const s of options.services) out[s.id] = {};
  for (const bar of options.bars ?? BARS) {
    const size = bar.windowMs / bar.buckets;
    const start = options.until - bar.windowMs;
    for (let i = 0; i < bar.buckets; i++) {
      const from = start + i * size;
      const to = from + size;
      const report = computeReport(sorted, {
        since: from,
        until: to,
        intervalMs: options.intervalMs,
        services: options.services,
      });
      for (const s of report.services) {
        const bars = out[s.id] as Record<string, Bucket[]>;
        (bars[bar.name] ??= []).push({
          from,
          to,
          upMs: s.upMs,
          downMs: s.downMs,
          blockedMs: s.blockedMs,
          unknownMs: s.unknownMs,
        });
      }
    }
  }
  return out;
}
