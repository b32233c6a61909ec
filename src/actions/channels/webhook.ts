/**
 * webhook: POSTs the whole notification as JSON to any HTTP endpoint. With `secret`, the request is
 * signed so receivers can tell it came from us:
 *
 *   X-Upkeep-Timestamp: <unix seconds>          (also in the body as `sentAt`)
 *   X-Upkeep-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>
 *   X-Upkeep-Delivery:  <notification id>       (the same on every retry: drop duplicates by it)
 *
 * A receiver recomputes the HMAC over the exact bytes it received, compares in constant time, then checks
 * that `sentAt` equals the timestamp header and is recent (replay protection: the timestamp is inside
 * the signed body). Also exports the HTTP helpers discord and slack share.
 */
import { httpRequest, type HttpOutcome } from "../../runtime/http-request.js";
import { isoTime } from "../../runtime/alert-text.js";
import {
  firstLine,
  loadSchema,
  optionalString,
  paramFailure,
  requireString,
  toDurationMs,
  toStringMap,
} from "../support.js";
import type { ChannelHandler, ChannelResult, Notification } from "../types.js";

export type WebhookChannelParams = {
  url: string;
  headers?: Record<string, string>;
  secret?: string;
  method?: "POST" | "PUT";
  timeout?: string | number;
};

export const DEFAULT_SEND_TIMEOUT = "10s";
/** Response bytes kept: enough for an error message, never a whole page. */
const RESPONSE_LIMIT = 4096;

/**
 * Where a URL points, without its secret parts: only scheme and host (a webhook's path and query are
 * its credentials). A URL that is wholly `${env:NAME}` shows the variable name.
 */
export function describeEndpoint(url: unknown): string {
  if (typeof url !== "string") return "(no url)";
  const env = /^\$\{env:([A-Z_][A-Z0-9_]*)\}$/.exec(url);
  if (env !== null) return `\${env:${env[1]}}`;
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/...`;
  } catch {
    return "(invalid url)";
  }
}

/** Milliseconds from a `Retry-After` header (seconds or an HTTP date) or a JSON `retry_after` (Discord). */
export function retryAfterMs(
  header: string | string[] | undefined,
  body: string,
  now: number,
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && value.trim() !== "") {
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
    const date = Date.parse(value);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  try {
    const parsed = JSON.parse(body) as { retry_after?: unknown };
    if (typeof parsed.retry_after === "number" && parsed.retry_after >= 0)
      return Math.ceil(parsed.retry_after * 1000);
  } catch {
    // not JSON: no hint
  }
  return undefined;
}

/** Network errors and timeouts are worth retrying; a malformed URL is not. */
export function outcomeResult(outcome: HttpOutcome, now: number): ChannelResult {
  if (!outcome.ok) {
    return { ok: false, detail: outcome.error, retryable: outcome.code !== "BAD_URL" };
  }
  const { status, headers, body } = outcome.response;
  const reply = firstLine(body);
  const detail = `HTTP ${status}${reply === "" ? "" : ` ${reply}`}`;
  if (status >= 200 && status < 300) return { ok: true, detail };
  const retryable = status >= 500 || status === 429 || status === 408;
  const wait = status === 429 || status === 503 ? retryAfterMs(headers["retry-after"], body, now) : undefined;
  return {
    ok: false,
    detail: wait === undefined ? detail : `${detail} (retry after ${Math.ceil(wait / 1000)}s)`,
    retryable,
    ...(wait === undefined ? {} : { retryAfterMs: wait }),
  };
}

export interface PostOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly now: number;
}

export async function postJson(url: string, body: string, options: PostOptions): Promise<ChannelResult> {
  const outcome = await httpRequest(url, {
    method: options.method ?? "POST",
    headers: { "content-type": "application/json", "user-agent": "upkeep", ...options.headers },
    body,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    maxBodyBytes: RESPONSE_LIMIT,
  });
  return outcomeResult(outcome, options.now);
}

/** The JSON document webhook receivers and `command` channels get. */
export function notificationDocument(notification: Notification, sentAt: number): Record<string, unknown> {
  return {
    version: 1,
    source: "upkeep",
    id: notification.id ?? null,
    channel: notification.channel,
    createdAt: isoTime(notification.createdAt ?? sentAt),
    sentAt: Math.floor(sentAt / 1000),
    text: notification.text,
    events: notification.events.map((e) => ({ ...e, since: isoTime(e.since) })),
  };
}

export function sign(secret: string, body: string): string {
  // Loaded on use: every tick loads the channels, few send, fewer sign.
  const { createHmac } = process.getBuiltinModule("node:crypto");
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

export const webhookChannel = {
  name: "webhook",
  kind: "channel",
  description: "POSTs the notification as JSON to an HTTP endpoint, optionally HMAC-SHA256 signed.",
  get schema() {
    return loadSchema("channel", "webhook");
  },
  sideEffects: "network",
  describe: (params) => {
    const method = typeof params.method === "string" ? params.method.toUpperCase() : "POST";
    const signed = params.secret === undefined ? "" : ", signed";
    return `${method} notification JSON to ${describeEndpoint(params.url)}${signed}`;
  },
  async run(ctx, params, signal): Promise<ChannelResult> {
    const notification = ctx.notification;
    if (notification === undefined) return { ok: false, detail: "no notification to send" };
    let url: string;
    let headers: Record<string, string>;
    let secret: string | undefined;
    let method: string;
    let timeoutMs: number;
    try {
      url = requireString(params.url, "url");
      headers = toStringMap(params.headers, "headers");
      secret = optionalString(params.secret, "secret");
      method = (optionalString(params.method, "method") ?? "POST").toUpperCase();
      timeoutMs = toDurationMs(params.timeout ?? DEFAULT_SEND_TIMEOUT, "timeout");
    } catch (error) {
      return { ok: false, detail: paramFailure(error), retryable: false };
    }
    const now = ctx.clock.now();
    const body = JSON.stringify(notificationDocument(notification, now));
    const stamp = String(Math.floor(now / 1000));
    const extra: Record<string, string> = { "x-upkeep-timestamp": stamp };
    if (notification.id !== undefined) extra["x-upkeep-delivery"] = notification.id;
    if (secret !== undefined) extra["x-upkeep-signature"] = sign(secret, body);
    return postJson(url, body, { method, headers: { ...headers, ...extra }, timeoutMs, signal, now });
  },
} satisfies ChannelHandler<WebhookChannelParams>;
