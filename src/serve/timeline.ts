/**
 * The status page's uptime bars (pure): a window cut into equal buckets, each with the time a service
 * was observed up, down or blocked in it, from the same coverage segments as `upkeep report`, so a bar
 * and the report never disagree (a test holds them to each other).
 */
import type { HistoryEvent } from "../history/events.js";
import { coverage, type Segment } from "../history/report.js";

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
  const segments = coverage(events, {
    ids: options.services.map((s) => s.id),
    intervalMs: options.intervalMs,
    until: options.until,
  });
  const out: Record<string, Record<string, Bucket[]>> = {};
  for (const s of options.services) {
    const own: Record<string, Bucket[]> = {};
    for (const bar of options.bars ?? BARS)
      own[bar.name] = bucketsOf(segments.get(s.id) ?? [], bar, options.until);
    out[s.id] = own;
  }
  return out;
}

/** Adds each segment's overlap to the buckets it crosses: one pass, whatever the number of buckets. */
function bucketsOf(segments: readonly Segment[], bar: BarSpec, until: number): Bucket[] {
  const size = bar.windowMs / bar.buckets;
  const start = until - bar.windowMs;
  const time = Array.from({ length: bar.buckets }, () => ({ up: 0, down: 0, blocked: 0 }));
  for (const seg of segments) {
    const from = Math.max(seg.from, start);
    const to = Math.min(seg.to, until);
    if (to <= from) continue;
    const first = Math.floor((from - start) / size);
    const last = Math.min(bar.buckets - 1, Math.floor((to - start) / size));
    for (let i = first; i <= last; i++) {
      const a = Math.max(from, start + i * size);
      const b = Math.min(to, start + (i + 1) * size);
      const cell = time[i];
      if (b > a && cell !== undefined) cell[seg.status] += b - a;
    }
  }
  return time.map((t, i) => ({
    from: start + i * size,
    to: start + (i + 1) * size,
    upMs: t.up,
    downMs: t.down,
    blockedMs: t.blocked,
    unknownMs: size - t.up - t.down - t.blocked,
  }));
}
