/**
 * One tick's decisions, pure. The runtime calls them in waves:
 *   planHeals -> run heals -> applyHealResult each -> re-probe the dependents of healed services ->
 *   planHeals({ only: those dependents }) -> ... -> finishTick with the final observations.
 *
 * Blocked: a service whose probe failed while a dependency's probe failed too (that dependency being down,
 * or blocked itself) is blocked: not healed, not fed to its breaker, its alerts inhibited. A service whose
 * probe passed is up whatever its dependencies say. For a dependency without an observation this tick (a
 * run limited to some services) the status stored by the last tick counts; disabled services never block.
 */
import type { Config, ServiceConfig, Silence } from "../config/model.js";
import type { HealOutcome, ServiceFacts, ServiceStatus } from "./facts.js";
import { evaluateAlerts, type AlertEvaluation, type AlertIntent, type AlertRuleError } from "./alerts.js";
import { canAttempt, stepBreaker, type BreakerDecision } from "./breaker.js";
import { checkHeal, recordHeal, settleHeal } from "./budget.js";
import { blockedBy, buildGraph } from "./graph.js";
import { isHealingPaused } from "./silence.js";
import {
  emptyBreaker,
  own,
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

export type SkipReason =
  "blocked" | "breaker-open" | "cooldown" | "budget" | "paused" | "no-steps" | "disabled";

export type Skip = { reason: string; nextAllowedAt?: number };

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
  startedAt: number;
  finishedAt: number;
  forced?: boolean;
  by?: string;
}

export interface TickHeal {
  outcome: "healed" | "failed" | "refused" | "skipped";
  reason: string;
}

export type { AlertEvaluation, EvaluateLogic } from "./alerts.js";
export type FinishOptions = AlertEvaluation;

export interface TickResult {
  state: UpkeepState;
  facts: Record<string, ServiceFacts>;
  alerts: AlertIntent[];
  /** Only services whose breaker logged something. */
  breakerDecisions: Record<string, BreakerDecision[]>;
  /** Alert conditions that threw; their alert state is left as it was. */
  errors: AlertRuleError[];
}

export function planHeals(
  config: Config,
  state: UpkeepState,
  observations: Record<string, Observation>,
  now: number,
  opts: PlanOptions = {},
): HealPlan {
  const graph = buildGraph(config.services);
  const failed = failedServices(config, state, observations);
  const silences = opts.silences ?? config.alerts.silences;
  const plan: HealPlan = { heals: [], skipped: {}, blocked: {} };
  const skip = (id: string, reason: SkipReason, nextAllowedAt?: number | null): void => {
    const entry: Skip = nextAllowedAt == null ? { reason } : { reason, nextAllowedAt };
    plan.skipped = withEntry(plan.skipped, id, entry);
  };
  for (const svc of inOrder(config, graph.order)) {
    const obs = own(observations, svc.id);
    const forced = opts.force?.includes(svc.id) ?? false;
    // A forced heal (manual `heal --force`) restarts a service even while its probe passes.
    if ((opts.only !== undefined && !opts.only.includes(svc.id)) || obs === undefined || (obs.ok && !forced))
      continue;
    if (!svc.enabled) {
      skip(svc.id, "disabled");
      continue;
    }
    const roots = blockedBy(graph, svc.id, failed);
    if (roots.length > 0) {
      plan.blocked = withEntry(plan.blocked, svc.id, roots);
      skip(svc.id, "blocked");
      continue;
    }
    if (svc.heal.steps.length === 0) {
      skip(svc.id, "no-steps");
      continue;
    }
    const breaker = canAttempt(svc.breaker, breakerOf(state, svc.id), now);
    if (!breaker.allowed) {
      skip(svc.id, "breaker-open", breaker.retryAt);
      continue;
    }
    if (isHealingPaused(silences, svc.id, now)) {
      skip(svc.id, "paused");
      continue;
    }
    const budget = checkHeal(svc.heal, own(state.heals.heals, svc.id), now);
    if (!forced && !budget.allowed) {
      skip(svc.id, budget.reason, budget.nextAllowedAt);
      continue;
    }
    const trial = breaker.state === "HALF_OPEN";
    const why = obs.ok ? "probe passed" : `probe failed: ${obs.detail}`;
    const reason = forced ? `forced; ${why}` : trial ? `${why} (breaker half-open: trial)` : why;
    plan.heals.push({ serviceId: svc.id, trial, forced, reason });
  }
  return plan;
}

/** Records a finished heal against the service's cooldown and budget. */
export function applyHealResult(
  config: Config,
  state: UpkeepState,
  serviceId: string,
  result: HealResult,
  _now: number,
): UpkeepState {
  const svc = config.services.find((s) => s.id === serviceId);
  if (svc === undefined) return state;
  const record = { at: result.startedAt, outcome: result.ok ? ("healed" as const) : ("failed" as const) };
  const previous = own(state.heals.heals, serviceId);
  const recorded = recordHeal(previous, { ...record, ...extras(result) }, svc.heal);
  // Lifetime counters (metrics): never trimmed like history; absent in files written before them = 0.
  const totals = { healed: previous?.totals?.healed ?? 0, failed: previous?.totals?.failed ?? 0 };
  totals[record.outcome] += 1;
  const heal: HealState = { ...recorded, totals };
  return { ...state, heals: { ...state.heals, heals: withEntry(state.heals.heals, serviceId, heal) } };
}

