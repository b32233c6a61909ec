/**
 * launchd starts a job at most once per ThrottleInterval (10 s by default), so a LaunchAgent with
 * runtime.interval under 10 s silently runs every 10 s. Warned where launchd runs the rules: on macOS,
 * or (validated in CI on Linux) when the rules use launchd handlers. systemd timers have no such floor.
 */
import { parseDuration } from "../duration.js";
import { type Finding, toPointer } from "./diagnostics.js";
import { isRec, list, rec, str } from "./semantic-util.js";

export const LAUNCHD_THROTTLE_MS = 10_000;

/** Any step action or probe type in the launchd.* family. */
function usesLaunchd(doc: Record<string, unknown>): boolean {
  const isLaunchd = (name: unknown): boolean => typeof name === "string" && /^launchd(\.|$)/.test(name);
  const stepsUse = (steps: unknown): boolean => list(steps).some((s) => isLaunchd(rec(s)["action"]));
  const recipes = Object.values(rec(doc["recipes"]));
  const services = Object.values(rec(doc["services"])).map(rec);
  return (
    recipes.some((r) => stepsUse(rec(r)["steps"])) ||
    services.some((s) => isLaunchd(rec(s["probe"])["type"]) || stepsUse(rec(s["heal"])["steps"]))
  );
}

export function checkLaunchdThrottle(doc: unknown, platform: NodeJS.Platform = process.platform): Finding[] {
  if (!isRec(doc)) return [];
  const text = str(rec(doc["runtime"])["interval"]);
  const ms = text === undefined ? undefined : parseDuration(text);
  if (ms === undefined || ms >= LAUNCHD_THROTTLE_MS) return [];
  if (platform !== "darwin" && !usesLaunchd(doc)) return [];
  const where = platform === "darwin" ? "on macOS" : "these rules use launchd handlers, and";
  return [
    {
      pointer: toPointer(["runtime", "interval"]),
      code: "launchd-throttle",
      severity: "warning",
      message: `runtime.interval is ${text}: ${where} launchd starts a job at most every 10 s, so the LaunchAgent ticks every 10 s, not every ${text}`,
      hint: "use interval: 10s or more, or run `upkeep watch --interval ...` for faster checks",
    },
  ];
}
