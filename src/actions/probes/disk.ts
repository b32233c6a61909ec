/**
 * disk: free space (and optionally free inodes) of the filesystem holding a path, from one statfs.
 * Free means available to an unprivileged process (`bavail`, what `df` shows as Avail): blocks reserved
 * for root do not count, since the services upkeep watches rarely run as root.
 */
import { parseByteSize } from "../../byte-size.js";
import { abortDetail, expandHome, loadSchema, paramFailure, ParamError, requireString } from "../support.js";
import type { ProbeHandler, ProbeResult } from "../types.js";

export type DiskProbeParams = {
  /** Any path on the filesystem; `~` is expanded. */
  path: string;
  /** Bytes (`5GB`, `500MiB`, a number) or a percentage of the filesystem (`10%`). */
  minFree: string | number;
  /** A count of inodes or a percentage (`5%`). */
  minFreeInodes?: string | number;
};

/** A threshold as bytes/inodes or as a percentage of the total. */
type Threshold = { readonly percent: number } | { readonly amount: number };

const PERCENT = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

function threshold(value: unknown, param: string, unit: "bytes" | "count"): Threshold {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return { amount: value };
  if (typeof value === "string") {
    const percent = PERCENT.exec(value);
    if (percent !== null) {
      const p = Number(percent[1]);
      if (p > 100) throw new ParamError(param, `${JSON.stringify(value)} is over 100%`);
      return { percent: p };
    }
    const amount =
      unit === "bytes" ? parseByteSize(value) : /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
    if (amount !== undefined) return { amount };
  }
  const like =
    unit === "bytes" ? "a size like 5GB, 500MiB or a percentage like 10%" : "a count or a percentage like 5%";
  throw new ParamError(
    param,
    value === undefined ? "is required" : `${JSON.stringify(value)} is not ${like}`,
  );
}

const thresholdOf = (t: Threshold, total: number): number =>
  "percent" in t ? (t.percent / 100) * total : t.amount;

/** Decimal units, as `5GB` in the rules means 5 * 1000^3. */
function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[i]}`;
}

const pct = (part: number, total: number): number => (total > 0 ? Math.round((part / total) * 1000) / 10 : 0);
const describeThreshold = (t: Threshold, unit: "bytes" | "count"): string =>
  "percent" in t ? `${t.percent}%` : unit === "bytes" ? formatBytes(t.amount) : String(t.amount);

export const diskProbe = {
  name: "disk",
  kind: "probe",
  description:
    "Checks the free space (and free inodes) of the filesystem holding a path; passes above the minimums.",
  get schema() {
    return loadSchema("probe", "disk");
  },
  sideEffects: "none",
  describe: (params) =>
    `disk free at ${expandHome(String(params.path))} >= ${String(params.minFree)}` +
    `${params.minFreeInodes === undefined ? "" : `, inodes >= ${String(params.minFreeInodes)}`}`,
  async run(_ctx, params, signal): Promise<ProbeResult> {
    let path: string;
    let minFree: Threshold;
    let minInodes: Threshold | undefined;
    try {
      path = expandHome(requireString(params.path, "path"));
      minFree = threshold(params.minFree, "minFree", "bytes");
      minInodes =
        params.minFreeInodes === undefined
          ? undefined
          : threshold(params.minFreeInodes, "minFreeInodes", "count");
    } catch (error) {
      return { ok: false, latencyMs: 0, detail: paramFailure(error) };
    }
    if (signal.aborted) return { ok: false, latencyMs: 0, detail: abortDetail(signal) };
    const started = performance.now();
    const latency = (): number => Math.round(performance.now() - started);
    const { statfs } = await import("node:fs/promises");
    let fs: Awaited<ReturnType<typeof statfs>>;
    try {
      fs = await statfs(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const detail =
        code === "ENOENT" ? `missing: ${path}` : `cannot statfs ${path}: ${code ?? (error as Error).message}`;
      return { ok: false, latencyMs: latency(), detail };
    }
    const freeBytes = fs.bavail * fs.bsize;
    const totalBytes = fs.blocks * fs.bsize;
    const facts: Record<string, unknown> = {
      path,
      freeBytes,
      totalBytes,
      freePercent: pct(freeBytes, totalBytes),
      ...(fs.files > 0
        ? { freeInodes: fs.ffree, totalInodes: fs.files, freeInodesPercent: pct(fs.ffree, fs.files) }
        : {}),
    };
    const space = `${formatBytes(freeBytes)} free of ${formatBytes(totalBytes)} (${pct(freeBytes, totalBytes)}%)`;
    const problems: string[] = [];
    if (freeBytes < thresholdOf(minFree, totalBytes))
      problems.push(`below ${describeThreshold(minFree, "bytes")}`);
    let inodes = "";
    if (minInodes !== undefined) {
      // btrfs and some network filesystems report no inode limit (files = 0): nothing can run out.
      if (fs.files === 0) inodes = ", no inode limit";
      else {
        inodes = `, ${fs.ffree} inodes free (${pct(fs.ffree, fs.files)}%)`;
        if (fs.ffree < thresholdOf(minInodes, fs.files))
          problems.push(`inodes below ${describeThreshold(minInodes, "count")}`);
      }
    }
    const detail = `${space}${inodes} at ${path}${problems.length > 0 ? `: ${problems.join(", ")}` : ""}`;
    return { ok: problems.length === 0, latencyMs: latency(), detail, facts };
  },
} satisfies ProbeHandler<DiskProbeParams>;
