/** launchd.bootout: `launchctl bootout <domain>/<label>`, falling back to `launchctl unload <plist>` on an old launchctl. */
import {
  describeJob,
  describeLaunchctl,
  notLoadedIsFine,
  resolveJob,
  runWithFallback,
} from "../launchctl.js";
import type { LaunchdJob } from "../launchctl.js";
import { loadSchema, paramFailure } from "../support.js";
import type { StepHandler, StepResult } from "../types.js";

export type LaunchdBootoutParams = {
  label: string;
  /** Default gui/<uid>. */
  domain?: string;
  /** For the legacy fallback; default ~/Library/LaunchAgents/<label>.plist. */
  plist?: string;
};

export const launchdBootoutStep = {
  name: "launchd.bootout",
  kind: "step",
  description: "Stops and removes a launchd job with `launchctl bootout` (legacy fallback: unload).",
  get schema() {
    return loadSchema("step", "launchd.bootout");
  },
  sideEffects: "local",
  describe: (params, ctx) =>
    describeLaunchctl(ctx.settings, ["bootout", describeJob(params, ctx.settings.uid).target]),
  async run(ctx, params, signal): Promise<StepResult> {
    let job: LaunchdJob;
    try {
      job = resolveJob(params, ctx.settings);
    } catch (error) {
      return { ok: false, detail: paramFailure(error) };
    }
    return runWithFallback(ctx, ["bootout", job.target], ["unload", job.plist], signal, notLoadedIsFine);
  },
} satisfies StepHandler<LaunchdBootoutParams>;
