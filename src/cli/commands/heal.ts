/**
 * `upkeep heal SERVICE [--force]`: a manual heal of one service through the normal session (lock, state,
 * decide, steps, verify, alerts, persist), so it is limited and recorded like any scheduled heal.
 *
 * --force bypasses the cooldown and the heal budget only, and restarts a service whose probe passes.
 * It does not bypass an OPEN breaker (isolated by hand, or opened by failures: `upkeep breaker reset`
 * is the explicit, separate way to override it) nor a maintenance window that pauses healing. A forced
 * heal counts against the budget and its record says who forced it (--by, default the OS user name).
 */
import { userInfo } from "node:os";
import type { Config, ServiceConfig } from "../../config/model.js";
import { ExitCode, isUpkeepError } from "../../errors.js";
import { systemClock } from "../../runtime/clock.js";
import { createLogger } from "../../runtime/logger.js";
import { createRedactor, redactText } from "../../runtime/redact.js";
import { runSession } from "../../runtime/session.js";
import type { ServiceReport, TickReport } from "../../runtime/tick.js";
import { chooseFormat, parseFlags } from "../args.js";
import { formatTickText, tickJson } from "../format/tick.js";
import { loadConfigOrReport, unknownService } from "../load-config.js";
import { rotateLog } from "../tick-command.js";

const HELP = `Usage: upkeep heal SERVICE [options]

Heals one service now, through a normal tick limited to it (and what it depends on): probe, decide,
run its heal steps, verify, alert, record state. Cooldown, heal budget and breaker are respected.

Options:
  --force            bypass the cooldown and the heal budget (the heal still counts), and heal even
                     when the probe passes (a restart); an OPEN breaker or a maintenance window that
                     pauses healing still refuse: \`upkeep breaker reset SERVICE\` first
  --by NAME          who asked for it (or forced it), recorded in the heal history and the event
                     history (default: the OS user name)
  --dry-run          show the steps it would run; run nothing, change nothing
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES)
  --state-dir DIR    state directory (env UPKEEP_STATE_DIR)
  --format FORMAT    text (default) or json
  -v, --verbose      also print log lines to stderr
  -h, --help         this help

Exit codes: 0 SERVICE is up at the end (or a dry run), 1 it is still down (heal failed or refused),
            2 usage, bad rules or unknown service, 3 another tick holds the lock.
`;

