/**
 * log: writes alert notifications to the upkeep log. The level follows the alert's severity
 * (CRITICAL -> error, WARNING -> warn, anything else -> info) unless `level` says otherwise; resolved
 * notices are good news and go out at info.
 */
import { loadSchema } from "../support.js";
import type { AlertEvent, ChannelHandler, ChannelResult, Logger } from "../types.js";

export type LogLevel = "fatal" | "error" | "warn" | "info";

export type LogChannelParams = {
  /** The pino level used; default derived from the alert level. */
  level?: LogLevel;
};

const RANK: Readonly<Record<LogLevel, number>> = { info: 0, warn: 1, error: 2, fatal: 3 };
const LEVELS: readonly string[] = Object.keys(RANK);

export function levelForAlert(event: Pick<AlertEvent, "kind" | "level">): LogLevel {
  if (event.kind === "resolved") return "info";
  const level = event.level.toUpperCase();
  return level === "CRITICAL" ? "error" : level === "WARNING" ? "warn" : "info";
}

/** The most severe level among the events (a grouped message is as loud as its worst alert). */
export function levelForEvents(events: readonly Pick<AlertEvent, "kind" | "level">[]): LogLevel {
  return events.reduce<LogLevel>((worst, e) => {
    const level = levelForAlert(e);
    return RANK[level] > RANK[worst] ? level : worst;
  }, "info");
}

/** pino has `fatal`; the Logger interface does not promise it, so fall back to error. */
function writer(logger: Logger, level: LogLevel): (obj: object, msg?: string) => void {
  if (level === "fatal") {
    const fatal = (logger as Partial<Record<"fatal", unknown>>).fatal;
    return typeof fatal === "function" ? (fatal.bind(logger) as Logger["error"]) : logger.error.bind(logger);
  }
  return logger[level].bind(logger);
}

export const logChannel = {
  name: "log",
  kind: "channel",
  description: "Writes alerts to the upkeep log at a level derived from the alert level.",
  get schema() {
    return loadSchema("channel", "log");
  },
  sideEffects: "local",
  describe: (params) =>
    `log alerts at ${params.level ?? "the alert's level (CRITICAL=error, WARNING=warn, else info)"}`,
  async run(ctx, params): Promise<ChannelResult> {
    const notification = ctx.notification;
    if (notification === undefined) return { ok: false, detail: "no notification to log" };
    if (params.level !== undefined && !LEVELS.includes(params.level)) {
      return {
        ok: false,
        detail: `invalid parameter level: ${JSON.stringify(params.level)} is not one of ${LEVELS.join(", ")}`,
      };
    }
    const level = params.level ?? levelForEvents(notification.events);
    const alerts = notification.events.map((e) => ({
      kind: e.kind,
      rule: e.ruleId,
      level: e.level,
      service: e.serviceId,
      count: e.count,
      since: new Date(e.since).toISOString(),
    }));
    writer(ctx.logger, level)({ channel: notification.channel, alerts }, notification.text);
    return { ok: true, detail: `logged at ${level}` };
  },
} satisfies ChannelHandler<LogChannelParams>;
