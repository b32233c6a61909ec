/**
 * email: sends the grouped alerts as one mail over SMTP (nodemailer), with a plain-text and an HTML body.
 * Transport security: `secure: true` speaks TLS from the first byte (port 465); otherwise the session
 * starts in clear on `port` (587) and upgrades with STARTTLS, which `requireTLS` (default true) makes
 * mandatory, so neither the password nor the mail ever crosses the network in clear unless the config
 * says `requireTLS: false` (a relay on localhost). `insecure: true` accepts a self-signed certificate.
 * Failures follow SMTP's own split: a 4xx reply is transient (retried by the outbox), a 5xx is not;
 * no reply at all (refused, timeout, reset) is retried. nodemailer is loaded on the first send only, so
 * a tick without mail does not pay for it.
 */
import { hostname } from "node:os";
import type { SentMessageInfo, Transporter } from "nodemailer";
import { clip, eventView, headline, isoTime } from "../../runtime/alert-text.js";
import { redactText, registerSecret } from "../../runtime/redact.js";
import {
  loadSchema,
  optionalString,
  paramFailure,
  ParamError,
  requireString,
  toBoolean,
  toDurationMs,
  toInteger,
} from "../support.js";
import type { ChannelHandler, ChannelResult, Notification } from "../types.js";
import { DEFAULT_SEND_TIMEOUT } from "./webhook.js";

export type EmailChannelParams = {
  host: string;
  port?: number | string;
  secure?: boolean | string;
  requireTLS?: boolean | string;
  insecure?: boolean | string;
  username?: string;
  password?: string;
  from: string;
  to: string | string[];
  subject?: string;
  timeout?: string | number;
};

export const DEFAULT_SUBJECT = "[upkeep] {headline}";
/** Longer subjects are folded or cut by mail clients anyway; a cut here keeps the header sane. */
const SUBJECT_LIMIT = 200;
/** Of a server's reply, the first line is the reason; the rest is noise for a one-line detail. */
const REPLY_LIMIT = 300;

interface Settings {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly requireTLS: boolean;
  readonly insecure: boolean;
  readonly auth: { user: string; pass: string } | undefined;
  readonly from: string;
  readonly to: string[];
  readonly subject: string;
  readonly timeoutMs: number;
}

function recipients(value: unknown): string[] {
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length === 0)
    throw new ParamError("to", "is not an address or a non-empty list of addresses");
  return list.map((item, i) => requireString(item, `to[${i}]`));
}

