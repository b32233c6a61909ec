/**
 * Shape checks for state read from disk. A file with the right `version` but a wrong shape (hand edits,
 * a bug, a half-migrated file) must be moved aside like a corrupt one: trusting it would crash every
 * tick, or hold a breaker open forever, until someone deleted it by hand.
 */
import type { Concern } from "./state.js";

type Check = (value: unknown) => boolean;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const num: Check = (v) => typeof v === "number" && Number.isFinite(v);
const numOrNull: Check = (v) => v === null || num(v);
const str: Check = (v) => typeof v === "string";
const bool: Check = (v) => typeof v === "boolean";
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    typeof v === "string" && values.includes(v);
const arrayOf =
  (item: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(item);
const optional =
  (check: Check): Check =>
  (v) =>
    v === undefined || check(v);

// A tick reads every record of every concern (thousands of services): the field list is made once, and
// the loops are plain indexed ones (destructuring and for-in cost more than the checks in cold code).
function shape(fields: Readonly<Record<string, Check>>): Check {
  const keys = Object.keys(fields);
  const checks = Object.values(fields);
  return (v) => {
    if (!isRecord(v)) return false;
    for (let i = 0; i < keys.length; i += 1) if (!(checks[i] as Check)(v[keys[i] as string])) return false;
    return true;
  };
}

function mapOf(entry: Check): Check {
  return (v) => {
    if (!isRecord(v)) return false;
    const values = Object.values(v);
    for (let i = 0; i < values.length; i += 1) if (!entry(values[i])) return false;
    return true;
  };
}

const serviceRecord = shape({
  lastStatus: oneOf("up", "down", "blocked"),
  since: num,
  consecutiveFailures: num,
  consecutiveSuccesses: num,
  lastProbeAt: num,
  lastDetail: str,
  lastLatencyMs: num,
  outages: optional(arrayOf(num)),
});

const breaker = shape({
  state: oneOf("CLOSED", "OPEN", "HALF_OPEN"),
  failures: num,
  successes: num,
  recent: arrayOf(num),
  level: num,
  openedAt: numOrNull,
  openUntil: numOrNull,
  halfOpenDeadline: numOrNull,
  isolated: bool,
  healthySince: numOrNull,
  pending: optional(numOrNull),
  failStreak: optional(num),
  failedSince: optional(numOrNull),
  gaveUpAt: optional(numOrNull),
});

const heal = shape({
  lastHealAt: numOrNull,
  recent: arrayOf(num),
  history: arrayOf(shape({ at: num, outcome: oneOf("healed", "failed") })),
  totals: optional(shape({ healed: num, failed: num })),
});

const alert = shape({
  status: oneOf("inactive", "pending", "firing"),
  streak: num,
  since: numOrNull,
  notified: bool,
  sent: num,
  lastSentAt: numOrNull,
  nextReminderAt: numOrNull,
  resolvedPending: bool,
  totalSent: num,
  lastResolvedAt: numOrNull,
  clearStreak: optional(num),
});

const CHECKS: Readonly<Record<Concern, Check>> = {
  services: shape({ services: mapOf(serviceRecord) }),
  breakers: shape({ breakers: mapOf(breaker) }),
  heals: shape({ heals: mapOf(heal) }),
  alerts: shape({ alerts: mapOf(alert), totals: mapOf(num) }),
};

/** True when `raw` (a parsed state file of `concern`) has the shape the core relies on. */
export function isValidConcern(concern: Concern, raw: unknown): boolean {
  return CHECKS[concern](raw);
}