export function finishTick(
  config: Config,
  state: UpkeepState,
  observations: Record<string, Observation>,
  heals: Record<string, TickHeal>,
  now: number,
  opts: FinishOptions,
): TickResult {
  const graph = buildGraph(config.services);
  const failed = failedServices(config, state, observations);
  // Maps, then Object.fromEntries: safe for any id, `__proto__` included.
  const services = new Map<string, ServiceRecord>();
  const breakers = new Map<string, BreakerState>();
  const healStates = new Map<string, HealState>();
  const result: TickResult = { state, facts: {}, alerts: [], breakerDecisions: {}, errors: [] };

  for (const svc of config.services) {
    const id = svc.id;
    const prevRecord = own(state.services.services, id);
    const prevBreaker = own(state.breakers.breakers, id);
    const prevHeal = own(state.heals.heals, id);
    const heal = prevHeal === undefined ? undefined : settleHeal(svc.heal, prevHeal, now);
    if (heal !== undefined) healStates.set(id, heal);
    const obs = own(observations, id);
    if (obs === undefined) {
      if (prevRecord !== undefined) services.set(id, prevRecord);
      if (prevBreaker !== undefined) breakers.set(id, prevBreaker);
      continue;
    }
    const roots = obs.ok ? [] : blockedBy(graph, id, failed);
    const status: ServiceStatus = obs.ok ? "up" : roots.length > 0 ? "blocked" : "down";
    const record = track(prevRecord, status, obs, now);
    services.set(id, record);
    let breaker = prevBreaker ?? emptyBreaker();
    if (status !== "blocked") {
      const step = stepBreaker(svc.breaker, breaker, { type: obs.ok ? "success" : "failure" }, now);
      breaker = step.state;
      if (step.decisions.length > 0) {
        result.breakerDecisions = withEntry(result.breakerDecisions, id, step.decisions);
      }
    }
    breakers.set(id, breaker);
    result.facts = withEntry(
      result.facts,
      id,
      factsOf(svc, obs, record, breaker, roots, heal, own(heals, id), now),
    );
  }

  const alerts = evaluateAlerts(config, state.alerts, result.facts, now, opts);
  result.alerts = alerts.intents;
  result.errors = alerts.errors;
  result.state = {
    services: { version: 1, services: Object.fromEntries(services) },
    breakers: { version: 1, breakers: Object.fromEntries(breakers) },
    heals: { version: 1, heals: Object.fromEntries(healStates) },
    alerts: alerts.state,
  };
  return result;
}

function factsOf(
  svc: ServiceConfig,
  obs: Observation,
  record: ServiceRecord,
  breaker: BreakerState,
  blocked: string[],
  heal: HealState | undefined,
  tickHeal: TickHeal | undefined,
  now: number,
): ServiceFacts {
  return {
    service: { id: svc.id, title: svc.title, tags: [...svc.tags] },
    status: record.lastStatus,
    detail: obs.detail,
    latencyMs: obs.latencyMs,
    consecutiveFailures: record.consecutiveFailures,
    consecutiveSuccesses: record.consecutiveSuccesses,
    since: record.since,
    breaker: breaker.state,
    heal: {
      outcome: (tickHeal?.outcome ?? "none") satisfies HealOutcome,
      reason: tickHeal?.reason ?? "",
      budgetLeft: checkHeal(svc.heal, heal, now).budgetLeft,
    },
    blockedBy: blocked,
  };
}

/** Services whose probe failed this tick, or, when not observed this tick, at the last one. */
function failedServices(
  config: Config,
  state: UpkeepState,
  observations: Record<string, Observation>,
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

function track(prev: ServiceRecord | undefined, status: ServiceStatus, obs: Observation, now: number) {
  return {
    lastStatus: status,
    since: prev === undefined || prev.lastStatus !== status ? now : prev.since,
    consecutiveFailures: obs.ok ? 0 : (prev?.consecutiveFailures ?? 0) + 1,
    consecutiveSuccesses: obs.ok ? (prev?.consecutiveSuccesses ?? 0) + 1 : 0,
    lastProbeAt: obs.at,
    lastDetail: obs.detail,
    lastLatencyMs: obs.latencyMs,
  } satisfies ServiceRecord;
}

function inOrder(config: Config, order: readonly string[]): ServiceConfig[] {
  const byId = new Map(config.services.map((s) => [s.id, s]));
  return order.flatMap((id) => byId.get(id) ?? []);
}

function breakerOf(state: UpkeepState, id: string): BreakerState {
  return own(state.breakers.breakers, id) ?? emptyBreaker();
}

function extras(result: HealResult): { forced?: boolean; by?: string } {
  const out: { forced?: boolean; by?: string } = {};
  if (result.forced !== undefined) out.forced = result.forced;
  if (result.by !== undefined) out.by = result.by;
  return out;
}
