/** launchd.load: `launchctl load <plist>` (the baseline heal); an already loaded job counts as done. */
import {
  alreadyLoadedIsFine,
  describeJob,
  describeLaunchctl,
  resolveJob,
  runLaunchctl,
  toStepResult,
} from "../launchctl.js";
import type { LaunchdJob } from "../launchctl.js";
import { loadSchema, paramFailure } from "../support.js";
import type { StepHandler, StepResult } from "../types.js";

export type LaunchdLoadParams = {
  label: string;
  /** Default ~/Library/LaunchAgents/<label>.plist. */
  plist?: string;
};

export const launchdLoadStep = {
  name: "launchd.load",
  kind: "step",
  description: "Loads a LaunchAgent with `launchctl load <plist>`.",
  get schema() {
    return loadSchema("step", "launchd.load");
  },
  sideEffects: "local",
  describe: (params, ctx) =>
    describeLaunchctl(ctx.settings, ["load", describeJob(params, ctx.settings.uid).plist]),
  async run(ctx, params, signal): Promise<StepResult> {
    let job: LaunchdJob;
    try {
      job = resolveJob(params, ctx.settings);
    } catch (error) {
      return { ok: false, detail: paramFailure(error) };
    }
    const args = ["load", job.plist];
    const result = await runLaunchctl(ctx, args, signal);
    return toStepResult(describeLaunchctl(ctx.settings, args), result, signal, alreadyLoadedIsFine);
  },
} satisfies StepHandler<LaunchdLoadParams>;
