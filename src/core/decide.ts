/**
 * One tick's decisions, pure, all at one instant `now` (the tick's start). src/core/tick-flow.ts calls
 * them in this order, for `upkeep run` and for `upkeep test` alike:
 *   applyChecks (the first probe of each service feeds its breaker) -> planHeals -> heals run ->
 *   applyHealResult each -> re-probe what depends on recovered services -> planHeals again -> ... ->
 *   finishTick with the final observations (status records, facts, alerts).
 *
 * Blocked: a service whose probe failed while a dependency's probe failed too (that dependency being down,
 * or blocked itself) is blocked: not healed, not fed to its breaker, its alerts inhibited. A service whose
 * probe passed is up whatever its dependencies say. For a dependency without an observation this tick (a
 * run limited to some services) the status stored by the last tick counts; disabled services never block.
 */
import type { Config, ServiceConfig, Silence } from "../config/model.js";
import type { HealOutcome, ServiceFacts, ServiceStatus } from "./facts.js";
import {
  evaluateAlerts,
  type AlertEvaluation,
  type AlertIntent,
  type AlertRuleError,
  type MutedNotice,
} from "./alerts.js";
import { checkHeal, recordHeal, settleHeal } from "./budget.js";
import { bindingGate, checkGates, gateSlackMs, type GateRefusal } from "./gates.js";
import { blockedByOf, buildGraph, inGraphOrder, type FailedSet } from "./graph.js";
import { isHealingPaused } from "./silence.js";
import {
  emptyHealBreaker,
  hasGivenUp,
  stepHealBreaker,
  upgradeHealBreaker,
  type HealBreakerDecision,
  type HealBreakerEvent,
} from "./heal-breaker.js";
import {
  own,
  recordFrom,
  sameEntries,
  sameFields,
  setOwn,
  withEntry,
  type BreakerState,
  type HealState,
  type ServiceRecord,
  type UpkeepState,
} from "./state.js";

export type Observation = {
  ok: boolean;
  latencyMs: number;
  detail: string;
  at: number;
  facts?: Record<string, unknown>;
};

export interface HealIntent {
  serviceId: string;
  /** The breaker is HALF_OPEN: this heal is its trial. */
  trial: boolean;
  /** Cooldown and budget were bypassed (the heal still counts). */
  forced: boolean;
  reason: string;
}

/**
 * Why a failed service was not healed. Refusals (a limit said no): `cooldown`, `budget`, `breaker-open`.
 * Skips (nothing to do, or not now by design): `blocked`, `waiting` (heal.after), `paused`, `no-steps`,
 * `disabled`; `no-step-ran` is added by the tick when every step's `when` was false.
 */
export type SkipReason =
  | "blocked"
  | "breaker-open"
  | "cooldown"
  | "budget"
  | "paused"
  | "waiting"
  | "no-steps"
  | "no-step-ran"
  | "disabled";

export type Skip = {
  reason: string;
  /** When every gate lets a heal through (refusals and pauses with a known end). */
  nextAllowedAt?: number;
  /** Every gate that said no, binding one included. */
  refusedBy?: readonly GateRefusal[];
};

export const REFUSAL_REASONS: ReadonlySet<string> = new Set(["cooldown", "budget", "breaker-open"]);

export interface HealPlan {
  /** In dependency order. */
  heals: HealIntent[];
  /** Failed services not healed, with the reason (a SkipReason). */
  skipped: Record<string, Skip>;
  /** Blocked service -> the down services blocking it (root causes). */
  blocked: Record<string, string[]>;
}

export interface PlanOptions {
  only?: readonly string[];
  force?: readonly string[];
  /** Silences that may pause healing; defaults to the config's. */
  silences?: readonly Silence[];
}

export interface HealResult {
  ok: boolean;
  /** Steps that ran (not skipped by `when`); a heal that ran none is not a heal and is not recorded. */
  ran: number;
  forced?: boolean;
  by?: string;
}

export interface TickHeal {
  outcome: "healed" | "failed" | "refused" | "skipped";
  reason: string;
  /** A heal ran because someone forced it (`heal --force`), not because the probe failed. */
  forced?: boolean;
  refusedBy?: readonly string[];
  nextAllowedAt?: number | null;
}

export type { AlertEvaluation, EvaluateLogic } from "./alerts.js";

