/**
 * `launchd status` and `systemd status`: is the job installed, is it loaded, how did it last end, and
 * when did it last run.
 *
 * "Last run" for launchd is the newest modification time of the job's stdout/stderr logs: launchd
 * opens them at every start and `upkeep run` writes its summary to stdout at every tick, so they change
 * exactly when the scheduled job runs. `lastTickAt` (services.json in the state folder) also moves on
 * manual `upkeep run`s, so it is shown separately. systemd keeps the trigger time itself.
 *
 * The status page's job (`install --serve`) is reported beside the tick's whenever its file exists.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { newestMtime, readInstalledPlist } from "./installed.js";
import { queryJob, serveTarget, type LaunchdTarget } from "./launchd.js";
import { logFiles } from "./plist.js";
import { listenFromArgs, serveUrl } from "./serve-job.js";
import { queryServe, queryUnits, type SystemdTarget } from "./systemd.js";
import { describeNextRun, interpretUnits, parseTimestamp } from "./systemd-state.js";
import { serveUnitName } from "./systemd-units.js";

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
  /** The status page's job; present when its plist exists (or status --serve). */
  readonly serve?: LaunchdServeStatus;
}

export interface LaunchdServeStatus {
  readonly label: string;
  readonly plist: string;
  readonly installed: boolean;
  readonly loaded: boolean;
  readonly state: string | null;
  /** Its process while it runs. */
  readonly pid: number | null;
  /** How often launchd started it (KeepAlive restarts count). */
  readonly runs: number | null;
  readonly lastExitCode: string | null;
  /** From --listen in the installed plist. */
  readonly url: string;
  readonly logs: { readonly stdout: string; readonly stderr: string };
  readonly error: string | null;
}

async function launchdServeStatus(t: LaunchdTarget): Promise<LaunchdServeStatus> {
  const s = serveTarget(t);
  const [job, installed] = await Promise.all([queryJob(s), readInstalledPlist(s.plist)]);
  return {
    label: s.label,
    plist: s.plist,
    installed: installed !== undefined,
    loaded: job.loaded,
    state: job.state ?? null,
    pid: job.pid ?? null,
    runs: job.runs ?? null,
    lastExitCode: job.lastExitCode ?? null,
    url: serveUrl(listenFromArgs(installed?.args ?? [])),
    logs: logFiles(t.home, s.label),
    error: job.error ?? null,
  };
}

