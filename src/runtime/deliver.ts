/**
 * Sends a tick's alert intents through their level's channels, and retries what the outbox holds.
 *
 * - Alerts of one tick that go to the same channel are one notification (one message).
 * - Channels take their turns in parallel (channel-turn.ts: queued notifications first, each send
 *   bounded by its timeout, the breaker asked first), so one dead endpoint never holds up the others.
 * - Entries that expired or whose channel left the rules are dropped first, with a logged reason
 *   (outbox.ts has the retry, expiry and breaker policy).
 * - A channel that cannot be used (unknown, unset `${env:..}`) is reported; the alert still goes to the
 *   level's other channels. Parameters are resolved at send time (channel-send.ts): no secret is stored.
 * - Every detail text passes through the redactor before it is logged, reported or queued.
 * - Channels whose handler has `refreshWhileFiring` (alertmanager) also get, at every tick, each firing
 *   alert of their levels that was announced and has no notice this tick, as a `refresh` event. Such a
 *   notification gets a per-tick id: the same alerts are sent again each tick on purpose.
 */
import type { AlertEvent, Notification } from "../actions/types.js";
import type { Config } from "../config/model.js";
import type { AlertIntent } from "../core/alerts.js";
import type { ServiceFacts } from "../core/facts.js";
import { alertKey, own, type AlertsState } from "../core/state.js";
import { alertText } from "./alert-text.js";
import { prepareChannel, type DeliverDeps } from "./channel-send.js";
import { channelTurn, delivery, type Delivery } from "./channel-turn.js";
import { expire, freshOutbox, mergeChannel, notificationId, type OutboxState } from "./outbox.js";

export type { DeliverDeps, SendOutcome } from "./channel-send.js";
export { prepareChannel, sendNotification } from "./channel-send.js";
export type { Delivery, DeliveryStatus } from "./channel-turn.js";

export interface DeliverOptions {
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  /** The queue from earlier ticks; absent = start from an empty one (the result then carries it). */
  readonly outbox?: OutboxState;
  /** The tick's alert state: its firing alerts are refreshed on channels with `refreshWhileFiring`. */
  readonly alerts?: AlertsState;
}

export interface DeliverResult {
  readonly deliveries: Delivery[];
  /** The queue to persist (unchanged in a dry run). */
  readonly outbox: OutboxState;
}

/**
 * Alerts firing and announced that have no notice this tick, as intents limited to the channels that
 * want refreshes (`wants`); `kind` is "reminder", `count` the notices sent so far.
 */
export function refreshIntents(
  config: Config,
  alerts: AlertsState,
  intents: readonly AlertIntent[],
  now: number,
  wants: (channel: string) => boolean,
): AlertIntent[] {
  const noticed = new Set(intents.map((i) => alertKey(i.ruleId, i.serviceId)));
  const out: AlertIntent[] = [];
  for (const rule of config.alerts.rules) {
    const level = own(config.alerts.levels, rule.level);
    const channels = level?.channels.filter(wants) ?? [];
    if (level === undefined || channels.length === 0) continue;
    for (const service of config.services) {
      if (rule.services.length > 0 && !rule.services.includes(service.id)) continue;
      const key = alertKey(rule.id, service.id);
      const alert = own(alerts.alerts, key);
      if (alert?.status !== "firing" || !alert.notified || alert.since === null || noticed.has(key)) continue;
      out.push({
        kind: "reminder",
        ruleId: rule.id,
        serviceId: service.id,
        level: level.id,
        channels,
        since: alert.since,
        count: alert.sent,
        at: now,
      });
    }
  }
  return out;
}

