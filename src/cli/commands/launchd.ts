/** `upkeep launchd render|install|uninstall|status`: the LaunchAgent that runs `upkeep run` on a schedule. */
import { ExitCode } from "../../errors.js";
import {
  checkJobBeforeInstall,
  err,
  jobSpec,
  type Loaded,
  out,
  startSchedule,
} from "../../schedule/command-support.js";
import {
  currentUid,
  installOps,
  isUnsupported,
  launchdTarget,
  uninstallOps,
} from "../../schedule/launchd.js";
import { describeOps, executeOps, formatReports, type Op } from "../../schedule/ops.js";
import { checkLabel, DEFAULT_LABEL, renderPlist } from "../../schedule/plist.js";
import { formatLaunchdStatus, launchdStatus } from "../../schedule/status.js";

const HELP = `Usage: upkeep launchd <render|install|uninstall|status> [options]

  render     print the LaunchAgent plist for these rules
  install    write it to ~/Library/LaunchAgents/<label>.plist (mode 0644), create the log folder
             ~/Library/Logs/upkeep, then launchctl bootout / enable / bootstrap gui/<uid> (legacy
             unload + load -w where bootstrap is unknown) and verify with launchctl print
  uninstall  launchctl bootout (legacy: unload), then remove the plist
  status     whether the plist exists and is loaded, its last exit code, when it last ran

Options:
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES); baked in as an absolute path
  --state-dir DIR    state directory (env UPKEEP_STATE_DIR); baked in when given
  --label LABEL      job label (default ${DEFAULT_LABEL})
  --node PATH        node binary the job runs (default: the node running this command)
  --dry-run          install/uninstall: print every file and command, do nothing
  --format FORMAT    status: text (default) or json
  -h, --help         this help

The interval is runtime.interval from the rules (default 300s); launchctl is runtime.launchctl.
Exit codes: 0 done, 1 a step failed (install/uninstall), 2 usage, bad rules, or a node or CLI the job
could not start (install writes nothing then).
`;

export async function run(argv: string[]): Promise<number> {
  const start = await startSchedule("launchd", argv, HELP, {
    flag: "label",
    fallback: DEFAULT_LABEL,
    check: checkLabel,
  });
  if (typeof start === "number") return start;
  const { sub, name: label, loaded, dryRun } = start;
  const target = launchdTarget({ label, uid: currentUid(), home: start.home, launchctl: loaded.launchctl });

  if (sub === "status") {
    const status = await launchdStatus(target, loaded.stateDir);
    out(start.format === "json" ? `${JSON.stringify(status, null, 2)}\n` : formatLaunchdStatus(status));
    return ExitCode.ok;
  }
  if (sub === "uninstall") return apply(uninstallOps(target), dryRun, loaded, "uninstalled");

  const spec = jobSpec(start);
  const plist = await renderPlist(spec, label);
  if (sub === "render") {
    out(plist);
    return ExitCode.ok;
  }
  const refused = await checkJobBeforeInstall("launchd", spec, dryRun);
  if (refused !== undefined) return refused;
  const code = await apply(installOps(target, plist), dryRun, loaded, "installed");
  if (code === ExitCode.ok && !dryRun) {
    out(`${label} runs \`upkeep ${spec.args.join(" ")}\` every ${spec.intervalSeconds}s and at load.\n`);
  }
  return code;
}

async function apply(ops: Op[], dryRun: boolean, loaded: Loaded, done: string): Promise<number> {
  if (dryRun) {
    out(describeOps(ops, "launchctl"));
    return ExitCode.ok;
  }
  platformNote(loaded.launchctl);
  const report = await executeOps(ops, { isUnsupported });
  out(formatReports(report));
  if (!report.ok) {
    err(`upkeep launchd: not ${done}: a step failed (see above)\n`);
    return ExitCode.failure;
  }
  out(`${done}${report.legacy ? " (with the legacy launchctl commands)" : ""}\n`);
  return ExitCode.ok;
}

/** Off macOS the default /bin/launchctl cannot work; a custom one (a stand-in) may. */
function platformNote(launchctl: string): void {
  if (process.platform !== "darwin" && launchctl === "/bin/launchctl") {
    err(
      `upkeep: note: this is ${process.platform}, not macOS: ${launchctl} is probably missing (set runtime.launchctl to use another one)\n`,
    );
  }
}