export interface FinishOptions extends AlertEvaluation {
  /** Services whose first probe of the tick failed on their own (not blocked): what a heal in the tick hid. */
  wentDown?: ReadonlySet<string>;
}

export interface TickResult {
  state: UpkeepState;
  facts: Record<string, ServiceFacts>;
  alerts: AlertIntent[];
  /** Notices a silence or a down dependency held back this tick. */
  muted: MutedNotice[];
  /** Alert conditions that threw; their alert state is left as it was. */
  errors: AlertRuleError[];
}

export interface BreakerChange {
  state: UpkeepState;
  /** Only services whose breaker logged something. */
  decisions: Record<string, HealBreakerDecision[]>;
}

/**
 * The first probe of each observed service is one check for its breaker: it completes a heal's
 * probation, is a relapse, or counts toward closing a HALF_OPEN breaker. Blocked services are not judged.
 */
export function applyChecks(
  config: Config,
  state: UpkeepState,
  observations: Readonly<Record<string, Observation>>,
  now: number,
  silences: readonly Silence[] = config.alerts.silences,
): BreakerChange {
  const blockedBy = blockedByOf(buildGraph(config.services), failedServices(config, state, observations));
  const slack = gateSlackMs(config);
  const breakers = new Map(Object.entries(state.breakers.breakers));
  const decisions = new Map<string, HealBreakerDecision[]>();
  let changed = false;
  for (const svc of config.services) {
    const obs = own(observations, svc.id);
    if (obs === undefined || !svc.enabled || svc.heal.steps.length === 0) continue;
    if (!obs.ok && blockedBy(svc.id).length > 0) continue;
    // A maintenance window stops services on purpose: what it does proves nothing about heals.
    if (isHealingPaused(silences, svc.id, now)) continue;
    const step = stepHealBreaker(
      svc.breaker,
      breakerOf(state, svc.id),
      { type: "check", ok: obs.ok },
      now,
      slack,
    );
    const before = own(state.breakers.breakers, svc.id);
    if (before === undefined || !sameFields(before, step.state)) changed = true;
    breakers.set(svc.id, step.state);
    if (step.decisions.length > 0) decisions.set(svc.id, step.decisions);
  }
  return {
    // Healthy services' checks mostly change nothing: then the breakers stay the object they were.
    state: changed ? { ...state, breakers: { version: 1, breakers: recordFrom(breakers) } } : state,
    decisions: Object.fromEntries(decisions),
  };
}

export function planHeals(
  config: Config,
  state: UpkeepState,
  observations: Record<string, Observation>,
  now: number,
  opts: PlanOptions = {},
): HealPlan {
  const graph = buildGraph(config.services);
  // Looked up per service asked about: a tick plans again for the few services each heal wave
  // re-probed, and must not walk every service for them.
  const blockedBy = blockedByOf(graph, failedLookup(config, state, observations));
  const silences = opts.silences ?? config.alerts.silences;
  const slackMs = gateSlackMs(config);
  const plan: HealPlan = { heals: [], skipped: {}, blocked: {} };
  const skipped = new Map<string, Skip>();
  const blocked = new Map<string, string[]>();
  const force = new Set(opts.force ?? []);
  const byId = servicesById(config);
  const ids = opts.only === undefined ? graph.order : inGraphOrder(graph, new Set(opts.only));
  for (const id of ids) {
    const svc = byId.get(id);
    if (svc === undefined) continue;
    const obs = own(observations, svc.id);
    const forced = force.has(svc.id);
    // A forced heal (manual `heal --force`) restarts a service even while its probe passes.
    if (obs === undefined || (obs.ok && !forced)) continue;
    if (!svc.enabled) {
      skipped.set(svc.id, { reason: "disabled" });
      continue;
    }
    const roots = blockedBy(svc.id);
    if (roots.length > 0) {
      blocked.set(svc.id, roots);
      skipped.set(svc.id, { reason: "blocked" });
      continue;
    }
    if (svc.heal.steps.length === 0) {
      skipped.set(svc.id, { reason: "no-steps" });
      continue;
    }
    const failedChecks = (own(state.services.services, svc.id)?.consecutiveFailures ?? 0) + 1;
    if (!forced && failedChecks < svc.heal.after) {
      skipped.set(svc.id, { reason: "waiting" });
      continue;
    }
    const gates = checkGates({
      service: svc,
      breaker: own(state.breakers.breakers, svc.id),
      heal: own(state.heals.heals, svc.id),
      silences,
      now,
      slackMs,
      forced,
    });
    if (!gates.allowed) {
      const binding = bindingGate(gates.refusedBy);
      const skip: Skip = { reason: binding?.gate ?? "budget", refusedBy: gates.refusedBy };
      if (gates.nextAllowedAt !== null) skip.nextAllowedAt = gates.nextAllowedAt;
      skipped.set(svc.id, skip);
      continue;
    }
    const why = obs.ok ? "probe passed" : `probe failed: ${obs.detail}`;
    const reason = forced ? `forced; ${why}` : gates.trial ? `${why} (breaker half-open: trial)` : why;
    plan.heals.push({ serviceId: svc.id, trial: gates.trial, forced, reason });
  }
  plan.skipped = Object.fromEntries(skipped);
  plan.blocked = Object.fromEntries(blocked);
  return plan;
}

