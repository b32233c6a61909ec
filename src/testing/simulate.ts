/**
 * Runs a timeline of probe results through the same tick as `upkeep run` (src/core/tick-flow.ts), tick
 * by tick, on a simulated clock: only the probes and heal steps are simulated (steps are described, none
 * is run).
 *
 * What a probe sees: the series entry of the tick for the tick's first probe; anything probed later in
 * the same tick (a heal's verify, the re-probe of a dependent) sees the NEXT entry, unless the entry says
 * `(heal:ok)` / `(heal:fails)`. Everything in a tick happens at the tick's instant; no real time passes.
 *
 * Nothing is cloned or re-normalized per tick: state flows from one tick to the next as a value.
 */
import type { HandlerSettings } from "../actions/types.js";
import type { Config, ServiceConfig } from "../config/model.js";
import type { ServiceFacts } from "../core/facts.js";
import type { Observation, Skip } from "../core/decide.js";
import { emptyState, own, type UpkeepState } from "../core/state.js";
import {
  dataRecord,
  runTickFlow,
  type HealRun,
  type TickFlowResult,
  type TickOps,
} from "../core/tick-flow.js";
import { count, emptyCounts, type SimulationCounts } from "./counts.js";
import {
  describeSteps,
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
  /** Start time of each tick, for irregular spacing; default startMs + i x intervalMs. */
  readonly times?: readonly number[];
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
  readonly result: TickFlowResult;
  /** Heals that ran at this tick. */
  readonly heals: ReadonlyMap<string, SimulatedHeal>;
  /** Failed services that were not healed, and why. */
  readonly skipped: Readonly<Record<string, Skip>>;
}

const UP_DETAIL = "simulated: up";
const DOWN_DETAIL = "simulated: down";

export async function simulate(
  input: SimulationInput,
  visit: (outcome: TickOutcome) => void,
): Promise<SimulationCounts> {
  const { config } = input;
  const enabled = config.services.filter((s) => s.enabled);
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
    const now = input.times?.[i] ?? input.startMs + i * input.intervalMs;
    const heals = new Map<string, SimulatedHeal>();
    const ops: TickOps = {
      probe: (services, phase) => {
        const out = dataRecord<Observation>();
        for (const s of services)
          out[s.id] = observe(phase === "first" ? !isDown(s.id, i) : laterUp(s.id, i), now);
        return Promise.resolve(out);
      },
      heal: (requests) => {
        const out = dataRecord<HealRun>();
        for (const { service, intent, facts } of requests) {
          const code = entryAt(seriesOf.get(service.id) ?? new Uint8Array(1), i);
          const up = laterUp(service.id, i);
          const heal = simulateHeal({
            steps: stepsOf(service),
            trial: intent.trial,
            laterUp: up,
            forcedFailure: code === DOWN_HEAL_FAILS,
            facts,
            evaluate: input.evaluate,
          });
          if (heal.steps.length > 0) heals.set(service.id, heal);
          const verified = heal.steps.some((st) => st.action === "verify");
          out[service.id] = {
            ok: heal.ok,
            ran: heal.steps.length,
            detail: heal.detail,
            dryRun: false,
            ...(verified ? { verified: observe(up, now) } : {}),
          };
        }
        return Promise.resolve(out);
      },
      aborted: () => false,
    };
    const result = await runTickFlow(config, state, now, ops, {
      dryRun: false,
      silences,
      evaluate: input.evaluate,
    });
    state = result.state;
    count(counts, heals, result.outcomes, result);
    visit({ tick: i + 1, now, result, heals, skipped: result.skipped });
  }
  return counts;
}

/** The facts of a service after a tick (undefined when it was not probed). */
export function factsOf(tick: TickOutcome, service: string): ServiceFacts | undefined {
  return own(tick.result.facts, service);
}
