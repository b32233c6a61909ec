/**
 * One tick: probe every service in parallel, let the pure core decide, heal in dependency order
 * (re-probing dependents after a dependency is healed), verify, decide alerts, deliver them.
 * State comes in and goes out as a value; locking and persistence live in session.ts.
 */
import { setMaxListeners } from "node:events";
import pLimit from "p-limit";
import type { Handler, HandlerKind, HandlerSettings, ProbeResult } from "../actions/types.js";
import type { Config, JsonLogic, ServiceConfig, Silence } from "../config/model.js";
import { applyHealResult, finishTick, planHeals, type Observation } from "../core/decide.js";
import type { ServiceFacts } from "../core/facts.js";
import { emptyBreaker, own, type UpkeepState } from "../core/state.js";
import { canAttempt } from "../core/breaker.js";
import { checkHeal } from "../core/budget.js";
import type { AlertIntent } from "../core/alerts.js";
import type { Clock } from "./clock.js";
import { deadlineSignal } from "./deadline.js";
import { deliverAlerts, type Delivery } from "./deliver.js";
import type { OutboxState } from "./outbox.js";
import { runHeal, type HealReport, type StepReport } from "./interpreter.js";
import type { RuntimeLogger } from "./logger.js";
import { probeService, probeTarget } from "./probe-runner.js";
import type { Redactor } from "./redact.js";

/** Delivery budget once the tick timeout has already passed. */
const ALERT_GRACE_MS = 15_000;

export interface TickDeps {
  readonly clock: Clock;
  readonly logger: RuntimeLogger;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly redactor: Redactor;
  readonly settings: HandlerSettings;
  readonly getHandler: (name: string, kind: HandlerKind) => Handler | undefined;
  readonly evaluate: (expr: JsonLogic, data: unknown) => unknown;
}

export interface TickOptions {
  readonly dryRun: boolean;
  /** Only these services (and what they depend on) are probed and healed. */
  readonly only?: readonly string[];
  /** Heal these even when the budget refuses (manual `heal --force`). */
  readonly force?: readonly string[];
  /** Who asked for the forced heals (recorded in their heal records). */
  readonly forcedBy?: string;
  /** Ad-hoc silences from state, in addition to the rules' silences. */
  readonly extraSilences?: readonly Silence[];
  /** The alert outbox from state (queued notifications, channel breakers); the result carries the new one. */
  readonly outbox?: OutboxState;
}

export interface ServiceReport {
  readonly id: string;
  readonly title: string;
  readonly target: string;
  readonly status: ServiceFacts["status"];
  readonly detail: string;
  readonly latencyMs: number;
  readonly breaker: ServiceFacts["breaker"];
  readonly heal: {
    readonly outcome: ServiceFacts["heal"]["outcome"];
    readonly reason: string;
    readonly budgetLeft: number;
    readonly steps: readonly StepReport[];
    readonly nextAllowedAt?: number;
  };
  readonly blockedBy: readonly string[];
  /** What the first probe of the tick saw when it failed (the reason a heal ran). */
  readonly detected?: string;
}

export interface TickReport {
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly dryRun: boolean;
  readonly timedOut: boolean;
  readonly services: readonly ServiceReport[];
  readonly healed: number;
  readonly failed: number;
  readonly alerts: readonly AlertIntent[];
  readonly deliveries: readonly Delivery[];
}