/**
 * Records a finished heal at the tick's instant: against the cooldown and budget, and as a heal outcome
 * for the breaker. A heal in which no step ran is not a heal: nothing is recorded.
 */
export function applyHealResult(
  config: Config,
  state: UpkeepState,
  serviceId: string,
  result: HealResult,
  now: number,
): BreakerChange {
  const recorded = healResultEntries(config, state, serviceId, result, now);
  if (recorded === undefined) return { state, decisions: {} };
  return {
    state: {
      ...state,
      heals: { ...state.heals, heals: withEntry(state.heals.heals, serviceId, recorded.heal) },
      breakers: {
        ...state.breakers,
        breakers: withEntry(state.breakers.breakers, serviceId, recorded.breaker),
      },
    },
    decisions: recorded.decisions.length === 0 ? {} : Object.fromEntries([[serviceId, recorded.decisions]]),
  };
}

/** What `applyHealResult` records for the service, without copying the records around it. */
export interface HealEntries {
  heal: HealState;
  breaker: BreakerState;
  decisions: HealBreakerDecision[];
}

/**
 * The heal record and breaker that a finished heal leaves for its service, or undefined when nothing is
 * recorded. `applyHealResult` puts them into a copy of the state; a tick that records many heals puts
 * them into records of its own (`recordHealResult`), so each heal costs the same however many services
 * there are.
 */
export function healResultEntries(
  config: Config,
  state: UpkeepState,
  serviceId: string,
  result: HealResult,
  now: number,
): HealEntries | undefined {
  const svc = servicesById(config).get(serviceId);
  if (svc === undefined || result.ran === 0) return undefined;
  const outcome = result.ok ? ("healed" as const) : ("failed" as const);
  const previous = own(state.heals.heals, serviceId);
  const recorded = recordHeal(previous, { at: now, outcome, ...extras(result) }, svc.heal);
  // Lifetime counters (metrics): never trimmed like history; absent in files written before them = 0.
  const totals = { healed: previous?.totals?.healed ?? 0, failed: previous?.totals?.failed ?? 0 };
  totals[outcome] += 1;
  const heal: HealState = { ...recorded, totals };
  const event: HealBreakerEvent = { type: "heal", ok: result.ok };
  const step = stepHealBreaker(svc.breaker, breakerOf(state, serviceId), event, now, gateSlackMs(config));
  return { heal, breaker: step.state, decisions: step.decisions };
}

/**
 * A state whose heal and breaker records belong to the caller (a tick in progress), so that
 * `recordHealResult` can write into them: copied once, however many heals follow.
 */
export function ownRecords(state: UpkeepState): UpkeepState {
  return {
    ...state,
    heals: { ...state.heals, heals: { ...state.heals.heals } },
    breakers: { ...state.breakers, breakers: { ...state.breakers.breakers } },
  };
}

/**
 * `applyHealResult` for a state made by `ownRecords`: the same entries, written in place (same keys,
 * same order as the copy would have), and the breaker decisions returned.
 */
export function recordHealResult(
  config: Config,
  state: UpkeepState,
  serviceId: string,
  result: HealResult,
  now: number,
): HealBreakerDecision[] {
  const recorded = healResultEntries(config, state, serviceId, result, now);
  if (recorded === undefined) return [];
  setOwn(state.heals.heals, serviceId, recorded.heal);
  setOwn(state.breakers.breakers, serviceId, recorded.breaker);
  return recorded.decisions;
}