/** One notification per channel for this tick's intents (and refreshes, marked `refresh`). */
export function buildNotifications(
  config: Config,
  intents: readonly AlertIntent[],
  facts: Readonly<Record<string, ServiceFacts>>,
  now: number,
  refreshes: readonly AlertIntent[] = [],
): Notification[] {
  const perChannel = new Map<string, AlertEvent[]>();
  const refreshing = new Set(refreshes);
  for (const intent of [...intents, ...refreshes]) {
    const rule = config.alerts.rules.find((r) => r.id === intent.ruleId);
    const serviceFacts = facts[intent.serviceId];
    const event: AlertEvent = {
      kind: intent.kind,
      ruleId: intent.ruleId,
      level: intent.level,
      serviceId: intent.serviceId,
      serviceTitle: serviceFacts?.service.title ?? intent.serviceId,
      message: alertText(intent.kind, intent.level, rule, serviceFacts, {
        serviceId: intent.serviceId,
        since: intent.since,
        now,
        count: intent.count,
      }),
      facts: serviceFacts === undefined ? {} : { ...serviceFacts },
      since: intent.since,
      count: intent.count,
      ...(refreshing.has(intent) ? { refresh: true } : {}),
    };
    for (const channel of intent.channels)
      perChannel.set(channel, [...(perChannel.get(channel) ?? []), event]);
  }
  return [...perChannel].map(([channel, events]) => ({
    id: `${notificationId(channel, events)}${events.some((e) => e.refresh === true) ? `-${now.toString(36)}` : ""}`,
    createdAt: now,
    channel,
    events,
    text: events.map((e) => e.message).join("\n"),
  }));
}

export async function deliverAlerts(
  config: Config,
  intents: readonly AlertIntent[],
  facts: Readonly<Record<string, ServiceFacts>>,
  deps: DeliverDeps,
  options: DeliverOptions,
): Promise<DeliverResult> {
  const now = deps.clock.now();
  const refreshes =
    options.alerts === undefined
      ? []
      : refreshIntents(config, options.alerts, intents, now, (c) => wantsRefresh(config, deps, c));
  const fresh = buildNotifications(config, intents, facts, now, refreshes);
  const given = options.outbox ?? freshOutbox();
  if (options.dryRun) {
    const deliveries = fresh.map((n) => planned(config, n, given, deps));
    logAll(deps, deliveries);
    return { deliveries, outbox: given };
  }
  const expired = expire(given, new Set(Object.keys(config.alerts.channels)), now);
  const deliveries: Delivery[] = expired.dropped.map(({ entry, reason }) => {
    deps.logger.warn(
      { channel: entry.channel, id: entry.id, attempts: entry.attempts, reason },
      "alert dropped from the outbox",
    );
    return delivery(entry.notification, "dropped", reason, deps);
  });
  let outbox = expired.outbox;
  const channels = new Set([...fresh.map((n) => n.channel), ...outbox.entries.map((e) => e.channel)]);
  const turns = await Promise.all(
    [...channels].map(async (channel) => ({
      channel,
      turn: await channelTurn(
        config,
        channel,
        outbox,
        fresh.filter((n) => n.channel === channel),
        deps,
        options.signal,
      ),
    })),
  );
  for (const { channel, turn } of turns) {
    outbox = mergeChannel(outbox, channel, turn);
    deliveries.push(...turn.deliveries);
  }
  logAll(deps, deliveries.slice(expired.dropped.length));
  return { deliveries, outbox };
}

function wantsRefresh(config: Config, deps: DeliverDeps, channel: string): boolean {
  const spec = own(config.alerts.channels, channel);
  const handler = spec === undefined ? undefined : deps.getHandler(spec.type, "channel");
  return handler?.kind === "channel" && handler.refreshWhileFiring === true;
}

function planned(
  config: Config,
  notification: Notification,
  outbox: OutboxState,
  deps: DeliverDeps,
): Delivery {
  const prepared = prepareChannel(config, notification.channel, deps);
  if (!prepared.ok) return delivery(notification, "unusable", prepared.detail, deps);
  const waiting = outbox.entries.filter((e) => e.channel === notification.channel).length;
  const what = prepared.handler.describe(prepared.params, { settings: deps.settings });
  const queue = waiting === 0 ? "" : ` (after ${waiting} queued from earlier ticks)`;
  return delivery(
    notification,
    "planned",
    `would send ${notification.events.length} alert(s): ${what}${queue}`,
    deps,
  );
}

function logAll(deps: DeliverDeps, deliveries: readonly Delivery[]): void {
  for (const d of deliveries) {
    const log = d.status === "sent" || d.status === "planned" ? deps.logger.info : deps.logger.warn;
    log.call(
      deps.logger,
      {
        channel: d.channel,
        status: d.status,
        events: d.events,
        detail: d.detail,
        id: d.id,
        attempt: d.attempt,
      },
      `alert ${d.status} via ${d.channel}`,
    );
  }
}
