/**
 * A heal in a simulation: the interpreter's rules (src/runtime/interpreter.ts) with every handler replaced
 * by its describe(). Steps whose `when` does not hold are skipped; a `verify` step sees the probe result
 * the series gives for "later in this tick" (see simulate.ts); the first failing step ends the heal unless
 * it has `continueOnError`; the heal succeeds when no step failed and the last `verify` passed.
 */
import { homedir } from "node:os";
import type { Handler, HandlerSettings, StepHandler } from "../actions/types.js";
import type { JsonLogic, ServiceConfig } from "../config/model.js";
import { createRedactor } from "../runtime/redact.js";
import { resolveParams } from "../runtime/resolve.js";

export interface DescribedStep {
  readonly name: string;
  readonly action: string;
  /** The handler's describe() with resolved arguments; the home directory shown as `~`. */
  readonly description: string;
  readonly when?: JsonLogic;
  readonly continueOnError: boolean;
  /** False when no step handler has this name: the step fails, as it would in a real tick. */
  readonly known: boolean;
}

export interface SimulatedHeal {
  readonly ok: boolean;
  readonly trial: boolean;
  /** What the interpreter would report (`healed`, `verify: not passing: ...`). */
  readonly detail: string;
  /** The steps that ran, in order (not those skipped by `when` or never reached). */
  readonly steps: readonly DescribedStep[];
}

export type GetHandler = (name: string, kind: "step") => Handler | undefined;
export type Evaluate = (expr: JsonLogic, data: unknown) => unknown;

/**
 * Resolved once per service and test: `${{ service.* }}` from the service; `${env:NAME}` stays as written,
 * so no environment value (no secret) ever reaches a test report and results do not depend on the host.
 */
export function describeSteps(
  service: ServiceConfig,
  settings: HandlerSettings,
  getHandler: GetHandler,
): DescribedStep[] {
  const redactor = createRedactor();
  return service.heal.steps.map((step) => {
    const handler = getHandler(step.action, "step");
    const { value: params } = resolveParams(step.with, { service, env: {}, redactor });
    return {
      name: step.name,
      action: step.action,
      description:
        handler === undefined
          ? step.action
          : homeAsTilde(describe(handler as StepHandler, params, settings, service)),
      ...(step.when === undefined ? {} : { when: step.when }),
      continueOnError: step.continueOnError,
      known: handler !== undefined,
    };
  });
}

function describe(
  handler: StepHandler,
  params: Readonly<Record<string, unknown>>,
  settings: HandlerSettings,
  service: ServiceConfig,
): string {
  try {
    return handler.describe({ ...params }, { settings, service });
  } catch (error) {
    return `${handler.name} (${error instanceof Error ? error.message : String(error)})`;
  }
}

const HOME = homedir();

/** Descriptions must read the same on every machine: `/Users/ann/Library/...` becomes `~/Library/...`. */
export function homeAsTilde(text: string, home: string = HOME): string {
  if (home.length <= 1) return text;
  return text.split(home + "/").join("~/");
}

export interface HealInput {
  readonly steps: readonly DescribedStep[];
  readonly trial: boolean;
  /** What a probe later in this tick sees: the verify result. */
  readonly laterUp: boolean;
  /** `down(heal:fails)`: the heal fails even without a verify step. */
  readonly forcedFailure: boolean;
  /** Facts `when` conditions read (as the real tick builds them). */
  readonly facts: Readonly<Record<string, unknown>>;
  readonly evaluate: Evaluate;
}

export function simulateHeal(input: HealInput): SimulatedHeal {
  const ran: DescribedStep[] = [];
  let failed: string | undefined;
  let lastVerify: "ok" | "failed" | "skipped" | undefined;
  const lastIndex = lastRunnable(input);
  input.steps.forEach((step, index) => {
    if (failed !== undefined) return;
    const runs = step.when === undefined || truthy(input.evaluate(step.when, input.facts));
    if (!runs) {
      if (step.action === "verify") lastVerify = "skipped";
      return;
    }
    ran.push(step);
    let stepFailure: string | undefined;
    if (!step.known) stepFailure = `no step handler named "${step.action}"`;
    else if (step.action === "verify" && !input.laterUp) stepFailure = "not passing: simulated: down";
    else if (input.forcedFailure && index === lastIndex) stepFailure = "simulated failure (heal:fails)";
    if (step.action === "verify") lastVerify = stepFailure === undefined ? "ok" : "failed";
    if (stepFailure !== undefined && !step.continueOnError) failed = `${step.name}: ${stepFailure}`;
  });
  const hasVerify = input.steps.some((s) => s.action === "verify");
  const verifyOk = !hasVerify || lastVerify === "ok";
  const ok = failed === undefined && verifyOk;
  const detail = ok
    ? "healed"
    : (failed ?? `verify failed: ${lastVerify === "skipped" ? "skipped" : "not passing"}`);
  return { ok, trial: input.trial, detail, steps: ran };
}

/** The step that fails for `heal:fails`: the last one without a `when` (it surely runs), else the last one. */
function lastRunnable(input: HealInput): number {
  if (!input.forcedFailure) return -1;
  for (let i = input.steps.length - 1; i >= 0; i--) if (input.steps[i]?.when === undefined) return i;
  return input.steps.length - 1;
}

function truthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}
