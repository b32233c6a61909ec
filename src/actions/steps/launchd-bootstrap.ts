/** launchd.bootstrap: `launchctl bootstrap <domain> <plist>`, falling back to `launchctl load <plist>` on an old launchctl. */
import {
  alreadyLoadedIsFine,
  describeJob,
  describeLaunchctl,
  resolveJob,
  runWithFallback,
} from "../launchctl.js";
import type { LaunchdJob } from "../launchctl.js";
import { loadSchema, paramFailure } from "../support.js";
import type { StepHandler, StepResult } from "../types.js";

export type LaunchdBootstrapParams = {
  label: string;
  /** Default gui/<uid>. */
  domain?: string;
  /** Default ~/Library/LaunchAgents/<label>.plist. */
  plist?: string;
};

export const launchdBootstrapStep = {
  name: "launchd.bootstrap",
  kind: "step",
  description: "Loads and starts a launchd job with `launchctl bootstrap` (legacy fallback: load).",
  get schema() {
    return loadSchema("step", "launchd.bootstrap");
  },
  sideEffects: "local",
  describe: (params, ctx) => {
    const job = describeJob(params, ctx.settings.uid);
    return describeLaunchctl(ctx.settings, ["bootstrap", job.domain, job.plist]);
  },
  async run(ctx, params, signal): Promise<StepResult> {
    let job: LaunchdJob;
    try {
      job = resolveJob(params, ctx.settings);
    } catch (error) {
      return { ok: false, detail: paramFailure(error) };
    }
    return runWithFallback(
      ctx,
      ["bootstrap", job.domain, job.plist],
      ["load", job.plist],
      signal,
      alreadyLoadedIsFine,
    );
  },
} satisfies StepHandler<LaunchdBootstrapParams>;
