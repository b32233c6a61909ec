/** launchd.load: `launchctl load <plist>` (the baseline heal); an already loaded job counts as done. */
import { alreadyLoadedIsFine, plistCommandStep, type PlistJobParams } from "../launchctl.js";

export type LaunchdLoadParams = PlistJobParams;

export const launchdLoadStep = plistCommandStep(
  "launchd.load",
  "load",
  "Loads a LaunchAgent with `launchctl load <plist>`.",
  alreadyLoadedIsFine,
);
