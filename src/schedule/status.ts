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
import { describeNextRun, interpretUnits } from "./systemd-state.js";

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
  /** Both unit files exist. */
  readonly installed: boolean;
  /** The user manager has loaded the timer. */
  readonly loaded: boolean;
  /** The timer's ActiveState (`active` when scheduled); null when it is not loaded. */
  readonly timerState: string | null;
  readonly enabled: string | null;
  /** When the timer last started a tick (ISO), null when it has not since the manager started. */
  readonly lastTrigger: string | null;
  /** When the next tick starts (ISO), null while a tick runs or when none is scheduled. */
  readonly nextElapse: string | null;
  readonly nextInSeconds: number | null;
  readonly tickRunning: boolean;
  /** The service's last start, by the timer or by hand (ISO). */
  readonly lastRun: string | null;
  /** The last run's Result (`success`, `exit-code`...) and its exit status; null when it never ran. */
  readonly result: string | null;
  readonly exitStatus: string | null;
  readonly exitMeaning: string | null;
  /** The service or timer is failed (listed by `systemctl --user --failed`). */
  readonly failed: boolean;
  readonly error: string | null;
}

export async function systemdStatus(t: SystemdTarget, now: () => number = Date.now): Promise<SystemdStatus> {
  const snapshot = await queryUnits(t);
  const state = interpretUnits(snapshot);
  const at = now();
  return {
    scheduler: "systemd",
    unit: t.name,
    files: { service: t.service, timer: t.timer },
    installed: existsSync(t.service) && existsSync(t.timer),
    loaded: state.loaded,
    timerState: state.timerState,
    enabled: state.enabled,
    lastTrigger: iso(state.lastTriggerAt ?? undefined),
    nextElapse: iso(state.nextRunAt ?? undefined),
    nextInSeconds: state.nextRunAt === null ? null : Math.max(0, Math.round((state.nextRunAt - at) / 1000)),
    tickRunning: state.tickRunning,
    lastRun: iso(state.lastRunAt ?? undefined),
    result: state.result,
    exitStatus: state.lastExit?.status ?? null,
    exitMeaning: state.lastExit?.meaning ?? null,
    failed: state.failed,
    error: snapshot.error ?? null,
  };
}
export function formatSystemdStatus(s: SystemdStatus, now: number = Date.now()): string {
  const next = describeNextRun(
    { ...s, nextRunAt: s.nextElapse === null ? null : Date.parse(s.nextElapse) },
    now,
  );
  const last =
    s.lastRun === null
      ? "never ran"
      : `${s.failed ? "FAILED" : (s.result ?? "unknown")}${s.exitStatus === null ? "" : ` (exit status ${s.exitStatus}: ${s.exitMeaning ?? ""})`}`;
  const lines = [
    `systemd user timer ${s.unit}.timer`,
    `  units:        ${s.files.timer} (${s.installed ? "present" : "missing"})`,
    `                ${s.files.service}`,
    `  timer:        ${s.loaded ? `${s.timerState ?? "unknown"}${s.enabled === null ? "" : ` (${s.enabled})`}` : "not loaded"}`,
    `  next run:     ${next}`,
    `  last trigger: ${s.lastTrigger ?? (s.lastRun === null ? "never" : "none since the user manager started")}`,
    `  last run:     ${s.lastRun ?? "never"}${s.tickRunning ? " (running now)" : ""}`,
    `  last result:  ${last}`,
  ];
  if (s.failed)
    lines.push(
      `  failed:       ${s.unit}.service is failed; the next tick that works clears it (systemctl --user status ${s.unit}.service shows why)`,
    );
  if (s.error !== null) lines.push(`  error:        systemctl: ${s.error}`);
  return `${lines.join("\n")}\n`;
}
