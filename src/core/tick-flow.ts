/**
 * The course of one tick, shared by `upkeep run` (src/runtime/tick.ts) and `upkeep test`
 * (src/testing/simulate.ts): the same decisions in the same order at the same instant, so a rule test
 * and a real tick cannot disagree. What differs is behind `TickOps`: real probes and heal steps, or a
 * timeline of simulated results.
 *
 *   probe everything selected (once) -> applyChecks -> waves of: planHeals -> heals -> record each ->
 *   the healed service's verify result (or a fresh probe) -> re-probe every service that depends,
 *   directly or not, on one that recovered -> plan again for those -> ... -> finishTick.
 *
 * Every decision reads `now`, the tick's start, however long probes and heals take.
 */
import type { Config, JsonLogic, ServiceConfig, Silence } from "../config/model.js";
import type { AlertIntent, AlertRuleError, MutedNotice } from "./alerts.js";
import { canAttempt } from "./breaker.js";
import { checkHeal } from "./budget.js";
import {
  applyChecks,
  finishTick,
  ownFailures,
  ownRecords,
  planHeals,
  recordHealResult,
  tickHealOf,
  type HealIntent,
  type Observation,
  type Skip,
  type TickHeal,
} from "./decide.js";
import type { ServiceFacts } from "./facts.js";
import { gateSlackMs } from "./gates.js";
import { buildGraph, dependentsOfAll } from "./graph.js";
import type { HealBreakerDecision } from "./heal-breaker.js";
import { emptyBreaker, own, type UpkeepState } from "./state.js";

export interface HealRequest {
  readonly intent: HealIntent;
  readonly service: ServiceConfig;
  /** What steps' `when` conditions read. */
  readonly facts: Readonly<Record<string, unknown>>;
}

export interface HealRun {
  readonly ok: boolean;
  /** Steps that ran (a `when` that did not hold skips a step). */
  readonly ran: number;
  readonly detail: string;
  /** Only described (plan, dry run): nothing ran and nothing is recorded. */
  readonly dryRun: boolean;
  /** What the heal's last verify saw; absent without a verify. */
  readonly verified?: Observation;
}

export interface TickOps {
  /** `first`: the tick's own probe of each service; `again`: a re-probe later in the same tick. */
  probe(services: readonly ServiceConfig[], phase: "first" | "again"): Promise<Record<string, Observation>>;
  /** Runs one wave of heals; each result is keyed by service id. */
  heal(requests: readonly HealRequest[]): Promise<Record<string, HealRun>>;
  /** True once the tick ran out of time: no further wave starts. */
  aborted(): boolean;
}

export interface TickFlowOptions {
  readonly dryRun: boolean;
  /** Only these services (and what they depend on) are probed and healed. */
  readonly only?: readonly string[];
  /** Heal these even when cooldown or budget refuse, or the probe passes (manual `heal --force`). */
  readonly force?: readonly string[];
  readonly forcedBy?: string;
  /** The rules' silences plus ad-hoc ones. */
  readonly silences: readonly Silence[];
  readonly evaluate: (expr: JsonLogic, data: Record<string, unknown>) => unknown;
}

export interface TickFlowResult {
  readonly state: UpkeepState;
  readonly facts: Record<string, ServiceFacts>;
  readonly alerts: AlertIntent[];
  /** Notices a silence or a down dependency held back. */
  readonly muted: MutedNotice[];
  readonly errors: AlertRuleError[];
  /** Breaker transitions and heal verdicts, per service that had any. */
  readonly breakerDecisions: Record<string, HealBreakerDecision[]>;
  /** The services the tick looked at, in rule order. */
  readonly selected: readonly ServiceConfig[];
  /** Final observations (after heals and re-probes). */
  readonly observations: Record<string, Observation>;
  /** What the first probe of the tick saw. */
  readonly first: Record<string, Observation>;
  readonly heals: ReadonlyMap<string, { readonly intent: HealIntent; readonly run: HealRun }>;
  /** Failed services that were not healed, and why. */
  readonly skipped: Readonly<Record<string, Skip>>;
  /** The heal outcome per service, as the facts show it. */
  readonly outcomes: Readonly<Record<string, TickHeal>>;
}

