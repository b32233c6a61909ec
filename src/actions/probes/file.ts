/** file: passes when the file exists and its mtime is newer than maxAge (heartbeat files). */
import { formatDuration } from "../../duration.js";
import {
  abortDetail,
  expandHome,
  loadSchema,
  paramFailure,
  requireString,
  toDurationMs,
} from "../support.js";
import type { ProbeHandler, ProbeResult } from "../types.js";
import { stopwatch } from "../../runtime/stopwatch.js";

export type FileProbeParams = {
  /** `~` is expanded. */
  path: string;
  /** Duration, e.g. 10m. */
  maxAge: string | number;
};

export const fileProbe = {
  name: "file",
  kind: "probe",
  description: "Checks a file's modification time; passes when it is newer than maxAge.",
  get schema() {
    return loadSchema("probe", "file");
  },
  sideEffects: "none",
  describe: (params) => `file ${expandHome(String(params.path))} modified within ${String(params.maxAge)}`,
  async run(ctx, params, signal): Promise<ProbeResult> {
    let path: string;
    let maxAgeMs: number;
    try {
      path = expandHome(requireString(params.path, "path"));
      maxAgeMs = toDurationMs(params.maxAge, "maxAge");
    } catch (error) {
      return { ok: false, latencyMs: 0, detail: paramFailure(error) };
    }
    if (signal.aborted) return { ok: false, latencyMs: 0, detail: abortDetail(signal) };
    const latency = stopwatch();
    const { stat } = await import("node:fs/promises");
    try {
      const info = await stat(path);
      // A clock skew can put mtime in the future: that is fresh, not negative age.
      const ageMs = Math.max(0, ctx.clock.now() - info.mtimeMs);
      const facts = { ageMs: Math.round(ageMs), mtime: new Date(info.mtimeMs).toISOString() };
      const age = `modified ${formatDuration(ageMs)} ago`;
      return ageMs <= maxAgeMs
        ? { ok: true, latencyMs: latency(), detail: age, facts }
        : { ok: false, latencyMs: latency(), detail: `${age} (max ${formatDuration(maxAgeMs)})`, facts };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const detail =
        code === "ENOENT" ? `missing: ${path}` : `cannot stat ${path}: ${code ?? (error as Error).message}`;
      return { ok: false, latencyMs: latency(), detail };
    }
  },
} satisfies ProbeHandler<FileProbeParams>;
