/**
 * The CLI's use of the event history. It is a record, never a gate: a command whose history cannot be
 * written or read still does its job, with a warning on stderr.
 */
import type { Config } from "../config/model.js";
import type { HistoryEvent } from "../history/events.js";

/** Manual commands (breaker reset/isolate, silence add/remove) are recorded with who ran them. */
export async function recordCommand(
  config: Config,
  entry: { command: string; service?: string; by: string; detail: string },
  now = Date.now(),
): Promise<void> {
  if (!config.runtime.history.enabled) return;
  try {
    const { recordEvents, historySettings } = await import("../runtime/history-store.js");
    await recordEvents(historySettings(config), [{ kind: "command", at: now, ...entry }], now);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`upkeep: warning: the history did not record \`${entry.command}\`: ${message}\n`);
  }
}

/** The status changes in the history, for `status` and `explain` (since when, last outage). */
export async function statusChanges(config: Config): Promise<HistoryEvent[]> {
  if (!config.runtime.history.enabled) return [];
  try {
    const { readHistory, historySettings } = await import("../runtime/history-store.js");
    return await readHistory(historySettings(config), { kinds: ["status"] });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `upkeep: warning: could not read the history (since when and the last outage come from the state files only): ${message}\n`,
    );
    return [];
  }
}
