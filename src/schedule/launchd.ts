/**
 * The LaunchAgent's install, uninstall and status, with the modern domain syntax
 * (`bootout`/`enable`/`bootstrap gui/<uid>`, `print`) and the legacy commands (`unload`, `load -w`,
 * `list`) where launchctl does not know the modern ones.
 *
 * Legacy `load` and `unload` exit 0 even when they fail, so their output is read, and every install ends
 * with a check that launchd really knows the job.
 */
import { isNotLoaded, isUnknownSubcommand } from "../actions/launchctl.js";
import type { ProcessResult } from "../runtime/process.js";
import { runProcess } from "../runtime/process.js";
import { exitZero, firstLine, type Judge, type Op } from "./ops.js";
import { launchAgentsDir, launchdLogDir, PLIST_MODE, plistFile, serveLabel } from "./plist.js";

export interface LaunchdTarget {
  readonly label: string;
  readonly uid: number;
  readonly home: string;
  readonly launchctl: string;
  /** Absolute path of the plist in ~/Library/LaunchAgents. */
  readonly plist: string;
}

export function launchdTarget(input: Omit<LaunchdTarget, "plist">): LaunchdTarget {
  return { ...input, plist: plistFile(input.home, input.label) };
}

/** The status page's job (`install --serve`) beside the tick's. */
export function serveTarget(t: LaunchdTarget): LaunchdTarget {
  return launchdTarget({ label: serveLabel(t.label), uid: t.uid, home: t.home, launchctl: t.launchctl });
}

export const currentUid = (): number => process.getuid?.() ?? 0;

const domain = (t: LaunchdTarget): string => `gui/${t.uid}`;
const service = (t: LaunchdTarget): string => `${domain(t)}/${t.label}`;
const lc = (t: LaunchdTarget, ...args: string[]): string[] => [t.launchctl, ...args];

/** The top-level `key = value` lines of `launchctl print` (nested blocks have their own `state` lines). */
export function printFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let depth = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.endsWith("{")) depth++;
    else if (line.startsWith("}")) depth = Math.max(0, depth - 1);
    else {
      const match = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
      if (match !== null && depth <= 1 && !Object.hasOwn(fields, match[1] as string)) {
        fields[match[1] as string] = match[2] as string;
      }
    }
  }
  return fields;
}

/** `"LastExitStatus" = 0;` style lines of legacy `launchctl list <label>`. */
export function listFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of text.matchAll(/^\s*"([^"]+)"\s*=\s*"?([^";]*)"?;/gm)) {
    fields[match[1] as string] = match[2] as string;
  }
  return fields;
}

const notLoadedIsFine: Judge = (r) => (isNotLoaded(r) ? { ok: true, detail: "was not loaded" } : exitZero(r));

/** Legacy unload exits 0 whether or not the job was loaded; both reach the goal. */
const legacyUnload: Judge = (r) =>
  r.error !== undefined || r.timedOut ? exitZero(r) : { ok: true, detail: firstLine(r.stderr) || "ok" };

/** Legacy load exits 0 even when it failed: the words decide. */
const legacyLoad: Judge = (r) => {
  const text = `${r.stderr}\n${r.stdout}`;
  if (r.error !== undefined || r.timedOut || r.exitCode !== 0) return exitZero(r);
  if (/already loaded/i.test(text)) return { ok: true, detail: "already loaded" };
  if (/failed|nothing found to load|invalid property list|no such file|error/i.test(text)) {
    return { ok: false, detail: `exit 0 but it failed: ${firstLine(text)}` };
  }
  return { ok: true, detail: "ok" };
};

const bootstrap: Judge = (r) => {
  const verdict = exitZero(r);
  if (verdict.ok || r.exitCode !== 5) return verdict;
  return { ok: false, detail: `${verdict.detail} (check the file with \`plutil -lint\`)` };
};

function describePrint(text: string): string {
  const f = printFields(text);
  const parts = [`state = ${f["state"] ?? "?"}`, `runs = ${f["runs"] ?? "0"}`];
  if (f["last exit code"] !== undefined) parts.push(`last exit code = ${f["last exit code"]}`);
  return `loaded (${parts.join(", ")})`;
}

const loaded: Judge = (r) =>
  r.exitCode === 0 ? { ok: true, detail: describePrint(r.stdout) } : { ...exitZero(r), ok: false };

const listed: Judge = (r) =>
  r.exitCode === 0 ? { ok: true, detail: "loaded (legacy list)" } : { ...exitZero(r), ok: false };

