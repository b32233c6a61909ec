/**
 * The systemd user units: `<name>.service` (one tick, Type=oneshot), `<name>.timer` (starts it every
 * runtime.interval) and, with `install --serve`, `<name>-serve.service` (the status page).
 *
 * Values are written for systemd's own parser (systemd.syntax(7), systemd.service(5)): `%` starts a
 * specifier everywhere; `$` starts a variable in Exec arguments but not in the program's path, which
 * systemd takes literally and refuses outright when it holds a quote or a backslash; arguments with
 * spaces, quotes or backslashes need C-style double quoting; a line that ends in a backslash continues
 * on the next one; and no value may hold a control character (a newline would start a directive).
 * What cannot be written so that systemd reads it back unchanged is refused (E_USAGE, exit 2).
 */
import { isAbsolute, join } from "node:path";
import { UpkeepError } from "../errors.js";
import { refuseControlCharacters, type RunnerSpec } from "./runner.js";
import { serveArgs, serveUrl, type ServeJob } from "./serve-job.js";

export const DEFAULT_UNIT = "upkeep";
export const UNIT_MODE = 0o644;

export function checkUnitName(name: string): string | undefined {
  return /^[A-Za-z0-9][A-Za-z0-9:_.-]{0,200}$/.test(name) &&
    !name.endsWith(".service") &&
    !name.endsWith(".timer")
    ? undefined
    : `invalid unit name "${name}": use letters, digits, ":", "_", "." and "-", without .service/.timer (e.g. ${DEFAULT_UNIT})`;
}

/** `$XDG_CONFIG_HOME/systemd/user` (when it is absolute, as the XDG spec requires), else `~/.config/systemd/user`. */
export function systemdUserDir(home: string, env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env["XDG_CONFIG_HOME"];
  return join(xdg !== undefined && isAbsolute(xdg) ? xdg : join(home, ".config"), "systemd", "user");
}

/** The status page's unit for the tick unit `name`. */
export const serveUnitName = (name: string): string => `${name}-serve.service`;

export function unitFiles(dir: string, name: string): { service: string; timer: string; serve: string } {
  return {
    service: join(dir, `${name}.service`),
    timer: join(dir, `${name}.timer`),
    serve: join(dir, serveUnitName(name)),
  };
}

const WHERE = "a systemd unit";

