/**
 * command: runs a command (argv, never a shell string) with the notification JSON (the same document
 * the webhook channel posts) on its standard input. Also sets UPKEEP_NOTIFICATION_ID, UPKEEP_ALERT_TEXT
 * (plain text, one line per alert) and UPKEEP_ALERT_EVENTS (how many alerts) for simple scripts.
 *
 * Exit 0 is success. A non-zero exit or a timeout is retried later (a notifier script usually fails
 * because what it talks to is down); a command that cannot be started, or exits 126/127 (not
 * executable / not found, as a shell wrapper reports it), is a configuration problem and is not.
 */
import { formatCommandLine, runProcess } from "../../runtime/process.js";
import { abortDetail, firstLine, loadSchema, paramFailure, toArgv, toDurationMs } from "../support.js";
import type { ChannelHandler, ChannelResult } from "../types.js";
import { DEFAULT_SEND_TIMEOUT, notificationDocument } from "./webhook.js";

export type CommandChannelParams = {
  command: string[];
  timeout?: string | number;
};

const NOT_RUNNABLE = new Set([126, 127]);

export const commandChannel = {
  name: "command",
  kind: "channel",
  description: "Runs a command with the notification JSON on stdin; non-zero exits are retried.",
  get schema() {
    return loadSchema("channel", "command");
  },
  sideEffects: "local",
  describe: (params) =>
    `run ${Array.isArray(params.command) ? formatCommandLine(params.command.map(String)) : "(no command)"} with the notification JSON on stdin`,
  async run(ctx, params, signal): Promise<ChannelResult> {
    const notification = ctx.notification;
    if (notification === undefined) return { ok: false, detail: "no notification to send" };
    let argv: string[];
    let timeoutMs: number;
    try {
      argv = toArgv(params.command, "command");
      timeoutMs = toDurationMs(params.timeout ?? DEFAULT_SEND_TIMEOUT, "timeout");
    } catch (error) {
      return { ok: false, detail: paramFailure(error), retryable: false };
    }
    const input = `${JSON.stringify(notificationDocument(notification, ctx.clock.now()))}\n`;
    const result = await runProcess(argv, {
      env: {
        ...ctx.env,
        UPKEEP_NOTIFICATION_ID: notification.id ?? "",
        UPKEEP_ALERT_TEXT: notification.text,
        UPKEEP_ALERT_EVENTS: String(notification.events.length),
      },
      input,
      timeoutMs,
      signal,
      // A notifier delivers and exits; what it leaves running would pile up one per alert.
      killLeftovers: true,
    });
    const name = argv[0] as string;
    if (result.error !== undefined) return { ok: false, detail: result.error, retryable: false };
    if (result.timedOut)
      return { ok: false, detail: `${name} timed out after ${timeoutMs} ms`, retryable: true };
    if (result.aborted) return { ok: false, detail: `${name} ${abortDetail(signal)}`, retryable: true };
    if (result.exitCode === 0) {
      const said = firstLine(result.stdout);
      return { ok: true, detail: `${name} exited 0${said === "" ? "" : `: ${said}`}` };
    }
    const how =
      result.exitCode === null ? `killed by ${result.signal ?? "a signal"}` : `exited ${result.exitCode}`;
    const said = firstLine(result.stderr) || firstLine(result.stdout);
    return {
      ok: false,
      detail: `${name} ${how}${said === "" ? "" : `: ${said}`}`,
      retryable: result.exitCode === null || !NOT_RUNNABLE.has(result.exitCode),
    };
  },
} satisfies ChannelHandler<CommandChannelParams>;
