/**
 * The one shape every probe, step and channel handler has (DESIGN.md "A handler is one object").
 * Built-ins live one per file in src/actions/<kind>/; src/actions/registry.ts lists them; plugins
 * register the same shape.
 */
import type { Clock } from "../runtime/clock.js";
import type { AlertsConfig, ServiceConfig } from "../config/model.js";

export type HandlerKind = "probe" | "step" | "channel";
/** `none` handlers run in dry-run/plan; `local` and `network` ones are replaced by their describe(). */
export type SideEffects = "none" | "local" | "network";

/** A JSON Schema object (draft 2020-12) for a handler's `with:` parameters. */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Runtime settings handlers need, taken from Config.runtime. */
export interface HandlerSettings {
  readonly launchctlPath: string;
  readonly systemctlPath: string;
  /** Numeric uid used for launchd domains (`gui/<uid>`). */
  readonly uid: number;
  /** runtime.interval: channels that must hear from us before a deadline (alertmanager) size it by this. */
  readonly intervalMs?: number;
}

export interface ProbeResult {
  readonly ok: boolean;
  readonly latencyMs: number;
  /** Short human reason, e.g. `connect ECONNREFUSED`, `status 503 (expected 200)`. */
  readonly detail: string;
  /** Facts for alert conditions and templates (status code, exit code...). */
  readonly facts?: Readonly<Record<string, unknown>>;
}

export interface StepResult {
  readonly ok: boolean;
  readonly detail: string;
  /** Captured output, already truncated. */
  readonly output?: string;
}

export interface ChannelResult {
  readonly ok: boolean;
  readonly detail: string;
  /** True when retrying later can help (timeouts, 5xx, 429). */
  readonly retryable?: boolean;
  /** The endpoint asked to wait this long before retrying (HTTP 429/503 `Retry-After`). */
  readonly retryAfterMs?: number;
}

/** What a channel sends: one or more alert events of one tick, grouped per channel. */
export interface AlertEvent {
  readonly kind: "firing" | "reminder" | "resolved";
  readonly ruleId: string;
  readonly level: string;
  readonly serviceId: string;
  readonly serviceTitle: string;
  /** Rendered plain-text message. */
  readonly message: string;
  /** Facts the message was rendered from (status, counts, since, heal outcome...). */
  readonly facts: Readonly<Record<string, unknown>>;
  /** Epoch ms the condition started holding. */
  readonly since: number;
  /** How many times this alert has been sent (including this one). */
  readonly count: number;
  /**
   * Not a notice: the alert still fires and was announced earlier; sent at every tick only to channels
   * with `refreshWhileFiring` (deliver.ts). `kind` is then "reminder" and `count` the notices so far.
   */
  readonly refresh?: boolean;
}

export interface Notification {
  /** Stable per notification (same on every retry), so receivers can drop duplicates. */
  readonly id?: string;
  /** Epoch ms of the tick that produced it. */
  readonly createdAt?: number;
  readonly channel: string;
  readonly events: readonly AlertEvent[];
  /** Rendered plain text of all events (one line each when grouped). */
  readonly text: string;
}

export interface HandlerContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: HandlerSettings;
  /** The service the handler acts for (absent for channels sending a grouped message). */
  readonly service?: ServiceConfig;
  readonly alerts?: AlertsConfig;
  /** Re-run the service's probe (used by `verify`). */
  readonly probe?: (signal: AbortSignal) => Promise<ProbeResult>;
  /** Channels only: what to send. */
  readonly notification?: Notification;
  /** Environment used for `${env:..}` and child processes. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

interface HandlerBase<P, R> {
  /** Stable, contract: e.g. `tcp`, `launchd.unload`, `discord`. */
  readonly name: string;
  readonly description: string;
  /** JSON Schema for the parameters. */
  readonly schema: JsonSchema;
  readonly sideEffects: SideEffects;
  /** One line for plan/dry-run, with resolved arguments, e.g. `launchctl bootout gui/501/com.x`. */
  describe(params: P, ctx: Pick<HandlerContext, "settings" | "service">): string;
  run(ctx: HandlerContext, params: P, signal: AbortSignal): Promise<R>;
}

export interface ProbeHandler<P = Record<string, unknown>> extends HandlerBase<P, ProbeResult> {
  readonly kind: "probe";
}
export interface StepHandler<P = Record<string, unknown>> extends HandlerBase<P, StepResult> {
  readonly kind: "step";
}
export interface ChannelHandler<P = Record<string, unknown>> extends HandlerBase<P, ChannelResult> {
  readonly kind: "channel";
  /**
   * The receiver forgets an alert it does not hear about again before a deadline (Alertmanager's
   * `endsAt`): besides notices, it gets every firing, announced alert of its levels at every tick, as
   * `refresh` events.
   */
  readonly refreshWhileFiring?: boolean;
}

export type Handler = ProbeHandler | StepHandler | ChannelHandler;
