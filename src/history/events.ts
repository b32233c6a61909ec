/**
 * The event history: what every tick (not plan, not dry runs) and every manual command recorded, one
 * row per event. The report (src/history/report.ts) computes uptime, incidents, MTTR and heal success
 * from these rows alone; nothing in it is estimated.
 *
 * Times are epoch ms. A tick's events carry the tick's start (its one decision instant), except where a
 * real time matters to people: when a heal finished (`finishedAt`, and `upAt` when it brought the
 * service back).
 */
import type { ServiceStatus } from "../core/facts.js";

export type TickTrigger = "run" | "watch" | "heal" | "demo";

/** What one tick saw of one service: its final status, and what the first probe saw when different. */
export interface Observed {
  /** Final status of the tick. */
  readonly s: ServiceStatus;
  /** First probe's status, when it differs from `s` (a heal in the tick brought the service back). */
  readonly f?: ServiceStatus;
  /** When the heal that brought it back finished. */
  readonly up?: number;
}

export type HistoryEvent =
  | {
      readonly kind: "tick";
      readonly at: number;
      readonly finishedAt: number;
      readonly trigger: TickTrigger;
      /** The time between ticks it was scheduled at (ms); absent in older rows: runtime.interval. */
      readonly interval?: number;
      /** Every service the tick probed. */
      readonly observed: Readonly<Record<string, Observed>>;
      readonly timedOut?: boolean;
      /**
       * Later ticks that saw exactly the same (same trigger, every service the same status, nothing
       * else happened), as ms after `at`. Quiet ticks are kept this way, one row for many; see
       * `expandTicks`.
       */
      readonly more?: readonly number[];
    }
  | {
      readonly kind: "status";
      readonly at: number;
      readonly service: string;
      readonly from: ServiceStatus | null;
      readonly to: ServiceStatus;
      /** The probe's reason (for a service going down: the cause of the incident). */
      readonly detail: string;
    }
  | {
      readonly kind: "heal";
      readonly at: number;
      readonly service: string;
      readonly outcome: "healed" | "failed";
      readonly reason: string;
      readonly trial: boolean;
      readonly forced: boolean;
      readonly by?: string;
      readonly startedAt: number;
      readonly finishedAt: number;
      readonly steps: readonly {
        readonly action: string;
        readonly status: string;
        readonly durationMs: number;
      }[];
    }
  | {
      readonly kind: "refusal";
      readonly at: number;
      readonly service: string;
      readonly outcome: "refused" | "skipped";
      readonly reason: string;
      readonly refusedBy: readonly string[];
      readonly nextAllowedAt: number | null;
    }
  | {
      readonly kind: "breaker";
      readonly at: number;
      readonly service: string;
      /** opened, half-opened, closed, heal-held, heal-failed, isolated, reset... */
      readonly decision: string;
      readonly detail: Readonly<Record<string, unknown>>;
    }
  | {
      readonly kind: "alert";
      readonly at: number;
      readonly service: string;
      readonly rule: string;
      readonly level: string;
      readonly notice: "firing" | "reminder" | "resolved";
      readonly count: number;
    }
  | {
      readonly kind: "delivery";
      readonly at: number;
      readonly channel: string;
      readonly status: string;
      readonly id: string;
      readonly detail: string;
    }
  | {
      readonly kind: "command";
      readonly at: number;
      /** e.g. `heal --force`, `breaker reset`, `breaker isolate`, `silence add`, `silence remove`. */
      readonly command: string;
      readonly service?: string;
      readonly by: string;
      readonly detail: string;
    };

/** A tick vouches for a service until the next one, for at most this many intervals. */
export const COVER_INTERVALS = 1.5;

export type HistoryKind = HistoryEvent["kind"];

export const HISTORY_KINDS: readonly HistoryKind[] = [
  "tick",
  "status",
  "heal",
  "refusal",
  "breaker",
  "alert",
  "delivery",
  "command",
];

/** The service an event is about, if any (stored in its own column for queries). */
export function serviceOf(event: HistoryEvent): string | null {
  return "service" in event && event.service !== undefined ? event.service : null;
}

type TickEvent = Extract<HistoryEvent, { kind: "tick" }>;

/** One tick event per tick: a quiet span (`more`) becomes the ticks it stands for. */
export function expandTicks(events: readonly HistoryEvent[]): HistoryEvent[] {
  return events.flatMap((event): HistoryEvent[] => {
    if (event.kind !== "tick" || event.more === undefined || event.more.length === 0) return [event];
    const { more, ...first } = event;
    const duration = event.finishedAt - event.at;
    return [
      first,
      ...more.map((offset): TickEvent => ({
        ...first,
        at: event.at + offset,
        finishedAt: event.at + offset + duration,
      })),
    ];
  });
}

/**
 * Whether `tick` can join the quiet span `span`: nothing but the tick itself happened, it saw every
 * service as the span did, with the same trigger, and it came no later than `maxGapMs` after the
 * span's last tick plus 1.5 of its interval (a longer gap is a missed tick and must stay visible).
 */
export function extendsSpan(span: TickEvent, tick: TickEvent, intervalMs: number): boolean {
  const last = span.at + (span.more?.[span.more.length - 1] ?? 0);
  const maxGapMs = COVER_INTERVALS * (tick.interval ?? intervalMs);
  if (tick.at <= last || tick.at - last > maxGapMs || span.interval !== tick.interval) return false;
  if (span.trigger !== tick.trigger || span.timedOut === true || tick.timedOut === true) return false;
  return sameObserved(span.observed, tick.observed);
}

function sameObserved(a: TickEvent["observed"], b: TickEvent["observed"]): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => {
    const x = a[k];
    const y = Object.hasOwn(b, k) ? b[k] : undefined;
    return x !== undefined && y !== undefined && x.f === undefined && y.f === undefined && x.s === y.s;
  });
}
