/**
 * Sends a tick's alert intents through their level's channels. Alerts of one tick that go to the same
 * channel are grouped into one notification. A channel that fails or cannot be used (unset secret)
 * is reported and never stops delivery to the others.
 */
import type { AlertEvent, ChannelHandler, Notification } from "../actions/types.js";
import type { Config } from "../config/model.js";
import type { AlertIntent } from "../core/alerts.js";
import type { ServiceFacts } from "../core/facts.js";
import { alertText } from "./alert-text.js";
import { deadlineSignal } from "./deadline.js";
import { resolveParams } from "./resolve.js";
import type { TickDeps } from "./tick.js";

export interface Delivery {
  readonly channel: string;
  readonly events: number;
  readonly status: "sent" | "failed" | "unusable" | "planned";
  readonly detail: string;
  /** The notification's plain text (one line per alert). */
  readonly text: string;
}

const CHANNEL_TIMEOUT_MS = 10_000;

export async function deliverAlerts(
  config: Config,
  intents: readonly AlertIntent[],
  facts: Readonly<Record<string, ServiceFacts>>,
  deps: TickDeps,
  options: { dryRun: boolean; signal: AbortSignal },
): Promise<Delivery[]> {
  const now = deps.clock.now();
  const perChannel = new Map<string, AlertEvent[]>();
  for (const intent of intents) {
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
      }),
      facts: serviceFacts === undefined ? {} : { ...serviceFacts },
      since: intent.since,
      count: intent.count,
    };
    for (const channel of intent.channels) {
      const list = perChannel.get(channel) ?? [];
      list.push(event);
      perChannel.set(channel, list);
    }
  }
  const deliveries = await Promise.all(
    [...perChannel].map(([channel, events]) => sendToChannel(config, channel, events, deps, options)),
  );
  for (const d of deliveries) {
    const log = d.status === "sent" || d.status === "planned" ? deps.logger.info : deps.logger.warn;
    log({ channel: d.channel, status: d.status, events: d.events, detail: d.detail }, `alert ${d.status} via ${d.channel}`);
  }
  return deliveries;
}

async function sendToChannel(
  config: Config,
  channelId: string,
  events: readonly AlertEvent[],
  deps: TickDeps,
  options: { dryRun: boolean; signal: AbortSignal },
): Promise<Delivery> {
  const base = { channel: channelId, events: events.length, text: events.map((e) => e.message).join("\n") };
  const spec = config.alerts.channels[channelId];
  const handler = spec === undefined ? undefined : deps.getHandler(spec.type, "channel");
  if (spec === undefined || handler === undefined || handler.kind !== "channel") {
    return { ...base, status: "unusable", detail: `no channel "${channelId}"` };
  }
  const { value: params, missingEnv } = resolveParams(spec.params, { env: deps.env, redactor: deps.redactor });
  const notification: Notification = {
    channel: channelId,
    events,
    text: base.text,
  };
  if (options.dryRun) {
    return { ...base, status: "planned", detail: `would send ${events.length} alert(s)` };
  }
  if (missingEnv.length > 0) {
    return { ...base, status: "unusable", detail: `environment variable(s) not set: ${missingEnv.join(", ")}` };
  }
  const deadline = deadlineSignal(options.signal, CHANNEL_TIMEOUT_MS, "channel timeout");
  try {
    const result = await (handler as ChannelHandler).run(
      {
        clock: deps.clock,
        logger: deps.logger,
        settings: deps.settings,
        alerts: config.alerts,
        notification,
        env: deps.env,
      },
      params as Record<string, unknown>,
      deadline.signal,
    );
    return { ...base, status: result.ok ? "sent" : "failed", detail: result.detail };
  } catch (error) {
    return { ...base, status: "failed", detail: error instanceof Error ? error.message : String(error) };
  } finally {
    deadline.dispose();
  }
}
