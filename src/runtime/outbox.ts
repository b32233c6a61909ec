/**
 * The outbox: notifications a channel could not take yet, kept in the `outbox` state concern
 * (`<stateDir>/outbox.json`, version 1) and retried on later ticks, plus each channel's circuit breaker
 * and the ids delivered lately.
 *
 * Policy (pure functions here; deliver.ts does the sending):
 * - A retryable failure (timeout, network error, 5xx, 429) queues the notification; it is retried once
 *   due, with exponential backoff per entry (1 min, 2, 4 ... capped at 1 h, never sooner than a
 *   Retry-After the endpoint asked for), and dropped with a logged reason after MAX_ATTEMPTS tries or
 *   once older than MAX_AGE_MS, or when its channel left the rules.
 * - Each channel has a breaker (the core breaker with fixed settings): after 3 failed sends in a row it
 *   opens for 5 min (doubling up to 1 h); while open, new notifications are queued without an attempt.
 * - Every notification has an id (the same on every retry). Ids delivered in the last 24 h are
 *   remembered, so a notification is never sent twice by us, and receivers can drop duplicates by it.
 * - Only notifications are stored, never channel parameters: secrets are resolved at send time.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { AlertEvent, Logger, Notification } from "../actions/types.js";
import type { BreakerSettings } from "../config/model.js";
import type { BreakerState } from "../core/state.js";
import { redactValue, type Redactor } from "./redact.js";
import { readConcern, writeConcern, type ConcernSpec } from "./state-store.js";

export interface OutboxEntry {
  /** The notification's id. */
  readonly id: string;
  readonly channel: string;
  readonly notification: Notification;
  /** Epoch ms it was first queued. */
  readonly createdAt: number;
  /** Sends tried so far. */
  readonly attempts: number;
  /** Not retried before this epoch ms. */
  readonly nextAttemptAt: number;
  /** Why the last try failed (redacted). */
  readonly lastError: string;
}

export interface OutboxState {
  readonly version: 1;
  /** Oldest first. */
  readonly entries: readonly OutboxEntry[];
  /** Channel id -> its breaker. */
  readonly breakers: Readonly<Record<string, BreakerState>>;
  /** Notification id -> epoch ms it was delivered. */
  readonly delivered: Readonly<Record<string, number>>;
}

export const OUTBOX_CONCERN = "outbox";
export const MAX_ATTEMPTS = 8;
export const MAX_AGE_MS = 24 * 3_600_000;
export const MAX_ENTRIES = 1000;
export const BACKOFF_BASE_MS = 60_000;
export const BACKOFF_MAX_MS = 3_600_000;
const DEDUPE_MS = 24 * 3_600_000;
const MAX_REMEMBERED = 2000;

export const CHANNEL_BREAKER: BreakerSettings = {
  mode: "consecutive",
  failureThreshold: 3,
  successThreshold: 1,
  openForMs: 5 * 60_000,
  window: 10,
  minSamples: 5,
  failureRate: 0.5,
  backoffFactor: 2,
  maxOpenForMs: 3_600_000,
  // A trial happens only when a tick has something to send; no deadline should re-open it meanwhile.
  halfOpenTimeoutMs: 7 * 24 * 3_600_000,
};

