/**
 * The circuit breaker as a pure state machine. In upkeep it gates healing (probes keep running while it is
 * open); the library's CircuitBreaker class gates calls with it.
 *
 * Time never drives it by itself: transitions that depend on time (OPEN -> HALF_OPEN, the HALF_OPEN
 * deadline, the backoff decay) are settled lazily from absolute times stored in the state whenever an
 * event arrives or `canAttempt` looks, so a state loaded from disk behaves exactly like one kept in memory.
 *
 * Precise rules:
 * - consecutive mode: CLOSED opens after `failureThreshold` consecutive failures.
 * - rate mode: CLOSED opens on a failure when, over the last `window` outcomes seen while CLOSED, at least
 *   `minSamples` are present and failures / outcomes >= `failureRate` (and at least one failed).
 * - OPEN lasts openFor * backoffFactor^level, capped at max(maxOpenForMs, openForMs); each open uses the
 *   current level and then raises it by one (up to the level whose duration reaches the cap).
 * - Decay: while CLOSED, every full `openForMs` (the base duration) without a failure lowers the level by
 *   one. The stretch starts when the breaker closes and restarts at every failure seen while CLOSED.
 * - OPEN -> HALF_OPEN happens at the first event or look at or after `openUntil`; HALF_OPEN then has a
 *   deadline of `halfOpenTimeoutMs` after it began or after its last outcome. A `tick` past the deadline
 *   counts as a failure (re-opens); `canAttempt` reports that same view. An outcome that does arrive is
 *   always applied, even late: a slow trial still counts, and a tick interval longer than the timeout can
 *   never keep a healthy service from closing its breaker.
 * - successThreshold successes in HALF_OPEN close it; one failure re-opens it.
 * - A clock that jumps backwards (now < openedAt) restarts the break from now with the same duration, so a
 *   break never lasts longer than one full duration; a HALF_OPEN deadline is likewise kept within
 *   `halfOpenTimeoutMs` of now, and the decay stretch restarts at now.
 */
import type { BreakerSettings } from "../config/model.js";
import type { BreakerStateName } from "./facts.js";
import { emptyBreaker, type BreakerState } from "./state.js";

export type BreakerEvent =
  | { type: "success" }
  | { type: "failure" }
  | { type: "tick" }
  | { type: "isolate"; until?: number }
  | { type: "reset" };

export type OpenReason = "failures" | "failure-rate" | "half-open-failure" | "half-open-timeout";

export type BreakerDecision =
  | { type: "opened"; reason: OpenReason; until: number; durationMs: number; level: number }
  | { type: "isolated"; until: number | null }
  | { type: "half-opened"; deadline: number }
  | { type: "closed" }
  | { type: "reset" }
  | { type: "clock-adjusted"; until: number };

export interface BreakerStep {
  state: BreakerState;
  decisions: BreakerDecision[];
}

export interface AttemptCheck {
  allowed: boolean;
  state: BreakerStateName;
  reason?: "open" | "isolated";
  /** When the breaker will allow a trial (absent while isolated without an end). */
  retryAt?: number;
}

const MAX_LEVEL_SEARCH = 64;

/** Duration of an open at `level`. A backoff factor below 1 never shrinks it below `openForMs`. */
export function openDurationMs(settings: BreakerSettings, level: number): number {
  const factor = Math.max(1, settings.backoffFactor);
  const cap = Math.max(settings.maxOpenForMs, settings.openForMs);
  return Math.min(settings.openForMs * factor ** level, cap);
}

/** The level at which the duration reaches the cap: the level never grows past it. */
export function maxLevel(settings: BreakerSettings): number {
  if (settings.backoffFactor <= 1 || settings.openForMs <= 0) return 0;
  const cap = Math.max(settings.maxOpenForMs, settings.openForMs);
  let level = 0;
  while (level < MAX_LEVEL_SEARCH && openDurationMs(settings, level) < cap) level += 1;
  return level;
}

/**
 * `slackMs`: an OPEN that ends within this much after `now` counts as ended (scheduled ticks arrive a
 * little early or late; see src/core/gates.ts).
 */
export function stepBreaker(
  settings: BreakerSettings,
  state: BreakerState,
  event: BreakerEvent,
  now: number,
  slackMs = 0,
): BreakerStep {
  const decisions: BreakerDecision[] = [];
  if (event.type === "reset") {
    decisions.push({ type: "reset" });
    return { state: emptyBreaker(), decisions };
  }
  const s = settle(settings, state, now, event.type === "tick", decisions, slackMs);
  switch (event.type) {
    case "tick":
      return { state: s, decisions };
    case "isolate": {
      const until = event.until ?? null;
      decisions.push({ type: "isolated", until });
      const isolated: BreakerState = { ...s, state: "OPEN", isolated: true, openedAt: now, openUntil: until };
      return {
        state: { ...isolated, failures: 0, successes: 0, recent: [], halfOpenDeadline: null },
        decisions,
      };
    }
    case "success":
      return { state: onSuccess(settings, s, now, decisions), decisions };
    case "failure":
      return { state: onFailure(settings, s, now, decisions), decisions };
  }
}

