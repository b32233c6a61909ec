/**
 * The heal model as rule tests (README "The heal model"): heal.after, heals whose steps were all
 * skipped, transitive re-probe in a chain a <- b <- c, a blocked service keeping its firing alert, and a
 * level's resolveAfter. The shipped rules have no dependencies, so these run against their own rules in
 * test/fixtures/rules/heal-model, through `upkeep test` as a user runs it.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadRules } from "../../src/config/validate.js";
import type { ServiceFacts } from "../../src/core/facts.js";
import { alertText } from "../../src/runtime/alert-text.js";
import { SHIPPED_RULES, upkeep } from "./helpers.js";

const RULES = fileURLToPath(new URL("../fixtures/rules/heal-model/", import.meta.url));

interface TestRunJson {
  ok: boolean;
  files: {
    file: string;
    diagnostics: unknown[];
    tests: { name: string; passed: boolean; failures: unknown[] }[];
  }[];
}

describe("the heal model's rule tests (upkeep test)", () => {
  it("all pass against their rules", async () => {
    const { code, stdout, stderr } = await upkeep("test", "--rules", RULES, "--format", "json");
    expect(stderr).toBe("");
    const run = JSON.parse(stdout) as TestRunJson;
    const failed = run.files.flatMap((f) => f.tests.filter((t) => !t.passed).map((t) => [f.file, t]));
    expect(failed, JSON.stringify(failed, null, 1)).toEqual([]);
    expect(run.files.flatMap((f) => f.diagnostics)).toEqual([]);
    expect(run.ok).toBe(true);
    expect(code).toBe(0);
    const names = (file: string) =>
      run.files.find((f) => f.file.endsWith(`/tests/${file}`))?.tests.map((t) => t.name);
    expect(names("after.test.yaml")).toEqual([
      "waits-for-2-failed-checks-and-uses-nothing-meanwhile",
      "one-failed-check-is-never-healed",
    ]);
    expect(names("no-step-ran.test.yaml")).toEqual([
      "a-heal-whose-steps-never-run-uses-nothing",
      "the-first-heal-whose-steps-run-counts",
    ]);
    expect(names("dependencies.test.yaml")).toEqual([
      "a-heal-re-probes-the-whole-chain",
      "still-down-after-the-re-probe-is-healed-in-the-next-wave",
      "blocked-while-the-root-stays-down",
    ]);
    expect(names("alerts.test.yaml")).toEqual([
      "a-blocked-service-keeps-its-firing-alert",
      "it-resolves-when-the-service-is-up-once-unblocked",
      "resolve-after-2-ticks-without-a-match",
    ]);
  });

  it("the text report names each test, as `upkeep test` prints it", async () => {
    const { code, stdout } = await upkeep("test", "--rules", RULES);
    expect(code).toBe(0);
    expect(stdout).toMatch(/PASS .*tests\/dependencies\.test\.yaml > a-heal-re-probes-the-whole-chain/);
    expect(stdout).toMatch(/10 tests: 10 passed, 0 failed \(4 files, \d+ simulated ticks\)/);
  });
});

describe("the shipped healing-gave-up notice", () => {
  const T0 = Date.parse("2026-01-05T00:00:00Z");
  const facts = (heal: Partial<ServiceFacts["heal"]>): ServiceFacts => ({
    service: { id: "boss-api", title: "Boss API", tags: [] },
    status: "down",
    detail: "simulated: down",
    latencyMs: 0,
    consecutiveFailures: 2,
    consecutiveSuccesses: 0,
    since: T0,
    breaker: "OPEN",
    gaveUp: true,
    flapping: false,
    outages: 1,
    heal: {
      outcome: "failed",
      reason: "verify failed",
      refusedBy: [],
      forced: false,
      nextAllowedAt: T0 + 60_000,
      budgetLeft: 2,
      failedInRow: 1,
      failedSince: T0,
      ...heal,
    },
    blockedBy: [],
  });

  it("reads right for one failed heal and for an isolated breaker (no next heal until reset)", async () => {
    const { config } = await loadRules(SHIPPED_RULES, { env: {} });
    const rule = config?.alerts.rules.find((r) => r.id === "healing-gave-up");
    const ctx = { serviceId: "boss-api", since: T0, now: T0 };
    expect(alertText("firing", "CRITICAL", rule, facts({}), ctx)).toBe(
      "[CRITICAL] upkeep gave up on Boss API: failed heals in a row: 1, since 2026-01-05T00:00:00Z; " +
        "next heal allowed: 2026-01-05T00:01:00Z, or run `upkeep breaker reset boss-api` once it is fixed",
    );
    expect(
      alertText("reminder", "CRITICAL", rule, facts({ failedInRow: 5, nextAllowedAt: null }), {
        ...ctx,
        count: 2,
      }),
    ).toBe(
      "[CRITICAL] (reminder 1) upkeep gave up on Boss API: failed heals in a row: 5, since 2026-01-05T00:00:00Z; " +
        "next heal allowed: never, or run `upkeep breaker reset boss-api` once it is fixed",
    );
  });
});
