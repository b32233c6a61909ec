/**
 * Alert expectations: the notices of a tick must be exactly the expected ones, in any order, a key left
 * out of an expected item matching anything. Items are paired by augmenting paths, so a loose item can
 * never take the notice a stricter one needs.
 */
import type { AlertIntent } from "../core/alerts.js";
import { alertText } from "../runtime/alert-text.js";
import type { CheckContext, Mismatch } from "./expect.js";
import type { RawAlertExpectation } from "./model.js";
import { globMatches, show, showIntent } from "./show.js";
import { factsOf, type TickOutcome } from "./simulate.js";

type Miss = (expected: string, actual: string, notes?: readonly string[]) => Mismatch;

export function alertsCheck(
  expected: readonly RawAlertExpectation[],
  tick: TickOutcome,
  ctx: CheckContext,
  miss: Miss,
): Mismatch | undefined {
  // A pack's tests speak for the pack's rules only: the consumer's own rules may fire alongside.
  const owns = ctx.ownsRule;
  const actual = owns === undefined ? tick.result.alerts : tick.result.alerts.filter((a) => owns(a.ruleId));
  // An item naming its service can only take that service's notices: with every service down at once,
  // trying each item against every notice would cost the square of the services.
  const byService = new Map<string, number[]>();
  actual.forEach((a, j) => {
    const list = byService.get(a.serviceId);
    if (list === undefined) byService.set(a.serviceId, [j]);
    else list.push(j);
  });
  const pairs = matchAlerts(
    expected,
    actual,
    (e, a) => alertMatches(e, a, tick, ctx),
    (e) => (e.service === undefined ? undefined : (byService.get(e.service) ?? [])),
  );
  const missing = expected.filter((_, i) => !pairs.has(i));
  const used = new Set(pairs.values());
  const unexpected = actual.filter((_, j) => !used.has(j));
  if (missing.length === 0 && unexpected.length === 0) return undefined;
  return miss(countAlerts(expected.length), countAlerts(actual.length), [
    ...missing.map((e) => `- missing:    ${show(e)}`),
    ...unexpected.map((a) => `+ unexpected: ${showIntent(a)}`),
  ]);
}

function countAlerts(n: number): string {
  return n === 0 ? "no alerts" : n === 1 ? "1 alert" : `${n} alerts`;
}

export function alertMatches(
  e: RawAlertExpectation,
  a: AlertIntent,
  tick: TickOutcome | undefined,
  ctx: CheckContext,
): boolean {
  if (e.rule !== undefined && e.rule !== a.ruleId) return false;
  if (e.service !== undefined && e.service !== a.serviceId) return false;
  if (e.level !== undefined && e.level !== a.level) return false;
  if (e.kind !== undefined && e.kind !== a.kind) return false;
  if (e.count !== undefined && e.count !== a.count) return false;
  if (e.channels !== undefined && [...e.channels].sort().join("\n") !== [...a.channels].sort().join("\n"))
    return false;
  if (e.message !== undefined) {
    if (tick === undefined) return true;
    const rule = ctx.config.alerts.rules.find((r) => r.id === a.ruleId);
    const text = alertText(a.kind, a.level, rule, factsOf(tick, a.serviceId), {
      serviceId: a.serviceId,
      since: a.since,
      now: tick.now,
    });
    if (!globMatches(e.message, text)) return false;
  }
  return true;
}

/**
 * Expected index -> actual index, as many pairs as possible (augmenting paths). `candidates` may name,
 * in ascending order, the only actual items an expected one can fit (undefined: all of them); the
 * pairs are the same as without it.
 */
export function matchAlerts<E, A>(
  expected: readonly E[],
  actual: readonly A[],
  fits: (e: E, a: A) => boolean,
  candidates: (e: E) => readonly number[] | undefined = () => undefined,
): Map<number, number> {
  const owner = new Map<number, number>();
  const all = actual.map((_, j) => j);
  const tryAssign = (i: number, seen: Set<number>): boolean => {
    for (const j of candidates(expected[i] as E) ?? all) {
      if (seen.has(j) || !fits(expected[i] as E, actual[j] as A)) continue;
      seen.add(j);
      const current = owner.get(j);
      if (current === undefined || tryAssign(current, seen)) {
        owner.set(j, i);
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < expected.length; i++) tryAssign(i, new Set());
  return new Map([...owner].map(([j, i]) => [i, j]));
}
