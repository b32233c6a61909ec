/**
 * `launchd status` and `systemd status`: is the job installed, is it loaded, how did it last end, and
 * when did it last run.
 *
 * "Last run" for launchd is the newest modification time of the job's stdout/stderr logs: launchd
 * opens them at every start and `upkeep run` writes its summary to stdout at every tick, so they change
 * exactly when the scheduled job runs. `lastTickAt` (services.json in the state folder) also moves on
 * manual `upkeep run`s, so it is shown separately. systemd keeps the trigger time itself.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { newestMtime } from "./installed.js";
import { queryJob, type LaunchdTarget } from "./launchd.js";
import { logFiles } from "./plist.js";
import { queryUnits, type SystemdTarget } from "./systemd.js";

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export interface LaunchdStatus {
  readonly scheduler: "launchd";
  readonly label: string;
  readonly plist: string;
  readonly installed: boolean;
  readonly loaded: boolean;
  readonly state: string | null;
  readonly runs: number | null;
  readonly lastExitCode: string | null;
  /** From the stdout/stderr logs' mtime (see above). */
  readonly lastRunAt: string | null;
  /** services.json's mtime: the last tick of any kind. */
  readonly lastTickAt: string | null;
  readonly logs: { readonly stdout: string; readonly stderr: string };
  readonly legacy: boolean;
  readonly error: string | null;
}

export async function launchdStatus(t: LaunchdTarget, stateDir?: string): Promise<LaunchdStatus> {
  const logs = logFiles(t.home, t.label);
  const [job, lastRun, lastTick] = await Promise.all([
    queryJob(t),
    newestMtime([logs.stdout, logs.stderr]),
    stateDir === undefined ? Promise.resolve(undefined) : newestMtime([join(stateDir, "services.json")]),
  ]);
  return {
    scheduler: "launchd",
    label: t.label,
    plist: t.plist,
    installed: existsSync(t.plist),
    loaded: job.loaded,
    state: job.state ?? null,
    runs: job.runs ?? null,
    lastExitCode: job.lastExitCode ?? null,
    lastRunAt: iso(lastRun),
    lastTickAt: iso(lastTick),
    logs,
    legacy: job.legacy,
    error: job.error ?? null,
  };
}

export function formatLaunchdStatus(s: LaunchdStatus): string {
  const lines = [
    `LaunchAgent ${s.label}`,
    `  plist:      ${s.plist} (${s.installed ? "present" : "missing"})`,
    `  loaded:     ${s.loaded ? "yes" : "no"}${s.state === null ? "" : ` (state = ${s.state}${s.runs === null ? "" : `, runs = ${s.runs}`})`}`,
    `  last exit:  ${s.lastExitCode ?? "unknown"}`,
    `  last run:   ${s.lastRunAt ?? "never (no output in the job's logs yet)"}`,
    `  last tick:  ${s.lastTickAt ?? "none recorded"} (any tick, manual ones too)`,
    `  logs:       ${s.logs.stdout}`,
    `              ${s.logs.stderr}`,
  ];
  if (s.error !== null) lines.push(`  error:      launchctl: ${s.error}`);
  return `${lines.join("\n")}\n`;
}

export interface SystemdStatus {
  readonly scheduler: "systemd";
  readonly unit: string;
  readonly files: { readonly service: string; readonly timer: string };
  readonly installed: boolean;
  /** The timer's ActiveState (`active` when scheduled). */
  readonly timerState: string | null;
  readonly enabled: string | null;
  readonly lastTrigger: string | null;
  readonly nextElapse: string | null;
  /** The service's Result (`success`, `exit-code`...) and its main process's exit status. */
  readonly result: string | null;
  readonly exitStatus: string | null;
  readonly error: string | null;
}

const known = (value: string | undefined): string | null =>
  value === undefined || value === "" || value === "n/a" ? null : value;

export async function systemdStatus(t: SystemdTarget): Promise<SystemdStatus> {
  const info = await queryUnits(t);
  return {
    scheduler: "systemd",
    unit: t.name,
    files: { service: t.service, timer: t.timer },
    installed: existsSync(t.service) && existsSync(t.timer),
    timerState: known(info.timer["ActiveState"]),
    enabled: known(info.timer["UnitFileState"]),
    lastTrigger: known(info.timer["LastTriggerUSec"]),
    nextElapse: known(info.timer["NextElapseUSecMonotonic"]),
    result: known(info.service["Result"]),
    exitStatus: known(info.service["ExecMainStatus"]),
    error: info.error ?? null,
  };
}

export function formatSystemdStatus(s: SystemdStatus): string {
  const lines = [
    `systemd user timer ${s.unit}.timer`,
    `  units:        ${s.files.timer} (${s.installed ? "present" : "missing"})`,
    `                ${s.files.service}`,
    `  timer:        ${s.timerState ?? "unknown"}${s.enabled === null ? "" : ` (${s.enabled})`}`,
    `  last trigger: ${s.lastTrigger ?? "never"}`,
    `  last result:  ${s.result ?? "unknown"}${s.exitStatus === null ? "" : ` (exit status ${s.exitStatus})`}`,
  ];
  if (s.error !== null) lines.push(`  error:        systemctl: ${s.error}`);
  return `${lines.join("\n")}\n`;
}
