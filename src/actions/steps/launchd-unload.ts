/** launchd.unload: `launchctl unload <plist>` (the baseline heal); a job that is not loaded counts as done. */
import {
  describeJob,
  describeLaunchctl,
  notLoadedIsFine,
  resolveJob,
  runLaunchctl,
  toStepResult,
} from "../launchctl.js";
import type { LaunchdJob } from "../launchctl.js";
import { loadSchema, paramFailure } from "../support.js";
import type { StepHandler, StepResult } from "../types.js";

export type LaunchdUnloadParams = {
  label: string;
  /** Default ~/Library/LaunchAgents/<label>.plist. */
  plist?: string;
};

export const launchdUnloadStep = {
  name: "launchd.unload",
  kind: "step",
  description: "Unloads a LaunchAgent with `launchctl unload <plist>`.",
  get schema() {
    return loadSchema("step", "launchd.unload");
  },
  sideEffects: "local",
  describe: (params, ctx) =>
    describeLaunchctl(ctx.settings, ["unload", describeJob(params, ctx.settings.uid).plist]),
  async run(ctx, params, signal): Promise<StepResult> {
    let job: LaunchdJob;
    try {
      job = resolveJob(params, ctx.settings);
    } catch (error) {
      return { ok: false, detail: paramFailure(error) };
    }
    const args = ["unload", job.plist];
    const result = await runLaunchctl(ctx, args, signal);
    return toStepResult(describeLaunchctl(ctx.settings, args), result, signal, notLoadedIsFine);
  },
} satisfies StepHandler<LaunchdUnloadParams>;
