/**
 * One channel's turn in a tick: the notifications its outbox holds that are due (oldest first, so a
 * firing notice precedes its resolution), then the new one, sent one after the other.
 *
 * - The channel's breaker is asked before every send; while it is open, everything waits in the queue.
 * - The first retryable failure ends the turn: that entry is rescheduled with backoff (or dropped after
 *   MAX_ATTEMPTS), the rest waits for a later tick. A non-retryable failure (4xx, bad parameters) is
 *   reported and not retried.
 * - A turn is bounded by CHANNEL_TURN_MS and MAX_SENDS_PER_TURN, so one channel never holds a tick long.
 * - An id delivered before is never sent again.
 */
import type { Notification } from "../actions/types.js";
import type { Config } from "../config/model.js";
import { canAttempt, stepBreaker } from "../core/breaker.js";
import { emptyBreaker, type BreakerState } from "../core/state.js";
import { isoTime } from "./alert-text.js";
import { prepareChannel, sendPrepared, type DeliverDeps } from "./channel-send.js";
import { deadlineSignal } from "./deadline.js";
import {
  backoffMs,
  CHANNEL_BREAKER,
  entryFor,
  MAX_ATTEMPTS,
  notificationId,
  type OutboxEntry,
  type OutboxState,
} from "./outbox.js";
import { redactText } from "./redact.js";

export type DeliveryStatus = "sent" | "failed" | "unusable" | "planned" | "queued" | "dropped";

export interface Delivery {
  readonly channel: string;
  readonly events: number;
  readonly status: DeliveryStatus;
  readonly detail: string;
  /** The notification's plain text (one line per alert). */
  readonly text: string;
  /** The notification id (the same on every retry). */
  readonly id?: string;
  /** Which try this was (1 = first); absent when nothing was tried. */
  readonly attempt?: number;
}

const CHANNEL_TURN_MS = 60_000;
const MAX_SENDS_PER_TURN = 10;

export interface Turn {
  entries: OutboxEntry[];
  breaker: BreakerState | undefined;
  delivered: Record<string, number>;
  deliveries: Delivery[];
}

export async function channelTurn(
  config: Config,
  channel: string,
  outbox: OutboxState,
  fresh: readonly Notification[],
  deps: DeliverDeps,
  signal: AbortSignal,
): Promise<Turn> {
  const now = deps.clock.now();
  const queued = outbox.entries.filter((e) => e.channel === channel);
  const turn: Turn = { entries: [], breaker: outbox.breakers[channel], delivered: {}, deliveries: [] };
  const prepared = prepareChannel(config, channel, deps);
  if (!prepared.ok) {
    // Queued entries wait (the variable may be set by the next tick); new ones are reported, not queued.
    turn.entries.push(...queued);
    for (const n of fresh) turn.deliveries.push(delivery(n, "unusable", prepared.detail, deps));
    return turn;
  }
  const due = queued.filter((e) => e.nextAttemptAt <= now);
  turn.entries.push(...queued.filter((e) => e.nextAttemptAt > now));
  const work = [
    ...due,
    ...fresh.map((n) => entryFor({ ...n, id: n.id ?? notificationId(channel, n.events) }, now)),
  ];
  const limit = deadlineSignal(signal, CHANNEL_TURN_MS, "channel turn");
  let sends = 0;
  let held: string | undefined;
  try {
    for (const entry of work) {
      if (Object.hasOwn(outbox.delivered, entry.id) || Object.hasOwn(turn.delivered, entry.id)) {
        deps.logger.info({ channel, id: entry.id }, "alert already delivered; not sent again");
        continue;
      }
      let breaker = turn.breaker ?? emptyBreaker();
      const check = canAttempt(CHANNEL_BREAKER, breaker, now);
      held ??= !check.allowed
        ? `channel held off by its breaker until ${check.retryAt === undefined ? "reset" : isoTime(check.retryAt)}`
        : sends >= MAX_SENDS_PER_TURN || limit.signal.aborted
          ? "the channel's turn is over for this tick"
          : undefined;
      if (held !== undefined) {
        turn.entries.push(entry);
        turn.deliveries.push(delivery(entry.notification, "queued", `${held}; will retry`, deps));
        continue;
      }
      sends += 1;
      const outcome = await sendPrepared(prepared, entry.notification, deps, limit.signal);
      const attempt = entry.attempts + 1;
      if (outcome.status === "sent") {
        breaker = stepBreaker(CHANNEL_BREAKER, breaker, { type: "success" }, now).state;
        turn.delivered[entry.id] = now;
        turn.deliveries.push({ ...delivery(entry.notification, "sent", outcome.detail, deps), attempt });
      } else if (!outcome.retryable) {
        turn.deliveries.push({
          ...delivery(entry.notification, "failed", `${outcome.detail} (not retried)`, deps),
          attempt,
        });
      } else {
        breaker = stepBreaker(CHANNEL_BREAKER, breaker, { type: "failure" }, now).state;
        held = "an earlier send failed this tick";
        if (attempt >= MAX_ATTEMPTS) {
          const reason = `${outcome.detail}; dropped after ${attempt} tries`;
          deps.logger.warn(
            { channel, id: entry.id, attempts: attempt, reason },
            "alert dropped from the outbox",
          );
          turn.deliveries.push({ ...delivery(entry.notification, "dropped", reason, deps), attempt });
        } else {
          const next = now + backoffMs(attempt, outcome.retryAfterMs);
          turn.entries.push({ ...entry, attempts: attempt, nextAttemptAt: next, lastError: outcome.detail });
          const detail = `${outcome.detail}; queued, retry ${attempt + 1}/${MAX_ATTEMPTS} at ${isoTime(next)}`;
          turn.deliveries.push({ ...delivery(entry.notification, "queued", detail, deps), attempt });
        }
      }
      turn.breaker = breaker;
    }
  } finally {
    limit.dispose();
  }
  return turn;
}

export function delivery(
  notification: Notification,
  status: DeliveryStatus,
  detail: string,
  deps: DeliverDeps,
): Delivery {
  return {
    channel: notification.channel,
    events: notification.events.length,
    status,
    detail: redactText(detail, deps.redactor),
    text: notification.text,
    ...(notification.id === undefined ? {} : { id: notification.id }),
  };
}
