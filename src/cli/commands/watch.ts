/**
 * `upkeep watch`: ticks in a loop in one process. SIGINT/SIGTERM stop it after the tick in progress.
 * Rules are re-read before every tick, so edits take effect; invalid edits keep the last good rules.
 */
import { ExitCode, isUpkeepError } from "../../errors.js";
import { commandFlags } from "../args.js";
import type { Config } from "../../config/model.js";
import { parseDuration } from "../../duration.js";
import { systemClock } from "../../runtime/clock.js";
import { createLogger, type RuntimeLogger } from "../../runtime/logger.js";
import { createRedactor, redactText } from "../../runtime/redact.js";
import { runSession } from "../../runtime/session.js";
import { loadConfigOrReport } from "../load-config.js";
import { rotateLog } from "../tick-command.js";
import { formatTickText, tickJson } from "../format/tick.js";

const HELP = `Usage: upkeep watch [options]

Run ticks in a loop until SIGINT or SIGTERM; the tick in progress is finished first.

Options:
  --interval DURATION  time between tick starts (default: runtime.interval from the rules, e.g. 300s)
  --max-ticks N        stop after N ticks (for scripts and tests)
  --rules DIR          rules directory (default ./rules, env UPKEEP_RULES)
  --state-dir DIR      state directory (env UPKEEP_STATE_DIR)
  --format FORMAT      text (default) or json (one JSON document per line, per tick)
  -v, --verbose        also print log lines to stderr
  -h, --help           this help

Exit codes: 0 on a clean stop, 2 bad rules at start.
`;

const OPTIONS = {
  interval: { type: "string" },
  "max-ticks": { type: "string" },
  rules: { type: "string" },
  "state-dir": { type: "string" },
  format: { type: "string" },
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
} as const;

export async function run(argv: string[]): Promise<number> {
  // A mistyped flag is a usage error (exit 2, one line), never an internal error with a stack.
  const values = commandFlags("watch", argv, OPTIONS, () => HELP);
  if (typeof values === "number") return values;
  const format = values.format ?? "text";
  if (format !== "text" && format !== "json") {
    process.stderr.write(`upkeep: --format must be text or json\n`);
    return ExitCode.usage;
  }
  const intervalFlag = values.interval === undefined ? undefined : parseDuration(values.interval);
  if (values.interval !== undefined && (intervalFlag === undefined || intervalFlag <= 0)) {
    process.stderr.write(
      `upkeep: --interval expects a duration like 30s, 5m or 1h, not "${values.interval}"\n`,
    );
    return ExitCode.usage;
  }
  const maxTicks = values["max-ticks"] === undefined ? Number.POSITIVE_INFINITY : Number(values["max-ticks"]);
  if (!(maxTicks >= 1)) {
    process.stderr.write("upkeep: --max-ticks expects a positive whole number\n");
    return ExitCode.usage;
  }

  const first = await loadConfigOrReport(values, process.env);
  if (first.config === undefined) return ExitCode.usage;
  let config: Config = first.config;
  let env = first.env;

  const stopper = new AbortController();
  const stop = (): void => stopper.abort(new Error("stopped"));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const redactor = createRedactor();
  // The logger is reopened for every tick, after rotation, so lines never keep going to upkeep.log.1.
  const openLogger = async (): Promise<RuntimeLogger> => {
    await rotateLog(config);
    return createLogger({
      logFile: config.runtime.logFile,
      stderr: values.verbose === true,
      redactor,
      bindings: { cmd: "watch" },
    });
  };
  let logger = await openLogger();
  try {
    for (let tick = 1; tick <= maxTicks && !stopper.signal.aborted; tick += 1) {
      const started = systemClock.now();
      if (tick > 1) {
        const reloaded = await loadConfigOrReport(values, process.env);
        if (reloaded.config !== undefined) {
          config = reloaded.config;
          env = reloaded.env;
        } else logger.warn({}, "rules are invalid; keeping the last valid rules");
        logger.close();
        logger = await openLogger();
      }
      try {
        const { report } = await runSession(
          config,
          { clock: systemClock, logger, env, redactor },
          {
            dryRun: false,
            trigger: "watch",
            intervalMs: intervalFlag ?? config.runtime.intervalMs,
          },
        );
        // Each tick says which one it is and when it started: a scrolling terminal is read by time.
        const out =
          format === "json"
            ? `${JSON.stringify({ tick, ...tickJson(report) })}\n`
            : `${tickHeader(tick, report.startedAt)}\n${formatTickText(report)}\n`;
        process.stdout.write(redactText(out, redactor));
      } catch (error) {
        if (!isUpkeepError(error, "E_LOCKED")) throw error;
        logger.warn({ error: error.message }, "another tick holds the lock; skipping this tick");
        if (format !== "json")
          process.stdout.write(`${tickHeader(tick, started)}: skipped, another tick holds the lock\n\n`);
      }
      if (tick >= maxTicks) break;
      const wait = (intervalFlag ?? config.runtime.intervalMs) - (systemClock.now() - started);
      await systemClock.sleep(Math.max(0, wait), stopper.signal).catch(() => undefined);
    }
    logger.info({}, "watch stopped");
    return ExitCode.ok;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    logger.close();
  }
}

export function tickHeader(tick: number, startedAt: number): string {
  return `Tick ${tick} at ${new Date(startedAt).toISOString()}`;
}
