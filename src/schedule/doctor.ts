/**
 * `upkeep doctor`: checks an installation end to end and says how to fix each problem. The scheduler
 * checks read what was installed (the plist or the unit) and ask launchctl/systemctl about it, so they
 * report what the scheduler will really start, not what the current shell would.
 */
import { dirname } from "node:path";
import type { Config } from "../config/model.js";
import { lockHolder } from "../runtime/lock.js";
import type { Env } from "./command-support.js";
import {
  checkLock,
  checkNodeVersion,
  checkRules,
  checkWritable,
  ok,
  problem,
  skipped,
  type CheckResult,
} from "./doctor-checks.js";
import { launchdChecks, runnerChecks, systemdChecks } from "./doctor-scheduler.js";

export type SchedulerChoice = "auto" | "launchd" | "systemd" | "none";

export interface DoctorInput {
  readonly rulesDir: string;
  readonly env: Env;
  readonly stateDir?: string;
  readonly scheduler: SchedulerChoice;
  readonly label: string;
  readonly unit: string;
  readonly home: string;
  readonly platform?: NodeJS.Platform;
}

export interface DoctorReport {
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
}

export function resolveScheduler(
  choice: SchedulerChoice,
  platform: NodeJS.Platform,
): "launchd" | "systemd" | "none" {
  if (choice !== "auto") return choice;
  return platform === "darwin" ? "launchd" : platform === "linux" ? "systemd" : "none";
}

export async function runDoctor(input: DoctorInput): Promise<DoctorReport> {
  const [{ loadRules }, { DEFAULTS }] = await Promise.all([
    import("../config/validate.js"),
    import("../config/normalize.js"),
  ]);
  const rules = await loadRules(input.rulesDir, {
    env: input.env,
    ...(input.stateDir === undefined ? {} : { stateDir: input.stateDir }),
  });
  const count = (severity: string): number => rules.diagnostics.filter((d) => d.severity === severity).length;
  const config = rules.config;
  const tools = {
    launchctl: config?.runtime.launchctlPath ?? DEFAULTS.runtime.launchctl,
    systemctl: config?.runtime.systemctlPath ?? DEFAULTS.runtime.systemctl,
  };
  const scheduler = resolveScheduler(input.scheduler, input.platform ?? process.platform);
  const checks: CheckResult[] = [checkNodeVersion()];
  if (scheduler === "launchd") checks.push(...(await launchdChecks(input, tools.launchctl)));
  else if (scheduler === "systemd") checks.push(...(await systemdChecks(input, tools.systemctl)));
  else {
    checks.push(...(await runnerChecks(undefined, "an install", "the install command of your scheduler")));
    checks.push(
      skipped(
        "scheduler",
        `no launchd or systemd on ${input.platform ?? process.platform} (or --scheduler none): run \`upkeep watch\` under your own supervisor`,
      ),
    );
  }
  checks.push(checkRules(input.rulesDir, count("error"), count("warning")));
  checks.push(...(await configChecks(config)));
  return { ok: checks.every((c) => c.status !== "problem"), checks };
}

async function configChecks(config: Config | undefined): Promise<CheckResult[]> {
  if (config === undefined) {
    const why = "skipped: the rules could not be loaded";
    return [skipped("state-dir", why), skipped("log-dir", why), skipped("lock", why)];
  }
  const { stateDir, logFile, tickTimeoutMs } = config.runtime;
  return [
    await checkWritable("state-dir", stateDir, "state folder", true),
    await checkWritable("log-dir", dirname(logFile), "log folder", true),
    checkLock(await lockHolder(stateDir), tickTimeoutMs),
    ...(config.runtime.heartbeat === undefined ? [] : [await checkHeartbeat(stateDir)]),
  ];
}

/** The last ping of `runtime.heartbeat`: a failed one means the outside monitor is not hearing us. */
export async function checkHeartbeat(stateDir: string): Promise<CheckResult> {
  const { lastHeartbeat } = await import("../runtime/heartbeat.js");
  let last: Awaited<ReturnType<typeof lastHeartbeat>>;
  try {
    last = await lastHeartbeat(stateDir);
  } catch (error) {
    return problem(
      "heartbeat",
      `cannot read the last ping: ${error instanceof Error ? error.message : String(error)}`,
      `check ${stateDir}/heartbeat.json (the next tick rewrites it)`,
    );
  }
  if (last === null)
    return skipped("heartbeat", "never pinged: no tick has run since runtime.heartbeat was set");
  const when = new Date(last.at).toISOString().replace(/\.\d{3}Z$/, "Z");
  const what = last.signal === "fail" ? "fail ping (a service was down)" : "ping";
  if (last.ok) return ok("heartbeat", `last ${what} ok at ${when} (HTTP ${last.status ?? "?"})`);
  return problem(
    "heartbeat",
    `last ${what} failed at ${when}: ${last.error ?? "unknown error"}`,
    "check runtime.heartbeat.url (and the variable it reads) and that this host can reach the monitor",
  );
}

export function formatDoctor(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.id.length));
  const lines = report.checks.flatMap((c) => {
    const tag = c.status === "problem" ? "PROBLEM" : c.status;
    const line = `${tag.padEnd(8)} ${c.id.padEnd(width)}  ${c.message}`;
    return c.fix === undefined ? [line] : [line, `${" ".repeat(9 + width + 2)}fix: ${c.fix}`];
  });
  const problems = report.checks.filter((c) => c.status === "problem").length;
  lines.push("", problems === 0 ? "No problems found." : `${problems} problem(s) found.`);
  return `${lines.join("\n")}\n`;
}
