/**
 * `upkeep systemd render|install|uninstall|status`: a systemd user timer that runs `upkeep run`, and with
 * --serve a service that keeps the status page (`upkeep serve`) running.
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
import { describeOps, executeOps, formatReports, type Op } from "../../schedule/ops.js";
import { formatSystemdStatus, systemdStatus } from "../../schedule/status.js";
import {
  installOps,
  lingerEnabled,
  lingerHint,
  queryUnits,
  serveActive,
  systemdTarget,
  uninstallOps,
} from "../../schedule/systemd.js";
import {
  checkUnitName,
  DEFAULT_UNIT,
  renderServeService,
  renderService,
  renderTimer,
  serveUnitName,
  systemdUserDir,
} from "../../schedule/systemd-units.js";
import { serveUrl } from "../../schedule/serve-job.js";
import { describeNextRun, interpretUnits } from "../../schedule/systemd-state.js";

const HELP = `Usage: upkeep systemd <render|install|uninstall|status> [options]

  render     print the user units <unit>.service (one tick) and <unit>.timer (every runtime.interval);
             with --serve also <unit>-serve.service
  install    check that the node and CLI the unit names run and that the user manager answers, write
             the units to $XDG_CONFIG_HOME/systemd/user (default ~/.config/systemd/user), then
             systemctl --user daemon-reload, reset-failed, enable and restart <unit>.timer (the first
             tick runs at once), and verify. With --serve also <unit>-serve.service, the status page
             (upkeep serve, restarted 5 s after it dies): enable and restart it, wait until its
             address answers (at most 15 s) and check that its process runs
  uninstall  systemctl --user disable --now <unit>.timer (and <unit>-serve.service when it is
             installed), remove the units and enable links (even when systemctl cannot be reached),
             daemon-reload, reset-failed
  status     the timer's state, next run and last trigger, the last tick's result and exit status;
             the status page's state, pid, restarts and address when it is installed

Options:
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES); baked in as an absolute path
  --state-dir DIR    state directory (env UPKEEP_STATE_DIR); baked in when given
  --unit NAME        unit name without suffix (default ${DEFAULT_UNIT})
  --node PATH        node binary the unit runs (default: the node running this command)
  --dry-run          install/uninstall: print every file and command, do nothing
  --format FORMAT    status: text (default) or json
  --serve            render/install: the status page too, as <unit>-serve.service;
                     uninstall/status: the page's unit even without its file (else: when it is there)
  --listen HOST:PORT with --serve: where the page listens (default 127.0.0.1:8787); a loopback address
                     and a fixed port
  --actions          with --serve: allow the page's actions, with the token in <stateDir>/serve.token
                     (created at the page's first start, mode 600)
  -h, --help         this help

A user timer runs only while you are logged in unless lingering is on: loginctl enable-linger $USER.
systemctl is runtime.systemctl from the rules. Exit codes: 0 done, 1 a step failed, 2 usage, bad rules,
a node or CLI the unit could not start, a path with a control character (newline, tab...) in it, or a
node path with a quote or backslash, which systemd refuses to start (install writes nothing then).
`;

export async function run(argv: string[]): Promise<number> {
  const start = await startSchedule("systemd", argv, HELP, {
    flag: "unit",
    fallback: DEFAULT_UNIT,
    check: checkUnitName,
  });
  if (typeof start === "number") return start;
  const { sub, name, loaded, dryRun } = start;
  const target = systemdTarget({
    name,
    systemctl: loaded.systemctl,
    dir: systemdUserDir(start.home, process.env),
  });

  const { serve } = start;
  // The status page's unit goes with the timer's whenever it is there: uninstall removes it, status shows it.
  const withServe = serve !== undefined || existsSync(target.serve);
  if (sub === "status") {
    const status = await systemdStatus(target, Date.now, withServe);
    out(start.format === "json" ? `${JSON.stringify(status, null, 2)}\n` : formatSystemdStatus(status));
    return ExitCode.ok;
  }
  if (sub === "uninstall") return apply(uninstallOps(target, withServe), dryRun, loaded, "uninstalled");

  const spec = jobSpec(start);
  const service = renderService(spec, name);
  const timer = renderTimer(spec, name);
  const page =
    serve === undefined ? undefined : { unit: renderServeService(spec, name, serve), address: serve.address };
  if (sub === "render") {
    out(`# ${target.service}\n${service}\n# ${target.timer}\n${timer}`);
    if (page !== undefined) out(`\n# ${target.serve}\n${page.unit}`);
    return ExitCode.ok;
  }
  const refused = await checkJobBeforeInstall("systemd", spec, dryRun);
  if (refused !== undefined) return refused;
  if (serve !== undefined) {
    const busy = await checkServeAddress("systemd", serve, dryRun, () => serveActive(target));
    if (busy !== undefined) return busy;
  }
  const code = await apply(installOps(target, service, timer, page), dryRun, loaded, "installed");
  if (code === ExitCode.ok && !dryRun) {
    out(`${name}.timer runs \`upkeep ${spec.args.join(" ")}\` every ${spec.intervalSeconds}s.\n`);
    const state = interpretUnits(await queryUnits(target));
    out(`next tick: ${describeNextRun(state, Date.now())}\n`);
    if (serve !== undefined) {
      out(`${serveUnitName(name)} serves ${serveUrl(serve.listen)} (restarted 5 s after it dies).\n`);
      if (serve.actions && loaded.stateDir !== undefined)
        out(`actions need the token in ${join(loaded.stateDir, "serve.token")}\n`);
    } else if (existsSync(target.serve)) {
      err(
        `upkeep: note: ${serveUnitName(name)} (the status page) was left as it was: \`upkeep systemd install --serve\` updates it, \`upkeep systemd uninstall\` removes it\n`,
      );
    }
    if (!lingerEnabled()) out(`hint: ${lingerHint()}\n`);
  }
  const written = [target.service, target.timer, ...(serve === undefined ? [] : [target.serve])];
  if (code === ExitCode.failure && !dryRun && written.some((file) => existsSync(file)))
    err("upkeep systemd: the unit files were written; `upkeep systemd uninstall` removes them\n");
  return code;
}

async function apply(ops: Op[], dryRun: boolean, loaded: Loaded, done: string): Promise<number> {
  if (dryRun) {
    out(describeOps(ops, "systemctl"));
    if (done === "installed") out(`hint: ${lingerHint()}\n`);
    return ExitCode.ok;
  }
  if (process.platform === "darwin" && loaded.systemctl === "systemctl") {
    err("upkeep: note: this is macOS, which has no systemd: use `upkeep launchd install`\n");
  }
  const report = await executeOps(ops);
  out(formatReports(report));
  if (!report.ok) {
    const failed = report.reports.filter((r) => !r.ok).map((r) => r.what);
    err(
      done === "uninstalled"
        ? `upkeep systemd: uninstall incomplete: ${failed.join("; ")} failed (see above); every unit file that could be removed is gone: run it again from a login session of the user\n`
        : `upkeep systemd: not ${done}: a step failed (see above)\n`,
    );
    return ExitCode.failure;
  }
  out(`${done}\n`);
  return ExitCode.ok;
}
