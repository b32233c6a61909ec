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
      /** Every service the tick probed. */
      readonly observed: Readonly<Record<string, Observed>>;
      readonly timedOut?: boolean;
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
