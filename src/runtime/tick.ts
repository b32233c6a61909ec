/**
 * One tick: probe every service in parallel, let the pure core decide, heal in dependency order
 * (re-probing dependents after a dependency is healed), verify, decide alerts, deliver them.
 * State comes in and goes out as a value; locking and persistence live in session.ts.
 */
import { setMaxListeners } from "node:events";
import type { Handler, HandlerKind, HandlerSettings, ProbeResult } from "../actions/types.js";
import type { Config, JsonLogic, ServiceConfig, Silence } from "../config/model.js";
import type { HealIntent, Observation, Skip } from "../core/decide.js";
import type { ServiceFacts } from "../core/facts.js";
import type { UpkeepState } from "../core/state.js";
import type { HealBreakerDecision } from "../core/heal-breaker.js";
import { dataRecord, runTickFlow, type HealRun, type TickOps } from "../core/tick-flow.js";
import type { AlertIntent, MutedNotice } from "../core/alerts.js";
import type { Clock } from "./clock.js";
import { deadlineSignal } from "./deadline.js";
import { limiter } from "./limit.js";
import { deliverAlerts, type Delivery } from "./deliver.js";
import type { OutboxState } from "./outbox.js";
import { runHeal, type HealReport, type StepReport } from "./interpreter.js";
import type { RuntimeLogger } from "./logger.js";
import { probeService, probeTarget } from "./probe-runner.js";
import { memoize } from "../core/memo.js";
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
  readonly heal: {
    readonly outcome: ServiceFacts["heal"]["outcome"];
    readonly reason: string;
    readonly budgetLeft: number;
    readonly steps: readonly StepReport[];
    /** When every gate lets a heal through (refused heals with a known end). */
    readonly nextAllowedAt?: number;
    /** Every gate that refused, with when it alone would let a heal through (null: no end). */
    readonly refusedBy?: readonly {
      readonly gate: string;
      readonly until: number | null;
      /** For `breaker-open`: `gave-up` or `isolated`. */
      readonly why?: string;
    }[];
    /** A heal ran: when (real time), and how it was asked for. */
    readonly ran?: {
      readonly startedAt: number;
      readonly finishedAt: number;
      readonly trial: boolean;
      readonly forced: boolean;
    };
  };
  readonly breaker: ServiceFacts["breaker"];
  /** upkeep gave up after failed heals. */
  readonly gaveUp: boolean;
  readonly flapping: boolean;
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
  /** Notices a silence (or a down dependency) held back this tick: shown, never sent. */
  readonly muted: readonly MutedNotice[];
  readonly deliveries: readonly Delivery[];
  /** Breaker transitions and heal verdicts of the tick, per service. */
  readonly breakerDecisions: Readonly<Record<string, readonly HealBreakerDecision[]>>;
}

