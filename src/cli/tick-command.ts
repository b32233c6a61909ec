/** Shared by `run` and `plan`: load rules, run one session, print the report, map it to an exit code. */
import { ExitCode, isUpkeepError } from "../errors.js";
import type { Config } from "../config/model.js";
import { systemClock } from "../runtime/clock.js";
import { createLogger } from "../runtime/logger.js";
import { createRedactor, redactText } from "../runtime/redact.js";
import { runSession } from "../runtime/session.js";
import { loadConfigOrReport, unknownService } from "./load-config.js";
import { formatTickText, tickJson } from "./format/tick.js";

export const RUN_OPTIONS = {
  rules: { type: "string" },
  "state-dir": { type: "string" },
  format: { type: "string" },
  service: { type: "string", multiple: true },
  "dry-run": { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
} as const;

export interface RunFlags {
  rules?: string;
  "state-dir"?: string;
  format?: string;
  service?: string[];
  verbose?: boolean;
}

export function runHelp(command: string, summary: string): string {
  return [
    `Usage: upkeep ${command} [options]`,
    "",
    summary,
    "",
    "Options:",
    "  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES)",
    "  --state-dir DIR    state directory (env UPKEEP_STATE_DIR; default from the rules)",
    "  --service ID       only this service (and what it depends on); repeatable",
    "  --format FORMAT    text (default) or json (one JSON document on stdout)",
    ...(command === "run" ? ["  --dry-run          same as `upkeep plan`: run nothing, change nothing"] : []),
    "  -v, --verbose      also print log lines to stderr",
    "  -h, --help         this help",
    "",
    "Exit codes: 0 all services up at the end (healed counts), 1 a service is still down,",
    "            2 bad rules, usage, or state that cannot be read or written (nothing run, state",
    "            untouched), 3 another tick holds the lock, 141 stdout's reader went away.",
    "",
  ].join("\n");
}

/** Rotation happens before the log is opened; a failure to rotate never stops the tick. */
export async function rotateLog(config: Config): Promise<void> {
  const { rotateIfNeeded } = await import("../runtime/log-rotation.js");
  await rotateIfNeeded(config.runtime.logFile, config.runtime.logRotation).catch((error: unknown) => {
    process.stderr.write(`upkeep: could not rotate ${config.runtime.logFile}: ${String(error)}\n`);
  });
}

export async function executeTick(flags: RunFlags, options: { dryRun: boolean }): Promise<number> {
  const format = flags.format ?? "text";
  if (format !== "text" && format !== "json") {
    process.stderr.write(`upkeep: --format must be text or json, not "${format}"\n`);
    return ExitCode.usage;
  }
  const loaded = await loadConfigOrReport(flags, process.env);
  if (loaded.config === undefined) return ExitCode.usage;
  const config: Config = loaded.config;
  const env = loaded.env;
  const unknown = (flags.service ?? []).flatMap((id) => unknownService(config, id) ?? []);
  if (unknown.length > 0) {
    for (const message of unknown) process.stderr.write(`upkeep: ${message}\n`);
    return ExitCode.usage;
  }
  const redactor = createRedactor();
  if (!options.dryRun) await rotateLog(config);
  const logger = await createLogger({
    logFile: options.dryRun ? undefined : config.runtime.logFile,
    stderr: flags.verbose === true,
    redactor,
    bindings: { cmd: options.dryRun ? "plan" : "run" },
  });
  try {
    const { report } = await runSession(
      config,
      { clock: systemClock, logger, env, redactor },
      {
        dryRun: options.dryRun,
        ...(flags.service === undefined ? {} : { only: flags.service }),
      },
    );
    const out = format === "json" ? `${JSON.stringify(tickJson(report), null, 2)}\n` : formatTickText(report);
    process.stdout.write(redactText(out, redactor));
    if (options.dryRun) return ExitCode.ok;
    return report.failed === 0 ? ExitCode.ok : ExitCode.failure;
  } catch (error) {
    if (isUpkeepError(error, "E_LOCKED")) {
      process.stderr.write(`upkeep: ${redactText(error.message, redactor)}\n`);
      return ExitCode.locked;
    }
    throw error;
  } finally {
    logger.close();
  }
}
