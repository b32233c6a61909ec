/**
 * discord: posts to a Discord webhook (https://discord.com/developers/docs/resources/webhook#execute-webhook):
 * `content` with the plain headline, and one embed per alert whose colour follows the level (CRITICAL
 * red, WARNING orange, INFO blue, resolved green), with the alert's facts as fields. Discord's limits
 * are kept: content <= 2000, at most 10 embeds (the tenth lists the rest), title <= 256,
 * description <= 4096, <= 25 fields of <= 256/1024, and <= 6000 characters over all embeds.
 * Mentions are disabled, so a probe detail containing `@everyone` pings nobody.
 */
import { clip, eventView, headline, stripTag, type Tone } from "../../runtime/alert-text.js";
import { loadSchema, optionalString, paramFailure, requireString, toDurationMs } from "../support.js";
import type { AlertEvent, ChannelHandler, ChannelResult, Notification } from "../types.js";
import { DEFAULT_SEND_TIMEOUT, describeEndpoint, postJson } from "./webhook.js";

export type DiscordChannelParams = {
  url: string;
  username?: string;
  avatarUrl?: string;
  timeout?: string | number;
};

export const DISCORD_COLORS: Readonly<Record<Tone, number>> = {
  critical: 0xed4245,
  warning: 0xfaa61a,
  info: 0x3498db,
  resolved: 0x57f287,
};

export const DISCORD_LIMITS = {
  content: 2000,
  embeds: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  total: 6000,
} as const;

interface Embed {
  title: string;
  description: string;
  color: number;
  fields: { name: string; value: string; inline: boolean }[];
  timestamp: string;
  footer: { text: string };
}

function embedFor(event: AlertEvent, now: number): Embed {
  const view = eventView(event, now);
  return {
    title: clip(view.title, DISCORD_LIMITS.title),
    description: clip(view.body, DISCORD_LIMITS.description),
    color: DISCORD_COLORS[view.tone],
    fields: view.fields.slice(0, DISCORD_LIMITS.fields).map((f) => ({
      name: clip(f.name, DISCORD_LIMITS.fieldName),
      value: clip(f.value === "" ? "-" : f.value, DISCORD_LIMITS.fieldValue),
      inline: true,
    })),
    timestamp: new Date(now).toISOString(),
    footer: { text: "upkeep" },
  };
}

function overflowEmbed(rest: readonly AlertEvent[], now: number): Embed {
  const worst = rest.find((e) => e.kind !== "resolved") ?? rest[0];
  return {
    title: `…and ${rest.length} more`,
    description: clip(rest.map((e) => `• ${stripTag(e.message)}`).join("\n"), DISCORD_LIMITS.description),
    color: worst === undefined ? DISCORD_COLORS.info : DISCORD_COLORS[eventView(worst, now).tone],
    fields: [],
    timestamp: new Date(now).toISOString(),
    footer: { text: "upkeep" },
  };
}

const size = (e: Embed): number =>
  e.title.length +
  e.description.length +
  e.footer.text.length +
  e.fields.reduce((n, f) => n + f.name.length + f.value.length, 0);

/** Shrinks descriptions so all embeds together stay within Discord's total. */
function fitTotal(embeds: Embed[]): Embed[] {
  if (embeds.reduce((n, e) => n + size(e), 0) <= DISCORD_LIMITS.total) return embeds;
  const share = Math.floor(DISCORD_LIMITS.total / embeds.length);
  return embeds.map((e) => {
    const room = Math.max(1, share - (size(e) - e.description.length));
    const fields = room > 1 ? e.fields : [];
    return { ...e, fields, description: clip(e.description, room) };
  });
}

export function discordPayload(
  notification: Notification,
  params: Pick<DiscordChannelParams, "username" | "avatarUrl">,
  now: number,
): Record<string, unknown> {
  const events = notification.events;
  const [only] = events;
  const content =
    events.length === 1 && only !== undefined
      ? only.message
      : `**${headline(events, now)}**\n${notification.text}`;
  const max = DISCORD_LIMITS.embeds;
  const shown = events.length > max ? events.slice(0, max - 1) : events;
  const embeds = shown.map((e) => embedFor(e, now));
  if (events.length > max) embeds.push(overflowEmbed(events.slice(max - 1), now));
  return {
    content: clip(content, DISCORD_LIMITS.content),
    embeds: fitTotal(embeds),
    allowed_mentions: { parse: [] },
    ...(params.username === undefined ? {} : { username: params.username }),
    ...(params.avatarUrl === undefined ? {} : { avatar_url: params.avatarUrl }),
  };
}

export const discordChannel = {
  name: "discord",
  kind: "channel",
  description: "Posts alerts to a Discord webhook: a headline plus one coloured embed per alert.",
  get schema() {
    return loadSchema("channel", "discord");
  },
  sideEffects: "network",
  describe: (params) => `POST discord webhook ${describeEndpoint(params.url)}`,
  async run(ctx, params, signal): Promise<ChannelResult> {
    const notification = ctx.notification;
    if (notification === undefined || notification.events.length === 0) {
      return { ok: false, detail: "no notification to send" };
    }
    let url: string;
    let username: string | undefined;
    let avatarUrl: string | undefined;
    let timeoutMs: number;
    try {
      url = requireString(params.url, "url");
      username = optionalString(params.username, "username");
      avatarUrl = optionalString(params.avatarUrl, "avatarUrl");
      timeoutMs = toDurationMs(params.timeout ?? DEFAULT_SEND_TIMEOUT, "timeout");
    } catch (error) {
      return { ok: false, detail: paramFailure(error), retryable: false };
    }
    const now = notification.createdAt ?? ctx.clock.now();
    const payload = discordPayload(notification, { username, avatarUrl }, now);
    return postJson(url, JSON.stringify(payload), { timeoutMs, signal, now: ctx.clock.now() });
  },
} satisfies ChannelHandler<DiscordChannelParams>;
