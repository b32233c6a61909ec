/**
 * The durable state of upkeep: plain JSON data, one object per concern, each stored in its own file by the
 * state store. Every field is always present (absent values are `null`, never `undefined`), so a JSON
 * round-trip gives back an identical value and therefore identical decisions.
 */
import type { BreakerStateName, ServiceStatus } from "./facts.js";

export const STATE_VERSION = 1;

/** One state file per concern: `<stateDir>/<concern>.json`. */
export const CONCERNS = ["services", "breakers", "heals", "alerts"] as const;
export type Concern = (typeof CONCERNS)[number];

/** What the last ticks observed about one service. */
export interface ServiceRecord {
  lastStatus: ServiceStatus;
  /** Epoch ms of the tick that first saw `lastStatus`. */
  since: number;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastProbeAt: number;
  lastDetail: string;
  lastLatencyMs: number;
  /** When the outages inside the flapping window began (up -> down); absent in older files. */
  outages?: number[];
}

export interface BreakerState {
  state: BreakerStateName;
  /** Consecutive failures while CLOSED (a success resets it). */
  failures: number;
  /** Successes counted in the current HALF_OPEN. */
  successes: number;
  /** Rate mode: the most recent outcomes while CLOSED, oldest first, 1 = failure, 0 = success. */
  recent: number[];
  /** Backoff level: the next open lasts openFor * backoffFactor^level (capped). */
  level: number;
  /** When the current OPEN began (also used to bound a clock that jumped backwards). */
  openedAt: number | null;
  /** When the current OPEN ends; `null` while OPEN means isolated until reset. */
  openUntil: number | null;
  /** HALF_OPEN: with no outcome by this time the trial counts as a failure. */
  halfOpenDeadline: number | null;
  /** Opened by hand (isolate), not by failures. */
  isolated: boolean;
  /** CLOSED: start of the current failure-free stretch, for the level decay. */
  healthySince: number | null;
  /*
   * Heal breakers only (src/core/heal-breaker.ts); absent in channel breakers and in files written before
   * the breaker counted heals, which is how such a file is recognised.
   */
  /** Healthy checks since a heal that succeeded and has not yet held; null when no heal awaits its verdict. */
  pending?: number | null;
  /** Heals that failed (or relapsed) since the last one that held. */
  failStreak?: number;
  /** When the first of those failed. */
  failedSince?: number | null;
  /** When upkeep gave up (opened after failed heals); null once it closes or is reset. */
  gaveUpAt?: number | null;
}

export type HealRecordOutcome = "healed" | "failed";

export interface HealRecord {
  /** Epoch ms the heal started. */
  at: number;
  outcome: HealRecordOutcome;
  forced?: boolean;
  /** Who asked for it (e.g. a user name for a manual heal). */
  by?: string;
}

export interface HealState {
  /** Start of the most recent heal. */
  lastHealAt: number | null;
  /** Start times of the heals inside the budget window, oldest first. */
  recent: number[];
  /** The last few heals, oldest first, for `explain` and `status`. */
  history: HealRecord[];
  /** Heals ever recorded per outcome (Prometheus counters); absent in older files, meaning 0. */
  totals?: Record<HealRecordOutcome, number>;
}

export type AlertStatus = "inactive" | "pending" | "firing";

export interface AlertState {
  status: AlertStatus;
  /** Consecutive ticks the condition held. */
  streak: number;
  /** Epoch ms the current episode started firing (kept while a resolved notice is held). */
  since: number | null;
  /** A firing notice of the current episode went out. */
  notified: boolean;
  /** Notices sent in the current episode. */
  sent: number;
  lastSentAt: number | null;
  /** When the next reminder is due (while firing and notified). */
  nextReminderAt: number | null;
  /** The episode resolved while silenced: the resolved notice waits for the silence to end. */
  resolvedPending: boolean;
  /** Notices sent for this alert, ever. */
  totalSent: number;
  lastResolvedAt: number | null;
  /** Firing: consecutive ticks the condition has not held (level.resolveAfter); absent when 0. */
  clearStreak?: number;
}

export interface ServicesState {
  version: 1;
  services: Record<string, ServiceRecord>;
}
export interface BreakersState {
  version: 1;
  breakers: Record<string, BreakerState>;
}
export interface HealsState {
  version: 1;
  heals: Record<string, HealState>;
}
export interface AlertsState {
  version: 1;
  /** Keyed by `alertKey(ruleId, serviceId)`. */
  alerts: Record<string, AlertState>;
  /** Notices emitted per level id, ever. */
  totals: Record<string, number>;
}

