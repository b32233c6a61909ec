/** launchd.unload: `launchctl unload <plist>` (the baseline heal); a job that is not loaded counts as done. */
import { notLoadedIsFine, plistCommandStep, type PlistJobParams } from "../launchctl.js";

export type LaunchdUnloadParams = PlistJobParams;

export const launchdUnloadStep = plistCommandStep(
  "launchd.unload",
  "unload",
  "Unloads a LaunchAgent with `launchctl unload <plist>`.",
  notLoadedIsFine,
);
