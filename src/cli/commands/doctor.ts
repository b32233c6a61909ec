/** `upkeep doctor`: checks the installation and prints each problem with its fix. */
import { homedir } from "node:os";
import { ExitCode } from "../../errors.js";
import { formatDoctor, runDoctor, type SchedulerChoice } from "../../schedule/doctor.js";
import { DEFAULT_LABEL } from "../../schedule/plist.js";
import { DEFAULT_UNIT } from "../../schedule/systemd-units.js";
import { chooseFormat, parseFlags } from "../args.js";
import { rulesDirFrom, stateDirFrom } from "../load-config.js";

const HELP = `Usage: upkeep doctor [options]

Checks: node version; the node and CLI the scheduled job runs (present, executable, built); the
LaunchAgent or systemd timer (installed, loaded, last exit); the job's log folder; the rules; the state
and log folders (writable); the tick lock (not stuck). Each problem comes with its fix.

Options:
  --rules DIR          rules directory (default ./rules, env UPKEEP_RULES)
  --state-dir DIR      state directory (env UPKEEP_STATE_DIR)
  --scheduler NAME     auto (default: launchd on macOS, systemd on Linux), launchd, systemd or none
  --label LABEL        LaunchAgent label (default ${DEFAULT_LABEL})
  --unit NAME          systemd unit name (default ${DEFAULT_UNIT})
  --format FORMAT      text (default) or json
  -h, --help           this help

Exit codes: 0 no problem found, 1 a problem was found, 2 usage.
`;

const OPTIONS = {
  rules: { type: "string" },
  "state-dir": { type: "string" },
  scheduler: { type: "string" },
  label: { type: "string" },
  unit: { type: "string" },
  format: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, OPTIONS);
  const fail = (message: string): number => {
    process.stderr.write(`upkeep doctor: ${message}\n`);
    return ExitCode.usage;
  };
  if (!parsed.ok) return fail(parsed.message);
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(HELP);
    return ExitCode.ok;
  }
  if (positionals.length > 0) return fail(`unexpected argument "${positionals[0]}"`);
  const format = chooseFormat(values.format, ["text", "json"] as const, "text");
  if (!format.ok) return fail(format.message);
  const scheduler = chooseFormat<SchedulerChoice>(
    values.scheduler,
    ["auto", "launchd", "systemd", "none"],
    "auto",
  );
  if (!scheduler.ok) return fail(scheduler.message.replace("--format", "--scheduler"));
  const env = process.env;
  const stateDir = stateDirFrom(values, env);
  const report = await runDoctor({
    rulesDir: rulesDirFrom(values, env),
    env,
    ...(stateDir === undefined ? {} : { stateDir }),
    scheduler: scheduler.value,
    label: values.label ?? DEFAULT_LABEL,
    unit: values.unit ?? DEFAULT_UNIT,
    home: homedir(),
  });
  process.stdout.write(
    format.value === "json" ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report),
  );
  return report.ok ? ExitCode.ok : ExitCode.failure;
}