export interface UpkeepState {
  services: ServicesState;
  breakers: BreakersState;
  heals: HealsState;
  alerts: AlertsState;
}

/** The state type stored under each concern name. */
export interface ConcernStates {
  services: ServicesState;
  breakers: BreakersState;
  heals: HealsState;
  alerts: AlertsState;
}

export function emptyConcern<C extends Concern>(concern: C): ConcernStates[C] {
  const empty: ConcernStates = {
    services: { version: 1, services: {} },
    breakers: { version: 1, breakers: {} },
    heals: { version: 1, heals: {} },
    alerts: { version: 1, alerts: {}, totals: {} },
  };
  return empty[concern];
}

export function emptyState(): UpkeepState {
  return {
    services: emptyConcern("services"),
    breakers: emptyConcern("breakers"),
    heals: emptyConcern("heals"),
    alerts: emptyConcern("alerts"),
  };
}

export function emptyBreaker(): BreakerState {
  return {
    state: "CLOSED",
    failures: 0,
    successes: 0,
    recent: [],
    level: 0,
    openedAt: null,
    openUntil: null,
    halfOpenDeadline: null,
    isolated: false,
    healthySince: null,
  };
}

export function emptyHeal(): HealState {
  return { lastHealAt: null, recent: [], history: [] };
}

export function alertKey(ruleId: string, serviceId: string): string {
  return `${ruleId}/${serviceId}`;
}

/**
 * Reads an own entry of a record. Ids come from users' rules, so `constructor` or `__proto__` must not
 * find something on Object.prototype.
 */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A copy of `record` with `key` set, safe for any key (a computed key never sets the prototype). */
export function withEntry<T>(record: Readonly<Record<string, T>>, key: string, value: T): Record<string, T> {
  return { ...record, [key]: value };
}

/**
 * Sets `key` in a record the caller owns (a tick's own copy): like `withEntry` without the copy, and as
 * safe for any key (a defined property never sets the prototype). An existing key keeps its place.
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * `Object.fromEntries` for records keyed by service (or alert) id, as safe for any key. Object.fromEntries
 * adds properties the fast way, a new hidden class per key, for about a thousand keys before V8 turns the
 * object into a hash table; a tick builds several such records and that was most of their cost. This one
 * starts as a hash table: deleting a property other than the last makes V8 convert the object. The
 * result is the same either way (an ordinary object, keys in insertion order).
 */
export function recordFrom<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const seed: { a?: number; b?: number } = { a: 0, b: 0 };
  delete seed.a;
  delete seed.b;
  const out = seed as Record<string, T>;
  const put = (value: T, key: string): void => {
    // Assigning `__proto__` would set the prototype: defined instead, like fromEntries does.
    if (key === "__proto__") setOwn(out, key, value);
    else out[key] = value;
  };
  // A Map's own forEach walks it without an iterator result per entry (cheaper in cold code).
  if (entries instanceof Map) (entries as ReadonlyMap<string, T>).forEach(put);
  else for (const [key, value] of entries) put(value, key);
  return out;
}

/**
 * True when `entries` are exactly the entries of `record`, in the same order, each `same` as the one
 * there (identity by default). A tick that changed nothing in a concern hands back the object it was
 * given, and the session leaves that file alone (no write, no fsync).
 */
export function sameEntries<T>(
  record: Readonly<Record<string, T>>,
  entries: ReadonlyMap<string, T>,
  same: (a: T, b: T) => boolean = (a, b) => a === b,
): boolean {
  const keys = Object.keys(record);
  if (keys.length !== entries.size) return false;
  let i = 0;
  for (const [key, value] of entries) {
    if (keys[i] !== key || !same(record[key] as T, value)) return false;
    i += 1;
  }
  return true;
}

/**
 * Two flat records with the same fields in the same order and equal values, arrays of plain values
 * compared item by item: a breaker stepped by a check that changed nothing.
 */
export function sameFields(a: object, b: object): boolean {
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (let i = 0; i < keysA.length; i += 1) {
    const key = keysA[i] as string;
    if (key !== keysB[i]) return false;
    const x = ra[key];
    const y = rb[key];
    if (x === y) continue;
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
    if (!x.every((item: unknown, j) => item === y[j])) return false;
  }
  return true;
}