const OPTIONS = {
  rules: { type: "string" },
  "state-dir": { type: "string" },
  format: { type: "string" },
  force: { type: "boolean" },
  by: { type: "string" },
  "dry-run": { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
} as const;

function usage(message: string): number {
  process.stderr.write(`upkeep heal: ${message}\nRun \`upkeep heal --help\` for its options.\n`);
  return ExitCode.usage;
}

export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? "?"}`;
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, OPTIONS);
  if (!parsed.ok) return usage(parsed.message);
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(HELP);
    return ExitCode.ok;
  }
  const [id, ...extra] = positionals;
  if (id === undefined) return usage("which service? upkeep heal SERVICE");
  if (extra.length > 0) return usage(`unexpected argument "${extra[0]}"`);
  const force = values.force === true;
  if (values.by !== undefined && values.by.trim() === "") return usage("--by needs a name");
  const format = chooseFormat(values.format, ["text", "json"] as const, "text");
  if (!format.ok) return usage(format.message);

  const { config, env } = await loadConfigOrReport(values, process.env);
  if (config === undefined) return ExitCode.usage;
  const missing = unknownService(config, id);
  if (missing !== undefined) return usage(missing);
  const service = config.services.find((s) => s.id === id) as ServiceConfig;
  if (!service.enabled) return usage(`"${id}" is disabled in the rules (enabled: false)`);
  const dryRun = values["dry-run"] === true;
  const by = values.by ?? osUser();
  return heal(config, env, id, {
    dryRun,
    force,
    by,
    json: format.value === "json",
    verbose: values.verbose === true,
  });
}

interface HealFlags {
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly by: string | undefined;
  readonly json: boolean;
  readonly verbose: boolean;
}

async function heal(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  id: string,
  flags: HealFlags,
): Promise<number> {
  const redactor = createRedactor();
  if (!flags.dryRun) await rotateLog(config);
  const logger = await createLogger({
    logFile: flags.dryRun ? undefined : config.runtime.logFile,
    stderr: flags.verbose,
    redactor,
    bindings: { cmd: "heal" },
  });
  try {
    logger.info({ service: id, forced: flags.force, by: flags.by }, `manual heal of ${id} requested`);
    const { report } = await runSession(
      config,
      { clock: systemClock, logger, env, redactor },
      {
        dryRun: flags.dryRun,
        trigger: "heal",
        only: [id],
        ...(flags.force ? { force: [id] } : {}),
        ...(flags.by === undefined ? {} : { by: flags.by }),
      },
    );
    const target = report.services.find((s) => s.id === id);
    const summary = healSummary(id, target, flags);
    const out = flags.json
      ? `${JSON.stringify({ ...tickJson(report), heal: summary }, null, 2)}\n`
      : // A dry run's headline is its plan: the tick's own plan and summary would say it twice.
        `${headline(summary, target, report)}\n${formatTickText(report, flags.dryRun ? { plan: false, summary: false } : {})}`;
    process.stdout.write(redactText(out, redactor));
    if (flags.dryRun) return ExitCode.ok;
    return target?.status === "up" ? ExitCode.ok : ExitCode.failure;
  } catch (error) {
    if (isUpkeepError(error, "E_LOCKED")) {
      // The request was logged above; say in the log too that nothing ran.
      logger.warn(
        { service: id, reason: "locked" },
        `manual heal of ${id} not run: another tick holds the lock`,
      );
      process.stderr.write(`upkeep heal: a tick is running, try again when it is done: ${error.message}\n`);
      return ExitCode.locked;
    }
    throw error;
  } finally {
    logger.close();
  }
}

export interface HealSummary {
  service: string;
  forced: boolean;
  by: string | null;
  dryRun: boolean;
  /** none (nothing to do: up and not forced), healed, failed, refused, skipped (dry run, blocked, paused...). */
  outcome: string;
  reason: string;
  /** The service's status at the end of the tick. */
  status: string;
}

function healSummary(id: string, target: ServiceReport | undefined, flags: HealFlags): HealSummary {
  return {
    service: id,
    forced: flags.force,
    by: flags.by ?? null,
    dryRun: flags.dryRun,
    outcome: target?.heal.outcome ?? "none",
    reason: target?.heal.reason ?? "",
    status: target?.status ?? "unknown",
  };
}

function headline(s: HealSummary, target: ServiceReport | undefined, report: TickReport): string {
  const name = target === undefined ? s.service : `${target.title} (${s.service})`;
  const forced = s.forced ? `, forced by ${s.by ?? "?"} (cooldown and budget bypassed)` : "";
  if (s.dryRun) {
    const steps = target?.heal.steps ?? [];
    if (s.outcome !== "skipped" || s.reason !== "dry run") return `Would not heal ${name}: ${why(s)}`;
    return [`Would heal ${name}${forced}:`, ...steps.map((st) => `  would run: ${st.description}`)].join(
      "\n",
    );
  }
  switch (s.outcome) {
    case "healed":
      return s.status === "up"
        ? `Healed ${name}${forced}: it is up.`
        : `Heal of ${name} ran${forced} (every step succeeded) but it is still ${s.status}; ` +
            "end the steps with `verify` so a heal that does not help counts as failed.";
    case "failed":
      return `Heal of ${name} failed${forced}: ${s.reason}; it is ${s.status}.`;
    default:
      return `Not healed: ${name}: ${why(s)}${report.timedOut ? " (the tick timed out)" : ""}`;
  }
}

function why(s: HealSummary): string {
  if (s.outcome === "none" && s.status === "up")
    return "it is up, nothing to heal (--force restarts it anyway)";
  if (s.reason === "breaker-open")
    return `its breaker is OPEN; --force does not bypass it: run \`upkeep breaker reset ${s.service}\` first`;
  if (s.reason === "cooldown" || s.reason === "budget")
    return `refused by the heal ${s.reason === "budget" ? "budget" : "cooldown"} (--force bypasses it)`;
  if (s.reason === "paused") return "a maintenance window pauses healing (--force does not bypass it)";
  if (s.status === "blocked") return "it waits for a dependency that is down";
  return `${s.outcome}${s.reason === "" ? "" : `: ${s.reason}`} (status ${s.status})`;
}
