/**
 * `upkeep alert test CHANNEL`: sends one sample alert through one channel, for real and outside the
 * outbox (nothing is queued or retried, no state changes), and says what happened.
 */
import { randomBytes } from "node:crypto";
import type { AlertEvent, Notification } from "../../actions/types.js";
import type { Config } from "../../config/model.js";
import { suggest } from "../../config/suggest.js";
import type { ServiceFacts } from "../../core/facts.js";
import { ExitCode } from "../../errors.js";
import { alertText } from "../../runtime/alert-text.js";
import { systemClock } from "../../runtime/clock.js";
import { prepareChannel, sendNotification, type DeliverDeps } from "../../runtime/deliver.js";
import { createLogger } from "../../runtime/logger.js";
import { createRedactor, redactText } from "../../runtime/redact.js";
import { handlerSettings } from "../../runtime/session.js";
import {
  chooseFormat,
  FORMAT_OPTION,
  HELP_OPTION,
  parseFlags,
  RULES_OPTION,
  STATE_DIR_OPTION,
} from "../args.js";
import { loadConfigOrReport } from "../load-config.js";

type Env = Readonly<Record<string, string | undefined>>;

const OPTIONS = {
  ...RULES_OPTION,
  ...STATE_DIR_OPTION,
  ...FORMAT_OPTION,
  ...HELP_OPTION,
  level: { type: "string" },
  resolved: { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
} as const;

export const HELP = `Usage: upkeep alert test CHANNEL [--level LEVEL] [--resolved] [--format text|json]

Sends one sample alert through CHANNEL (a channel id from alerts.yaml), for real: the message, fields
and colours are what a real alert of that level looks like. Nothing is queued or retried and no state
changes. Secrets (\${env:..} values) are never printed.

Options:
  --level LEVEL      the sample's level (default: the most severe level that uses CHANNEL)
  --resolved         send a sample resolved notice instead of a firing alert
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES)
  --state-dir DIR    state directory (env UPKEEP_STATE_DIR)
  --format FORMAT    text (default) or json
  -v, --verbose      also print log lines to stderr
  -h, --help         this help

Exit codes: 0 sent, 1 the channel failed or cannot be used (e.g. an unset variable), 2 unknown channel
or usage error.
`;

function usageError(message: string): number {
  process.stderr.write(`upkeep alert: ${message}\n`);
  return ExitCode.usage;
}

function pickLevel(config: Config, channel: string): string {
  const levels = Object.values(config.alerts.levels).sort((a, b) => a.rank - b.rank);
  return (levels.find((l) => l.channels.includes(channel)) ?? levels[0])?.id ?? "CRITICAL";
}

/** A sample alert that looks like a real one (every field a real notice has). */
export function sampleNotification(
  channel: string,
  level: string,
  resolved: boolean,
  now: number,
): Notification {
  const since = now - 15 * 60_000;
  const facts: ServiceFacts = {
    service: { id: "upkeep-test", title: "upkeep test alert", tags: [] },
    status: resolved ? "up" : "down",
    detail: "this is a sample alert sent by `upkeep alert test`; nothing is wrong",
    latencyMs: 12,
    consecutiveFailures: resolved ? 0 : 3,
    consecutiveSuccesses: resolved ? 1 : 0,
    since: resolved ? now : since,
    breaker: "CLOSED",
    gaveUp: false,
    flapping: false,
    outages: 1,
    heal: {
      ...(resolved
        ? { outcome: "none", reason: "", budgetLeft: 3 }
        : { outcome: "failed", reason: "sample heal failure", budgetLeft: 2 }),
      refusedBy: [],
      forced: false,
      nextAllowedAt: null,
      failedInRow: resolved ? 0 : 1,
      failedSince: resolved ? null : since,
    },
    blockedBy: [],
  };
  const kind = resolved ? "resolved" : "firing";
  const event: AlertEvent = {
    kind,
    ruleId: "upkeep-alert-test",
    level,
    serviceId: facts.service.id,
    serviceTitle: facts.service.title,
    message: alertText(kind, level, undefined, facts, {
      serviceId: facts.service.id,
      since,
      now,
      count: resolved ? 2 : 1,
    }),
    facts: { ...facts },
    since,
    count: resolved ? 2 : 1,
  };
  return {
    id: `test-${randomBytes(6).toString("hex")}`,
    createdAt: now,
    channel,
    events: [event],
    text: event.message,
  };
}

export async function run(argv: string[], env: Env = process.env): Promise<number> {
  const parsed = parseFlags(argv, OPTIONS);
  if (!parsed.ok) return usageError(parsed.message);
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(HELP);
    return ExitCode.ok;
  }
  const format = chooseFormat(values.format, ["text", "json"] as const, "text");
  if (!format.ok) return usageError(format.message);
  const [sub, channel, extra] = positionals;
  if (sub !== "test") {
    return usageError(
      sub === undefined
        ? "name a subcommand: test CHANNEL"
        : `unknown subcommand "${sub}" (try: test CHANNEL)`,
    );
  }
  if (channel === undefined || extra !== undefined) return usageError("alert test takes exactly one CHANNEL");
  const { config, env: secrets } = await loadConfigOrReport(values, env);
  if (config === undefined) return ExitCode.usage;
  const ids = Object.keys(config.alerts.channels);
  if (!ids.includes(channel)) {
    const hint = suggest(channel, ids);
    return usageError(
      `unknown channel "${channel}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}; channels: ${ids.join(", ") || "none"}`,
    );
  }
  const level = values.level ?? pickLevel(config, channel);
  if (!Object.hasOwn(config.alerts.levels, level)) {
    const hint = suggest(level, Object.keys(config.alerts.levels));
    return usageError(`unknown level "${level}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`);
  }
  const redactor = createRedactor();
  const logger = await createLogger({
    logFile: config.runtime.logFile,
    stderr: values.verbose === true,
    redactor,
    bindings: { cmd: "alert test" },
  });
  try {
    const { getHandler } = await import("../../actions/registry.js");
    const deps: DeliverDeps = {
      clock: systemClock,
      logger,
      env: secrets,
      redactor,
      settings: handlerSettings(config),
      getHandler,
    };
    const notification = sampleNotification(channel, level, values.resolved === true, systemClock.now());
    const prepared = prepareChannel(config, channel, deps);
    const target = prepared.ok
      ? prepared.handler.describe(prepared.params, { settings: deps.settings })
      : undefined;
    const outcome = await sendNotification(config, channel, notification, deps, new AbortController().signal);
    logger.info(
      { channel, status: outcome.status, detail: outcome.detail },
      `alert test ${outcome.status} via ${channel}`,
    );
    const type = config.alerts.channels[channel]?.type ?? "?";
    const out =
      format.value === "json"
        ? `${JSON.stringify({ channel, type, level, target: target ?? null, ...outcome, id: notification.id }, null, 2)}\n`
        : `${outcome.status === "sent" ? "Sent" : outcome.status === "unusable" ? "Could not send" : "Failed to send"} a sample ${level} ` +
          `${values.resolved === true ? "resolved notice" : "alert"} via ${channel} (${type})` +
          `${target === undefined ? "" : `: ${target}`}\n  ${outcome.status}: ${outcome.detail}` +
          `${outcome.status === "failed" ? (outcome.retryable ? " (a tick would retry it later)" : " (not retryable: check the channel's settings)") : ""}\n`;
    process.stdout.write(redactText(out, redactor));
    return outcome.status === "sent" ? ExitCode.ok : ExitCode.failure;
  } finally {
    logger.close();
  }
}