export async function runTick(
  config: Config,
  initial: UpkeepState,
  deps: TickDeps,
  options: TickOptions,
): Promise<{ state: UpkeepState; report: TickReport; outbox: OutboxState }> {
  const startedAt = deps.clock.now();
  const tick = deadlineSignal(undefined, config.runtime.tickTimeoutMs, "tick timeout");
  // Every probe or heal in flight listens on it (at most `concurrency` at once): not a leak.
  setMaxListeners(config.runtime.concurrency + 10, tick.signal);
  const limit = pLimit(config.runtime.concurrency);
  const selected = selectServices(config, options.only);
  const byId = new Map(config.services.map((s) => [s.id, s]));
  let state = initial;
  const silences = [...config.alerts.silences, ...(options.extraSilences ?? [])];

  const probe = (service: ServiceConfig): Promise<Observation> =>
    limit(async () => toObservation(await probeService(service, deps, tick.signal), deps.clock.now()));

  try {
    const observations: Record<string, Observation> = {};
    await Promise.all(
      selected.map(async (s) => {
        observations[s.id] = await probe(s);
      }),
    );

    const firstFailures = new Map(
      Object.entries(observations)
        .filter(([, o]) => !o.ok)
        .map(([id, o]) => [id, o.detail]),
    );
    const heals: Record<string, HealReport> = {};
    const skipped: Record<string, { reason: string; nextAllowedAt?: number }> = {};
    let candidates: readonly string[] | undefined =
      options.only === undefined ? undefined : selected.map((s) => s.id);
    // Each wave heals services whose dependencies are up; bounded by the depth of the dependency graph.
    for (let wave = 0; wave <= config.services.length && !tick.signal.aborted; wave += 1) {
      const plan = planHeals(config, state, observations, deps.clock.now(), {
        silences,
        ...(candidates === undefined ? {} : { only: candidates }),
        ...(options.force === undefined ? {} : { force: options.force }),
      });
      for (const [id, why] of Object.entries(plan.skipped)) if (heals[id] === undefined) skipped[id] = why;
      const intents = plan.heals.filter((h) => heals[h.serviceId] === undefined);
      if (intents.length === 0) break;
      await Promise.all(
        intents.map((intent) =>
          limit(async () => {
            const service = byId.get(intent.serviceId);
            if (service === undefined) return;
            delete skipped[service.id];
            deps.logger.info(
              { service: service.id, trial: intent.trial, forced: intent.forced },
              `healing ${service.id}`,
            );
            const report = await runHeal(
              service,
              healDeps(service, deps, observations, state, options),
              tick.signal,
            );
            heals[service.id] = report;
            if (!options.dryRun) {
              state = applyHealResult(
                config,
                state,
                service.id,
                {
                  ok: report.ok,
                  startedAt: report.startedAt,
                  finishedAt: report.finishedAt,
                  forced: intent.forced,
                  ...(intent.forced && options.forcedBy !== undefined ? { by: options.forcedBy } : {}),
                },
                deps.clock.now(),
              );
            }
            deps.logger.info(
              { service: service.id, ok: report.ok, detail: report.detail },
              `heal ${report.ok ? "succeeded" : "failed"}`,
            );
          }),
        ),
      );
      // A healed service's final observation is what its verify saw, or a fresh probe.
      const healedNow = intents.map((i) => i.serviceId).filter((id) => heals[id] !== undefined);
      await Promise.all(
        healedNow.map(async (id) => {
          const report = heals[id] as HealReport;
          const service = byId.get(id) as ServiceConfig;
          observations[id] =
            report.verified !== undefined && !options.dryRun
              ? toObservation(report.verified, report.finishedAt)
              : options.dryRun
                ? (observations[id] as Observation)
                : await probe(service);
        }),
      );
      const recovered = new Set(healedNow.filter((id) => observations[id]?.ok === true));
      const dependents = selected.filter(
        (s) => s.dependsOn.some((d) => recovered.has(d)) && observations[s.id]?.ok === false,
      );
      await Promise.all(
        dependents.map(async (s) => {
          observations[s.id] = await probe(s);
        }),
      );
      candidates = dependents.map((s) => s.id);
      if (candidates.length === 0) break;
    }

    const healOutcomes: Record<
      string,
      { outcome: "healed" | "failed" | "refused" | "skipped"; reason: string }
    > = {};
    for (const [id, report] of Object.entries(heals)) {
      healOutcomes[id] = report.dryRun
        ? { outcome: "skipped", reason: "dry run" }
        : { outcome: report.ok ? "healed" : "failed", reason: report.detail };
    }
    for (const [id, why] of Object.entries(skipped)) {
      if (healOutcomes[id] !== undefined || observations[id]?.ok !== false) continue;
      const refused = why.reason === "cooldown" || why.reason === "budget" || why.reason === "breaker-open";
      healOutcomes[id] = { outcome: refused ? "refused" : "skipped", reason: why.reason };
    }

    const finished = finishTick(config, state, observations, healOutcomes, deps.clock.now(), {
      silences,
      evaluate: deps.evaluate,
    });
    state = finished.state;
    for (const [id, decisions] of Object.entries(finished.breakerDecisions)) {
      for (const decision of decisions)
        deps.logger.info({ service: id, breaker: decision }, `breaker ${decision.type}`);
    }

    // Alerts matter most when a tick ran out of time (everything hanging), so delivery gets its own short
    // budget instead of the tick's spent signal; it is what a tick may overrun its timeout by.
    const delivery = deadlineSignal(undefined, ALERT_GRACE_MS, "alert delivery");
    const { deliveries, outbox } = await deliverAlerts(config, finished.alerts, finished.facts, deps, {
      dryRun: options.dryRun,
      signal: tick.signal.aborted ? delivery.signal : tick.signal,
      ...(options.outbox === undefined ? {} : { outbox: options.outbox }),
    }).finally(() => delivery.dispose());

    const services = selected.map((s) =>
      serviceReport(
        s,
        finished.facts[s.id],
        observations[s.id],
        heals[s.id],
        skipped[s.id],
        firstFailures.get(s.id),
      ),
    );
    const report: TickReport = {
      startedAt,
      finishedAt: deps.clock.now(),
      dryRun: options.dryRun,
      timedOut: tick.signal.aborted,
      services,
      healed: services.filter((s) => s.heal.outcome === "healed").length,
      failed: services.filter((s) => s.status !== "up").length,
      alerts: finished.alerts,
      deliveries,
    };
    return { state, report, outbox };
  } finally {
    tick.dispose();
  }
}

