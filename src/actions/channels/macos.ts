/**
 * macos: shows a local notification through `osascript` (`display notification`). Elsewhere it reports
 * "skipped: macOS only" (not retryable), so a shared rules file works on every host.
 *
 * The AppleScript program is a constant; the texts reach it as run-handler arguments (argv), never
 * spliced into the script, so no quoting or escaping can go wrong and nothing in an alert can become
 * code. A fixed first argument keeps osascript's option parser from reading a text starting with "-".
 */
import { headline, stripTag } from "../../runtime/alert-text.js";
import { runProcess } from "../../runtime/process.js";
import { abortDetail, firstLine, loadSchema, optionalString, paramFailure } from "../support.js";
import type { ChannelHandler, ChannelResult, Notification } from "../types.js";

export type MacosChannelParams = {
  title?: string;
  sound?: string;
};

const TIMEOUT_MS = 10_000;
/** Notification Center shows a few lines; longer text only costs a bigger argv. */
const MAX_TEXT = 1000;

/** The osascript arguments (after the executable) for one notification. */
export function osascriptArgs(
  title: string,
  message: string,
  subtitle: string,
  sound: string | undefined,
): string[] {
  const display =
    "display notification (item 2 of argv) with title (item 3 of argv) subtitle (item 4 of argv)" +
    (sound === undefined ? "" : " sound name (item 5 of argv)");
  const texts = [message, title, subtitle].map((t) => t.slice(0, MAX_TEXT));
  return [
    "-e",
    "on run argv",
    "-e",
    display,
    "-e",
    "end run",
    "upkeep",
    ...texts,
    ...(sound === undefined ? [] : [sound]),
  ];
}

function texts(
  notification: Notification,
  title: string | undefined,
): { title: string; message: string; subtitle: string } {
  const now = notification.createdAt ?? Date.now();
  const [only] = notification.events;
  if (notification.events.length === 1 && only !== undefined) {
    return {
      title: title ?? `upkeep: ${headline([only], now)}`,
      message: stripTag(only.message),
      subtitle: only.serviceTitle,
    };
  }
  return {
    title: title ?? "upkeep",
    message: notification.events.map((e) => stripTag(e.message)).join("\n"),
    subtitle: headline(notification.events, now),
  };
}

export interface MacosOptions {
  readonly platform: NodeJS.Platform;
  /** The command that runs AppleScript (tests use a stand-in). */
  readonly osascript: readonly string[];
}

export function createMacosChannel(options: MacosOptions): ChannelHandler<MacosChannelParams> {
  return {
    name: "macos",
    kind: "channel",
    description: "Shows a macOS notification (osascript); skipped with a reason on other systems.",
    get schema() {
      return loadSchema("channel", "macos");
    },
    sideEffects: "local",
    describe: (params) =>
      `show a macOS notification${params.title === undefined ? "" : ` titled ${JSON.stringify(params.title)}`}` +
      (options.platform === "darwin" ? "" : " (skipped: macOS only)"),
    async run(ctx, params, signal): Promise<ChannelResult> {
      if (options.platform !== "darwin") {
        return {
          ok: false,
          detail: `skipped: macOS only (this host is ${options.platform})`,
          retryable: false,
        };
      }
      const notification = ctx.notification;
      if (notification === undefined) return { ok: false, detail: "no notification to show" };
      let title: string | undefined;
      let sound: string | undefined;
      try {
        title = optionalString(params.title, "title");
        sound = optionalString(params.sound, "sound");
      } catch (error) {
        return { ok: false, detail: paramFailure(error), retryable: false };
      }
      const t = texts(notification, title);
      const [file, ...prefix] = options.osascript;
      const argv = [file ?? "osascript", ...prefix, ...osascriptArgs(t.title, t.message, t.subtitle, sound)];
      const result = await runProcess(argv, { env: ctx.env, timeoutMs: TIMEOUT_MS, signal });
      if (result.error !== undefined) return { ok: false, detail: result.error, retryable: false };
      if (result.timedOut || result.aborted) {
        return {
          ok: false,
          detail: `osascript ${result.timedOut ? "timed out" : abortDetail(signal)}`,
          retryable: true,
        };
      }
      if (result.exitCode === 0) return { ok: true, detail: "notification shown" };
      const said = firstLine(result.stderr);
      return {
        ok: false,
        detail: `osascript exited ${String(result.exitCode)}${said === "" ? "" : `: ${said}`}`,
        retryable: false,
      };
    },
  };
}

export const macosChannel = createMacosChannel({ platform: process.platform, osascript: ["osascript"] });
