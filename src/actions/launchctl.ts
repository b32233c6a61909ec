/**
 * What the launchd handlers share: the domain and plist defaults, running `launchctl` with the modern
 * domain syntax and a legacy fallback, and reading `launchctl print`.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import type { ProcessResult } from "../runtime/process.js";
import { formatCommandLine, runProcess } from "../runtime/process.js";
import {
  abortDetail,
  expandHome,
  firstLine,
  loadSchema,
  optionalString,
  paramFailure,
  requireString,
} from "./support.js";
import type { HandlerContext, HandlerSettings, StepHandler, StepResult } from "./types.js";

/** Safety cap only: the runtime's signal carries the real step/probe timeout. */
const PROCESS_CAP_MS = 10 * 60_000;
/** Output kept from launchctl for the log. */
const OUTPUT_LIMIT = 4096;

const DEFAULT_PATHS: Readonly<Record<string, readonly string[]>> = {
  launchctl: ["launchctl", "/bin/launchctl"],
  systemctl: ["systemctl", "/bin/systemctl", "/usr/bin/systemctl"],
};

/** The command name shown by describe(): the bare name for the default path, the full path otherwise. */
export function displayCommand(path: string, tool: "launchctl" | "systemctl"): string {
  return DEFAULT_PATHS[tool]?.includes(path) ? tool : path;
}

/** `domain` when given, else the per-user GUI domain `gui/<uid>`. */
export function launchdDomain(domain: string | undefined, settings: Pick<HandlerSettings, "uid">): string {
  return domain ?? `gui/${settings.uid}`;
}

export function serviceTarget(domain: string, label: string): string {
  return `${domain}/${label}`;
}

/** `plist` with `~` expanded, or `~/Library/LaunchAgents/<label>.plist`. */
export function plistPath(label: string, plist?: string, home: string = homedir()): string {
  return plist === undefined
    ? join(home, "Library", "LaunchAgents", `${label}.plist`)
    : expandHome(plist, home);
}

export function launchctlArgv(
  settings: Pick<HandlerSettings, "launchctlPath">,
  args: readonly string[],
): string[] {
  return [settings.launchctlPath, ...args];
}

/** The describe() line for a launchctl call, e.g. `launchctl bootout gui/501/com.x`. */
export function describeLaunchctl(
  settings: Pick<HandlerSettings, "launchctlPath">,
  args: readonly string[],
): string {
  return formatCommandLine([displayCommand(settings.launchctlPath, "launchctl"), ...args]);
}

export function runLaunchctl(
  ctx: Pick<HandlerContext, "settings" | "env">,
  args: readonly string[],
  signal: AbortSignal,
): Promise<ProcessResult> {
  return runProcess(launchctlArgv(ctx.settings, args), {
    env: ctx.env,
    signal,
    timeoutMs: PROCESS_CAP_MS,
    outputLimit: OUTPUT_LIMIT,
  });
}

/**
 * True when launchctl did not know the subcommand (an old launchctl without the domain syntax):
 * exit 64 (EX_USAGE) or an "unrecognized/unknown subcommand" message.
 */
export function isUnknownSubcommand(result: ProcessResult): boolean {
  if (result.error !== undefined || result.timedOut || result.aborted) return false;
  const text = `${result.stderr}\n${result.stdout}`;
  return (
    result.exitCode === 64 ||
    /unrecogni[sz]ed subcommand|unknown (sub)?command|invalid subcommand/i.test(text)
  );
}

/** `print`/`bootout`/`unload` of a job launchd does not know: exit 113 / 3, or the matching message. */
export function isNotLoaded(result: ProcessResult): boolean {
  if (result.error !== undefined || result.timedOut || result.aborted) return false;
  const text = `${result.stderr}\n${result.stdout}`;
  return (
    result.exitCode === 113 ||
    (result.exitCode !== 0 && /could not find (specified )?service|no such process|not loaded/i.test(text))
  );
}

export function isAlreadyLoaded(result: ProcessResult): boolean {
  return result.error === undefined && /already loaded/i.test(`${result.stderr}\n${result.stdout}`);
}

/** Turns a launchctl run into a step result; `okWhen` lets idempotent cases (already gone) pass. */
export function toStepResult(
  commandLine: string,
  result: ProcessResult,
  signal: AbortSignal,
  okWhen?: (result: ProcessResult) => string | undefined,
): StepResult {
  const output = [result.stdout, result.stderr].filter((s) => s.trim().length > 0).join("\n");
  const withOutput = (r: Omit<StepResult, "output">): StepResult => (output ? { ...r, output } : r);
  if (result.error !== undefined) return withOutput({ ok: false, detail: `${commandLine}: ${result.error}` });
  if (result.timedOut || result.aborted) {
    return withOutput({
      ok: false,
      detail: `${commandLine}: ${result.aborted ? abortDetail(signal) : "timed out"}`,
    });
  }
  // An excuse also names what happened on exit 0 (legacy `load` says "already loaded" and exits 0).
  const excuse = okWhen?.(result);
  if (result.exitCode === 0 || excuse !== undefined) {
    return withOutput({ ok: true, detail: `${commandLine}: ${excuse ?? "ok"}` });
  }
  const why = firstLine(result.stderr) || firstLine(result.stdout);
  const status = result.exitCode === null ? `signal ${result.signal}` : `exit ${result.exitCode}`;
  return withOutput({ ok: false, detail: `${commandLine}: ${status}${why ? ` (${why})` : ""}` });
}

