/**
 * alertmanager: posts alerts to Prometheus Alertmanager (POST <url>/api/v2/alerts), which then routes,
 * groups, deduplicates and silences them across every host that runs upkeep.
 *
 * - Alertmanager identifies an alert by its labels: `alertname` (the rule id), `service`, `severity`
 *   (the level, lower case), `instance` (the host), the service's tags and the channel's extra labels.
 * - `startsAt` is the episode's start; `endsAt` is the send time on resolve, and while firing the send
 *   time plus `resolveTimeout`. Alertmanager resolves an alert by itself once `endsAt` passes, so the
 *   handler declares `refreshWhileFiring`: the delivery layer sends every firing alert at every tick.
 * - Every URL gets every alert (an HA pair needs both told; its members deduplicate the notifications).
 *   The send succeeds if one accepted; the detail names the ones that failed.
 * - A notification of refreshes only is not retried: the next tick sends a newer one, and a stale
 *   refresh arriving after a resolve would re-open the alert.
 */
import { hostname } from "node:os";
import { isoTime, eventView, stripTag } from "../../runtime/alert-text.js";
import { httpRequest, type HttpRequestOptions } from "../../runtime/http-request.js";
import {
  expandHome,
  loadSchema,
  optionalString,
  paramFailure,
  ParamError,
  requireString,
  toBoolean,
  toDurationMs,
  toStringMap,
} from "../support.js";
import type { AlertEvent, ChannelHandler, ChannelResult, Notification } from "../types.js";
import { DEFAULT_SEND_TIMEOUT, describeEndpoint, outcomeResult } from "./webhook.js";

export type AlertmanagerChannelParams = {
  urls: string[];
  instance?: string;
  labels?: Record<string, string>;
  generatorURL?: string;
  resolveTimeout?: string;
  username?: string;
  password?: string;
  bearerToken?: string;
  headers?: Record<string, string>;
  insecure?: boolean;
  ca?: string;
  timeout?: string | number;
};

/** Alertmanager's own `resolve_timeout` default, and the floor of ours. */
export const MIN_RESOLVE_TIMEOUT_MS = 5 * 60_000;
/** Ticks that may be missed (a slow tick, a restart) before Alertmanager resolves a firing alert. */
const MISSED_TICKS = 3;
const RESPONSE_LIMIT = 4096;
const IDENTITY = ["alertname", "service", "severity", "instance"] as const;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** One alert as Alertmanager's API v2 (`postableAlert`) takes it. */
export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

export interface PayloadOptions {
  readonly instance: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly generatorURL?: string;
  readonly resolveTimeoutMs: number;
  readonly now: number;
}

export function resolveTimeoutMs(intervalMs: number | undefined): number {
  return Math.max(MIN_RESOLVE_TIMEOUT_MS, MISSED_TICKS * (intervalMs ?? 0));
}

/**
 * Tags become labels: `key=value` tags as their own label (when `key` is a label name and not one of
 * ours), and all tags, sorted, as `tags="a,b"` so routes can match `tags=~".*db.*"`.
 */
export function tagLabels(tags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of tags) {
    const eq = tag.indexOf("=");
    const name = tag.slice(0, eq);
    const value = tag.slice(eq + 1);
    if (eq > 0 && value !== "" && LABEL_NAME.test(name) && !isIdentity(name) && name !== "tags")
      out[name] = value;
  }
  if (tags.length > 0) out["tags"] = [...tags].sort().join(",");
  return out;
}

function isIdentity(name: string): boolean {
  return (IDENTITY as readonly string[]).includes(name);
}

function tagsOf(event: AlertEvent): readonly string[] {
  const service = event.facts["service"] as { tags?: unknown } | undefined;
  const tags = service?.tags;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === "string") : [];
}