/** Whether an attempt (a heal, a call) may go ahead now: the view a `tick` event would produce. */
export function canAttempt(
  settings: BreakerSettings,
  state: BreakerState,
  now: number,
  slackMs = 0,
): AttemptCheck {
  const s = settle(settings, state, now, true, [], slackMs);
  if (s.state !== "OPEN") return { allowed: true, state: s.state };
  const check: AttemptCheck = { allowed: false, state: "OPEN", reason: s.isolated ? "isolated" : "open" };
  if (s.openUntil !== null) check.retryAt = s.openUntil;
  return check;
}

function onSuccess(
  settings: BreakerSettings,
  s: BreakerState,
  now: number,
  out: BreakerDecision[],
): BreakerState {
  if (s.state === "CLOSED") return { ...s, failures: 0, recent: remember(settings, s.recent, 0) };
  if (s.state === "OPEN") return s;
  const successes = s.successes + 1;
  if (successes >= Math.max(1, settings.successThreshold)) return close(s, now, out);
  return { ...s, successes, halfOpenDeadline: now + settings.halfOpenTimeoutMs };
}

function onFailure(
  settings: BreakerSettings,
  s: BreakerState,
  now: number,
  out: BreakerDecision[],
): BreakerState {
  if (s.state === "OPEN") return s;
  if (s.state === "HALF_OPEN") return open(settings, s, now, "half-open-failure", out);
  const next: BreakerState = {
    ...s,
    failures: s.failures + 1,
    recent: remember(settings, s.recent, 1),
    healthySince: now,
  };
  if (settings.mode === "rate") {
    const fails = next.recent.filter((o) => o === 1).length;
    const enough = next.recent.length >= Math.max(1, settings.minSamples);
    if (enough && fails > 0 && fails / next.recent.length >= settings.failureRate) {
      return open(settings, next, now, "failure-rate", out);
    }
    return next;
  }
  if (next.failures >= Math.max(1, settings.failureThreshold))
    return open(settings, next, now, "failures", out);
  return next;
}

function remember(settings: BreakerSettings, recent: readonly number[], outcome: number): number[] {
  if (settings.mode !== "rate") return [];
  return [...recent, outcome].slice(-Math.max(1, settings.window));
}

/** Applies the transitions that time alone causes, as of `now`. */
function settle(
  settings: BreakerSettings,
  s: BreakerState,
  now: number,
  applyDeadline: boolean,
  out: BreakerDecision[],
  slackMs = 0,
): BreakerState {
  if (s.state === "CLOSED") return decay(settings, s, now);
  if (s.state === "OPEN") {
    if (s.openUntil === null) return s;
    let cur = s;
    if (s.openedAt !== null && now < s.openedAt) {
      const until = now + (s.openUntil - s.openedAt);
      cur = { ...s, openedAt: now, openUntil: until };
      out.push({ type: "clock-adjusted", until });
    }
    return cur.openUntil !== null && now + slackMs >= cur.openUntil ? halfOpen(settings, cur, now, out) : cur;
  }
  // Heal breakers have no HALF_OPEN deadline: their trial waits for the next failed check, however long.
  if (!Number.isFinite(settings.halfOpenTimeoutMs)) return s;
  let cur = s;
  const latest = now + settings.halfOpenTimeoutMs;
  if (s.halfOpenDeadline === null || s.halfOpenDeadline > latest) {
    cur = { ...s, halfOpenDeadline: latest };
    if (s.halfOpenDeadline !== null) out.push({ type: "clock-adjusted", until: latest });
  }
  if (applyDeadline && cur.halfOpenDeadline !== null && now >= cur.halfOpenDeadline) {
    return open(settings, cur, now, "half-open-timeout", out);
  }
  return cur;
}

function decay(settings: BreakerSettings, s: BreakerState, now: number): BreakerState {
  if (s.level === 0) return s;
  if (s.healthySince === null || now < s.healthySince) return { ...s, healthySince: now };
  if (settings.openForMs <= 0) return { ...s, level: 0, healthySince: now };
  const periods = Math.floor((now - s.healthySince) / settings.openForMs);
  if (periods === 0) return s;
  return {
    ...s,
    level: Math.max(0, s.level - periods),
    healthySince: s.healthySince + periods * settings.openForMs,
  };
}

function open(
  settings: BreakerSettings,
  s: BreakerState,
  now: number,
  reason: OpenReason,
  out: BreakerDecision[],
): BreakerState {
  const durationMs = openDurationMs(settings, s.level);
  const until = now + durationMs;
  out.push({ type: "opened", reason, until, durationMs, level: s.level });
  return {
    ...emptyBreaker(),
    state: "OPEN",
    level: Math.min(s.level + 1, maxLevel(settings)),
    openedAt: now,
    openUntil: until,
  };
}

function halfOpen(
  settings: BreakerSettings,
  s: BreakerState,
  now: number,
  out: BreakerDecision[],
): BreakerState {
  const deadline = now + settings.halfOpenTimeoutMs;
  out.push({ type: "half-opened", deadline });
  return { ...emptyBreaker(), state: "HALF_OPEN", level: s.level, halfOpenDeadline: deadline };
}

function close(s: BreakerState, now: number, out: BreakerDecision[]): BreakerState {
  out.push({ type: "closed" });
  return { ...emptyBreaker(), level: s.level, healthySince: now };
}