/** `serve`: report the page's job; default: when its plist exists. */
export async function launchdStatus(
  t: LaunchdTarget,
  stateDir?: string,
  serve: boolean = existsSync(serveTarget(t).plist),
): Promise<LaunchdStatus> {
  const logs = logFiles(t.home, t.label);
  const [job, lastRun, lastTick, page] = await Promise.all([
    queryJob(t),
    newestMtime([logs.stdout, logs.stderr]),
    stateDir === undefined ? Promise.resolve(undefined) : newestMtime([join(stateDir, "services.json")]),
    serve ? launchdServeStatus(t) : Promise.resolve(undefined),
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
    ...(page === undefined ? {} : { serve: page }),
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
  if (s.serve !== undefined) lines.push(...formatLaunchdServe(s.serve));
  return `${lines.join("\n")}\n`;
}

function formatLaunchdServe(p: LaunchdServeStatus): string[] {
  const details = [
    ...(p.state === null ? [] : [`state = ${p.state}`]),
    ...(p.pid === null ? [] : [`pid = ${p.pid}`]),
    ...(p.runs === null ? [] : [`runs = ${p.runs}`]),
    ...(p.lastExitCode === null ? [] : [`last exit code = ${p.lastExitCode}`]),
  ];
  const lines = [
    `status page ${p.label} (upkeep serve)`,
    `  plist:      ${p.plist} (${p.installed ? "present" : "missing"})`,
    `  loaded:     ${p.loaded ? "yes" : "no"}${details.length === 0 ? "" : ` (${details.join(", ")})`}`,
    `  page:       ${p.url}`,
    `  logs:       ${p.logs.stdout}`,
    `              ${p.logs.stderr}`,
  ];
  if (p.error !== null) lines.push(`  error:      launchctl: ${p.error}`);
  return lines;
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
  /** The status page's unit; present when its file exists (or status --serve). */
  readonly serve?: SystemdServeStatus;
}

export interface SystemdServeStatus {
  readonly unit: string;
  readonly file: string;
  readonly installed: boolean;
  /** The user manager has loaded the unit. */
  readonly loaded: boolean;
  /** ActiveState: `active` while it runs, `activating` while it waits to be restarted after a failure. */
  readonly state: string | null;
  readonly subState: string | null;
  readonly enabled: string | null;
  /** True when its process runs (`active (running)`). */
  readonly running: boolean;
  readonly pid: number | null;
  /** Since when the current process runs (ISO). */
  readonly since: string | null;
  /** Restarts systemd made after failures (NRestarts) since it was last started by hand or by install. */
  readonly restarts: number | null;
  /** The last end's Result (`signal`, `exit-code`...) when it was not a success. */
  readonly result: string | null;
  readonly failed: boolean;
  /** From --listen in the installed unit. */
  readonly url: string;
  readonly error: string | null;
}

async function systemdServeStatus(t: SystemdTarget): Promise<SystemdServeStatus> {
  const snapshot = await queryServe(t);
  const f = snapshot.fields;
  const loaded = f["LoadState"] === "loaded";
  const known = (value: string | undefined): string | null =>
    loaded && value !== undefined && value !== "" ? value : null;
  const pid = Number(f["MainPID"]);
  const restarts = Number(f["NRestarts"]);
  const running = loaded && f["ActiveState"] === "active" && f["SubState"] === "running";
  return {
    unit: serveUnitName(t.name),
    file: t.serve,
    installed: existsSync(t.serve),
    loaded,
    state: known(f["ActiveState"]),
    subState: known(f["SubState"]),
    enabled: known(f["UnitFileState"]),
    running,
    pid: running && pid > 0 ? pid : null,
    since: running ? iso(parseTimestamp(f["ExecMainStartTimestamp"]) ?? undefined) : null,
    restarts: loaded && Number.isInteger(restarts) ? restarts : null,
    result: known(f["Result"]) === "success" ? null : known(f["Result"]),
    failed: loaded && f["ActiveState"] === "failed",
    url: snapshot.url,
    error: snapshot.error ?? null,
  };
}

/** `serve`: report the page's unit; default: when its file exists. */
export async function systemdStatus(
  t: SystemdTarget,
  now: () => number = Date.now,
  serve: boolean = existsSync(t.serve),
): Promise<SystemdStatus> {
  const [snapshot, page] = await Promise.all([
    queryUnits(t),
    serve ? systemdServeStatus(t) : Promise.resolve(undefined),
  ]);
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
    ...(page === undefined ? {} : { serve: page }),
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
  if (s.serve !== undefined) lines.push(...formatSystemdServe(s.serve));
  return `${lines.join("\n")}\n`;
}

function formatSystemdServe(p: SystemdServeStatus): string[] {
  const restarts =
    p.restarts === null || p.restarts === 0
      ? ""
      : `, ${p.restarts} restart${p.restarts === 1 ? "" : "s"} after a failure`;
  const why = `journalctl --user -u ${p.unit} shows why`;
  const state = !p.loaded
    ? "not loaded"
    : p.running
      ? `running (pid ${p.pid ?? "?"}${p.since === null ? "" : `, since ${p.since}`}${restarts})`
      : p.failed
        ? `FAILED (${p.result ?? "unknown"}): ${why}`
        : p.state === "activating"
          ? `restarting after a failure (${p.result ?? "unknown"}${restarts}): ${why}`
          : `${p.state ?? "unknown"} (${p.subState ?? "?"})`;
  const lines = [
    `status page ${p.unit} (upkeep serve)`,
    `  unit:         ${p.file} (${p.installed ? "present" : "missing"})`,
    `  state:        ${state}${p.enabled === null ? "" : `, ${p.enabled}`}`,
    `  page:         ${p.url}`,
  ];
  if (p.error !== null) lines.push(`  error:        systemctl: ${p.error}`);
  return lines;
}
