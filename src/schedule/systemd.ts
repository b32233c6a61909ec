/**
 * The systemd user timer's install, uninstall and status via `systemctl --user`.
 *
 * A user manager only runs while the user has a session unless lingering is enabled, so install ends with
 * a hint about `loginctl enable-linger` when it is off; a shell without a user bus (su, some ssh setups)
 * makes every `systemctl --user` call fail, and that failure gets the same hint.
 */
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import type { ProcessResult } from "../runtime/process.js";
import { runProcess } from "../runtime/process.js";
import { exitZero, type Judge, type Op } from "./ops.js";
import { UNIT_MODE, unitFiles } from "./systemd-units.js";
import { parseShow, parseTimerList, type UnitsSnapshot } from "./systemd-state.js";

export interface SystemdTarget {
  readonly name: string;
  readonly systemctl: string;
  /** Absolute folder of user units. */
  readonly dir: string;
  readonly service: string;
  readonly timer: string;
}

export function systemdTarget(input: { name: string; systemctl: string; dir: string }): SystemdTarget {
  const files = unitFiles(input.dir, input.name);
  return { ...input, service: files.service, timer: files.timer };
}

const sc = (t: SystemdTarget, ...args: string[]): string[] => [t.systemctl, "--user", ...args];
const timerUnit = (t: SystemdTarget): string => `${t.name}.timer`;
const serviceUnit = (t: SystemdTarget): string => `${t.name}.service`;

export const NO_BUS_HINT =
  "no user systemd bus: run this from a login session of the user, or enable lingering with `loginctl enable-linger $USER` (then log in again)";

/** The user bus is missing (su, cron, ssh without a session): the generic failure gets the remedy. */
const withBusHint =
  (judge: Judge): Judge =>
  (r) => {
    const verdict = judge(r);
    if (
      verdict.ok ||
      !/failed to connect to bus|no medium found|DBUS_SESSION_BUS_ADDRESS/i.test(`${r.stderr}${r.stdout}`)
    ) {
      return verdict;
    }
    return { ok: false, detail: `${verdict.detail} (${NO_BUS_HINT})` };
  };

/** disable/stop of a unit systemd does not know already reached the goal. */
const unknownUnitIsFine: Judge = (r) =>
  r.exitCode !== 0 && /does not exist|not loaded|not found|no such file/i.test(`${r.stderr}${r.stdout}`)
    ? { ok: true, detail: "was not installed" }
    : exitZero(r);

/** `show` properties; timestamps come as `@<seconds>` with --timestamp=unix (systemd >= 247). */
export const TIMER_PROPERTIES = ["LoadState", "ActiveState", "UnitFileState", "LastTriggerUSec", "Result"];
export const SERVICE_PROPERTIES = [
  "LoadState",
  "ActiveState",
  "SubState",
  "Result",
  "ExecMainCode",
  "ExecMainStatus",
  "ExecMainStartTimestamp",
  "ExecMainExitTimestamp",
];

const timerActive: Judge = (r) => {
  if (r.exitCode !== 0) return exitZero(r);
  const f = parseShow(r.stdout);
  return f["ActiveState"] === "active"
    ? { ok: true, detail: "timer active" }
    : {
        ok: false,
        detail: `timer is ${f["ActiveState"] ?? "unknown"} after starting it (LoadState=${f["LoadState"] ?? "?"})`,
      };
};

/** The enable symlink; removed by hand too when systemctl cannot be reached to disable the timer. */
export function wantsLink(t: SystemdTarget): string {
  return join(t.dir, "timers.target.wants", timerUnit(t));
}

