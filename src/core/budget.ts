/**
 * Heal limits per service: a cooldown between heals and a sliding wall-clock budget (`max` heals in any
 * `perMs` window). Both are measured from heal start times. A heal started at `t` counts until `t + perMs`
 * (exclusive), so the budget re-arms by itself as heals age out: with 3 per hour and heals at 0, 5 and 10
 * minutes, the 4th is allowed at exactly 60 minutes.
 *
 * Forced heals skip the check but are recorded and count like any other.
 *
 * A clock that jumps backwards must not hold healing off for longer than one cooldown or one window:
 * heal times later than `now` are treated as `now` (and `settleHeal` stores them so).
 */
import type { HealSettings } from "../config/model.js";
import { emptyHeal, type HealRecord, type HealState } from "./state.js";

/** How many heals `history` keeps for `explain` and `status`. */
export const HEAL_HISTORY = 20;

export type HealCheck =
  | { allowed: true; budgetLeft: number }
  | {
      allowed: false;
      /** The gate that holds longest (budget when both end at the same time). */
      reason: "cooldown" | "budget";
      /** Earliest time both the cooldown and the budget allow a heal; `null` if never (max <= 0). */
      nextAllowedAt: number | null;
      budgetLeft: number;
      /** Set when the cooldown refuses: when it ends. */
      cooldownUntil?: number;
      /** Set when the budget refuses: when a heal leaves the window (null: max is 0, never). */
      budgetUntil?: number | null;
    };

/**
 * `slackMs`: a cooldown or budget slot that ends within this much after `now` counts as ended (see
 * src/core/gates.ts on why ticks need it).
 */
export function checkHeal(
  settings: HealSettings,
  healState: HealState | undefined,
  now: number,
  slackMs = 0,
): HealCheck {
  const heal = settleHeal(settings, healState ?? emptyHeal(), now);
  const max = settings.budget.max;
  const at = now + slackMs;
  // Heals that still count at `at`: a heal started at t counts until t + per (exclusive).
  const counted = heal.recent.filter((t) => t + settings.budget.perMs > at);
  const used = counted.length;
  const budgetLeft = Math.max(0, max - used);
  const cooldownEnd = heal.lastHealAt === null ? null : heal.lastHealAt + settings.cooldownMs;
  const cooldownUntil = cooldownEnd !== null && at < cooldownEnd ? cooldownEnd : undefined;
  if (max <= 0) {
    const never = {
      allowed: false,
      reason: "budget",
      nextAllowedAt: null,
      budgetLeft: 0,
      budgetUntil: null,
    } as const;
    return cooldownUntil === undefined ? never : { ...never, cooldownUntil };
  }
  // The oldest heal that must age out before one more fits.
  const blocking = used >= max ? counted[used - max] : undefined;
  const budgetUntil = blocking === undefined ? undefined : blocking + settings.budget.perMs;
  if (budgetUntil === undefined && cooldownUntil === undefined) return { allowed: true, budgetLeft };
  const nextAllowedAt = Math.max(cooldownUntil ?? now, budgetUntil ?? now);
  return {
    allowed: false,
    reason: budgetUntil !== undefined && budgetUntil >= (cooldownUntil ?? 0) ? "budget" : "cooldown",
    nextAllowedAt,
    budgetLeft,
    ...(cooldownUntil === undefined ? {} : { cooldownUntil }),
    ...(budgetUntil === undefined ? {} : { budgetUntil }),
  };
}

/** Records a heal (forced or not), dropping entries that left the window and trimming the history. */
export function recordHeal(
  healState: HealState | undefined,
  record: HealRecord,
  settings: HealSettings,
): HealState {
  const heal = settleHeal(settings, healState ?? emptyHeal(), record.at);
  const entry: HealRecord = { at: record.at, outcome: record.outcome };
  if (record.forced !== undefined) entry.forced = record.forced;
  if (record.by !== undefined) entry.by = record.by;
  return {
    lastHealAt: heal.lastHealAt === null ? record.at : Math.max(heal.lastHealAt, record.at),
    recent: [...heal.recent, record.at].sort((a, b) => a - b),
    history: [...heal.history, entry].slice(-HEAL_HISTORY),
  };
}

/**
 * The heal state as of `now`: entries that left the window dropped, times later than `now` (a clock that
 * went backwards) pulled back to `now`. Idempotent; `checkHeal` sees exactly what this stores.
 */
export function settleHeal(settings: HealSettings, healState: HealState, now: number): HealState {
  const windowStart = now - settings.budget.perMs;
  const recent = healState.recent.map((at) => Math.min(at, now)).filter((at) => at > windowStart);
  const lastHealAt = healState.lastHealAt === null ? null : Math.min(healState.lastHealAt, now);
  const unchanged =
    lastHealAt === healState.lastHealAt &&
    recent.length === healState.recent.length &&
    recent.every((at, i) => at === healState.recent[i]);
  return unchanged ? healState : { ...healState, lastHealAt, recent };
}
