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
  readonly heal: {
    readonly outcome: HealOutcome;
    /** Why a heal was refused or skipped, e.g. `cooldown`, `budget`, `breaker-open`, `paused`. */
    readonly reason: string;
    /** Heals left in the current budget window. */
    readonly budgetLeft: number;
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
  "heal",
  "blockedBy",
];
