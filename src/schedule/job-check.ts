/**
 * Before `install` reports success: the node and CLI it writes into the job must run. Otherwise every
 * scheduled tick fails (systemd: 203/EXEC; launchd: exit 78 or 127) while install said "installed".
 * The same checks as `doctor` (present, executable, new enough, built), then the pair itself is run
 * once, `<node> <cli> --version`, as the scheduler will start it.
 */
import { runProcess } from "../runtime/process.js";
import { checkCliPath, checkNodePath, problem, type CheckResult } from "./doctor-checks.js";
import type { RunnerSpec } from "./runner.js";

const VERSION_TIMEOUT_MS = 30_000;

/** The problems found; empty when the job's node and CLI run. */
export async function checkJobRunner(spec: RunnerSpec, reinstall: string): Promise<CheckResult[]> {
  const source = "the job";
  const found = [
    await checkNodePath(spec.nodePath, source, reinstall),
    await checkCliPath(spec.cliPath, source, reinstall),
  ].filter((c) => c.status === "problem");
  if (found.length > 0) return found;
  const r = await runProcess([spec.nodePath, spec.cliPath, "--version"], {
    timeoutMs: VERSION_TIMEOUT_MS,
    env: { PATH: spec.path, HOME: spec.home },
  });
  if (r.exitCode === 0) return [];
  const why =
    r.error ?? (r.timedOut ? "timed out" : (r.stderr.trim().split("\n")[0] ?? `exit ${r.exitCode}`));
  return [
    problem(
      "cli-path",
      `${spec.nodePath} ${spec.cliPath} --version failed (${why || `exit ${r.exitCode}`})`,
      `run \`${reinstall}\` from a working upkeep, with --node naming a node >= 20.19`,
    ),
  ];
}

export function formatProblems(problems: readonly CheckResult[]): string {
  return problems.map((p) => `  ${p.message}\n${p.fix === undefined ? "" : `    fix: ${p.fix}\n`}`).join("");
}
