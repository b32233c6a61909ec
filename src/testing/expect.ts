/**
 * Compares one check with what a tick decided. A mismatch says what was compared, the expected and the
 * actual value written the way test files write them, and notes that help find the cause.
 */
import type { Config } from "../config/model.js";
import { own } from "../core/state.js";
import type { DescribedStep } from "./heal-sim.js";
import type { Check } from "./model.js";
import { elapsed } from "./moment.js";
import { alertsCheck } from "./alert-match.js";
import { globMatches, show } from "./show.js";
import { factsOf, type TickOutcome } from "./simulate.js";

export interface Mismatch {
  readonly subject: string;
  readonly expected: string;
  readonly actual: string;
  readonly notes: readonly string[];
}

export interface CheckContext {
  readonly config: Config;
  /** The alert rules `alerts:` compares; default every rule. */
  readonly ownsRule?: (ruleId: string) => boolean;
  readonly startMs: number;
  readonly intervalMs: number;
}

export function subjectOf(check: Check): string {
  switch (check.kind) {
    case "status":
      return `status of ${check.service}`;
    case "breaker":
      return `breaker of ${check.service}`;
    case "heal":
      return `heal of ${check.service}: ${check.field}`;
    case "alerts":
      return "alerts sent";
    case "alertTotal":
      return `alerts sent so far at level ${check.level}`;
    case "fact":
      return `facts of ${check.service}`;
  }
}

export function runCheck(check: Check, tick: TickOutcome, ctx: CheckContext): Mismatch | undefined {
  const miss = (expected: string, actual: string, notes: readonly string[] = []): Mismatch => ({
    subject: subjectOf(check),
    expected,
    actual,
    notes,
  });
  switch (check.kind) {
    case "status": {
      const actual = factsOf(tick, check.service)?.status ?? "not probed";
      return actual === check.expected ? undefined : miss(check.expected, actual);
    }
    case "breaker": {
      const actual = own(tick.result.state.breakers.breakers, check.service)?.state ?? "CLOSED";
      return actual === check.expected ? undefined : miss(check.expected, actual);
    }
    case "heal":
      return healCheck(check, tick, ctx, miss);
    case "alerts":
      return alertsCheck(check.expected, tick, ctx, miss);
    case "alertTotal": {
      const actual = own(tick.result.state.alerts.totals, check.level) ?? 0;
      return actual === check.expected ? undefined : miss(String(check.expected), String(actual));
    }
    case "fact": {
      const facts = factsOf(tick, check.service);
      const actual = facts === undefined ? undefined : pick(facts, check.expected);
      return facts !== undefined && matchesPartially(check.expected, facts)
        ? undefined
        : miss(show(check.expected), facts === undefined ? "not probed" : show(actual));
    }
  }
}

type Miss = (expected: string, actual: string, notes?: readonly string[]) => Mismatch;

function healCheck(
  check: Check & { kind: "heal" },
  tick: TickOutcome,
  ctx: CheckContext,
  miss: Miss,
): Mismatch | undefined {
  const heal = tick.heals.get(check.service);
  const facts = factsOf(tick, check.service);
  const outcome = facts?.heal.outcome ?? "none";
  const reason = facts?.heal.reason ?? "";
  const actualOutcome = reason === "" || outcome === "none" ? outcome : `${outcome} (${reason})`;
  const noHeal = `no heal ran (outcome: ${actualOutcome})`;
  switch (check.field) {
    case "attempted":
      return (heal !== undefined) === check.expected
        ? undefined
        : miss(String(check.expected), heal === undefined ? `false: ${noHeal}` : `true (${actualOutcome})`);
    case "outcome":
      return outcome === check.expected ? undefined : miss(check.expected, actualOutcome);
    case "skipped":
      return outcome === check.field && reason === check.expected
        ? undefined
        : miss(`${check.field} (${check.expected})`, actualOutcome);
    case "refused": {
      const gates = facts?.heal.refusedBy ?? [];
      const actual = outcome === "refused" ? `refused by ${gates.join(", ")}` : actualOutcome;
      if (typeof check.expected === "string") {
        return outcome === "refused" && gates.includes(check.expected)
          ? undefined
          : miss(`refused by ${check.expected}`, actual);
      }
      const exact =
        outcome === "refused" &&
        gates.length === check.expected.length &&
        check.expected.every((g) => gates.includes(g));
      return exact ? undefined : miss(`refused by exactly ${check.expected.join(", ")}`, actual);
    }
    case "trial":
      if (heal === undefined) return miss(String(check.expected), noHeal);
      return heal.trial === check.expected ? undefined : miss(String(check.expected), String(heal.trial));
    case "steps": {
      if (heal === undefined) return miss(show(check.expected), noHeal);
      if (stepsMatch(check.expected, heal.steps)) return undefined;
      return miss(show(check.expected), show(heal.steps.map((s) => s.action)), [
        "the steps that ran:",
        ...heal.steps.map(
          (s, i) => `  ${i + 1}. ${s.action}${s.name === s.action ? "" : ` (${s.name})`}: ${s.description}`,
        ),
      ]);
    }
    case "budgetLeft": {
      const actual = facts?.heal.budgetLeft;
      return actual === check.expected
        ? undefined
        : miss(String(check.expected), actual === undefined ? "not probed" : String(actual));
    }
    case "nextAllowed": {
      const actual = own(tick.skipped, check.service)?.nextAllowedAt;
      const at = (ms: number): string => `${elapsed(ms - ctx.startMs)} after tick 1`;
      if (actual === check.expected) return undefined;
      return miss(at(check.expected), actual === undefined ? `no next time: ${noHeal}` : at(actual));
    }
  }
}

function stepsMatch(expected: readonly string[], steps: readonly DescribedStep[]): boolean {
  if (expected.length !== steps.length) return false;
  return expected.every((item, i) => {
    const step = steps[i] as DescribedStep;
    return item === step.action || item === step.name || globMatches(item, step.description);
  });
}

function matchesPartially(expected: unknown, actual: unknown): boolean {
  if (expected === null || typeof expected !== "object") return Object.is(expected, actual);
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      expected.length === actual.length &&
      expected.every((e, i) => matchesPartially(e, actual[i]))
    );
  }
  if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
  return Object.entries(expected).every(
    ([k, v]) => Object.hasOwn(actual, k) && matchesPartially(v, (actual as Record<string, unknown>)[k]),
  );
}

/** The part of `actual` that `expected` asks about, for the report. */
function pick(actual: unknown, expected: unknown): unknown {
  if (expected === null || typeof expected !== "object" || Array.isArray(expected)) return actual;
  if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return actual;
  return Object.fromEntries(
    Object.keys(expected).map((k) => [
      k,
      Object.hasOwn(actual, k)
        ? pick((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k])
        : undefined,
    ]),
  );
}
