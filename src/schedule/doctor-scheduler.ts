/**
 * The scheduler part of `upkeep doctor`: what the installed LaunchAgent or systemd unit starts (node and
 * CLI, read back from the installed file) and whether launchd/systemd have it loaded and how it last ended.
 */
import { existsSync } from "node:fs";
import {
  checkCliPath,
  checkNodePath,
  checkWritable,
  ok,
  problem,
  skipped,
  type CheckResult,
} from "./doctor-checks.js";
import type { DoctorInput } from "./doctor.js";
import { readInstalledPlist, readInstalledUnit, type InstalledRunner } from "./installed.js";
import { currentUid, launchdTarget, queryJob } from "./launchd.js";
import { launchdLogDir } from "./plist.js";
import { cliPath } from "./runner.js";
import { lingerEnabled, queryUnits, systemdTarget } from "./systemd.js";
import { describeNextRun, interpretUnits, type SystemdState } from "./systemd-state.js";
import { systemdUserDir } from "./systemd-units.js";

/** node and CLI of an installed job, or of what an install would write when nothing is installed. */
export async function runnerChecks(
  installed: InstalledRunner | undefined,
  source: string,
  reinstall: string,
): Promise<CheckResult[]> {
  const node = installed?.nodePath ?? process.execPath;
  const cli = installed?.cliPath ?? cliPath();
  const checks = [await checkNodePath(node, source, reinstall), await checkCliPath(cli, source, reinstall)];
  const rulesAt = installed?.args.indexOf("--rules") ?? -1;
  const rules = rulesAt >= 0 ? installed?.args[rulesAt + 1] : undefined;
  if (rules !== undefined && !existsSync(rules)) {
    checks.push(
      problem(
        "job-rules",
        `${source} uses the rules in ${rules}, which do not exist`,
        `${reinstall} --rules /absolute/path/to/rules`,
      ),
    );
  }
  return checks;
}

export async function launchdChecks(input: DoctorInput, launchctl: string): Promise<CheckResult[]> {
  const t = launchdTarget({ label: input.label, uid: currentUid(), home: input.home, launchctl });
  const reinstall = "upkeep launchd install";
  const installed = await readInstalledPlist(t.plist);
  const checks = await runnerChecks(
    installed,
    installed === undefined ? "an install" : `the LaunchAgent ${t.plist}`,
    reinstall,
  );
  const logDir = launchdLogDir(input.home);
  if (installed === undefined) {
    checks.push(
      skipped("launchd-logs", `${logDir} is checked once the LaunchAgent is installed (install creates it)`),
      problem(
        "scheduler",
        `no LaunchAgent at ${t.plist}`,
        `upkeep launchd install --rules '${input.rulesDir}'`,
      ),
    );
    return checks;
  }
  const logs = await checkWritable("launchd-logs", logDir, "LaunchAgent log folder", false);
  checks.push(
    logs.status === "problem"
      ? { ...logs, message: `${logs.message}: launchd cannot start the job (exit 78)` }
      : logs,
  );
  const job = await queryJob(t);
  if (job.error !== undefined) {
    checks.push(
      problem(
        "scheduler",
        `could not ask launchd about ${t.label}: ${job.error}`,
        "run this on the Mac that runs the job, or set runtime.launchctl",
      ),
    );
  } else if (!job.loaded) {
    checks.push(
      problem(
        "scheduler",
        `${t.plist} exists but launchd has not loaded it`,
        `${reinstall} (or: launchctl bootstrap gui/${t.uid} '${t.plist}')`,
      ),
    );
  } else if (/^78\b/.test(job.lastExitCode ?? "")) {
    checks.push(
      problem(
        "scheduler",
        `${t.label} last exited 78 (EX_CONFIG): launchd could not set the job up, usually a missing log folder or program`,
        `mkdir -p '${logDir}', then ${reinstall}`,
      ),
    );
  } else {
    const runs = job.runs === undefined ? "" : `, runs = ${job.runs}`;
    checks.push(
      ok("scheduler", `${t.label} is loaded (last exit code ${job.lastExitCode ?? "unknown"}${runs})`),
    );
  }
  return checks;
}

export async function systemdChecks(input: DoctorInput, systemctl: string): Promise<CheckResult[]> {
  const t = systemdTarget({ name: input.unit, systemctl, dir: systemdUserDir(input.home, input.env) });
  const reinstall = "upkeep systemd install";
  const installed = await readInstalledUnit(t.service);
  const checks = await runnerChecks(
    installed,
    installed === undefined ? "an install" : `the unit ${t.service}`,
    reinstall,
  );
  if (installed === undefined || !existsSync(t.timer)) {
    checks.push(
      problem(
        "scheduler",
        `no systemd user units ${t.service} and ${t.timer}`,
        `upkeep systemd install --rules '${input.rulesDir}'`,
      ),
    );
    return checks;
  }
  const info = await queryUnits(t);
  checks.push(
    info.error === undefined
      ? timerCheck(t.name, interpretUnits(info), reinstall, Date.now())
      : problem(
          "scheduler",
          `could not ask systemd about ${t.name}.timer: ${info.error}`,
          "run this as the user, in a login session",
        ),
  );
  checks.push(
    lingerEnabled()
      ? ok("linger", "lingering is on: the timer runs without a login session")
      : skipped(
          "linger",
          "lingering is off: the timer runs only while you are logged in (loginctl enable-linger $USER to change that)",
        ),
  );
  return checks;
}

/** What the user manager says about the timer and the last tick, as one check. */
export function timerCheck(name: string, state: SystemdState, reinstall: string, now: number): CheckResult {
  if (!state.loaded)
    return problem(
      "scheduler",
      `the user manager has not loaded ${name}.timer`,
      `systemctl --user daemon-reload && systemctl --user enable --now ${name}.timer (or ${reinstall})`,
    );
  if (state.timerState !== "active")
    return problem(
      "scheduler",
      `${name}.timer is ${state.timerState ?? "unknown"}, not active: no tick runs`,
      `systemctl --user enable --now ${name}.timer`,
    );
  const last =
    state.lastExit === null
      ? ""
      : `; last tick: exit status ${state.lastExit.status} (${state.lastExit.meaning})`;
  if (state.failed) {
    const fix =
      state.lastExit?.status === "203"
        ? `${reinstall} (the node path in the unit is wrong)`
        : state.lastExit?.status === "2"
          ? "fix the rules (upkeep validate shows each problem); the next tick clears the failure"
          : `systemctl --user status ${name}.service shows why`;
    return problem("scheduler", `${name}.service is failed${last}`, fix);
  }
  return ok(
    "scheduler",
    `${name}.timer is active; next tick ${describeNextRun(state, now)}; last trigger ${
      state.lastTriggerAt === null ? "none yet" : new Date(state.lastTriggerAt).toISOString()
    }${last}`,
  );
}