export function finishTick(
  config: Config,
  state: UpkeepState,
  observations: Record<string, Observation>,
  heals: Record<string, TickHeal>,
  now: number,
  opts: FinishOptions,
): TickResult {
  const blockedBy = blockedByOf(buildGraph(config.services), failedServices(config, state, observations));
  const slackMs = gateSlackMs(config);
  // Maps, then recordFrom: safe for any id, `__proto__` included, and linear in the services.
  const services = new Map<string, ServiceRecord>();
  const healStates = new Map<string, HealState>();
  const facts = new Map<string, ServiceFacts>();

  for (const svc of config.services) {
    const id = svc.id;
    const prevRecord = own(state.services.services, id);
    const prevHeal = own(state.heals.heals, id);
    const heal = prevHeal === undefined ? undefined : settleHeal(svc.heal, prevHeal, now);
    if (heal !== undefined) healStates.set(id, heal);
    const obs = own(observations, id);
    if (obs === undefined) {
      if (prevRecord !== undefined) services.set(id, prevRecord);
      continue;
    }
    const roots = obs.ok ? [] : blockedBy(id);
    const status: ServiceStatus = obs.ok ? "up" : roots.length > 0 ? "blocked" : "down";
    const wentDown = status === "down" || (opts.wentDown?.has(id) ?? false);
    const record = track(svc, prevRecord, status, obs, now, wentDown);
    services.set(id, record);
    const breaker = own(state.breakers.breakers, id);
    const gates = checkGates({
      service: svc,
      breaker,
      heal,
      silences: opts.silences,
      now,
      slackMs,
      forced: false,
    });
    const f = factsOf(
      svc,
      obs,
      record,
      breaker,
      roots,
      heal,
      own(heals, id),
      now,
      gates.nextAllowedAt,
      slackMs,
    );
    facts.set(id, f);
  }

  const factsById = recordFrom(facts);
  const alerts = evaluateAlerts(config, state.alerts, factsById, now, opts);
  return {
    state: {
      services: { version: 1, services: recordFrom(services) },
      breakers: state.breakers,
      heals: sameEntries(state.heals.heals, healStates)
        ? state.heals
        : { version: 1, heals: recordFrom(healStates) },
      alerts: alerts.state,
    },
    facts: factsById,
    alerts: alerts.intents,
    muted: alerts.muted,
    errors: alerts.errors,
  };
}

function factsOf(
  svc: ServiceConfig,
  obs: Observation,
  record: ServiceRecord,
  breakerState: BreakerState | undefined,
  blocked: string[],
  heal: HealState | undefined,
  tickHeal: TickHeal | undefined,
  now: number,
  nextAllowedAt: number | null,
  slackMs: number,
): ServiceFacts {
  const breaker = breakerState === undefined ? undefined : upgradeHealBreaker(breakerState);
  const outages = record.outages?.length ?? 0;
  return {
    service: { id: svc.id, title: svc.title, tags: [...svc.tags] },
    status: record.lastStatus,
    detail: obs.detail,
    latencyMs: obs.latencyMs,
    consecutiveFailures: record.consecutiveFailures,
    consecutiveSuccesses: record.consecutiveSuccesses,
    since: record.since,
    breaker: breaker?.state ?? "CLOSED",
    gaveUp: hasGivenUp(breaker),
    flapping: outages >= svc.flapping.outages,
    outages,
    heal: {
      outcome: (tickHeal?.outcome ?? "none") satisfies HealOutcome,
      reason: tickHeal?.reason ?? "",
      refusedBy: tickHeal?.refusedBy ?? [],
      forced: tickHeal?.forced === true,
      nextAllowedAt: svc.heal.steps.length === 0 ? null : nextAllowedAt,
      budgetLeft: checkHeal(svc.heal, heal, now, slackMs).budgetLeft,
      failedInRow: breaker?.failStreak ?? 0,
      failedSince: breaker?.failedSince ?? null,
    },
    blockedBy: blocked,
  };
}

/** Services whose probe failed this tick, or, when not observed this tick, at the last one. */
function failedServices(
  config: Config,
  state: UpkeepState,
  observations: Readonly<Record<string, Observation>>,
): Set<string> {
  const failed = new Set<string>();
  for (const svc of config.services) {
    if (!svc.enabled) continue;
    const obs = own(observations, svc.id);
    const last = own(state.services.services, svc.id)?.lastStatus;
    if (obs !== undefined ? !obs.ok : last !== undefined && last !== "up") failed.add(svc.id);
  }
  return failed;
}

