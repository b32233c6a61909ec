/**
 * Where healing of one service stands at `now`, read from state: what `status`, `explain` and the status
 * page show. The same gates as a tick (src/core/gates.ts), so "next heal allowed at" is the true next time
 * and every gate that holds healing back is named.
 */
import type { Config, ServiceConfig, Silence } from "../config/model.js";
import { canAttempt } from "./breaker.js";
import { checkHeal } from "./budget.js";
import { checkGates, gateSlackMs, type GateRefusal } from "./gates.js";
import { hasGivenUp, upgradeHealBreaker } from "./heal-breaker.js";
import { emptyBreaker, own, type UpkeepState } from "./state.js";

export interface HealStanding {
  readonly breaker: {
    readonly state: "CLOSED" | "OPEN" | "HALF_OPEN";
    /** When an OPEN breaker allows a trial; null while isolated without an end or not OPEN. */
    readonly retryAt: number | null;
    readonly isolated: boolean;
  };
  readonly gaveUp: boolean;
  /** Failed heals since the last one that held, and since when. */
  readonly failedInRow: number;
  readonly failedSince: number | null;
  readonly budget: {
    readonly used: number;
    readonly left: number;
    readonly max: number;
    readonly perMs: number;
  };
  /** Every gate that would refuse a heal now (empty: a failed check now would be healed). */
  readonly refusedBy: readonly GateRefusal[];
  /** When the next heal may run (now when nothing refuses); null when a gate has no end or no heal steps. */
  readonly nextAllowedAt: number | null;
  readonly lastHealAt: number | null;
}

export function healStanding(
  config: Config,
  service: ServiceConfig,
  state: UpkeepState,
  silences: readonly Silence[],
  now: number,
): HealStanding {
  const stored = upgradeHealBreaker(own(state.breakers.breakers, service.id) ?? emptyBreaker());
  const heal = own(state.heals.heals, service.id);
  const slackMs = gateSlackMs(config);
  const attempt = canAttempt(service.breaker, stored, now, slackMs);
  const gates = checkGates({ service, breaker: stored, heal, silences, now, slackMs, forced: false });
  const check = checkHeal(service.heal, heal, now);
  const hasSteps = service.heal.steps.length > 0;
  return {
    breaker: {
      state: attempt.state,
      retryAt: attempt.state === "OPEN" ? (attempt.retryAt ?? null) : null,
      isolated: stored.isolated,
    },
    gaveUp: hasGivenUp(stored),
    failedInRow: stored.failStreak ?? 0,
    failedSince: stored.failedSince ?? null,
    budget: {
      used: service.heal.budget.max - check.budgetLeft,
      left: check.budgetLeft,
      max: service.heal.budget.max,
      perMs: service.heal.budget.perMs,
    },
    refusedBy: hasSteps ? gates.refusedBy : [],
    nextAllowedAt: hasSteps ? gates.nextAllowedAt : null,
    lastHealAt: heal?.lastHealAt ?? null,
  };
}
