/**
 * The facts about one service after a tick: what alert rule `when` conditions (json-logic `var`)
 * and message templates (`${{ ... }}`) can read. Field names are contract for users' rules.
 */
export type ServiceStatus = "up" | "down" | "blocked";
export type BreakerStateName = "CLOSED" | "OPEN" | "HALF_OPEN";
export type HealOutcome = "none" | "healed" | "failed" | "refused" | "skipped";

export interface ServiceFacts {
  readonly service: { readonly id: string; readonly title: string; readonly tags: readonly string[] };
  /** up, down, or blocked (a dependency is down, so this one is not judged or healed). */
  readonly status: ServiceStatus;
  /** The probe's short reason. */
  readonly detail: string;
  readonly latencyMs: number;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  /** Epoch ms the current status began. */
  readonly since: number;
  readonly breaker: BreakerStateName;
  /** upkeep stopped healing after failed heals (breaker OPEN, or HALF_OPEN trying again) until it closes. */
  readonly gaveUp: boolean;
  /** The service went down `flapping.outages` times within `flapping.within`. */
  readonly flapping: boolean;
  /** Outages (up -> down) that began within the flapping window. */
  readonly outages: number;
  readonly heal: {
    readonly outcome: HealOutcome;
    /**
     * Why a heal failed, was refused or skipped. For a refusal, the gate that holds longest: `cooldown`,
     * `budget`, `breaker-open`, `paused`; skips: `blocked`, `waiting`, `no-steps`, `no-step-ran`, `disabled`.
     */
    readonly reason: string;
    /** Every gate that refused this tick's heal (empty unless refused). */
    readonly refusedBy: readonly string[];
    /**
     * This tick's heal was forced by hand (`heal --force`), also while the service was up: an alert rule
     * can leave deliberate restarts alone with `{ "!": { "var": "heal.forced" } }`.
     */
    readonly forced: boolean;
    /**
     * When every gate (breaker, maintenance, budget, cooldown) lets the next heal through, as of the end
     * of the tick (epoch ms; the tick's time when nothing holds healing back); null when some gate has no
     * end or the service has no heal steps.
     */
    readonly nextAllowedAt: number | null;
    /** Heals left in the current budget window. */
    readonly budgetLeft: number;
    /** Failed heals (failed or relapsed) since the last one that held. */
    readonly failedInRow: number;
    /** When the first of those failed (epoch ms), or null. */
    readonly failedSince: number | null;
  };
  /** Ids of dependencies that are down (for blocked services). */
  readonly blockedBy: readonly string[];
}

/** Top-level fact names, for validating `var` paths in rules. */
export const FACT_NAMES: readonly string[] = [
  "service",
  "status",
  "detail",
  "latencyMs",
  "consecutiveFailures",
  "consecutiveSuccesses",
  "since",
  "breaker",
  "gaveUp",
  "flapping",
  "outages",
  "heal",
  "blockedBy",
];