/** Double-quoted with C-style escapes, as systemd unquotes Exec and Environment= words. */
const cQuote = (text: string): string => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/** One argument of an Exec line (not the program): specifiers and variables escaped, quoted when needed. */
export function quoteExecArg(word: string): string {
  refuseControlCharacters("the value", word, WHERE);
  const escaped = word.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  if (escaped !== "" && !/[\s"'\\;]/.test(escaped)) return escaped;
  return cQuote(escaped);
}

/**
 * The program of an Exec line: specifiers escaped but not `$` (no variable expansion in the path, so
 * `$$` would stay two dollars). systemd refuses a program path with a quote or a backslash in it
 * ("Executable name contains special characters"), however it is quoted.
 */
export function quoteExecProgram(path: string): string {
  refuseControlCharacters("the program path", path, WHERE);
  if (/["'\\]/.test(path))
    throw new UpkeepError(
      "E_USAGE",
      `systemd refuses to start a program whose path holds a quote or a backslash: ${JSON.stringify(path)}; pass --node with a path without them (a symlink will do); nothing was written`,
    );
  const escaped = path.replace(/%/g, "%%");
  return /[\s;]/.test(escaped) ? `"${escaped}"` : escaped;
}

/** One `NAME=value` assignment of an Environment= line (no `$` expansion there, specifiers only). */
export function quoteEnvAssignment(name: string, value: string): string {
  refuseControlCharacters(`the value of ${name}`, value, WHERE);
  return cQuote(`${name}=${value}`.replace(/%/g, "%%"));
}

/**
 * A path setting (WorkingDirectory=): the whole rest of the line, specifiers escaped, no quoting. So a
 * trailing backslash (the line would continue into the next directive) or trailing whitespace (systemd
 * strips it) cannot be written.
 */
function pathValue(path: string): string {
  refuseControlCharacters("the working folder", path, WHERE);
  if (!isAbsolute(path) || /[\s\\]$/.test(path))
    throw new UpkeepError(
      "E_USAGE",
      `the working folder ${JSON.stringify(path)} cannot be written into a systemd unit (WorkingDirectory= must be absolute and cannot end in a backslash or a space); nothing was written`,
    );
  return path.replace(/%/g, "%%");
}

/** How both services start upkeep: folder, environment and command line, all absolute. */
function processLines(spec: RunnerSpec, args: readonly string[]): string[] {
  const exec = [quoteExecProgram(spec.nodePath), ...[spec.cliPath, ...args].map(quoteExecArg)].join(" ");
  return [
    `WorkingDirectory=${pathValue(spec.workingDirectory)}`,
    "# Absolute paths throughout: a user manager's PATH is minimal and knows nothing of nvm or Homebrew.",
    `Environment=${quoteEnvAssignment("PATH", spec.path)} ${quoteEnvAssignment("HOME", spec.home)}`,
    `ExecStart=${exec}`,
  ];
}

/** A comment line too continues when it ends in a backslash: then the folder is shown quoted. */
function rulesComment(spec: RunnerSpec): string {
  refuseControlCharacters("the rules folder", spec.rulesDir, WHERE);
  return `# Rules: ${spec.rulesDir.endsWith("\\") ? JSON.stringify(spec.rulesDir) : spec.rulesDir}`;
}

export function renderService(spec: RunnerSpec, name: string): string {
  return [
    "# Written by `upkeep systemd install`; `upkeep systemd render` prints it, `upkeep systemd uninstall` removes it.",
    "[Unit]",
    `Description=upkeep: one tick of the self-healing rules (probe, heal, alert), started by ${name}.timer`,
    rulesComment(spec),
    "",
    "[Service]",
    "# One tick and done; the timer starts the next one.",
    "Type=oneshot",
    "# Exit 1 (a watched service is still down) and 3 (another tick held the lock) are results, not",
    "# failures of this unit; a failed unit then means upkeep itself could not run (bad rules: 2, 203/EXEC).",
    "# ExecMainStatus still shows the real exit status (`upkeep systemd status`).",
    "SuccessExitStatus=1 3",
    "# Processes a heal step started (an exec step with detach: true, `setsid -f ...`) must outlive the",
    "# tick: the default KillMode=control-group kills the whole cgroup when upkeep exits. upkeep itself",
    "# kills the process tree of every step, probe or channel that overran its timeout, and whatever a",
    "# probe or command channel left when it exits, so what is still here when it exits was left running",
    "# on purpose. No Nice=/IOSchedulingClass=: those survivors would inherit them (a healed web server at",
    "# nice 10 with idle I/O).",
    "KillMode=process",
    ...processLines(spec, spec.args),
    "",
  ].join("\n");
}

/** The status page, `upkeep serve`, kept running: a crash or a kill brings it back after 5 s. */
export function renderServeService(spec: RunnerSpec, name: string, job: ServeJob): string {
  return [
    "# Written by `upkeep systemd install --serve`; `upkeep systemd render --serve` prints it, `upkeep systemd uninstall` removes it.",
    "[Unit]",
    `Description=upkeep: the status page (upkeep serve) on ${serveUrl(job.listen).replace(/%/g, "%%")}, for ${name}.timer's rules`,
    rulesComment(spec),
    "",
    "[Service]",
    "Type=simple",
    "# Started again 5 s after a crash, a kill (SIGKILL) or a non-zero exit; a clean stop stays stopped",
    "# (systemctl stop sends SIGTERM and upkeep serve exits 0). Exit 2 (bad rules, the address in use) is",
    "# retried every 5 s too, so fixed rules bring the page back: one start per 5 s never reaches the",
    "# start limit (5 starts in 10 s).",
    "Restart=on-failure",
    "RestartSec=5s",
    "# Actions from the page (--actions) run the CLI, and a heal may start a daemon that must outlive this",
    "# process, as with the tick: stopping or restarting the page ends only upkeep serve itself.",
    "KillMode=process",
    ...processLines(spec, serveArgs(spec, job)),
    "",
    "[Install]",
    "# Started with the user manager (at login, or at boot with lingering).",
    "WantedBy=default.target",
    "",
  ].join("\n");
}

/** Coalescing window: systemd may delay a timer by up to AccuracySec (default 1 min) to batch wakeups. */
function accuracySeconds(intervalSeconds: number): number {
  return Math.max(1, Math.min(60, Math.floor(intervalSeconds / 10)));
}

export function renderTimer(spec: RunnerSpec, name: string): string {
  return [
    "# Written by `upkeep systemd install`.",
    "[Unit]",
    `Description=upkeep: run ${name}.service every ${spec.intervalSeconds}s`,
    "",
    "[Timer]",
    "# A monotonic timer, like launchd's StartInterval with RunAtLoad: the first tick as soon as the timer",
    "# starts (install, login, boot with lingering), then runtime.interval after each start of the tick.",
    "OnActiveSec=0",
    `OnUnitActiveSec=${spec.intervalSeconds}s`,
    `AccuracySec=${accuracySeconds(spec.intervalSeconds)}s`,
    "# No Persistent=: it only affects OnCalendar= timers (catching up runs missed while the machine was",
    "# off); on a monotonic timer it does nothing, and OnActiveSec already runs a tick when the timer starts.",
    `Unit=${name}.service`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}
