/**
 * The imperative shell around one tick: take the lock, read the state files, run the tick, write the
 * state files atomically, release the lock. A dry run takes no lock and writes nothing.
 */
import { userInfo } from "node:os";
import type { HandlerSettings } from "../actions/types.js";
import type { Config } from "../config/model.js";
import { emptyState, type UpkeepState } from "../core/state.js";
import type { Clock } from "./clock.js";
import { acquireLock } from "./lock.js";
import type { RuntimeLogger } from "./logger.js";
import { loadOutbox, saveOutbox } from "./outbox.js";
import { redactText, redactValue, type Redactor } from "./redact.js";
import { adHocSilences } from "./silences.js";
import { assertStateDirWritable } from "./state-dir-check.js";
import { loadState, saveState } from "./state-files.js";
import { runTick, type TickDeps, type TickReport } from "./tick.js";
import type { TickTrigger } from "../history/events.js";

export interface SessionDeps {
  readonly clock: Clock;
  readonly logger: RuntimeLogger;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly redactor: Redactor;
}

export interface SessionOptions {
  readonly dryRun: boolean;
  readonly only?: readonly string[];
  readonly force?: readonly string[];
  /** Who forced the heals in `force` (recorded in their heal records). */
  readonly by?: string;
  /** What started the tick, for the history (default `run`). */
  readonly trigger?: TickTrigger;
  /** The time between ticks this tick belongs to (`watch --interval`; default runtime.interval). */
  readonly intervalMs?: number;
}

export function handlerSettings(config: Config): HandlerSettings {
  return {
    launchctlPath: config.runtime.launchctlPath,
    systemctlPath: config.runtime.systemctlPath,
    uid: safeUid(),
    intervalMs: config.runtime.intervalMs,
  };
}

function safeUid(): number {
  try {
    return userInfo().uid;
  } catch {
    return process.getuid?.() ?? 0;
  }
}

export async function tickDeps(config: Config, deps: SessionDeps): Promise<TickDeps> {
  const [{ getHandler }, { evaluateLogic }] = await Promise.all([
    import("../actions/registry.js"),
    import("../config/logic.js"),
  ]);
  return {
    ...deps,
    settings: handlerSettings(config),
    getHandler,
    evaluate: evaluateLogic,
  };
}

export async function runSession(
  config: Config,
  deps: SessionDeps,
  options: SessionOptions,
): Promise<{ report: TickReport; state: UpkeepState }> {
  const stateDir = config.runtime.stateDir;
  const release = options.dryRun
    ? undefined
    : await acquireLock(stateDir, {
        owner: "upkeep run",
        // A live tick never outlives its timeout, so a lock older than that (with margin) is abandoned.
        staleMs: Math.max(config.runtime.tickTimeoutMs * 2, 15 * 60_000),
      });
  try {
    // Before any probe, heal or alert: limits that cannot be recorded do not limit anything.
    if (!options.dryRun) await assertStateDirWritable(stateDir);
    const [loaded, outbox, extraSilences, handlers] = await Promise.all([
      loadState(stateDir, { logger: deps.logger, readOnly: options.dryRun }),
      loadOutbox(stateDir, { logger: deps.logger, readOnly: options.dryRun }),
      adHocSilences(stateDir, {
        logger: deps.logger,
        now: deps.clock.now(),
        warn: (message) => process.stderr.write(`upkeep: warning: ${message}\n`),
      }),
      tickDeps(config, deps),
    ]);
    const {
      state,
      report,
      outbox: nextOutbox,
    } = await runTick(config, loaded.state, handlers, {
      dryRun: options.dryRun,
      ...(options.only === undefined ? {} : { only: options.only }),
      ...(options.force === undefined ? {} : { force: options.force }),
      ...(options.by === undefined ? {} : { forcedBy: options.by }),
      outbox,
      extraSilences,
    });
    if (!options.dryRun) {
      // The outbox first: if writing the rest fails, a notice recomputed with the same id is not resent.
      await saveOutbox(stateDir, nextOutbox, deps.redactor);
      await saveState(stateDir, state);
      await recordHistory(config, deps, report, loaded.state, options);
      if (config.runtime.metricsFile !== undefined) {
        const { writeMetrics } = await import("./metrics.js");
        await writeMetrics(config, state, report, deps.logger);
      }
      // Last, so a slow monitor delays nothing else; bounded by its own timeout and never throws.
      if (config.runtime.heartbeat !== undefined) {
        const { heartbeatAfterTick } = await import("./heartbeat.js");
        await heartbeatAfterTick(config, report, { ...deps, now: () => deps.clock.now() });
      }
    }
    return { report, state };
  } finally {
    await release?.();
  }
}

/**
 * The history is a record, not a gate: a history that cannot be written is logged and the tick's
 * decisions (already saved) stand.
 */
async function recordHistory(
  config: Config,
  deps: SessionDeps,
  report: TickReport,
  before: UpkeepState,
  options: SessionOptions,
): Promise<void> {
  const { history } = config.runtime;
  if (!history.enabled) return;
  try {
    const [{ tickEvents }, { recordTick, historySettings }] = await Promise.all([
      import("../history/record.js"),
      import("./history-store.js"),
    ]);
    const events = redactValue(
      tickEvents(report, before, {
        trigger: options.trigger ?? "run",
        intervalMs: options.intervalMs ?? config.runtime.intervalMs,
        ...(options.by === undefined ? {} : { by: options.by }),
        ...(options.trigger === "heal" && options.only?.[0] !== undefined
          ? { healOf: { service: options.only[0], forced: (options.force?.length ?? 0) > 0 } }
          : {}),
      }),
    );
    await recordTick(historySettings(config), events, report.startedAt, deps.logger);
  } catch (error) {
    deps.logger.error(
      {
        err: redactText(error instanceof Error ? error.message : String(error)),
        file: history.file,
      },
      "history: could not record this tick",
    );
  }
}

export { emptyState };
