/**
 * `upkeep launchd render|install|uninstall|status`: the LaunchAgent that runs `upkeep run` on a schedule,
 * and with --serve a second one that keeps the status page (`upkeep serve`) running.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../../errors.js";
import {
  checkJobBeforeInstall,
  checkServeAddress,
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
  queryJob,
  serveTarget,
  uninstallOps,
} from "../../schedule/launchd.js";
import { describeOps, executeOps, formatReports, type Op } from "../../schedule/ops.js";
import { checkLabel, DEFAULT_LABEL, renderPlist, renderServePlist } from "../../schedule/plist.js";
import { serveUrl } from "../../schedule/serve-job.js";
import { formatLaunchdStatus, launchdStatus } from "../../schedule/status.js";

const HELP = `Usage: upkeep launchd <render|install|uninstall|status> [options]

  render     print the LaunchAgent plist for these rules (with --serve: the status page's plist instead)
  install    write it to ~/Library/LaunchAgents/<label>.plist (mode 0644), create the log folder
             ~/Library/Logs/upkeep, then launchctl bootout / enable / bootstrap gui/<uid> (legacy
             unload + load -w where bootstrap is unknown) and verify with launchctl print. With
             --serve also <label>.serve.plist, the status page (upkeep serve, KeepAlive), loaded the
             same way
  uninstall  launchctl bootout (legacy: unload), then remove the plist; the same for <label>.serve
             when it is installed
  status     whether the plist exists and is loaded, its last exit code, when it last ran; the
             status page's job and address when it is installed

Options:
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES); baked in as an absolute path
  --state-dir DIR    state directory (env UPKEEP_STATE_DIR); baked in when given
  --label LABEL      job label (default ${DEFAULT_LABEL})
  --node PATH        node binary the job runs (default: the node running this command)
  --dry-run          install/uninstall: print every file and command, do nothing
  --format FORMAT    status: text (default) or json
  --serve            render/install: the status page too, as the LaunchAgent <label>.serve;
                     uninstall/status: the page's job even without its file (else: when it is there)
  --listen HOST:PORT with --serve: where the page listens (default 127.0.0.1:8787); a loopback address
                     and a fixed port
  --actions          with --serve: allow the page's actions, with the token in <stateDir>/serve.token
                     (created at the page's first start, mode 600)
  -h, --help         this help

The interval is runtime.interval from the rules (default 300s); launchctl is runtime.launchctl.
Exit codes: 0 done, 1 a step failed (install/uninstall), 2 usage, bad rules, a node or CLI the job
could not start, or a path with a control character (newline, tab...) in it (install writes nothing then).
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

  const { serve } = start;
  const page = serveTarget(target);
  // The status page's job goes with the tick's whenever it is there: uninstall removes it, status shows it.
  const withServe = serve !== undefined || existsSync(page.plist);
  if (sub === "status") {
    const status = await launchdStatus(target, loaded.stateDir, withServe);
    out(start.format === "json" ? `${JSON.stringify(status, null, 2)}\n` : formatLaunchdStatus(status));
    return ExitCode.ok;
  }
  if (sub === "uninstall")
    return apply(uninstallOps(target, withServe ? page : undefined), dryRun, loaded, "uninstalled");

  const spec = jobSpec(start);
  const servePlist = serve === undefined ? undefined : await renderServePlist(spec, label, serve);
  if (sub === "render") {
    // One plist per run, so the output stays one document `plutil -lint` and launchctl accept.
    out(servePlist ?? (await renderPlist(spec, label)));
    return ExitCode.ok;
  }
  const plist = await renderPlist(spec, label);
  const refused = await checkJobBeforeInstall("launchd", spec, dryRun);
  if (refused !== undefined) return refused;
  if (serve !== undefined) {
    const busy = await checkServeAddress("launchd", serve, dryRun, async () => {
      const job = await queryJob(page);
      return job.loaded && job.pid !== undefined;
    });
    if (busy !== undefined) return busy;
  }
  const ops = installOps(
    target,
    plist,
    servePlist === undefined ? undefined : { target: page, plist: servePlist },
  );
  const code = await apply(ops, dryRun, loaded, "installed");
  if (code === ExitCode.ok && !dryRun) {
    out(`${label} runs \`upkeep ${spec.args.join(" ")}\` every ${spec.intervalSeconds}s and at load.\n`);
    if (serve !== undefined) {
      out(`${page.label} serves ${serveUrl(serve.listen)}; launchd starts it again when it exits.\n`);
      if (serve.actions && loaded.stateDir !== undefined)
        out(`actions need the token in ${join(loaded.stateDir, "serve.token")}\n`);
    } else if (existsSync(page.plist)) {
      err(
        `upkeep: note: ${page.label} (the status page) was left as it was: \`upkeep launchd install --serve\` updates it, \`upkeep launchd uninstall\` removes it\n`,
      );
    }
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