/** The selected services plus everything they depend on (needed to judge "blocked"). */
function selectServices(config: Config, only: readonly string[] | undefined): ServiceConfig[] {
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

function toObservation(result: ProbeResult, at: number): Observation {
  return {
    ok: result.ok,
    latencyMs: result.latencyMs,
    detail: result.detail,
    at,
    ...(result.facts === undefined ? {} : { facts: { ...result.facts } }),
  };
}

function healDeps(
  service: ServiceConfig,
  deps: TickDeps,
  observations: Record<string, Observation>,
  state: UpkeepState,
  options: TickOptions,
): Parameters<typeof runHeal>[1] {
  const observation = observations[service.id];
  const tracked = state.services.services[service.id];
  const now = deps.clock.now();
  // A step's `when` may read every fact an alert rule can (validate allows them all), as of now.
  const breaker = canAttempt(
    service.breaker,
    own(state.breakers.breakers, service.id) ?? emptyBreaker(),
    now,
  );
  const budgetLeft = checkHeal(service.heal, own(state.heals.heals, service.id), now).budgetLeft;
  return {
    clock: deps.clock,
    logger: deps.logger,
    settings: deps.settings,
    env: deps.env,
    redactor: deps.redactor,
    getHandler: deps.getHandler,
    probe: async (signal) => probeService(service, deps, signal),
    facts: {
      service: { id: service.id, title: service.title, tags: service.tags },
      status: observation?.ok === true ? "up" : "down",
      detail: observation?.detail ?? "",
      latencyMs: observation?.latencyMs ?? 0,
      consecutiveFailures: (tracked?.consecutiveFailures ?? 0) + (observation?.ok === false ? 1 : 0),
      consecutiveSuccesses: 0,
      since: tracked !== undefined && tracked.lastStatus !== "up" ? tracked.since : now,
      breaker: breaker.state,
      heal: { outcome: "none", reason: "", budgetLeft },
      blockedBy: [],
      probe: observation?.facts ?? {},
    },
    evaluate: deps.evaluate,
    dryRun: options.dryRun,
  };
}

function serviceReport(
  service: ServiceConfig,
  facts: ServiceFacts | undefined,
  observation: Observation | undefined,
  heal: HealReport | undefined,
  skipped: { reason: string; nextAllowedAt?: number } | undefined,
  detected: string | undefined,
): ServiceReport {
  return {
    id: service.id,
    title: service.title,
    target: probeTarget(service),
    status: facts?.status ?? (observation?.ok === true ? "up" : "down"),
    detail: observation?.detail ?? "",
    latencyMs: observation?.latencyMs ?? 0,
    breaker: facts?.breaker ?? "CLOSED",
    heal: {
      outcome: facts?.heal.outcome ?? "none",
      reason: facts?.heal.reason ?? "",
      budgetLeft: facts?.heal.budgetLeft ?? 0,
      steps: heal?.steps ?? [],
      ...(skipped?.nextAllowedAt === undefined ? {} : { nextAllowedAt: skipped.nextAllowedAt }),
    },
    blockedBy: facts?.blockedBy ?? [],
    ...(detected === undefined ? {} : { detected }),
  };
}