export async function runTickFlow(
  config: Config,
  initial: UpkeepState,
  now: number,
  ops: TickOps,
  options: TickFlowOptions,
): Promise<TickFlowResult> {
  const selected = selectServices(config, options.only);
  const byId = new Map(selected.map((s) => [s.id, s]));
  const position = new Map(selected.map((s, i) => [s.id, i]));
  const graph = buildGraph(config.services);
  // Maps, turned into records at the end: service ids such as `__proto__` stay plain data.
  const decisions = new Map<string, HealBreakerDecision[]>();
  const noteOf = (id: string, list: readonly HealBreakerDecision[]): void => {
    if (list.length > 0) decisions.set(id, [...(decisions.get(id) ?? []), ...list]);
  };
  const note = (more: Readonly<Record<string, HealBreakerDecision[]>>): void => {
    for (const [id, list] of Object.entries(more)) noteOf(id, list);
  };

  const first = await ops.probe(selected, "first");
  const observations: Record<string, Observation> = Object.assign(dataRecord<Observation>(), first);
  const wentDown = ownFailures(config, initial, first);
  const checked = applyChecks(config, initial, first, now, options.silences);
  let state = checked.state;
  let ownsRecords = false;
  note(checked.decisions);

  const heals = new Map<string, { intent: HealIntent; run: HealRun }>();
  const skipped = new Map<string, Skip>();
  let candidates: readonly string[] | undefined =
    options.only === undefined ? undefined : selected.map((s) => s.id);
  const anyToHeal = Object.values(first).some((o) => !o.ok) || (options.force?.length ?? 0) > 0;
  // Each wave heals services whose dependencies are up; bounded by the depth of the dependency graph.
  for (let wave = 0; anyToHeal && wave <= config.services.length && !ops.aborted(); wave += 1) {
    const plan = planHeals(config, state, observations, now, {
      silences: options.silences,
      ...(candidates === undefined ? {} : { only: candidates }),
      ...(options.force === undefined ? {} : { force: options.force }),
    });
    for (const [id, why] of Object.entries(plan.skipped)) if (!heals.has(id)) skipped.set(id, why);
    const intents = plan.heals.filter((h) => !heals.has(h.serviceId) && byId.has(h.serviceId));
    if (intents.length === 0) break;
    const requests = intents.map((intent) => {
      const service = byId.get(intent.serviceId) as ServiceConfig;
      return { intent, service, facts: whenFacts(config, service, observations[service.id], state, now) };
    });
    const runs = await ops.heal(requests);
    const reprobe: ServiceConfig[] = [];
    for (const { intent, service } of requests) {
      const run = runs[service.id];
      if (run === undefined) continue;
      heals.set(service.id, { intent, run });
      skipped.delete(service.id);
      if (run.dryRun) continue;
      if (run.ran === 0) {
        skipped.set(service.id, { reason: "no-step-ran" });
        continue;
      }
      // The heal and breaker records become the tick's own at its first recorded heal (one copy), and
      // every heal writes into them: the state applyHealResult would build, without a copy per heal.
      if (!ownsRecords) state = ownRecords(state);
      ownsRecords = true;
      const recorded = recordHealResult(
        config,
        state,
        service.id,
        {
          ok: run.ok,
          ran: run.ran,
          forced: intent.forced,
          ...(intent.forced && options.forcedBy !== undefined ? { by: options.forcedBy } : {}),
        },
        now,
      );
      noteOf(service.id, recorded);
      if (run.verified !== undefined) observations[service.id] = run.verified;
      else reprobe.push(service);
    }
    Object.assign(observations, await probeIfAny(ops, reprobe));
    // Whatever depends on a service that is up again, directly or not, is looked at again.
    const recovered = requests.map((r) => r.service.id).filter((id) => observations[id]?.ok === true);
    // One walk from every recovered service at once; probed in rule order, like `selected`.
    const dependents = dependentsOfAll(graph, recovered)
      .filter((id) => byId.has(id) && observations[id]?.ok === false)
      .sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0))
      .map((id) => byId.get(id) as ServiceConfig);
    Object.assign(observations, await probeIfAny(ops, dependents));
    candidates = dependents.map((s) => s.id);
    if (candidates.length === 0) break;
  }

  const outcomes = new Map<string, TickHeal>();
  for (const [id, { run, intent }] of heals) {
    if (run.dryRun) outcomes.set(id, { outcome: "skipped", reason: "dry run" });
    else if (run.ran > 0)
      outcomes.set(id, {
        outcome: run.ok ? "healed" : "failed",
        reason: run.detail,
        ...(intent.forced ? { forced: true } : {}),
      });
  }
  for (const [id, why] of skipped) {
    if (outcomes.has(id) || own(observations, id)?.ok !== false) continue;
    outcomes.set(id, tickHealOf(why));
  }
  const outcomesById = Object.fromEntries(outcomes);

  const finished = finishTick(config, state, observations, outcomesById, now, {
    silences: options.silences,
    evaluate: options.evaluate,
    wentDown,
  });
  return {
    state: finished.state,
    facts: finished.facts,
    alerts: finished.alerts,
    muted: finished.muted,
    errors: finished.errors,
    breakerDecisions: Object.fromEntries(decisions),
    selected,
    observations,
    first,
    heals,
    skipped: Object.fromEntries(skipped),
    outcomes: outcomesById,
  };
}

