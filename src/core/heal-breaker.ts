/**
 * The breaker of a service counts what it protects against: heals that did not bring the service back.
 * It is the classic breaker (breaker.ts) fed with heal verdicts instead of ticks.
 *
 * - A heal whose steps or verify failed is a failed heal at once.
 * - A heal that succeeded is on probation: it holds once the service passed `successThreshold` checks
 *   in a row after it; a failed check before that is a relapse and counts as a failed heal (a crash loop
 *   that every heal revives for one tick trips the breaker like heals that never work).
 * - Refused, skipped and paused heals, blocked checks and a service that recovers by itself are no
 *   events: a tick that did not heal cannot prove that healing fails.
 * - CLOSED opens after `failureThreshold` failed heals without one that held in between: upkeep gives
 *   up. OPEN lasts openFor x backoff^n, then HALF_OPEN allows one trial heal whenever the cooldown and
 *   budget do; it has no deadline. `successThreshold` healthy checks in a row close it (after a trial
 *   that held, or because someone fixed the service by hand); a failed trial or a relapse re-opens it
 *   for longer.
 *
 * Only the first check of each tick counts (a verify or a re-probe later in the tick does not), so one
 * tick is one check whatever a heal did in it.
 */
import type { BreakerSettings } from "../config/model.js";
import { stepBreaker, type BreakerDecision, type BreakerStep } from "./breaker.js";
import { emptyBreaker, type BreakerState } from "./state.js";

export type HealBreakerEvent =
  | { type: "check"; ok: boolean }
  | { type: "heal"; ok: boolean }
  | { type: "isolate"; until?: number }
  | { type: "reset" };

export type HealBreakerDecision =
  BreakerDecision | { type: "heal-held" } | { type: "heal-failed"; relapse: boolean; streak: number };

export interface HealBreakerStep {
  state: BreakerState;
  decisions: HealBreakerDecision[];
}

interface Verdicts {
  pending: number | null;
  failStreak: number;
  failedSince: number | null;
  gaveUpAt: number | null;
}

/**
 * A state written before the breaker counted heals counted failed ticks in `failures`: those say
 * nothing about heals, so they start from zero; an OPEN breaker from then stays open until its time.
 */
export function upgradeHealBreaker(state: BreakerState): BreakerState {
  if (state.failStreak !== undefined) return state;
  return {
    ...state,
    failures: 0,
    recent: [],
    pending: null,
    failStreak: 0,
    failedSince: null,
    gaveUpAt: state.state === "OPEN" && !state.isolated ? state.openedAt : null,
  };
}

function verdictsOf(s: BreakerState): Verdicts {
  return {
    pending: s.pending ?? null,
    failStreak: s.failStreak ?? 0,
    failedSince: s.failedSince ?? null,
    gaveUpAt: s.gaveUpAt ?? null,
  };
}

export function emptyHealBreaker(): BreakerState {
  return { ...emptyBreaker(), pending: null, failStreak: 0, failedSince: null, gaveUpAt: null };
}

export function stepHealBreaker(
  settings: BreakerSettings,
  state: BreakerState,
  event: HealBreakerEvent,
  now: number,
  slackMs = 0,
): HealBreakerStep {
  const current = upgradeHealBreaker(state);
  const v = verdictsOf(current);
  switch (event.type) {
    case "reset":
      return finish(stepBreaker(settings, current, event, now, slackMs), {
        pending: null,
        failStreak: 0,
        failedSince: null,
        gaveUpAt: null,
      });
    case "isolate":
      return finish(stepBreaker(settings, current, event, now, slackMs), { ...v, pending: null });
    case "heal":
      if (event.ok) {
        // A trial starts the HALF_OPEN count again: the checks that close it are the ones after the trial.
        const settled = stepBreaker(settings, current, { type: "tick" }, now, slackMs);
        const s = settled.state.state === "HALF_OPEN" ? { ...settled.state, successes: 0 } : settled.state;
        return finish({ state: s, decisions: settled.decisions }, { ...v, pending: 0 });
      }
      return failedHeal(settings, current, v, now, slackMs, false);
    case "check":
      return event.ok
        ? healthyCheck(settings, current, v, now, slackMs)
        : failedCheck(settings, current, v, now, slackMs);
  }
}

function healthyCheck(
  settings: BreakerSettings,
  s: BreakerState,
  v: Verdicts,
  now: number,
  slackMs: number,
): HealBreakerStep {
  const settled = stepBreaker(settings, s, { type: "tick" }, now, slackMs);
  const state = settled.state.state;
  const pending = v.pending === null ? null : v.pending + 1;
  const held = pending !== null && pending >= Math.max(1, settings.successThreshold);
  if (state === "HALF_OPEN") {
    const step = stepBreaker(settings, settled.state, { type: "success" }, now, slackMs);
    const decisions: HealBreakerDecision[] = [...settled.decisions, ...step.decisions];
    if (step.state.state === "CLOSED") {
      if (pending !== null) decisions.push({ type: "heal-held" });
      return finish({ state: step.state, decisions }, closedVerdicts());
    }
    return finish({ state: step.state, decisions }, { ...v, pending: held ? null : pending });
  }
  if (state === "CLOSED" && held) {
    const step = stepBreaker(settings, settled.state, { type: "success" }, now, slackMs);
    return finish(
      { state: step.state, decisions: [...settled.decisions, ...step.decisions, { type: "heal-held" }] },
      { ...v, pending: null, failStreak: 0, failedSince: null },
    );
  }
  return finish(settled, { ...v, pending: state === "OPEN" ? null : pending });
}

function failedCheck(
  settings: BreakerSettings,
  s: BreakerState,
  v: Verdicts,
  now: number,
  slackMs: number,
): HealBreakerStep {
  if (v.pending !== null) return failedHeal(settings, s, v, now, slackMs, true);
  const settled = stepBreaker(settings, s, { type: "tick" }, now, slackMs);
  // Down again without a heal to judge: HALF_OPEN starts counting healthy checks from zero.
  const state = settled.state.state === "HALF_OPEN" ? { ...settled.state, successes: 0 } : settled.state;
  return finish({ state, decisions: settled.decisions }, v);
}

function failedHeal(
  settings: BreakerSettings,
  s: BreakerState,
  v: Verdicts,
  now: number,
  slackMs: number,
  relapse: boolean,
): HealBreakerStep {
  const step = stepBreaker(settings, s, { type: "failure" }, now, slackMs);
  const failStreak = v.failStreak + 1;
  const decisions: HealBreakerDecision[] = [
    { type: "heal-failed", relapse, streak: failStreak },
    ...step.decisions,
  ];
  const opened = step.decisions.some((d) => d.type === "opened");
  return finish(
    { state: step.state, decisions },
    {
      pending: null,
      failStreak,
      failedSince: v.failedSince ?? now,
      gaveUpAt: opened ? (v.gaveUpAt ?? now) : v.gaveUpAt,
    },
  );
}

function closedVerdicts(): Verdicts {
  return { pending: null, failStreak: 0, failedSince: null, gaveUpAt: null };
}

/** The classic step resets the record on every transition; the verdicts are carried over explicitly. */
function finish(step: BreakerStep | HealBreakerStep, v: Verdicts): HealBreakerStep {
  return { state: { ...step.state, ...v }, decisions: step.decisions };
}

/** Upkeep gave up on the service: OPEN (or trying again in HALF_OPEN) after failed heals. */
export function hasGivenUp(state: BreakerState | undefined): boolean {
  return state !== undefined && state.state !== "CLOSED" && (state.gaveUpAt ?? null) !== null;
}
