/**
 * The step interpreter: runs a service's heal steps in order. Each step may have a `when` condition
 * (json-logic over the tick's facts), its own timeout, and `continueOnError`; the whole heal is bounded by
 * the heal timeout. In a dry run every step is described, none is run. The heal succeeds when every
 * step that matters succeeded and the last `verify` (if any) passed.
 */
import type {
  Handler,
  HandlerKind,
  HandlerContext,
  HandlerSettings,
  Logger,
  ProbeResult,
  StepHandler,
  StepResult,
} from "../actions/types.js";
import type { JsonLogic, ServiceConfig, StepSpec } from "../config/model.js";
import type { Clock } from "./clock.js";
import { redactOutput, type Redactor } from "./redact.js";
import { resolveParams } from "./resolve.js";
import { deadlineSignal } from "./deadline.js";

export type StepStatus = "ok" | "failed" | "skipped" | "planned";

export interface StepReport {
  readonly name: string;
  readonly action: string;
  readonly status: StepStatus;
  readonly detail: string;
  /** Resolved command line / request, from the handler's describe(). */
  readonly description: string;
  readonly durationMs: number;
  readonly output?: string;
}

export interface HealReport {
  readonly serviceId: string;
  readonly ok: boolean;
  readonly dryRun: boolean;
  readonly steps: readonly StepReport[];
  readonly startedAt: number;
  readonly finishedAt: number;
  /** The last probe result a `verify` step saw. */
  readonly verified?: ProbeResult;
  readonly detail: string;
}

export interface HealDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: HandlerSettings;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly redactor: Redactor;
  readonly getHandler: (name: string, kind: HandlerKind) => Handler | undefined;
  /** Re-runs the service's probe (bounded by the probe timeout). */
  readonly probe: (signal: AbortSignal) => Promise<ProbeResult>;
  /** Facts `when` conditions read. */
  readonly facts: Readonly<Record<string, unknown>>;
  readonly evaluate: (expr: JsonLogic, data: unknown) => unknown;
  readonly dryRun: boolean;
}

/** Steps without their own timeout get this, so no step can run for the whole heal by accident. */
const DEFAULT_STEP_TIMEOUT_MS = 30_000;

export async function runHeal(
  service: ServiceConfig,
  deps: HealDeps,
  signal: AbortSignal,
): Promise<HealReport> {
  const startedAt = deps.clock.now();
  const heal = deadlineSignal(signal, service.heal.timeoutMs, "heal timeout");
  const reports: StepReport[] = [];
  let lastVerify: ProbeResult | undefined;
  let failed: string | undefined;
  try {
    for (const step of service.heal.steps) {
      if (failed !== undefined) break;
      const report = await runStep(service, step, deps, heal.signal, (r) => {
        lastVerify = r;
      });
      reports.push(report);
      deps.logger.info(
        {
          service: service.id,
          step: step.name,
          action: step.action,
          status: report.status,
          detail: report.detail,
        },
        `step ${step.name}: ${report.status}`,
      );
      if (report.status === "failed" && !step.continueOnError) failed = `${step.name}: ${report.detail}`;
    }
  } finally {
    heal.dispose();
  }
  const finishedAt = deps.clock.now();
  const verifySteps = service.heal.steps.filter((s) => s.action === "verify");
  const lastVerifyReport = [...reports].reverse().find((r) => r.action === "verify");
  const verifyOk = verifySteps.length === 0 || lastVerifyReport?.status === "ok";
  const ok = !deps.dryRun && failed === undefined && verifyOk;
  const detail = deps.dryRun
    ? "dry run: nothing was run"
    : (failed ?? (verifyOk ? "healed" : `verify failed: ${lastVerifyReport?.detail ?? "no verify ran"}`));
  return {
    serviceId: service.id,
    ok,
    dryRun: deps.dryRun,
    steps: reports,
    startedAt,
    finishedAt,
    detail,
    ...(lastVerify === undefined ? {} : { verified: lastVerify }),
  };
}