export function toAmAlert(event: AlertEvent, options: PayloadOptions): AmAlert {
  const labels: Record<string, string> = {
    ...tagLabels(tagsOf(event)),
    ...options.labels,
    alertname: event.ruleId,
    service: event.serviceId,
    severity: event.level.toLowerCase(),
    instance: options.instance,
  };
  const resolved = event.kind === "resolved";
  // The summary names the alert, not this notice ("still down" would flip it at every refresh).
  const summary = eventView({ ...event, kind: resolved ? "resolved" : "firing" }, options.now).title;
  return {
    labels,
    annotations: { summary, description: stripTag(event.message), title: event.serviceTitle },
    startsAt: isoTime(event.since),
    endsAt: isoTime(resolved ? options.now : options.now + options.resolveTimeoutMs),
    ...(options.generatorURL === undefined ? {} : { generatorURL: options.generatorURL }),
  };
}

/**
 * The request body: one alert per event, the last word per alert when a notification carries the
 * same alert twice (a refresh and its resolve never do, but a merged retry could).
 */
export function amPayload(notification: Notification, options: PayloadOptions): AmAlert[] {
  const byAlert = new Map<string, AmAlert>();
  for (const event of notification.events)
    byAlert.set(JSON.stringify([event.ruleId, event.serviceId]), toAmAlert(event, options));
  return [...byAlert.values()];
}

/** `<base>/api/v2/alerts`; a URL that already ends so is kept. */
export function alertsEndpoint(base: string): string {
  const url = new URL(base);
  if (!/\/api\/v2\/alerts\/?$/.test(url.pathname))
    url.pathname = `${url.pathname.replace(/\/+$/, "")}/api/v2/alerts`;
  return url.toString();
}

interface Settings {
  readonly urls: string[];
  readonly options: Omit<PayloadOptions, "now">;
  readonly headers: Record<string, string>;
  /** Secret strings as they travel (the Basic base64, the token), hidden from replies. */
  readonly credentials: readonly string[];
  readonly insecure: boolean;
  readonly ca: string | undefined;
  readonly timeoutMs: number;
}

function settingsOf(params: AlertmanagerChannelParams, intervalMs: number | undefined): Settings {
  if (!Array.isArray(params.urls) || params.urls.length === 0)
    throw new ParamError("urls", "needs at least one Alertmanager URL");
  const urls = params.urls.map((u, i) => requireString(u, `urls[${i}]`));
  const labels = toStringMap(params.labels, "labels");
  for (const name of Object.keys(labels)) {
    if (!LABEL_NAME.test(name) || isIdentity(name))
      throw new ParamError("labels", `"${name}" is not a label name upkeep lets you set`);
  }
  const username = optionalString(params.username, "username");
  const password = typeof params.password === "string" ? params.password : undefined;
  const bearer = optionalString(params.bearerToken, "bearerToken");
  if (bearer !== undefined && username !== undefined)
    throw new ParamError("bearerToken", "use either bearerToken or username/password, not both");
  const headers = toStringMap(params.headers, "headers");
  const credentials: string[] = [];
  if (bearer !== undefined) {
    headers["authorization"] = `Bearer ${bearer}`;
    credentials.push(bearer);
  }
  if (username !== undefined) {
    const basic = Buffer.from(`${username}:${password ?? ""}`, "utf8").toString("base64");
    headers["authorization"] = `Basic ${basic}`;
    credentials.push(basic);
    if (password !== undefined && password !== "") credentials.push(password);
  }
  const generatorURL = optionalString(params.generatorURL, "generatorURL");
  const ca = optionalString(params.ca, "ca");
  return {
    urls,
    options: {
      instance: optionalString(params.instance, "instance") ?? hostname(),
      labels,
      resolveTimeoutMs:
        params.resolveTimeout === undefined
          ? resolveTimeoutMs(intervalMs)
          : toDurationMs(params.resolveTimeout, "resolveTimeout"),
      ...(generatorURL === undefined ? {} : { generatorURL }),
    },
    headers,
    credentials,
    insecure: toBoolean(params.insecure, "insecure", false),
    ca: ca === undefined ? undefined : expandHome(ca),
    timeoutMs: toDurationMs(params.timeout ?? DEFAULT_SEND_TIMEOUT, "timeout"),
  };
}