export function freshOutbox(): OutboxState {
  return { version: 1, entries: [], breakers: {}, delivered: {} };
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export const OUTBOX_SPEC: ConcernSpec<OutboxState> = {
  version: 1,
  fresh: freshOutbox,
  validate: (raw) =>
    Array.isArray(raw["entries"]) &&
    raw["entries"].every((e) => isRecord(e) && typeof e["id"] === "string" && isRecord(e["notification"])) &&
    isRecord(raw["breakers"]) &&
    isRecord(raw["delivered"]),
};

export async function loadOutbox(
  stateDir: string,
  options: { logger?: Logger; readOnly?: boolean } = {},
): Promise<OutboxState> {
  return (await readConcern(stateDir, OUTBOX_CONCERN, { ...OUTBOX_SPEC, ...options })).value;
}

/** Written through the redactor: a secret that slipped into an error text never reaches the disk. */
export async function saveOutbox(stateDir: string, outbox: OutboxState, redactor: Redactor): Promise<void> {
  await writeConcern(stateDir, OUTBOX_CONCERN, redactValue(outbox, redactor));
}

/** Stable for the same notices to the same channel: a retry keeps the id of the first try. */
export function notificationId(channel: string, events: readonly AlertEvent[]): string {
  const key = JSON.stringify([channel, events.map((e) => [e.ruleId, e.serviceId, e.kind, e.count, e.since])]);
  return bytesToHex(sha256(utf8ToBytes(key))).slice(0, 20);
}

/** Wait before the next try after `attempts` failed ones. */
export function backoffMs(attempts: number, retryAfterMs = 0): number {
  const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.max(exp, Math.min(retryAfterMs, BACKOFF_MAX_MS));
}

export interface Dropped {
  readonly entry: OutboxEntry;
  readonly reason: string;
}

/**
 * Removes entries that expired, whose channel left the rules, or that exceed MAX_ENTRIES (oldest go
 * first), and forgets delivered ids past the dedupe window.
 */
export function expire(
  outbox: OutboxState,
  channels: ReadonlySet<string>,
  now: number,
): { outbox: OutboxState; dropped: Dropped[] } {
  const dropped: Dropped[] = [];
  let kept = outbox.entries.filter((entry) => {
    const reason = !channels.has(entry.channel)
      ? `channel "${entry.channel}" is no longer in the rules`
      : now - entry.createdAt > MAX_AGE_MS
        ? `undelivered for more than 24h after ${entry.attempts} tries (last error: ${entry.lastError})`
        : undefined;
    if (reason !== undefined) dropped.push({ entry, reason });
    return reason === undefined;
  });
  if (kept.length > MAX_ENTRIES) {
    const over = kept.slice(0, kept.length - MAX_ENTRIES);
    for (const entry of over)
      dropped.push({ entry, reason: `outbox full (${MAX_ENTRIES} entries): oldest dropped` });
    kept = kept.slice(over.length);
  }
  const breakers = Object.fromEntries(Object.entries(outbox.breakers).filter(([id]) => channels.has(id)));
  return {
    outbox: { ...outbox, entries: kept, breakers, delivered: recentIds(outbox.delivered, now) },
    dropped,
  };
}

function recentIds(delivered: Readonly<Record<string, number>>, now: number): Record<string, number> {
  const recent = Object.entries(delivered)
    .filter(([, at]) => now - at <= DEDUPE_MS)
    .sort((a, b) => b[1] - a[1])
    .slice(0, MAX_REMEMBERED);
  return Object.fromEntries(recent);
}

/** A new notification as a queue entry that has not been tried. */
export function entryFor(notification: Notification & { readonly id: string }, now: number): OutboxEntry {
  return {
    id: notification.id,
    channel: notification.channel,
    notification,
    createdAt: notification.createdAt ?? now,
    attempts: 0,
    nextAttemptAt: now,
    lastError: "",
  };
}

/** The queue after one channel's turn: its new entries, breaker and deliveries replace the old ones. */
export function mergeChannel(
  outbox: OutboxState,
  channel: string,
  turn: {
    entries: readonly OutboxEntry[];
    breaker: BreakerState | undefined;
    delivered: Readonly<Record<string, number>>;
  },
): OutboxState {
  const entries = [...outbox.entries.filter((e) => e.channel !== channel), ...turn.entries].sort(
    (a, b) => a.createdAt - b.createdAt,
  );
  const breakers = { ...outbox.breakers };
  if (turn.breaker === undefined) delete breakers[channel];
  else breakers[channel] = turn.breaker;
  return { ...outbox, entries, breakers, delivered: { ...outbox.delivered, ...turn.delivered } };
}
