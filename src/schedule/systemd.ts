/**
 * The systemd user timer's install, uninstall and status via `systemctl --user`, with the status page's
 * unit (`install --serve`) beside it.
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
import { readInstalledUnit } from "./installed.js";
import { exitZero, type Judge, type Op } from "./ops.js";
import { listenFromArgs, serveUrl, type Address } from "./serve-job.js";
import { serveUnitName, UNIT_MODE, unitFiles } from "./systemd-units.js";
import { parseShow, parseTimerList, type UnitsSnapshot } from "./systemd-state.js";

export interface SystemdTarget {
  readonly name: string;
  readonly systemctl: string;
  /** Absolute folder of user units. */
  readonly dir: string;
  readonly service: string;
  readonly timer: string;
  /** The status page's unit file (`install --serve`). */
  readonly serve: string;
}

export function systemdTarget(input: { name: string; systemctl: string; dir: string }): SystemdTarget {
  const files = unitFiles(input.dir, input.name);
  return { ...input, service: files.service, timer: files.timer, serve: files.serve };
}

const sc = (t: SystemdTarget, ...args: string[]): string[] => [t.systemctl, "--user", ...args];
const timerUnit = (t: SystemdTarget): string => `${t.name}.timer`;
const serviceUnit = (t: SystemdTarget): string => `${t.name}.service`;
const serveUnit = (t: SystemdTarget): string => serveUnitName(t.name);

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

/** The status page's enable symlink (WantedBy=default.target). */
export function serveWantsLink(t: SystemdTarget): string {
  return join(t.dir, "default.target.wants", serveUnit(t));
}

export const SERVE_PROPERTIES = [
  "LoadState",
  "ActiveState",
  "SubState",
  "UnitFileState",
  "Result",
  "MainPID",
  "NRestarts",
  "ExecMainStartTimestamp",
];

const journalHint = (t: SystemdTarget): string =>
  `journalctl --user -u ${serveUnit(t)} shows why; \`upkeep systemd status\` shows its state`;

/** The page's process runs: `active (running)` with a main pid; activating is a restart after a failure. */
const serveRunning =
  (t: SystemdTarget): Judge =>
  (r) => {
    if (r.exitCode !== 0) return exitZero(r);
    const f = parseShow(r.stdout);
    const pid = Number(f["MainPID"]);
    return f["ActiveState"] === "active" && f["SubState"] === "running" && pid > 0
      ? { ok: true, detail: `running (MainPID ${pid})` }
      : {
          ok: false,
          detail: `${serveUnit(t)} is ${f["ActiveState"] ?? "unknown"} (${f["SubState"] ?? "?"}, Result=${f["Result"] ?? "?"}): ${journalHint(t)}`,
        };
  };

/** Content and address of the status page's unit, for `install --serve`. */
export interface ServeInstall {
  readonly unit: string;
  readonly address: Address;
}

/** Bounded: upkeep serve loads the rules and listens within a second or two. */
export const SERVE_START_TIMEOUT_MS = 15_000;

export function installOps(t: SystemdTarget, service: string, timer: string, serve?: ServeInstall): Op[] {
  const ops: Op[] = [
    {
      kind: "run",
      step: { argv: sc(t, "show", "--property=Version"), judge: withBusHint(exitZero) },
      note: "(checks that the user manager answers before anything is written)",
    },
    { kind: "mkdir", path: t.dir },
    { kind: "write", path: t.service, content: service, mode: UNIT_MODE },
    { kind: "write", path: t.timer, content: timer, mode: UNIT_MODE },
    ...(serve === undefined
      ? []
      : [{ kind: "write", path: t.serve, content: serve.unit, mode: UNIT_MODE } as const]),
    { kind: "run", step: { argv: sc(t, "daemon-reload"), judge: withBusHint(exitZero) } },
    {
      kind: "run",
      step: {
        argv: sc(t, "reset-failed", serviceUnit(t), ...(serve === undefined ? [] : [serveUnit(t)])),
        judge: unknownUnitIsFine,
      },
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
  if (serve === undefined) return ops;
  return [
    ...ops,
    { kind: "run", step: { argv: sc(t, "enable", serveUnit(t)), judge: withBusHint(exitZero) } },
    {
      kind: "run",
      step: { argv: sc(t, "restart", serveUnit(t)), judge: withBusHint(exitZero) },
      note: "(starts the page, or restarts it with the new unit: `enable --now` would leave an old one running)",
    },
    {
      kind: "connect",
      host: serve.address.host,
      port: serve.address.port,
      timeoutMs: SERVE_START_TIMEOUT_MS,
      hint: journalHint(t),
    },
    {
      kind: "run",
      step: {
        argv: sc(t, "show", serveUnit(t), "--property=ActiveState,SubState,Result,MainPID"),
        judge: serveRunning(t),
      },
      note: "(verifies that the page's process is the one running: a page that cannot start is restarted every 5 s)",
    },
  ];
}

/**
 * Every step runs even when systemctl fails (no user bus): the files go in any case, and the report
 * says what could not be done. `serve`: the status page's unit too (its file exists, or --serve).
 */
export function uninstallOps(t: SystemdTarget, serve = false): Op[] {
  const page = (...ops: Op[]): Op[] => (serve ? ops : []);
  return [
    {
      kind: "run",
      step: { argv: sc(t, "disable", "--now", timerUnit(t)), judge: withBusHint(unknownUnitIsFine) },
      note: "(a timer that is not installed is fine)",
      keepGoing: true,
    },
    ...page({
      kind: "run",
      step: { argv: sc(t, "disable", "--now", serveUnit(t)), judge: withBusHint(unknownUnitIsFine) },
      note: "(stops the status page; one that is not installed is fine)",
      keepGoing: true,
    }),
    { kind: "remove", path: wantsLink(t), keepGoing: true },
    ...page({ kind: "remove", path: serveWantsLink(t), keepGoing: true }),
    { kind: "remove", path: t.timer, keepGoing: true },
    { kind: "remove", path: t.service, keepGoing: true },
    ...page({ kind: "remove", path: t.serve, keepGoing: true }),
    { kind: "run", step: { argv: sc(t, "daemon-reload"), judge: withBusHint(exitZero) }, keepGoing: true },
    {
      kind: "run",
      step: {
        argv: sc(t, "reset-failed", serviceUnit(t), timerUnit(t), ...(serve ? [serveUnit(t)] : [])),
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

/** What the manager says about the status page's unit, and the address its unit file names. */
export interface ServeSnapshot {
  readonly fields: Readonly<Record<string, string>>;
  readonly url: string;
  readonly error?: string;
}

export async function queryServe(t: SystemdTarget): Promise<ServeSnapshot> {
  const [shown, installed] = await Promise.all([
    show(t, serveUnit(t), SERVE_PROPERTIES),
    readInstalledUnit(t.serve),
  ]);
  return {
    fields: parseShow(shown.stdout),
    url: serveUrl(listenFromArgs(installed?.args ?? [])),
    ...(shown.exitCode === 0 ? {} : { error: withBusHint(exitZero)(shown).detail }),
  };
}

/** Whether the manager runs the status page now (install's check that the port is its own). */
export async function serveActive(t: SystemdTarget): Promise<boolean> {
  const r = await runProcess(sc(t, "show", serveUnit(t), "--property=ActiveState"), {
    timeoutMs: QUERY_TIMEOUT_MS,
  });
  return r.exitCode === 0 && parseShow(r.stdout)["ActiveState"] === "active";
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
