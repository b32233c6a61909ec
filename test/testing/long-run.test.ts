/**
 * A thousand simulated days at the baseline 5 minute schedule (288,000 ticks) complete with the right
 * counts. How long it takes is measured by bench/rule-tests.bench.mjs, not asserted here.
 */
import { expect, it } from "vitest";
import { loadRules } from "../../src/config/validate.js";
import { runTestText } from "../../src/testing/runner.js";
import { SHIPPED_RULES } from "./helpers.js";

const THOUSAND_DAYS = `version: 1
interval: 5m
tests:
  an-hour-down-every-day:
    services:
      health-proxy: "(down x12, up x276) x1000"
    expect:
      - at: 288000
        alertTotals: { CRITICAL: 3000, WARNING: 2000, INFO: 2000 }
        breaker: { health-proxy: CLOSED }
`;

it("runs a thousand days of ticks and counts every decision", async () => {
  const { config } = await loadRules(SHIPPED_RULES, { env: {} });
  if (config === undefined) throw new Error("the shipped rules do not load");
  const run = await runTestText(THOUSAND_DAYS, "thousand-days.test.yaml", config);
  const [test] = run.files[0]?.tests ?? [];
  expect(run.exitCode).toBe(0);
  // Each day: heals at 0, 5 and 10 min fail (the next entry is still down); the other 9 down ticks are
  // refused by the budget; CRITICAL, WARNING and INFO fire once and resolve once (no reminder within the
  // hour). No heal ever holds, so failed heals add up across days (the service recovering by itself proves
  // nothing): on every second day the 2nd heal is the 5th failure and upkeep gives up (CRITICAL
  // healing-gave-up fires), its trial 60 s later fails and opens it again, and 2 healthy checks after the
  // hour close it (the alert resolves). Refusals never count, so the breaker opens 2 x 500 times.
  expect(test?.counts).toEqual({
    ticks: 288_000,
    heals: { attempted: 3000, healed: 0, failed: 3000 },
    notHealed: { budget: 9000 },
    alerts: { firing: 3500, reminder: 0, resolved: 3500 },
    breakerOpened: 1000,
  });
}, 120_000);
