/**
 * Runs a timeline of probe results through the same pure core as `upkeep run`, tick by tick, on a
 * simulated clock. Each tick mirrors src/runtime/tick.ts: plan heals in waves (planHeals), "run" each
 * heal (its steps described, none run), record it (applyHealResult), take the healed service's verify
 * result as its observation, re-probe dependents of recovered services and plan again, then finishTick.
 *
 * What a probe sees: the series entry of the tick for the tick's first probe; anything probed later in
 * the same tick (a heal's verify, the re-probe of a dependent) sees the NEXT entry, unless the entry says
 * `(heal:ok)` / `(heal:fails)`. Everything in a tick happens at the tick's instant; no real time passes.
 *
 * Nothing is cloned or re-normalized per tick: state flows from one core call to the next as a value.
 */
import type { HandlerSettings } from "../actions/types.js";
import type { Config, ServiceConfig } from "../config/model.js";
import type { ServiceFacts } from "../core/facts.js";
import {
  applyHealResult,
  finishTick,
  planHeals,
  type Observation,
  type Skip,
  type TickHeal,
  type TickResult,
} from "../core/decide.js";
import { emptyState, own, type UpkeepState } from "../core/state.js";
import { count, emptyCounts, type SimulationCounts } from "./counts.js";
import {
  describeSteps,
  whenFacts,
  simulateHeal,
  type DescribedStep,
  type Evaluate,
  type GetHandler,
  type SimulatedHeal,
} from "./heal-sim.js";
import { DOWN_HEAL_FAILS, DOWN_HEAL_OK, entryAt, UP } from "./notation.js";

export type { SimulationCounts };

export interface SimulationInput {
  readonly config: Config;
  readonly ticks: number;
  readonly startMs: number;
  readonly intervalMs: number;
  /** Per service id; enabled services without one are up at every tick. */
  readonly series: ReadonlyMap<string, Uint8Array>;
  readonly settings: HandlerSettings;
  readonly getHandler: GetHandler;
  readonly evaluate: Evaluate;
}

/** What one tick decided. Only valid during the visit: keep what you need, not the object. */
export interface TickOutcome {
  /** 1-based. */
  readonly tick: number;
  readonly now: number;
  readonly result: TickResult;
  /** Heals that ran at this tick. */
  readonly heals: ReadonlyMap<string, SimulatedHeal>;
  /** Failed services that were not healed, and why. */
  readonly skipped: Readonly<Record<string, Skip>>;
}

const UP_DETAIL = "simulated: up";
const DOWN_DETAIL = "simulated: down";
const NO_HEALS: ReadonlyMap<string, SimulatedHeal> = new Map();
const REFUSALS: ReadonlySet<string> = new Set(["cooldown", "budget", "breaker-open"]);

