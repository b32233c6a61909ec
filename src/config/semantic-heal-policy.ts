/**
 * Heal settings that are valid but can never act, or that race with the schedule: warnings, because
 * the rules still run, just not as their author expects. Each is judged per service on the effective
 * value (service, else `defaults:`, else built in) and reported where that value is written.
 */
import { formatDuration, parseDuration } from "../duration.js";
import { type DiagnosticCode, type Finding, toPointer } from "./diagnostics.js";
import { isRec, type Path, rec } from "./semantic-util.js";

/** Built-in values, as src/config/normalize.ts applies them. */
const BUILT_IN = {
  intervalMs: 300_000,
  openForMs: 60_000,
  backoffFactor: 2,
  backoffMaxMs: 86_400_000,
  cooldownMs: 300_000,
  budgetMax: 3,
  budgetPerMs: 3_600_000,
};

/** The part of a tick interval a cooldown may exceed a multiple of it by before heals depend on timer jitter. */
const RACE_FRACTION = 0.1;

interface Effective<T> {
  readonly value: T;
  /** Where it is written; undefined when built in. */
  readonly at?: Path;
}

export function checkHealPolicy(doc: unknown): Finding[] {
  const out: Finding[] = [];
  if (!isRec(doc)) return out;
  const defaults = rec(doc["defaults"]);
  const services = rec(doc["services"]);
  const interval = durationOr(rec(doc["runtime"])["interval"], BUILT_IN.intervalMs);
  deprecated(defaults, ["defaults"], out);
  for (const [id, raw] of Object.entries(services)) {
    const service = rec(raw);
    deprecated(service, ["services", id], out);
    const heal = rec(service["heal"]);
    if (heal["recipe"] === undefined && heal["steps"] === undefined) continue;
    const pick = <T>(group: string, key: string[], parse: (v: unknown) => T | undefined, builtIn: T) =>
      effective(service, defaults, id, group, key, parse, builtIn);
    const cooldown = pick("heal", ["cooldown"], duration, BUILT_IN.cooldownMs);
    const budgetMax = pick("heal", ["budget", "max"], integer, BUILT_IN.budgetMax);
    const budgetPer = pick("heal", ["budget", "per"], duration, BUILT_IN.budgetPerMs);
    const openFor = pick("breaker", ["openFor"], duration, BUILT_IN.openForMs);
    const factor = pick("breaker", ["backoff", "factor"], number, BUILT_IN.backoffFactor);
    const backoffMax = pick("breaker", ["backoff", "max"], duration, BUILT_IN.backoffMaxMs);
    const longestOpen = factor.value > 1 ? Math.max(openFor.value, backoffMax.value) : openFor.value;
    if (longestOpen < interval) {
      warn(out, factor.value > 1 ? backoffMax : openFor, ["services", id], "breaker-never-holds", {
        message: `service "${id}": after giving up, upkeep waits at most ${formatDuration(longestOpen)}, less than the ${formatDuration(interval)} interval, so the next tick always brings a trial heal and giving up holds nothing back`,
        hint: `make breaker.openFor (or breaker.backoff.max) at least ${formatDuration(interval)}`,
      });
    }
    const slack = Math.min(5_000, Math.floor(interval / 100));
    const over = cooldown.value % interval;
    if (cooldown.value >= interval && over > slack && over <= interval * RACE_FRACTION) {
      const n = Math.floor(cooldown.value / interval);
      warn(out, cooldown, ["services", id], "cooldown-races-interval", {
        message: `service "${id}": the cooldown of ${formatDuration(cooldown.value)} is just above ${n} x the ${formatDuration(interval)} interval, so whether the tick ${formatDuration(n * interval)} after a heal may heal again depends on how late the scheduler starts it`,
        hint: `use ${formatDuration(n * interval)} (a heal at most every ${n === 1 ? "tick" : `${n} ticks`}; ticks up to ${formatDuration(slack)} early still count) or ${formatDuration((n + 1) * interval)}`,
      });
    }
    if (budgetMax.value > 0) {
      // Heals come at ticks: the next one at the first tick at least the cooldown (less the slack) later.
      const spacing = Math.max(interval, Math.ceil((cooldown.value - slack) / interval) * interval);
      // A heal counts until `per` after it started, and a slot ending within the slack counts as over.
      const possible = Math.ceil(Math.max(1, budgetPer.value - slack) / spacing);
      if (possible <= budgetMax.value) {
        const limit =
          spacing === cooldown.value
            ? `the cooldown of ${formatDuration(cooldown.value)}`
            : `the cooldown of ${formatDuration(cooldown.value)} at the ${formatDuration(interval)} interval (a heal at most every ${formatDuration(spacing)})`;
        const shorten = cooldown.value - slack <= interval ? "runtime.interval" : "heal.cooldown";
        warn(out, budgetMax, ["services", id], "budget-never-binds", {
          message: `service "${id}": the budget of ${budgetMax.value} heals per ${formatDuration(budgetPer.value)} never limits healing: ${limit} allows at most ${possible}`,
          hint:
            possible > 1
              ? `lower heal.budget.max to ${possible - 1}, or shorten ${shorten}`
              : `shorten ${shorten}, or drop the budget`,
        });
      }
    }
  }
  return out;
}

function deprecated(owner: Record<string, unknown>, at: Path, out: Finding[]): void {
  const breaker = rec(owner["breaker"]);
  if (!("halfOpenTimeout" in breaker)) return;
  out.push({
    pointer: toPointer([...at, "breaker", "halfOpenTimeout"]),
    atKey: true,
    code: "deprecated-key",
    severity: "warning",
    message:
      "breaker.halfOpenTimeout no longer has an effect: HALF_OPEN ends by checks (successThreshold healthy checks in a row close it, a failed trial heal re-opens it), never by time",
    hint: "remove it (see the README's migration notes)",
  });
}

function effective<T>(
  service: Record<string, unknown>,
  defaults: Record<string, unknown>,
  id: string,
  group: string,
  key: readonly string[],
  parse: (v: unknown) => T | undefined,
  builtIn: T,
): Effective<T> {
  const own = parse(dig(service[group], key));
  if (own !== undefined) return { value: own, at: ["services", id, group, ...key] };
  const inherited = parse(dig(defaults[group], key));
  if (inherited !== undefined) return { value: inherited, at: ["defaults", group, ...key] };
  return { value: builtIn };
}

function dig(value: unknown, key: readonly string[]): unknown {
  let cur = value;
  for (const k of key) cur = isRec(cur) ? cur[k] : undefined;
  return cur;
}

function warn(
  out: Finding[],
  source: Effective<unknown>,
  fallback: Path,
  code: DiagnosticCode,
  text: { message: string; hint: string },
): void {
  out.push({
    pointer: toPointer(source.at ?? fallback),
    ...(source.at === undefined ? { atKey: true } : {}),
    code,
    severity: "warning",
    ...text,
  });
}

const duration = (v: unknown): number | undefined => (typeof v === "string" ? parseDuration(v) : undefined);
const number = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v) ? v : undefined;
const integer = (v: unknown): number | undefined => (Number.isInteger(v) ? (v as number) : undefined);
const durationOr = (v: unknown, fallback: number): number => duration(v) ?? fallback;