function settingsOf(params: Readonly<Record<string, unknown>>): Settings {
  const secure = toBoolean(params["secure"], "secure", false);
  const username = optionalString(params["username"], "username");
  const password = optionalString(params["password"], "password");
  if ((username === undefined) !== (password === undefined))
    throw new ParamError("username", "and password go together");
  if (username !== undefined && password !== undefined) {
    // Also when written literally in the rules (not from ${env:...}): a server quoting what it got in a
    // refusal must not put the password, or the AUTH PLAIN token carrying it, into a detail.
    registerSecret(password);
    registerSecret(Buffer.from(`\0${username}\0${password}`).toString("base64"));
  }
  return {
    host: requireString(params["host"], "host"),
    port: toInteger(params["port"] ?? (secure ? 465 : 587), "port", 1, 65535),
    secure,
    requireTLS: toBoolean(params["requireTLS"], "requireTLS", true),
    insecure: toBoolean(params["insecure"], "insecure", false),
    auth: username !== undefined && password !== undefined ? { user: username, pass: password } : undefined,
    from: requireString(params["from"], "from"),
    to: recipients(params["to"]),
    subject: optionalString(params["subject"], "subject") ?? DEFAULT_SUBJECT,
    timeoutMs: toDurationMs(params["timeout"] ?? DEFAULT_SEND_TIMEOUT, "timeout"),
  };
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const PLACEHOLDER = /\{(headline|count|host)\}/g;

/** `{headline}`, `{count}` and `{host}` in the subject; anything else stays as written. */
export function renderSubject(
  template: string,
  notification: Notification,
  now: number,
  host: string,
): string {
  const values: Record<string, string> = {
    headline: headline(notification.events, now),
    count: String(notification.events.length),
    host,
  };
  // Header injection: a line break in a subject would start a new header.
  const subject = template
    .replace(PLACEHOLDER, (_, key: string) => values[key] ?? "")
    .replace(/[\r\n]+/g, " ");
  return clip(subject, SUBJECT_LIMIT);
}

export function emailBodies(
  notification: Notification,
  now: number,
  host: string,
): { text: string; html: string } {
  const views = notification.events.map((e) => eventView(e, now));
  const title = headline(notification.events, now);
  const footer = `upkeep on ${host} · ${isoTime(now)}`;
  const text = [
    title,
    "",
    ...views.flatMap((v) => [v.title, `  ${v.body}`, ...v.fields.map((f) => `  ${f.name}: ${f.value}`), ""]),
    "-- ",
    footer,
    "",
  ].join("\n");
  const section = (v: (typeof views)[number]): string =>
    [
      `<h3>${escapeHtml(v.title)}</h3>`,
      `<p>${escapeHtml(v.body)}</p>`,
      "<table>",
      ...v.fields.map(
        (f) => `<tr><th align="left">${escapeHtml(f.name)}</th><td>${escapeHtml(f.value)}</td></tr>`,
      ),
      "</table>",
    ].join("\n");
  const html = [
    "<!doctype html>",
    `<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>`,
    `<h2>${escapeHtml(title)}</h2>`,
    ...views.map(section),
    `<hr><p><small>${escapeHtml(footer)}</small></p>`,
    "</body></html>",
    "",
  ].join("\n");
  return { text, html };
}

/** The fields of nodemailer's errors a result needs (SMTPConnection sets them on the Error). */
interface SmtpError {
  readonly message: string;
  readonly code?: string;
  readonly responseCode?: number;
  readonly response?: string;
  readonly command?: string;
}

function smtpError(error: unknown): SmtpError {
  if (error instanceof Error) return error as Error & SmtpError;
  return { message: String(error) };
}

const CERTIFICATE = /certificate|self[- ]signed|unable to verify/i;

/**
 * SMTP (RFC 5321 §4.2.1): 4yz is a transient failure, 5yz permanent. Without a reply, the network
 * failed, which is worth another try; a certificate the client refuses is a setting and is not.
 */
export function failureResult(error: unknown): ChannelResult {
  const e = smtpError(error);
  const reply = clip((e.response ?? "").split(/\r?\n/)[0] ?? "", REPLY_LIMIT);
  if (typeof e.responseCode === "number") {
    const during = e.command === undefined ? "" : ` (after ${e.command.split(" ")[0]})`;
    return {
      ok: false,
      detail: redactText(`SMTP ${reply === "" ? String(e.responseCode) : reply}${during}`),
      retryable: e.responseCode >= 400 && e.responseCode < 500,
    };
  }
  const message = clip(e.message.split(/\r?\n/)[0] ?? "", REPLY_LIMIT);
  if (CERTIFICATE.test(message)) {
    return {
      ok: false,
      detail: redactText(`SMTP TLS: ${message} (insecure: true accepts a self-signed certificate)`),
      retryable: false,
    };
  }
  const permanent = e.code === "EAUTH" || e.code === "EENVELOPE" || e.code === "EMESSAGE";
  return {
    ok: false,
    detail: redactText(`SMTP ${e.code === undefined ? "" : `${e.code} `}${message}`),
    retryable: !permanent,
  };
}

type Mailer = typeof import("nodemailer");
let mailer: Promise<Mailer> | undefined;

function loadMailer(): Promise<Mailer> {
  mailer ??= import("nodemailer");
  return mailer;
}

function aborted(signal: AbortSignal): Promise<ChannelResult> {
  return new Promise((resolve) => {
    const settle = (): void => resolve({ ok: false, detail: "SMTP send aborted", retryable: true });
    if (signal.aborted) settle();
    else signal.addEventListener("abort", settle, { once: true });
  });
}

async function send(
  s: Settings,
  notification: Notification,
  now: number,
  signal: AbortSignal,
): Promise<ChannelResult> {
  const host = hostname();
  const { text, html } = emailBodies(notification, now, host);
  const nodemailer = await loadMailer();
  const transport: Transporter<SentMessageInfo> = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    requireTLS: !s.secure && s.requireTLS,
    ...(s.auth === undefined ? {} : { auth: s.auth }),
    tls: { rejectUnauthorized: !s.insecure },
    connectionTimeout: s.timeoutMs,
    greetingTimeout: s.timeoutMs,
    socketTimeout: s.timeoutMs,
    name: host,
  });
  try {
    const sent = transport
      .sendMail({
        from: s.from,
        to: s.to,
        subject: renderSubject(s.subject, notification, now, host),
        text,
        html,
        ...(notification.id === undefined ? {} : { headers: { "X-Upkeep-Notification": notification.id } }),
      })
      .then((info): ChannelResult => {
        const reply = typeof info.response === "string" ? clip(info.response, REPLY_LIMIT) : "accepted";
        return { ok: true, detail: redactText(`SMTP ${reply}`) };
      }, failureResult);
    return await Promise.race([sent, aborted(signal)]);
  } finally {
    transport.close();
  }
}

export const emailChannel = {
  name: "email",
  kind: "channel",
  description: "Sends alerts as one mail over SMTP (STARTTLS or TLS, optional auth): plain text and HTML.",
  get schema() {
    return loadSchema("channel", "email");
  },
  sideEffects: "network",
  describe: (params) => {
    const to = Array.isArray(params.to) ? params.to.join(", ") : String(params.to);
    const port = params.port ?? (params.secure === true || params.secure === "true" ? 465 : 587);
    return `SMTP ${String(params.host)}:${String(port)} to ${to}`;
  },
  async run(ctx, params, signal): Promise<ChannelResult> {
    const notification = ctx.notification;
    if (notification === undefined || notification.events.length === 0) {
      return { ok: false, detail: "no notification to send" };
    }
    let s: Settings;
    try {
      s = settingsOf(params);
    } catch (error) {
      return { ok: false, detail: paramFailure(error), retryable: false };
    }
    return send(s, notification, notification.createdAt ?? ctx.clock.now(), signal);
  },
} satisfies ChannelHandler<EmailChannelParams>;