async function postTo(
  url: string,
  payload: string,
  s: Settings,
  ca: string | undefined,
  signal: AbortSignal,
  now: number,
): Promise<ChannelResult> {
  let endpoint: string;
  try {
    endpoint = alertsEndpoint(url);
  } catch {
    return { ok: false, detail: "invalid URL", retryable: false };
  }
  const request: HttpRequestOptions = {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "upkeep", ...s.headers },
    body: payload,
    timeoutMs: s.timeoutMs,
    signal,
    insecure: s.insecure,
    maxBodyBytes: RESPONSE_LIMIT,
    ...(ca === undefined ? {} : { ca }),
  };
  const outcome = await httpRequest(endpoint, request);
  if (!outcome.ok || s.credentials.length === 0) return outcomeResult(outcome, now);
  // An endpoint that echoes the request would show the Basic credentials base64-encoded, a form the
  // redactor does not know: they go before the reply is clipped into a detail.
  const body = s.credentials.reduce((text, c) => text.split(c).join("***"), outcome.response.body);
  return outcomeResult({ ...outcome, response: { ...outcome.response, body } }, now);
}

export const alertmanagerChannel = {
  name: "alertmanager",
  kind: "channel",
  description:
    "Posts alerts to Prometheus Alertmanager (API v2), refreshed every tick while firing, to every URL given.",
  get schema() {
    return loadSchema("channel", "alertmanager");
  },
  sideEffects: "network",
  refreshWhileFiring: true,
  describe: (params) => {
    const urls = Array.isArray(params.urls) ? params.urls : [];
    const where = urls.map(describeEndpoint).join(", ");
    return `POST alerts to Alertmanager ${where === "" ? "(no urls)" : where} (/api/v2/alerts)`;
  },
  async run(ctx, params, signal): Promise<ChannelResult> {
    const notification = ctx.notification;
    if (notification === undefined) return { ok: false, detail: "no notification to send" };
    let s: Settings;
    try {
      s = settingsOf(params, ctx.settings.intervalMs);
    } catch (error) {
      return { ok: false, detail: paramFailure(error), retryable: false };
    }
    let ca: string | undefined;
    if (s.ca !== undefined) {
      try {
        const { readFile } = await import("node:fs/promises");
        ca = await readFile(s.ca, "utf8");
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        return { ok: false, detail: `cannot read ca ${s.ca}: ${code}`, retryable: false };
      }
    }
    const now = ctx.clock.now();
    const body = JSON.stringify(amPayload(notification, { ...s.options, now }));
    const results = await Promise.all(s.urls.map((url) => postTo(url, body, s, ca, signal, now)));
    const failed = results.flatMap((r, i) => (r.ok ? [] : [`${describeEndpoint(s.urls[i])} ${r.detail}`]));
    const accepted = results.length - failed.length;
    const refreshOnly = notification.events.every((e) => e.refresh === true);
    if (accepted > 0) {
      const detail = `${notification.events.length} alert(s) accepted by ${accepted}/${results.length} Alertmanager(s)`;
      return { ok: true, detail: failed.length === 0 ? detail : `${detail}; failed: ${failed.join("; ")}` };
    }
    const retryable = !refreshOnly && results.some((r) => r.retryable === true);
    const waits = results.flatMap((r) => (r.retryAfterMs === undefined ? [] : [r.retryAfterMs]));
    return {
      ok: false,
      detail: `no Alertmanager accepted: ${failed.join("; ")}${refreshOnly ? " (a refresh: the next tick sends a newer one)" : ""}`,
      retryable,
      ...(retryable && waits.length > 0 ? { retryAfterMs: Math.min(...waits) } : {}),
    };
  },
} satisfies ChannelHandler<AlertmanagerChannelParams>;