export function simulate(input: SimulationInput, visit: (outcome: TickOutcome) => void): SimulationCounts {
  const { config } = input;
  const enabled = config.services.filter((s) => s.enabled);
  const byId = new Map(enabled.map((s) => [s.id, s]));
  const seriesOf = new Map(enabled.map((s) => [s.id, input.series.get(s.id)]));
  const steps = new Map<string, DescribedStep[]>();
  const stepsOf = (svc: ServiceConfig): DescribedStep[] => {
    let found = steps.get(svc.id);
    if (found === undefined) {
      found = describeSteps(svc, input.settings, input.getHandler);
      steps.set(svc.id, found);
    }
    return found;
  };
  const isDown = (id: string, i: number): boolean => {
    const entries = seriesOf.get(id);
    return entries !== undefined && entryAt(entries, i) !== UP;
  };
  /** What a probe later in tick `i` sees (a verify, a re-probe). */
  const laterUp = (id: string, i: number): boolean => {
    const entries = seriesOf.get(id);
    if (entries === undefined) return true;
    const code = entryAt(entries, i);
    if (code === DOWN_HEAL_OK) return true;
    if (code === DOWN_HEAL_FAILS) return false;
    return entryAt(entries, i + 1) === UP;
  };
  const observe = (up: boolean, now: number): Observation => ({
    ok: up,
    latencyMs: 0,
    detail: up ? UP_DETAIL : DOWN_DETAIL,
    at: now,
  });
  const silences = config.alerts.silences;
  const counts = emptyCounts();

  let state: UpkeepState = emptyState();
  for (let i = 0; i < input.ticks; i++) {
    const now = input.startMs + i * input.intervalMs;
    const observations: Record<string, Observation> = {};
    let anyDown = false;
    for (const svc of enabled) {
      const down = isDown(svc.id, i);
      anyDown ||= down;
      observations[svc.id] = observe(!down, now);
    }

    let heals = NO_HEALS as Map<string, SimulatedHeal>;
    const skipped: Record<string, Skip> = {};
    let candidates: readonly string[] | undefined;
    // planHeals with every service up plans nothing: skipping it changes no decision.
    for (let wave = 0; anyDown && wave <= config.services.length; wave++) {
      const plan = planHeals(config, state, observations, now, {
        silences,
        ...(candidates === undefined ? {} : { only: candidates }),
      });
      for (const [id, why] of Object.entries(plan.skipped)) if (!heals.has(id)) skipped[id] = why;
      const intents = plan.heals.filter((h) => !heals.has(h.serviceId));
      if (intents.length === 0) break;
      if (heals === NO_HEALS) heals = new Map();
      for (const intent of intents) {
        const svc = byId.get(intent.serviceId);
        if (svc === undefined) continue;
        delete skipped[svc.id];
        const obs = observations[svc.id];
        const code = entryAt(seriesOf.get(svc.id) ?? new Uint8Array(1), i);
        const heal = simulateHeal({
          steps: stepsOf(svc),
          trial: intent.trial,
          laterUp: laterUp(svc.id, i),
          forcedFailure: code === DOWN_HEAL_FAILS,
          facts: whenFacts(svc, obs, state, now),
          evaluate: input.evaluate,
        });
        heals.set(svc.id, heal);
        state = applyHealResult(
          config,
          state,
          svc.id,
          {
            ok: heal.ok,
            startedAt: now,
            finishedAt: now,
            forced: intent.forced,
          },
          now,
        );
      }
      // A healed service's final observation is what its verify saw (or a fresh probe): a later probe.
      const recovered = new Set<string>();
      for (const intent of intents) {
        const up = laterUp(intent.serviceId, i);
        observations[intent.serviceId] = observe(up, now);
        if (up) recovered.add(intent.serviceId);
      }
      const dependents = enabled.filter(
        (s) => s.dependsOn.some((d) => recovered.has(d)) && observations[s.id]?.ok === false,
      );
      for (const s of dependents) observations[s.id] = observe(laterUp(s.id, i), now);
      candidates = dependents.map((s) => s.id);
      if (candidates.length === 0) break;
    }

    const outcomes: Record<string, TickHeal> = {};
    for (const [id, heal] of heals)
      outcomes[id] = { outcome: heal.ok ? "healed" : "failed", reason: heal.detail };
    for (const [id, why] of Object.entries(skipped)) {
      if (own(outcomes, id) !== undefined || observations[id]?.ok !== false) continue;
      outcomes[id] = { outcome: REFUSALS.has(why.reason) ? "refused" : "skipped", reason: why.reason };
    }

    const result = finishTick(config, state, observations, outcomes, now, {
      silences,
      evaluate: input.evaluate,
    });
    state = result.state;
    count(counts, heals, outcomes, result);
    visit({ tick: i + 1, now, result, heals, skipped });
  }
  return counts;
}

/** The facts of a service after a tick (undefined when it was not probed). */
export function factsOf(tick: TickOutcome, service: string): ServiceFacts | undefined {
  return own(tick.result.facts, service);
}