/**
 * Runs the modern command; when launchctl does not know it, runs the legacy one instead.
 * Returns the step result of whichever ran last, saying when the fallback was used.
 */
export async function runWithFallback(
  ctx: Pick<HandlerContext, "settings" | "env">,
  modern: readonly string[],
  legacy: readonly string[],
  signal: AbortSignal,
  okWhen?: (result: ProcessResult) => string | undefined,
): Promise<StepResult> {
  const first = await runLaunchctl(ctx, modern, signal);
  if (!isUnknownSubcommand(first))
    return toStepResult(describeLaunchctl(ctx.settings, modern), first, signal, okWhen);
  const second = await runLaunchctl(ctx, legacy, signal);
  const result = toStepResult(describeLaunchctl(ctx.settings, legacy), second, signal, okWhen);
  return { ...result, detail: `${result.detail} (legacy fallback: ${modern[0]} unsupported)` };
}

export interface LaunchdJobState {
  /** `state = ...` at the top level of the job, e.g. `running`, `not running`, `waiting`. */
  readonly state?: string;
  readonly pid?: number;
  readonly lastExitCode?: string;
  readonly running: boolean;
}

/**
 * Reads the top-level `key = value` lines of `launchctl print <domain>/<label>`. Nested blocks
 * (`endpoints = { ... }`) can hold their own `state` lines, so only depth 1 counts.
 */
export function parseLaunchctlPrint(text: string): LaunchdJobState {
  const top: Record<string, string> = {};
  let depth = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.endsWith("{")) {
      depth++;
      continue;
    }
    if (line.startsWith("}")) {
      depth = Math.max(0, depth - 1);
      continue;
    }
    const match = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (match && depth <= 1 && !((match[1] as string) in top)) top[match[1] as string] = match[2] as string;
  }
  const pidText = top["pid"];
  const pid = pidText !== undefined && /^\d+$/.test(pidText) ? Number(pidText) : undefined;
  const state = top["state"];
  return {
    ...(state !== undefined ? { state } : {}),
    ...(pid !== undefined ? { pid } : {}),
    ...(top["last exit code"] !== undefined ? { lastExitCode: top["last exit code"] } : {}),
    running: state === "running" || (pid !== undefined && pid > 0),
  };
}

/** The parameters every launchd step takes, checked and with defaults applied. */
export interface LaunchdJob {
  readonly label: string;
  readonly domain: string;
  /** `<domain>/<label>` */
  readonly target: string;
  readonly plist: string;
}

export function resolveJob(
  params: { label?: unknown; domain?: unknown; plist?: unknown },
  settings: Pick<HandlerSettings, "uid">,
): LaunchdJob {
  const label = requireString(params.label, "label");
  const domain = launchdDomain(optionalString(params.domain, "domain"), settings);
  return {
    label,
    domain,
    target: serviceTarget(domain, label),
    plist: plistPath(label, optionalString(params.plist, "plist")),
  };
}

/** Best effort for describe(): never throws, shows what it can. */
export function describeJob(
  params: { label?: unknown; domain?: unknown; plist?: unknown },
  uid: number,
): LaunchdJob {
  try {
    return resolveJob(params, { uid });
  } catch {
    const label = String(params.label);
    const domain = typeof params.domain === "string" ? params.domain : `gui/${uid}`;
    const plist = typeof params.plist === "string" ? expandHome(params.plist) : plistPath(label);
    return { label, domain, target: serviceTarget(domain, label), plist };
  }
}

/** unload/bootout of a job launchd does not know already reached the goal. */
export const notLoadedIsFine = (result: ProcessResult): string | undefined =>
  isNotLoaded(result) ? "not loaded (nothing to stop)" : undefined;

/** load of a job that is already loaded reached the goal too. */
export const alreadyLoadedIsFine = (result: ProcessResult): string | undefined =>
  isAlreadyLoaded(result) ? "already loaded" : undefined;

export type PlistJobParams = {
  label: string;
  /** Default ~/Library/LaunchAgents/<label>.plist. */
  plist?: string;
};

/**
 * The baseline's legacy steps, `launchctl load|unload <plist>`: the same handler but for the subcommand
 * and which "failure" means the job is already where the step wants it.
 */
export function plistCommandStep(
  name: "launchd.load" | "launchd.unload",
  subcommand: "load" | "unload",
  description: string,
  okWhen: (result: ProcessResult) => string | undefined,
): StepHandler<PlistJobParams> {
  return {
    name,
    kind: "step",
    description,
    get schema() {
      return loadSchema("step", name);
    },
    sideEffects: "local",
    describe: (params, ctx) =>
      describeLaunchctl(ctx.settings, [subcommand, describeJob(params, ctx.settings.uid).plist]),
    async run(ctx, params, signal): Promise<StepResult> {
      let job: LaunchdJob;
      try {
        job = resolveJob(params, ctx.settings);
      } catch (error) {
        return { ok: false, detail: paramFailure(error) };
      }
      const args = [subcommand, job.plist];
      const result = await runLaunchctl(ctx, args, signal);
      return toStepResult(describeLaunchctl(ctx.settings, args), result, signal, okWhen);
    },
  };
}