async function runStep(
  service: ServiceConfig,
  step: StepSpec,
  deps: HealDeps,
  signal: AbortSignal,
  onVerify: (r: ProbeResult) => void,
): Promise<StepReport> {
  const began = deps.clock.now();
  // A step's words enter upkeep here: a child given a secret through `env` can print it back.
  const done = (status: StepStatus, detail: string, description: string, output?: string): StepReport => ({
    name: step.name,
    action: step.action,
    status,
    detail: redactOutput(detail),
    description: redactOutput(description),
    durationMs: deps.clock.now() - began,
    ...(output === undefined ? {} : { output: redactOutput(output) }),
  });
  const handler = deps.getHandler(step.action, "step");
  if (handler === undefined || handler.kind !== "step") {
    return done("failed", `no step handler named "${step.action}"`, step.action);
  }
  const { value: params, missingEnv } = resolveParams(step.with, {
    service,
    env: deps.env,
    redactor: deps.redactor,
  });
  const description = safeDescribe(handler, params, deps, service);
  if (step.when !== undefined && !truthy(deps.evaluate(step.when, deps.facts))) {
    return done("skipped", "condition not met", description);
  }
  if (deps.dryRun) return done("planned", `would run: ${description}`, description);
  if (missingEnv.length > 0) {
    return done("failed", `environment variable(s) not set: ${missingEnv.join(", ")}`, description);
  }
  if (signal.aborted) return done("failed", `not started: ${reason(signal)}`, description);
  const stepSignal = deadlineSignal(signal, step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS, "step timeout");
  const probe = async (s: AbortSignal): Promise<ProbeResult> => {
    const result = await deps.probe(s);
    onVerify(result);
    return result;
  };
  const ctx: HandlerContext = {
    clock: deps.clock,
    logger: deps.logger,
    settings: deps.settings,
    service,
    probe,
    env: deps.env,
  };
  const abandon = abandonAfterAbort(stepSignal.signal);
  try {
    // A handler that ignores its signal must not hold the heal (and the tick) past its deadline.
    const result = await Promise.race([
      (handler as StepHandler).run(ctx, params as Record<string, unknown>, stepSignal.signal),
      abandon.result,
    ]);
    if (!result.ok && stepSignal.signal.aborted) {
      return done("failed", `${reason(stepSignal.signal)} (${result.detail})`, description, result.output);
    }
    return done(result.ok ? "ok" : "failed", result.detail, description, result.output);
  } catch (error) {
    const message = stepSignal.signal.aborted ? reason(stepSignal.signal) : errorMessage(error);
    return done("failed", message, description);
  } finally {
    abandon.dispose();
    stepSignal.dispose();
  }
}

/**
 * Resolves to a failure this long after the signal aborts. Well-behaved handlers settle first: the
 * process runner needs up to ~1 s (SIGTERM, grace, SIGKILL) to kill a tree, and that should finish.
 */
const ABANDON_AFTER_ABORT_MS = 2_000;

function abandonAfterAbort(signal: AbortSignal): { result: Promise<StepResult>; dispose(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = (): void => undefined;
  const result = new Promise<StepResult>((resolve) => {
    onAbort = () => {
      timer = setTimeout(
        () => resolve({ ok: false, detail: "did not stop when aborted; abandoned" }),
        ABANDON_AFTER_ABORT_MS,
      );
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  return {
    result,
    dispose: () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    },
  };
}

function safeDescribe(handler: Handler, params: unknown, deps: HealDeps, service: ServiceConfig): string {
  try {
    return (handler as StepHandler).describe(params as Record<string, unknown>, {
      settings: deps.settings,
      service,
    });
  } catch (error) {
    return `${handler.name} (${errorMessage(error)})`;
  }
}

function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return Boolean(value);
}

function reason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : typeof r === "string" ? r : "aborted";
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
