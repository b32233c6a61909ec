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

export function parseShow(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return fields;
}

const timerActive: Judge = (r) => {
  if (r.exitCode !== 0) return exitZero(r);
  const f = parseShow(r.stdout);
  return f["ActiveState"] === "active"
    ? {
        ok: true,
        detail: `timer active${f["NextElapseUSecMonotonic"] ? `, next in ${f["NextElapseUSecMonotonic"]}` : ""}`,
      }
    : {
        ok: false,
        detail: `timer is ${f["ActiveState"] ?? "unknown"} after enable --now (LoadState=${f["LoadState"] ?? "?"})`,
      };
};

export const TIMER_PROPERTIES = [
  "LoadState",
  "ActiveState",
  "UnitFileState",
  "LastTriggerUSec",
  "NextElapseUSecMonotonic",
  "Result",
];
export const SERVICE_PROPERTIES = [
  "LoadState",
  "ActiveState",
  "Result",
  "ExecMainStatus",
  "ExecMainExitTimestamp",
];

export function installOps(t: SystemdTarget, service: string, timer: string): Op[] {
  return [
    { kind: "mkdir", path: t.dir },
    { kind: "write", path: t.service, content: service, mode: UNIT_MODE },
    { kind: "write", path: t.timer, content: timer, mode: UNIT_MODE },
    { kind: "run", step: { argv: sc(t, "daemon-reload"), judge: withBusHint(exitZero) } },
    { kind: "run", step: { argv: sc(t, "enable", "--now", timerUnit(t)), judge: withBusHint(exitZero) } },
    {
      kind: "run",
      step: {
        argv: sc(t, "show", timerUnit(t), `--property=${TIMER_PROPERTIES.join(",")}`),
        judge: timerActive,
      },
      note: "(verifies that the timer is active)",
    },
  ];
}

export function uninstallOps(t: SystemdTarget): Op[] {
  return [
    {
      kind: "run",
      step: { argv: sc(t, "disable", "--now", timerUnit(t)), judge: withBusHint(unknownUnitIsFine) },
      note: "(a timer that is not installed is fine)",
    },
    { kind: "remove", path: t.timer },
    { kind: "remove", path: t.service },
    { kind: "run", step: { argv: sc(t, "daemon-reload"), judge: withBusHint(exitZero) } },
  ];
}

export interface SystemdInfo {
  readonly timer: Record<string, string>;
  readonly service: Record<string, string>;
  readonly error?: string;
}

export async function queryUnits(t: SystemdTarget): Promise<SystemdInfo> {
  const show = (unit: string, props: readonly string[]): Promise<ProcessResult> =>
    runProcess(sc(t, "show", unit, `--property=${props.join(",")}`), { timeoutMs: 15_000 });
  const [timer, service] = await Promise.all([
    show(timerUnit(t), TIMER_PROPERTIES),
    show(serviceUnit(t), SERVICE_PROPERTIES),
  ]);
  const failed = [timer, service].find((r) => r.exitCode !== 0);
  const base = { timer: parseShow(timer.stdout), service: parseShow(service.stdout) };
  return failed === undefined ? base : { ...base, error: withBusHint(exitZero)(failed).detail };
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
