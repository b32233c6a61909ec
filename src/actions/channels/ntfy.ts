/**
 * ntfy: publishes to an ntfy topic (https://docs.ntfy.sh/publish/), on ntfy.sh or a self-hosted server.
 * `url` is the topic URL (`https://ntfy.sh/mytopic`); the message goes as ntfy's JSON publish (a POST
 * to the server's root with `topic` in the body), because JSON carries any title in UTF-8 where headers
 * would not. Title: the grouped alerts' headline; message: the plain text; priority: from the level
 * (CRITICAL 5 urgent, WARNING 4 high, others 3 default; a resolved notice 3), or a map per level; tags:
 * one emoji per tone (rotating_light, warning, information_source, white_check_mark) plus fixed ones.
 * Auth: an access token (Bearer) or username/password (Basic). The topic name is a password on a
 * public server, so `describe` and errors show only scheme and host.
 */
import { clip, headline, toneOf, type Tone } from "../../runtime/alert-text.js";
import { registerSecret } from "../../runtime/redact.js";
import {
  loadSchema,
  optionalString,
  paramFailure,
  ParamError,
  requireString,
  toDurationMs,
} from "../support.js";
import type { ChannelHandler, ChannelResult, Notification } from "../types.js";
import { DEFAULT_SEND_TIMEOUT, describeEndpoint, postJson } from "./webhook.js";

export type NtfyPriority = 1 | 2 | 3 | 4 | 5 | "min" | "low" | "default" | "high" | "urgent" | "max";

export type NtfyChannelParams = {
  url: string;
  token?: string;
  username?: string;
  password?: string;
  priority?: Record<string, NtfyPriority>;
  tags?: string[];
  timeout?: string | number;
};

const PRIORITY_NAMES: Readonly<Record<string, number>> = {
  min: 1,
  low: 2,
  default: 3,
  high: 4,
  urgent: 5,
  max: 5,
};

export const NTFY_PRIORITY: Readonly<Record<Tone, number>> = {
  critical: 5,
  warning: 4,
  info: 3,
  resolved: 3,
};

export const NTFY_TAGS: Readonly<Record<Tone, string>> = {
  critical: "rotating_light",
  warning: "warning",
  info: "information_source",
  resolved: "white_check_mark",
};

const TONE_ORDER: readonly Tone[] = ["critical", "warning", "info", "resolved"];

/** ntfy's limits: the server refuses a message over 4096 bytes as an attachment-less publish. */
export const NTFY_LIMITS = { title: 250, message: 4000 } as const;

function toPriority(value: unknown, param: string): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 5) return value;
  if (typeof value === "string") {
    const named = PRIORITY_NAMES[value.toLowerCase()];
    if (named !== undefined) return named;
    if (/^[1-5]$/.test(value)) return Number(value);
  }
  throw new ParamError(param, `${JSON.stringify(value)} is not 1-5 or min, low, default, high, urgent, max`);
}

function priorityMap(value: unknown): Record<string, number> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new ParamError("priority", "is not a map");
  return Object.fromEntries(
    Object.entries(value).map(([level, p]) => [level.toUpperCase(), toPriority(p, `priority.${level}`)]),
  );
}

function tagList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((t) => typeof t === "string" && t !== ""))
    throw new ParamError("tags", "is not a list of tag names");
  return value as string[];
}

/** Splits `https://host/base/topic` into the publish root and the topic. */
export function topicOf(url: string): { root: string; topic: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ParamError("url", "is not a URL");
  }
  const segments = parsed.pathname.split("/").filter((s) => s !== "");
  const topic = segments.pop();
  if (topic === undefined) throw new ParamError("url", "names no topic (e.g. https://ntfy.sh/mytopic)");
  parsed.pathname = `/${segments.map((s) => `${s}/`).join("")}`;
  return { root: parsed.toString(), topic: decodeURIComponent(topic) };
}

export function ntfyPayload(
  notification: Notification,
  options: { topic: string; priority: Readonly<Record<string, number>>; tags: readonly string[] },
  now: number,
): Record<string, unknown> {
  const events = notification.events;
  const priority = Math.max(
    ...events.map((e) =>
      e.kind === "resolved"
        ? NTFY_PRIORITY.resolved
        : (options.priority[e.level.toUpperCase()] ?? NTFY_PRIORITY[toneOf(e)]),
    ),
  );
  const tones = new Set(events.map(toneOf));
  const toneTags = TONE_ORDER.filter((t) => tones.has(t)).map((t) => NTFY_TAGS[t]);
  return {
    topic: options.topic,
    title: clip(headline(events, now), NTFY_LIMITS.title),
    message: clip(notification.text, NTFY_LIMITS.message),
    priority,
    tags: [...new Set([...toneTags, ...options.tags])],
  };
}

export const ntfyChannel = {
  name: "ntfy",
  kind: "channel",
  description: "Publishes alerts to an ntfy topic (ntfy.sh or self-hosted): title, text, priority and tags.",
  get schema() {
    return loadSchema("channel", "ntfy");
  },
  sideEffects: "network",
  describe: (params) => `POST ntfy ${describeEndpoint(params.url)}`,
  async run(ctx, params, signal): Promise<ChannelResult> {
    const notification = ctx.notification;
    if (notification === undefined || notification.events.length === 0) {
      return { ok: false, detail: "no notification to send" };
    }
    let target: { root: string; topic: string };
    let headers: Record<string, string>;
    let priority: Record<string, number>;
    let tags: string[];
    let timeoutMs: number;
    try {
      target = topicOf(requireString(params.url, "url"));
      const token = optionalString(params.token, "token");
      const username = optionalString(params.username, "username");
      const password = optionalString(params.password, "password");
      if (token !== undefined && username !== undefined)
        throw new ParamError("token", "and username/password are exclusive: use one");
      if ((username === undefined) !== (password === undefined))
        throw new ParamError("username", "and password go together");
      const basic =
        username !== undefined && password !== undefined
          ? Buffer.from(`${username}:${password}`).toString("base64")
          : undefined;
      // The encoded pair is not a form of either value alone: an endpoint echoing it must not leak it.
      if (basic !== undefined) registerSecret(basic);
      headers =
        token !== undefined
          ? { authorization: `Bearer ${token}` }
          : basic !== undefined
            ? { authorization: `Basic ${basic}` }
            : {};
      priority = priorityMap(params.priority);
      tags = tagList(params.tags);
      timeoutMs = toDurationMs(params.timeout ?? DEFAULT_SEND_TIMEOUT, "timeout");
    } catch (error) {
      return { ok: false, detail: paramFailure(error), retryable: false };
    }
    const payload = ntfyPayload(
      notification,
      { topic: target.topic, priority, tags },
      notification.createdAt ?? ctx.clock.now(),
    );
    return postJson(target.root, JSON.stringify(payload), {
      headers,
      timeoutMs,
      signal,
      now: ctx.clock.now(),
    });
  },
} satisfies ChannelHandler<NtfyChannelParams>;