/**
 * `serve`: the status page's job and plist too, loaded after the tick's the same way (the bootout
 * stops a running page, so a new one starts with the new arguments).
 */
export function installOps(
  t: LaunchdTarget,
  plist: string,
  serve?: { readonly target: LaunchdTarget; readonly plist: string },
): Op[] {
  return [
    { kind: "mkdir", path: launchAgentsDir(t.home) },
    { kind: "mkdir", path: launchdLogDir(t.home) },
    { kind: "write", path: t.plist, content: plist, mode: PLIST_MODE },
    ...(serve === undefined
      ? []
      : [{ kind: "write", path: serve.target.plist, content: serve.plist, mode: PLIST_MODE } as const]),
    ...loadOps(t),
    ...(serve === undefined ? [] : loadOps(serve.target)),
  ];
}

function loadOps(t: LaunchdTarget): Op[] {
  return [
    {
      kind: "run",
      step: { argv: lc(t, "bootout", service(t)), judge: notLoadedIsFine },
      note: "(a job that is not loaded is fine)",
      legacy: { argv: lc(t, "unload", t.plist), judge: legacyUnload },
    },
    { kind: "run", step: { argv: lc(t, "enable", service(t)) }, legacy: null },
    {
      kind: "run",
      step: {
        argv: lc(t, "bootstrap", domain(t), t.plist),
        judge: bootstrap,
        retry: { attempts: 3, delayMs: 500 },
      },
      note: "(retried twice: right after a bootout launchd may still be tearing the old job down)",
      legacy: { argv: lc(t, "load", "-w", t.plist), judge: legacyLoad },
    },
    {
      kind: "run",
      step: { argv: lc(t, "print", service(t)), judge: loaded },
      note: "(verifies that launchd knows the job)",
      legacy: { argv: lc(t, "list", t.label), judge: listed },
    },
  ];
}

/** `serve`: the status page's job too (its plist exists, or --serve). */
export function uninstallOps(t: LaunchdTarget, serve?: LaunchdTarget): Op[] {
  const unload = (job: LaunchdTarget): Op[] => [
    {
      kind: "run",
      step: { argv: lc(job, "bootout", service(job)), judge: notLoadedIsFine },
      note: "(a job that is not loaded is fine)",
      legacy: { argv: lc(job, "unload", job.plist), judge: legacyUnload },
    },
    { kind: "remove", path: job.plist },
  ];
  return [...unload(t), ...(serve === undefined ? [] : unload(serve))];
}

export const isUnsupported = (r: ProcessResult): boolean => isUnknownSubcommand(r);

export interface LaunchdJobInfo {
  readonly loaded: boolean;
  readonly legacy: boolean;
  readonly state?: string;
  readonly pid?: number;
  readonly runs?: number;
  readonly lastExitCode?: string;
  /** Why the job could not be queried (launchctl missing...), absent when the answer is known. */
  readonly error?: string;
}

/** Asks launchd about the job: `print`, or legacy `list` where `print` is unknown. */
export async function queryJob(t: LaunchdTarget): Promise<LaunchdJobInfo> {
  const modern = await runProcess(lc(t, "print", service(t)), { timeoutMs: 15_000 });
  if (!isUnknownSubcommand(modern)) return jobInfo(modern, false);
  return jobInfo(await runProcess(lc(t, "list", t.label), { timeoutMs: 15_000 }), true);
}

function jobInfo(r: ProcessResult, legacy: boolean): LaunchdJobInfo {
  if (r.error !== undefined || r.timedOut) return { loaded: false, legacy, error: exitZero(r).detail };
  if (r.exitCode !== 0) {
    return isNotLoaded(r) || legacy
      ? { loaded: false, legacy }
      : { loaded: false, legacy, error: exitZero(r).detail };
  }
  const f = legacy ? listFields(r.stdout) : printFields(r.stdout);
  const pid = Number(f["pid"] ?? f["PID"]);
  const runs = Number(f["runs"]);
  const last = f["last exit code"] ?? f["LastExitStatus"];
  return {
    loaded: true,
    legacy,
    ...(f["state"] === undefined ? {} : { state: f["state"] }),
    ...(Number.isInteger(pid) && pid > 0 ? { pid } : {}),
    ...(Number.isInteger(runs) ? { runs } : {}),
    ...(last === undefined ? {} : { lastExitCode: last }),
  };
}