/** `failedServices` answered per id asked about, without walking every service first. */
function failedLookup(
  config: Config,
  state: UpkeepState,
  observations: Readonly<Record<string, Observation>>,
): FailedSet {
  const byId = servicesById(config);
  const known = new Map<string, boolean>();
  return {
    has(id) {
      let failed = known.get(id);
      if (failed === undefined) {
        const svc = byId.get(id);
        const obs = own(observations, id);
        const last = own(state.services.services, id)?.lastStatus;
        failed =
          svc !== undefined &&
          svc.enabled &&
          (obs !== undefined ? !obs.ok : last !== undefined && last !== "up");
        known.set(id, failed);
      }
      return failed;
    },
  };
}

/** The services by id, built once per services array (the first of a duplicated id, like `find`). */
const indexed = new WeakMap<readonly ServiceConfig[], ReadonlyMap<string, ServiceConfig>>();

export function servicesById(config: Pick<Config, "services">): ReadonlyMap<string, ServiceConfig> {
  let byId = indexed.get(config.services);
  if (byId === undefined) {
    const map = new Map<string, ServiceConfig>();
    for (const svc of config.services) if (!map.has(svc.id)) map.set(svc.id, svc);
    byId = map;
    indexed.set(config.services, byId);
  }
  return byId;
}

/**
 * `wentDown`: the service failed a check of its own this tick, even if a heal brought it back before
 * the tick ended. Then it is up *since now*, and an outage began if it had been up.
 */
function track(
  svc: ServiceConfig,
  prev: ServiceRecord | undefined,
  status: ServiceStatus,
  obs: Observation,
  now: number,
  wentDown: boolean,
): ServiceRecord {
  const changed = prev === undefined || prev.lastStatus !== status;
  const healedInTick = status === "up" && wentDown;
  const outageBegan = wentDown && (prev === undefined || prev.lastStatus === "up");
  const windowStart = now - svc.flapping.withinMs;
  const outages = (prev?.outages ?? []).filter((t) => t > windowStart && t <= now);
  if (outageBegan) outages.push(now);
  return {
    lastStatus: status,
    since: changed || healedInTick ? now : prev.since,
    consecutiveFailures: obs.ok ? 0 : (prev?.consecutiveFailures ?? 0) + 1,
    consecutiveSuccesses: obs.ok ? (healedInTick ? 1 : (prev?.consecutiveSuccesses ?? 0) + 1) : 0,
    lastProbeAt: now, // the tick's time, like every record of the tick
    lastDetail: obs.detail,
    lastLatencyMs: obs.latencyMs,
    outages,
  };
}

function breakerOf(state: UpkeepState, id: string): BreakerState {
  const stored = own(state.breakers.breakers, id);
  return stored === undefined ? emptyHealBreaker() : upgradeHealBreaker(stored);
}

function extras(result: HealResult): { forced?: boolean; by?: string } {
  const out: { forced?: boolean; by?: string } = {};
  if (result.forced !== undefined) out.forced = result.forced;
  if (result.by !== undefined) out.by = result.by;
  return out;
}

/** What a skip means in the facts: refused by a limit, or skipped. */
export function tickHealOf(skip: Skip): TickHeal {
  // A limit that says no makes it a refusal even when a maintenance window holds healing back longer.
  const refused =
    REFUSAL_REASONS.has(skip.reason) || (skip.refusedBy ?? []).some((r) => REFUSAL_REASONS.has(r.gate));
  const out: TickHeal = { outcome: refused ? "refused" : "skipped", reason: skip.reason };
  if (skip.refusedBy !== undefined) {
    out.refusedBy = skip.refusedBy.map((r) => r.gate);
    out.nextAllowedAt = skip.nextAllowedAt ?? null;
  }
  return out;
}

/** Observed services whose probe failed on their own account: not blocked by a failed dependency. */
export function ownFailures(
  config: Config,
  state: UpkeepState,
  observations: Readonly<Record<string, Observation>>,
): Set<string> {
  const failed = failedServices(config, state, observations);
  const blockedBy = blockedByOf(buildGraph(config.services), failed);
  const own = new Set<string>();
  for (const id of failed) {
    if (Object.hasOwn(observations, id) && blockedBy(id).length === 0) own.add(id);
  }
  return own;
}
