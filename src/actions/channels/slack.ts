/**
 * slack: posts to a Slack incoming webhook (https://api.slack.com/messaging/webhooks): `text` is the
 * plain fallback shown in notifications, `blocks` the rich message (Block Kit): a header with the
 * headline, one section per alert with its facts as fields, dividers between alerts, and a context line
 * with the time in the reader's time zone. Slack's limits are kept: header <= 150, section text <= 3000,
 * <= 10 fields of <= 2000, <= 50 blocks (the last section lists what did not fit).
 */
import { clip, eventView, headline, isoTime, stripTag, toneOf, type Tone } from "../../runtime/alert-text.js";
import { loadSchema, optionalString, paramFailure, requireString, toDurationMs } from "../support.js";
import type { AlertEvent, ChannelHandler, ChannelResult, Notification } from "../types.js";
import { DEFAULT_SEND_TIMEOUT, describeEndpoint, postJson } from "./webhook.js";

export type SlackChannelParams = {
  url: string;
  channel?: string;
  timeout?: string | number;
};

export const SLACK_EMOJI: Readonly<Record<Tone, string>> = {
  critical: ":red_circle:",
  warning: ":large_orange_circle:",
  info: ":large_blue_circle:",
  resolved: ":white_check_mark:",
};

export const SLACK_LIMITS = {
  header: 150,
  section: 3000,
  fields: 10,
  field: 2000,
  blocks: 50,
  text: 4000,
} as const;

const RANK: Readonly<Record<Tone, number>> = { critical: 0, warning: 1, info: 2, resolved: 3 };

/** Slack mrkdwn treats &, < and > as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

type Block = Record<string, unknown>;

function section(event: AlertEvent, now: number): Block {
  const view = eventView(event, now);
  return {
    type: "section",
    text: {
      type: "mrkdwn",
      text: clip(`*${escapeMrkdwn(view.title)}*\n${escapeMrkdwn(view.body)}`, SLACK_LIMITS.section),
    },
    fields: view.fields.slice(0, SLACK_LIMITS.fields).map((f) => ({
      type: "mrkdwn",
      text: clip(`*${escapeMrkdwn(f.name)}*\n${escapeMrkdwn(f.value)}`, SLACK_LIMITS.field),
    })),
  };
}

function worstTone(events: readonly AlertEvent[]): Tone {
  return events.map(toneOf).reduce<Tone>((worst, t) => (RANK[t] < RANK[worst] ? t : worst), "resolved");
}

export function slackPayload(
  notification: Notification,
  params: Pick<SlackChannelParams, "channel">,
  now: number,
): Record<string, unknown> {
  const events = notification.events;
  const title = headline(events, now);
  const blocks: Block[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: clip(`${SLACK_EMOJI[worstTone(events)]} ${title}`, SLACK_LIMITS.header),
        emoji: true,
      },
    },
  ];
  // Header and context are fixed; each alert takes a section plus a divider.
  const fits = events.length * 2 + 1 <= SLACK_LIMITS.blocks;
  const shown = fits ? events : events.slice(0, Math.floor((SLACK_LIMITS.blocks - 3) / 2));
  shown.forEach((event, i) => {
    if (i > 0) blocks.push({ type: "divider" });
    blocks.push(section(event, now));
  });
  const rest = events.slice(shown.length);
  if (rest.length > 0) {
    const list = rest.map((e) => `• ${escapeMrkdwn(stripTag(e.message))}`).join("\n");
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: clip(`*…and ${rest.length} more*\n${list}`, SLACK_LIMITS.section) },
    });
  }
  const seconds = Math.floor(now / 1000);
  blocks.push({
    type: "context",
    elements: [
      { type: "mrkdwn", text: `upkeep · <!date^${seconds}^{date_short_pretty} {time}|${isoTime(now)}>` },
    ],
  });
  return {
    text: clip(events.length === 1 ? notification.text : `${title}\n${notification.text}`, SLACK_LIMITS.text),
    blocks,
    ...(params.channel === undefined ? {} : { channel: params.channel }),
  };
}

export const slackChannel = {
  name: "slack",
  kind: "channel",
  description: "Posts alerts to a Slack incoming webhook: fallback text plus Block Kit blocks.",
  get schema() {
    return loadSchema("channel", "slack");
  },
  sideEffects: "network",
  describe: (params) =>
    `POST slack webhook ${describeEndpoint(params.url)}${params.channel === undefined ? "" : ` to ${params.channel}`}`,
  async run(ctx, params, signal): Promise<ChannelResult> {
    const notification = ctx.notification;
    if (notification === undefined || notification.events.length === 0) {
      return { ok: false, detail: "no notification to send" };
    }
    let url: string;
    let channel: string | undefined;
    let timeoutMs: number;
    try {
      url = requireString(params.url, "url");
      channel = optionalString(params.channel, "channel");
      timeoutMs = toDurationMs(params.timeout ?? DEFAULT_SEND_TIMEOUT, "timeout");
    } catch (error) {
      return { ok: false, detail: paramFailure(error), retryable: false };
    }
    const payload = slackPayload(notification, { channel }, notification.createdAt ?? ctx.clock.now());
    return postJson(url, JSON.stringify(payload), { timeoutMs, signal, now: ctx.clock.now() });
  },
} satisfies ChannelHandler<SlackChannelParams>;