export function installOps(t: SystemdTarget, service: string, timer: string): Op[] {
  return [
    {
      kind: "run",
      step: { argv: sc(t, "show", "--property=Version"), judge: withBusHint(exitZero) },
      note: "(checks that the user manager answers before anything is written)",
    },
    { kind: "mkdir", path: t.dir },
    { kind: "write", path: t.service, content: service, mode: UNIT_MODE },
    { kind: "write", path: t.timer, content: timer, mode: UNIT_MODE },
    { kind: "run", step: { argv: sc(t, "daemon-reload"), judge: withBusHint(exitZero) } },
    {
      kind: "run",
      step: { argv: sc(t, "reset-failed", serviceUnit(t)), judge: unknownUnitIsFine },
      note: "(clears a failure of the previous install; a unit that is not loaded is fine)",
    },
    { kind: "run", step: { argv: sc(t, "enable", timerUnit(t)), judge: withBusHint(exitZero) } },
    {
      kind: "run",
      step: { argv: sc(t, "restart", timerUnit(t)), judge: withBusHint(exitZero) },
      note: "(starts the timer, or restarts it with the new units: the first tick runs at once)",
    },
    {
      kind: "run",
      step: { argv: sc(t, "show", timerUnit(t), "--property=LoadState,ActiveState"), judge: timerActive },
      note: "(verifies that the timer is active)",
    },
  ];
}

/**
 * Every step runs even when systemctl fails (no user bus): the files go in any case, and the report
 * says what could not be done.
 */
export function uninstallOps(t: SystemdTarget): Op[] {
  return [
    {
      kind: "run",
      step: { argv: sc(t, "disable", "--now", timerUnit(t)), judge: withBusHint(unknownUnitIsFine) },
      note: "(a timer that is not installed is fine)",
      keepGoing: true,
    },
    { kind: "remove", path: wantsLink(t), keepGoing: true },
    { kind: "remove", path: t.timer, keepGoing: true },
    { kind: "remove", path: t.service, keepGoing: true },
    { kind: "run", step: { argv: sc(t, "daemon-reload"), judge: withBusHint(exitZero) }, keepGoing: true },
    {
      kind: "run",
      step: {
        argv: sc(t, "reset-failed", serviceUnit(t), timerUnit(t)),
        judge: withBusHint(unknownUnitIsFine),
      },
      note: "(so a failed last tick does not stay in systemctl --user --failed)",
      keepGoing: true,
    },
  ];
}

const QUERY_TIMEOUT_MS = 15_000;

/** `show` with unix timestamps, or without on a systemctl that does not know --timestamp. */
async function show(t: SystemdTarget, unit: string, props: readonly string[]): Promise<ProcessResult> {
  const argv = sc(t, "show", unit, `--property=${props.join(",")}`);
  const unix = await runProcess([...argv, "--timestamp=unix"], { timeoutMs: QUERY_TIMEOUT_MS });
  return unix.exitCode !== 0 && /unrecognized option|unknown option/i.test(unix.stderr)
    ? runProcess(argv, { timeoutMs: QUERY_TIMEOUT_MS })
    : unix;
}

export async function queryUnits(t: SystemdTarget): Promise<UnitsSnapshot> {
  const [timer, service, list] = await Promise.all([
    show(t, timerUnit(t), TIMER_PROPERTIES),
    show(t, serviceUnit(t), SERVICE_PROPERTIES),
    runProcess(sc(t, "list-timers", "--all", "--output=json", timerUnit(t)), { timeoutMs: QUERY_TIMEOUT_MS }),
  ]);
  const failed = [timer, service].find((r) => r.exitCode !== 0);
  const listed = list.exitCode === 0 ? parseTimerList(list.stdout, timerUnit(t)) : undefined;
  return {
    timer: parseShow(timer.stdout),
    service: parseShow(service.stdout),
    ...(listed === undefined ? {} : { listed }),
    ...(failed === undefined ? {} : { error: withBusHint(exitZero)(failed).detail }),
  };
}

/** systemd records each lingering user as a file in /var/lib/systemd/linger. */
export function lingerEnabled(user?: string, root = "/var/lib/systemd/linger"): boolean {
  try {
    return existsSync(join(root, user ?? userInfo().username));
  } catch {
    return false;
  }
}

export function lingerHint(): string {
  return "Without a login session the user manager stops and the timer with it; to keep it running, enable lingering: loginctl enable-linger $USER";
}
