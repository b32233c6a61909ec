/**
 * Whether a failed service may be healed at a tick, and if not, every gate that says no and the true next
 * time a heal may run. All gates read one instant, the tick's start.
 *
 * Gates, in the order they are reported:
 *   breaker-open  upkeep gave up (OPEN after failed heals) or an operator isolated the service
 *   paused    a maintenance window with pauseHealing covers the service
 *   budget    `budget.max` heals started in the last `budget.per`
 *   cooldown  the last heal started less than `cooldown` ago
 * A forced heal (`upkeep heal --force`) passes cooldown and budget, never breaker or paused.
 *
 * Slack: a scheduler starts ticks a little early or late (process start-up varies by tens of ms, systemd
 * timers by up to AccuracySec), so a gate that ends within `slackMs` after the tick's start counts as
 * ended at that tick. Without it a cooldown equal to the interval (the baseline: 5 min against a 300 s
 * schedule) would refuse every heal whose tick came a millisecond early.
 */
import type { Config, HealSettings, ServiceConfig, Silence } from "../config/model.js";
import { canAttempt } from "./breaker.js";
import { checkHeal } from "./budget.js";
import { upgradeHealBreaker } from "./heal-breaker.js";
import { healingPausedUntil } from "./silence.js";
import { emptyBreaker, type BreakerState, type HealState } from "./state.js";

export type GateName = "breaker-open" | "paused" | "budget" | "cooldown";

export interface GateRefusal {
  readonly gate: GateName;
  /** When this gate alone would let a heal through; null if never by itself (isolated, budget 0...). */
  readonly until: number | null;
  /** For the breaker: `gave-up` or `isolated`. */
  readonly why?: string;
}

export interface GateCheck {
  readonly allowed: boolean;
  /** Every gate that refuses, in the order above. Empty when allowed. */
  readonly refusedBy: readonly GateRefusal[];
  /** The earliest time every gate lets a heal through; null when some gate has no end. */
  readonly nextAllowedAt: number | null;
  /** The breaker is HALF_OPEN: this heal is its trial. */
  readonly trial: boolean;
  readonly budgetLeft: number;
}

/** At most 5 s, and 1% of the interval for short ones. */
export function gateSlackMs(config: Pick<Config, "runtime">): number {
  return Math.min(5_000, Math.max(0, Math.floor(config.runtime.intervalMs / 100)));
}

export interface GateInput {
  readonly service: ServiceConfig;
  readonly breaker: BreakerState | undefined;
  readonly heal: HealState | undefined;
  readonly silences: readonly Silence[];
  readonly now: number;
  readonly slackMs: number;
  readonly forced: boolean;
}

export function checkGates(input: GateInput): GateCheck {
  const { service, now, slackMs } = input;
  const refusedBy: GateRefusal[] = [];
  const breakerState = upgradeHealBreaker(input.breaker ?? emptyBreaker());
  const breaker = canAttempt(service.breaker, breakerState, now, slackMs);
  if (!breaker.allowed) {
    refusedBy.push({
      gate: "breaker-open",
      until: breaker.retryAt ?? null,
      why: breaker.reason === "isolated" ? "isolated" : "gave-up",
    });
  }
  const pausedUntil = healingPausedUntil(input.silences, service.id, now);
  if (pausedUntil !== undefined) refusedBy.push({ gate: "paused", until: pausedUntil });
  const limits = budgetRefusals(service.heal, input.heal, now, slackMs);
  if (!input.forced) refusedBy.push(...limits.refusals);
  return {
    allowed: refusedBy.length === 0,
    refusedBy,
    nextAllowedAt: nextAllowed(refusedBy, now),
    trial: breaker.state === "HALF_OPEN",
    budgetLeft: limits.budgetLeft,
  };
}

function budgetRefusals(
  settings: HealSettings,
  heal: HealState | undefined,
  now: number,
  slackMs: number,
): { refusals: GateRefusal[]; budgetLeft: number } {
  const check = checkHeal(settings, heal, now, slackMs);
  if (check.allowed) return { refusals: [], budgetLeft: check.budgetLeft };
  const refusals: GateRefusal[] = [];
  if (check.budgetUntil !== undefined) refusals.push({ gate: "budget", until: check.budgetUntil });
  if (check.cooldownUntil !== undefined) refusals.push({ gate: "cooldown", until: check.cooldownUntil });
  return { refusals, budgetLeft: check.budgetLeft };
}

function nextAllowed(refusals: readonly GateRefusal[], now: number): number | null {
  let next = now;
  for (const r of refusals) {
    if (r.until === null) return null;
    next = Math.max(next, r.until);
  }
  return next;
}

/**
 * The one gate to name when a single reason is wanted: the one that holds healing back longest (no end
 * beats any time), ties going to the first in the reporting order.
 */
export function bindingGate(refusals: readonly GateRefusal[]): GateRefusal | undefined {
  let best: GateRefusal | undefined;
  for (const r of refusals) {
    if (best === undefined) best = r;
    else if (best.until !== null && (r.until === null || r.until > best.until)) best = r;
  }
  return best;
}
