/**
 * The step interpreter: steps run in order, each bounded by its own timeout and all of them by the heal
 * timeout, and the outcome is what the final verify saw. Test steps are registered in the real registry.
 */
import { afterEach, describe, expect, it } from "vitest";
import { getHandler, registerHandler } from "../../src/actions/registry.js";
import type { Handler, ProbeResult, StepResult } from "../../src/actions/types.js";
import type { StepSpec } from "../../src/config/model.js";
import { evaluateLogic } from "../../src/config/logic.js";
import { systemClock } from "../../src/runtime/clock.js";
import { runHeal, type HealDeps, type HealReport } from "../../src/runtime/interpreter.js";
import { createRedactor } from "../../src/runtime/redact.js";
import { service } from "../core/config-fixture.js";
import { memoryLogger, never, settings } from "../actions/helpers.js";

const unregister: (() => void)[] = [];
afterEach(() => {
  for (const off of unregister.splice(0)) off();
});

let events: string[] = [];

function step(
  name: string,
  run: (params: Record<string, unknown>, signal: AbortSignal) => Promise<StepResult>,
): void {
  const handler: Handler = {
    name,
    kind: "step",
    description: "test step",
    schema: { type: "object" },
    sideEffects: "local",
    describe: (params) => `${name} ${String(params.id ?? "")}`.trim(),
    run: (_ctx, params, signal) => run(params, signal),
  };
  unregister.push(registerHandler(handler));
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

function registerSteps(): void {
  events = [];
  step("t.record", async (params) => {
    events.push(`run:${String(params.id)}`);
    return { ok: true, detail: `recorded ${String(params.id)}` };
  });
  step("t.fail", async (params) => {
    events.push(`run:${String(params.id)}`);
    return { ok: false, detail: "t.fail failed" };
  });
  // Honours its signal: ends as soon as it aborts.
  step("t.block", async (params, signal) => {
    events.push(`run:${String(params.id)}`);
    await untilAborted(signal);
    return { ok: false, detail: "stopped" };
  });
  // Ignores its signal: never settles.
  step("t.ignore", (params) => {
    events.push(`run:${String(params.id)}`);
    return new Promise<StepResult>(() => undefined);
  });
}

const source = { file: "test.yaml", pointer: "" };

function spec(action: string, extra: Partial<StepSpec> = {}): StepSpec {
  return { name: extra.name ?? action, action, with: {}, continueOnError: false, source, ...extra };
}

const withId = (action: string, id: string, extra: Partial<StepSpec> = {}): StepSpec =>
  spec(action, { name: id, with: { id }, ...extra });

/** Probe results in order; the last one repeats. */
function probes(...results: boolean[]): (signal: AbortSignal) => Promise<ProbeResult> {
  let i = 0;
  return async () => {
    const ok = results[Math.min(i, results.length - 1)] === true;
    i += 1;
    events.push(`probe:${ok ? "up" : "down"}`);
    return { ok, latencyMs: 1, detail: ok ? "answers" : "refused" };
  };
}

function deps(overrides: Partial<HealDeps> = {}): HealDeps {
  return {
    clock: systemClock,
    logger: memoryLogger(),
    settings,
    env: {},
    redactor: createRedactor(),
    getHandler,
    probe: probes(true),
    facts: { status: "down", consecutiveFailures: 1 },
    evaluate: (expr, data) => evaluateLogic(expr, data),
    dryRun: false,
    ...overrides,
  };
}

function heal(steps: StepSpec[], healTimeoutMs = 60_000, d: HealDeps = deps()): Promise<HealReport> {
  return runHeal(service("svc", { heal: { steps, timeoutMs: healTimeoutMs } }), d, never());
}

const verify = (extra: Partial<StepSpec> = {}): StepSpec =>
  spec("verify", { timeoutMs: 1000, with: { interval: "10ms", maxInterval: "20ms" }, ...extra });

describe("runHeal", () => {
  it("runs the steps in their listed order and reports each one", async () => {
    registerSteps();
    const report = await heal([
      withId("t.record", "one"),
      withId("t.record", "two"),
      withId("t.record", "three"),
      verify(),
    ]);
    expect(events).toEqual(["run:one", "run:two", "run:three", "probe:up"]);
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ["one", "ok"],
      ["two", "ok"],
      ["three", "ok"],
      ["verify", "ok"],
    ]);
    expect(report.steps[0]?.description).toBe("t.record one");
    expect(report).toMatchObject({ ok: true, detail: "healed", dryRun: false });
    expect(report.verified?.ok).toBe(true);
  });

  it("stops at the first failed step unless it has continueOnError", async () => {
    registerSteps();
    const stopped = await heal([withId("t.fail", "bad"), withId("t.record", "after"), verify()]);
    expect(events).toEqual(["run:bad"]);
    expect(stopped).toMatchObject({ ok: false, detail: "bad: t.fail failed" });
    expect(stopped.steps).toHaveLength(1);

    events = [];
    const tolerated = await heal([
      withId("t.fail", "bad", { continueOnError: true }),
      withId("t.record", "after"),
      verify(),
    ]);
    expect(events).toEqual(["run:bad", "run:after", "probe:up"]);
    expect(tolerated.ok).toBe(true);
  });

  it("ends a step at its own timeout and does not run the steps after it", async () => {
    registerSteps();
    const report = await heal([withId("t.block", "slow", { timeoutMs: 100 }), withId("t.record", "after")]);
    expect(events).toEqual(["run:slow"]);
    expect(report.ok).toBe(false);
    expect(report.steps[0]).toMatchObject({ status: "failed" });
    expect(report.steps[0]?.detail).toContain("step timeout after 100 ms");
  });

  it("abandons a step that ignores its timeout, so the heal still ends", async () => {
    registerSteps();
    const report = await heal([withId("t.ignore", "deaf", { timeoutMs: 100 }), withId("t.record", "after")]);
    expect(events).toEqual(["run:deaf"]);
    expect(report.ok).toBe(false);
    expect(report.steps[0]?.detail).toContain("step timeout after 100 ms");
  });

  it("bounds the whole heal by the heal timeout, whatever the steps' own timeouts", async () => {
    registerSteps();
    const report = await heal(
      [withId("t.block", "first", { timeoutMs: 60_000 }), withId("t.record", "second"), verify()],
      150,
    );
    expect(events).toEqual(["run:first"]);
    expect(report.ok).toBe(false);
    expect(report.steps).toHaveLength(1);
    expect(report.steps[0]?.detail).toContain("heal timeout after 150 ms");
    expect(report.detail).toContain("heal timeout");
  });

  it("a step after a continueOnError step that hit the heal timeout is not started", async () => {
    registerSteps();
    const report = await heal(
      [withId("t.block", "first", { continueOnError: true }), withId("t.record", "second")],
      150,
    );
    expect(events).toEqual(["run:first"]);
    expect(report.steps.map((s) => s.status)).toEqual(["failed", "failed"]);
    expect(report.steps[1]?.detail).toContain("not started");
    expect(report.ok).toBe(false);
  });

  it("decides the outcome by the final verify: a failed first verify is overruled by a passing last one", async () => {
    registerSteps();
    const report = await heal(
      [
        verify({ name: "early", timeoutMs: 100, continueOnError: true }),
        withId("t.record", "fix"),
        verify({ name: "final" }),
      ],
      60_000,
      // Down while "early" verifies (until its timeout), up from the probe after the fix.
      deps({ probe: probesUntilFixed() }),
    );
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ["early", "failed"],
      ["fix", "ok"],
      ["final", "ok"],
    ]);
    expect(report.ok).toBe(true);
    expect(report.verified?.ok).toBe(true);
  });

  it("decides the outcome by the final verify: a passing first verify does not save a failing last one", async () => {
    registerSteps();
    const report = await heal(
      [
        verify({ name: "early" }),
        withId("t.record", "break"),
        verify({ name: "final", timeoutMs: 100, continueOnError: true }),
      ],
      60_000,
      deps({ probe: probes(true, false) }),
    );
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ["early", "ok"],
      ["break", "ok"],
      ["final", "failed"],
    ]);
    expect(report.ok).toBe(false);
    expect(report.detail).toMatch(/^verify failed: /);
    expect(report.verified?.ok).toBe(false);
  });

  it("skips a step whose `when` is false over the facts", async () => {
    registerSteps();
    const report = await heal([
      withId("t.record", "if-up", { when: { "==": [{ var: "status" }, "up"] } }),
      withId("t.record", "if-failing", { when: { ">=": [{ var: "consecutiveFailures" }, 1] } }),
    ]);
    expect(events).toEqual(["run:if-failing"]);
    expect(report.steps.map((s) => s.status)).toEqual(["skipped", "ok"]);
    expect(report.ok).toBe(true);
  });

  it("in a dry run describes every step and runs none, not even wait or verify", async () => {
    registerSteps();
    const report = await heal(
      [withId("t.record", "one"), spec("wait", { with: { for: "1h" } }), verify()],
      60_000,
      deps({ dryRun: true }),
    );
    expect(events).toEqual([]);
    expect(report.steps.map((s) => [s.status, s.detail])).toEqual([
      ["planned", "would run: t.record one"],
      ["planned", "would run: wait 1h"],
      ["planned", expect.stringMatching(/^would run: verify/)],
    ]);
    expect(report).toMatchObject({ ok: false, dryRun: true });
  });

  it("fails a step whose handler is unknown or whose ${env:..} is unset, without running it", async () => {
    registerSteps();
    const unknown = await heal([spec("t.nope")]);
    expect(unknown.steps[0]).toMatchObject({ status: "failed", detail: 'no step handler named "t.nope"' });
    const missing = await heal([spec("t.record", { with: { id: "${env:UPKEEP_TEST_UNSET}" } })]);
    expect(events).toEqual([]);
    expect(missing.steps[0]?.detail).toContain("UPKEEP_TEST_UNSET");
    expect(missing.ok).toBe(false);
  });
});

/** Down until a `t.record fix` step has run, up after. */
function probesUntilFixed(): (signal: AbortSignal) => Promise<ProbeResult> {
  return async () => {
    const ok = events.includes("run:fix");
    events.push(`probe:${ok ? "up" : "down"}`);
    return { ok, latencyMs: 1, detail: ok ? "answers" : "refused" };
  };
}
