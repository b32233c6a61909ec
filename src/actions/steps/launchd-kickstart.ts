/** launchd.kickstart: `launchctl kickstart [-k] <domain>/<label>` (with -k a running job is killed and restarted). */
import { describeJob, describeLaunchctl, resolveJob, runLaunchctl, toStepResult } from "../launchctl.js";
import type { LaunchdJob } from "../launchctl.js";
import { loadSchema, paramFailure, toBoolean } from "../support.js";
import type { StepHandler, StepResult } from "../types.js";

export type LaunchdKickstartParams = {
  label: string;
  /** Default gui/<uid>. */
  domain?: string;
  /** Kill a running instance first (-k); default true. */
  kill?: boolean | string;
};

function kickstartArgs(kill: boolean, target: string): string[] {
  return kill ? ["kickstart", "-k", target] : ["kickstart", target];
}
export const launchdKickstartStep = {
  name: "launchd.kickstart",
  kind: "step",
  description: "Restarts a launchd job with `launchctl kickstart -k`.",
  get schema() {
    return loadSchema("step", "launchd.kickstart");
  },
  sideEffects: "local",
  describe: (params, ctx) =>
    describeLaunchctl(
      ctx.settings,
      kickstartArgs(
        params.kill !== false && params.kill !== "false",
        describeJob(params, ctx.settings.uid).target,
      ),
    ),
  async run(ctx, params, signal): Promise<StepResult> {
    let kill: boolean;
    try {
      kill = toBoolean(params.kill, "kill", true);
    } catch (error) {
      return { ok: false, detail: paramFailure(error) };
    }
    let job: LaunchdJob;
    try {
      job = resolveJob(params, ctx.settings);
    } catch (error) {
      return { ok: false, detail: paramFailure(error) };
    }
    const args = kickstartArgs(kill, job.target);
    const result = await runLaunchctl(ctx, args, signal);
    return toStepResult(describeLaunchctl(ctx.settings, args), result, signal);
  },
} satisfies StepHandler<LaunchdKickstartParams>;