async function probeIfAny(
  ops: TickOps,
  services: readonly ServiceConfig[],
): Promise<Record<string, Observation>> {
  return services.length === 0 ? {} : ops.probe(services, "again");
}

/** The selected services plus everything they depend on (needed to judge "blocked"). */
export function selectServices(config: Config, only: readonly string[] | undefined): ServiceConfig[] {
  const enabled = config.services.filter((s) => s.enabled);
  if (only === undefined) return enabled;
  const byId = new Map(enabled.map((s) => [s.id, s]));
  const wanted = new Set<string>();
  const visit = (id: string): void => {
    if (wanted.has(id)) return;
    const service = byId.get(id);
    if (service === undefined) return;
    wanted.add(id);
    service.dependsOn.forEach(visit);
  };
  only.forEach(visit);
  return enabled.filter((s) => wanted.has(s.id));
}

/** The facts a step's `when` reads: those alert rules read, as of the tick's start, plus `probe`. */
export function whenFacts(
  config: Config,
  svc: ServiceConfig,
  obs: Observation | undefined,
  state: UpkeepState,
  now: number,
): Record<string, unknown> {
  const tracked = own(state.services.services, svc.id);
  const stored = own(state.breakers.breakers, svc.id) ?? emptyBreaker();
  const breaker = canAttempt(svc.breaker, stored, now, gateSlackMs(config));
  return {
    service: { id: svc.id, title: svc.title, tags: svc.tags },
    status: obs?.ok === true ? "up" : "down",
    detail: obs?.detail ?? "",
    latencyMs: obs?.latencyMs ?? 0,
    consecutiveFailures: (tracked?.consecutiveFailures ?? 0) + (obs?.ok === false ? 1 : 0),
    consecutiveSuccesses: 0,
    since: tracked !== undefined && tracked.lastStatus !== "up" ? tracked.since : now,
    breaker: breaker.state,
    gaveUp: false,
    flapping: (tracked?.outages?.length ?? 0) >= svc.flapping.outages,
    outages: tracked?.outages?.length ?? 0,
    heal: {
      outcome: "none",
      reason: "",
      refusedBy: [],
      forced: false,
      nextAllowedAt: null,
      budgetLeft: checkHeal(svc.heal, own(state.heals.heals, svc.id), now, gateSlackMs(config)).budgetLeft,
      failedInRow: stored.failStreak ?? 0,
      failedSince: stored.failedSince ?? null,
    },
    blockedBy: [],
    probe: obs?.facts ?? {},
  };
}

/** A record without a prototype: any service id, `__proto__` included, is an ordinary key. */
export function dataRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