export async function runTick(
  config: Config,
  initial: UpkeepState,
  deps: TickDeps,
  options: TickOptions,
): Promise<{ state: UpkeepState; report: TickReport; outbox: OutboxState }> {
  // The tick's one instant: every gate, record and alert decision reads it (src/core/tick-flow.ts).
  const startedAt = deps.clock.now();
  const tick = deadlineSignal(undefined, config.runtime.tickTimeoutMs, "tick timeout");
  // Every probe or heal in flight listens on it (at most the two limits at once): not a leak.
  setMaxListeners(config.runtime.probeConcurrency + config.runtime.concurrency + 10, tick.signal);
  // Probes wait on sockets and children and cost little: their own, larger bound keeps a tick with
  // hung services near one probe timeout. Heals restart things: `concurrency` keeps them few.
  const probeLimit = limiter(config.runtime.probeConcurrency);
  const limit = limiter(config.runtime.concurrency);
  const silences = [...config.alerts.silences, ...(options.extraSilences ?? [])];
  const reports = new Map<string, HealReport>();

  // Plain promise chains, not async wrappers: thousands of probes per tick, each frame costs.
  const probeOne = (service: ServiceConfig): Promise<Observation> =>
    probeLimit(() =>
      probeService(service, deps, tick.signal).then((result) => toObservation(result, deps.clock.now())),
    );
  const ops: TickOps = {
    probe: async (services) => {
      const out = dataRecord<Observation>();
      await Promise.all(
        services.map((s) =>
          probeOne(s).then((observation) => {
            out[s.id] = observation;
          }),
        ),
      );
      return out;
    },
    heal: async (requests) => {
      const out = dataRecord<HealRun>();
      await Promise.all(
        requests.map((request) =>
          limit(async () => {
            const { service, intent } = request;
            deps.logger.info(
              { service: service.id, trial: intent.trial, forced: intent.forced, reason: intent.reason },
              `healing ${service.id}`,
            );
            const report = await runHeal(
              service,
              healDeps(service, deps, request.facts, options),
              tick.signal,
            );
            reports.set(service.id, report);
            const ran = report.steps.filter((s) => s.status === "ok" || s.status === "failed").length;
            out[service.id] = {
              ok: report.ok,
              ran,
              detail: report.detail,
              dryRun: report.dryRun,
              ...(report.verified === undefined
                ? {}
                : { verified: toObservation(report.verified, report.finishedAt) }),
            };
            deps.logger.info(
              { service: service.id, ok: report.ok, detail: report.detail, steps: ran },
              report.dryRun
                ? "heal planned"
                : ran === 0
                  ? "heal ran no step"
                  : `heal ${report.ok ? "succeeded" : "failed"}`,
            );
          }),
        ),
      );
      return out;
    },
    aborted: () => tick.signal.aborted,
  };

  try {
    const flow = await runTickFlow(config, initial, startedAt, ops, {
      dryRun: options.dryRun,
      silences,
      // Every alert rule is evaluated for every service, mostly on the same few inputs (status "up"):
      // the memo `upkeep test` uses gives the same results (src/core/memo.ts) for a fifth of a tick.
      evaluate: memoize(deps.evaluate),
      ...(options.only === undefined ? {} : { only: options.only }),
      ...(options.force === undefined ? {} : { force: options.force }),
      ...(options.forcedBy === undefined ? {} : { forcedBy: options.forcedBy }),
    });
    for (const [id, decisions] of Object.entries(flow.breakerDecisions)) {
      for (const decision of decisions)
        deps.logger.info({ service: id, breaker: decision }, `breaker ${decision.type}`);
    }

    // Alerts matter most when a tick ran out of time (everything hanging), so delivery gets its own short
    // budget instead of the tick's spent signal; it is what a tick may overrun its timeout by.
    const delivery = deadlineSignal(undefined, ALERT_GRACE_MS, "alert delivery");
    const { deliveries, outbox } = await deliverAlerts(config, flow.alerts, flow.facts, deps, {
      dryRun: options.dryRun,
      signal: tick.signal.aborted ? delivery.signal : tick.signal,
      ...(options.outbox === undefined ? {} : { outbox: options.outbox }),
      alerts: flow.state.alerts,
    }).finally(() => delivery.dispose());

    const services = flow.selected.map((s) => {
      const first = flow.first[s.id];
      return serviceReport(
        s,
        flow.facts[s.id],
        flow.observations[s.id],
        reports.get(s.id),
        flow.heals.get(s.id)?.intent,
        flow.skipped[s.id],
        first !== undefined && !first.ok ? first.detail : undefined,
      );
    });
    const report: TickReport = {
      startedAt,
      finishedAt: deps.clock.now(),
      dryRun: options.dryRun,
      timedOut: tick.signal.aborted,
      services,
      // Healed = a heal brought it back: steps that all succeeded while the probe still fails do not count.
      healed: services.filter((s) => s.heal.outcome === "healed" && s.status === "up").length,
      failed: services.filter((s) => s.status !== "up").length,
      alerts: flow.alerts,
      muted: flow.muted,
      deliveries,
      breakerDecisions: flow.breakerDecisions,
    };
    return { state: flow.state, report, outbox };
  } finally {
    tick.dispose();
  }
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
  facts: Readonly<Record<string, unknown>>,
  options: TickOptions,
): Parameters<typeof runHeal>[1] {
  return {
    clock: deps.clock,
    logger: deps.logger,
    settings: deps.settings,
    env: deps.env,
    redactor: deps.redactor,
    getHandler: deps.getHandler,
    probe: async (signal) => probeService(service, deps, signal),
    facts,
    evaluate: deps.evaluate,
    dryRun: options.dryRun,
  };
}

function serviceReport(
  service: ServiceConfig,
  facts: ServiceFacts | undefined,
  observation: Observation | undefined,
  heal: HealReport | undefined,
  intent: HealIntent | undefined,
  skipped: Skip | undefined,
  detected: string | undefined,
): ServiceReport {
  return {
    id: service.id,
    title: service.title,
    target: probeTarget(service),
    status: facts?.status ?? (observation?.ok === true ? "up" : "down"),
    detail: observation?.detail ?? "",
    latencyMs: observation?.latencyMs ?? 0,
    heal: {
      outcome: facts?.heal.outcome ?? "none",
      reason: facts?.heal.reason ?? "",
      budgetLeft: facts?.heal.budgetLeft ?? 0,
      steps: heal?.steps ?? [],
      ...(skipped?.nextAllowedAt === undefined ? {} : { nextAllowedAt: skipped.nextAllowedAt }),
      ...(skipped?.refusedBy === undefined
        ? {}
        : {
            refusedBy: skipped.refusedBy.map((r) => ({
              gate: r.gate,
              until: r.until,
              ...(r.why === undefined ? {} : { why: r.why }),
            })),
          }),
      ...(heal === undefined || heal.dryRun || intent === undefined
        ? {}
        : {
            ran: {
              startedAt: heal.startedAt,
              finishedAt: heal.finishedAt,
              trial: intent.trial,
              forced: intent.forced,
            },
          }),
    },
    breaker: facts?.breaker ?? "CLOSED",
    gaveUp: facts?.gaveUp ?? false,
    flapping: facts?.flapping ?? false,
    blockedBy: facts?.blockedBy ?? [],
    ...(detected === undefined ? {} : { detected }),
  };
}
