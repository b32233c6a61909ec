/**
 * One send through one channel: the channel's handler with its parameters resolved at send time (so no
 * secret is ever stored), bounded by its timeout, never throwing, every detail redacted.
 */
import type { ChannelHandler, ChannelResult, Notification } from "../actions/types.js";
import { toDurationMs } from "../actions/support.js";
import type { Config } from "../config/model.js";
import { deadlineSignal } from "./deadline.js";
import { redactText, redactValue } from "./redact.js";
import { resolveParams } from "./resolve.js";
import type { TickDeps } from "./tick.js";

export type DeliverDeps = Pick<TickDeps, "clock" | "logger" | "settings" | "env" | "redactor" | "getHandler">;

export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

export interface SendOutcome {
  readonly status: "sent" | "failed" | "unusable";
  readonly detail: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
}

export type Prepared =
  | { readonly ok: true; readonly handler: ChannelHandler; readonly params: Record<string, unknown> }
  | { readonly ok: false; readonly detail: string };

/** The channel's handler and its parameters resolved now (secrets registered with the redactor). */
export function prepareChannel(config: Config, channelId: string, deps: DeliverDeps): Prepared {
  const spec = Object.hasOwn(config.alerts.channels, channelId)
    ? config.alerts.channels[channelId]
    : undefined;
  const handler = spec === undefined ? undefined : deps.getHandler(spec.type, "channel");
  if (spec === undefined) return { ok: false, detail: `no channel "${channelId}"` };
  if (handler === undefined || handler.kind !== "channel") {
    return { ok: false, detail: `no channel handler named "${spec.type}"` };
  }
  const { value, missingEnv } = resolveParams(spec.params, { env: deps.env, redactor: deps.redactor });
  if (missingEnv.length > 0) {
    return { ok: false, detail: `environment variable(s) not set: ${missingEnv.join(", ")}` };
  }
  return { ok: true, handler, params: value as Record<string, unknown> };
}

function sendTimeoutMs(params: Record<string, unknown>): number {
  try {
    return params["timeout"] === undefined
      ? DEFAULT_SEND_TIMEOUT_MS
      : toDurationMs(params["timeout"], "timeout");
  } catch {
    return DEFAULT_SEND_TIMEOUT_MS;
  }
}

/**
 * One send through a prepared channel, bounded by the channel's timeout (plus a grace second, so the
 * handler's own timeout message wins) even if the handler ignores its signal. Never throws.
 */
export async function sendPrepared(
  prepared: Extract<Prepared, { ok: true }>,
  notification: Notification,
  deps: DeliverDeps,
  signal: AbortSignal,
): Promise<SendOutcome> {
  const ms = sendTimeoutMs(prepared.params) + 1000;
  const deadline = deadlineSignal(signal, ms, "channel timeout");
  const redact = (text: string): string => redactText(text);
  try {
    // A channel receives its own parameters' secrets (its URL, headers, key) and nothing else: what it
    // is told about services (details a child or an endpoint produced) is redacted of every secret.
    const told = redactValue(notification);
    const run = prepared.handler.run(
      { clock: deps.clock, logger: deps.logger, settings: deps.settings, notification: told, env: deps.env },
      prepared.params,
      deadline.signal,
    );
    const stopped = new Promise<ChannelResult>((resolve) => {
      const settle = (): void =>
        resolve({ ok: false, detail: `send timed out after ${ms} ms`, retryable: true });
      if (deadline.signal.aborted) settle();
      else deadline.signal.addEventListener("abort", settle, { once: true });
    });
    const result = await Promise.race([run, stopped]);
    return {
      status: result.ok ? "sent" : "failed",
      detail: redact(result.detail),
      retryable: !result.ok && result.retryable === true,
      ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }),
    };
  } catch (error) {
    return {
      status: "failed",
      detail: redact(error instanceof Error ? error.message : String(error)),
      retryable: false,
    };
  } finally {
    deadline.dispose();
  }
}

/** One real send through one channel, outside the outbox (`upkeep alert test`). */
export async function sendNotification(
  config: Config,
  channelId: string,
  notification: Notification,
  deps: DeliverDeps,
  signal: AbortSignal,
): Promise<SendOutcome> {
  const prepared = prepareChannel(config, channelId, deps);
  if (!prepared.ok) return { status: "unusable", detail: prepared.detail, retryable: false };
  return sendPrepared(prepared, notification, deps, signal);
}
