/** launchd: asks `launchctl print <domain>/<label>` whether the job is running (or, if expected, not). */
import {
  describeLaunchctl,
  isNotLoaded,
  launchdDomain,
  parseLaunchctlPrint,
  runLaunchctl,
  serviceTarget,
} from "../launchctl.js";
import {
  abortDetail,
  firstLine,
  loadSchema,
  optionalString,
  paramFailure,
  requireString,
  toBoolean,
  toObject,
} from "../support.js";
import type { LaunchdJobState } from "../launchctl.js";
import type { ProbeHandler, ProbeResult } from "../types.js";

export type LaunchdProbeParams = {
  label: string;
  /** Default gui/<uid>. */
  domain?: string;
  expect?: {
    /** Default true. */
    running?: boolean | string;
  };
};

function stateText(job: LaunchdJobState | undefined): string {
  if (job === undefined) return "not loaded";
  if (job.running) return job.pid === undefined ? "running" : `running (pid ${job.pid})`;
  return job.state ?? "not running";
}

function target(params: LaunchdProbeParams, uid: number): string {
  return serviceTarget(launchdDomain(params.domain, { uid }), params.label);
}

export const launchdProbe = {
  name: "launchd",
  kind: "probe",
  description:
    "Reads the launchd job state with `launchctl print`; passes when it is running (or not, if expected).",
  get schema() {
    return loadSchema("probe", "launchd");
  },
  sideEffects: "none",
  describe: (params, ctx) => describeLaunchctl(ctx.settings, ["print", target(params, ctx.settings.uid)]),
  async run(ctx, params, signal): Promise<ProbeResult> {
    let service: string;
    let wantRunning: boolean;
    try {
      const label = requireString(params.label, "label");
      const domain = optionalString(params.domain, "domain");
      service = serviceTarget(launchdDomain(domain, ctx.settings), label);
      wantRunning = toBoolean(toObject(params.expect, "expect").running, "expect.running", true);
    } catch (error) {
      return { ok: false, latencyMs: 0, detail: paramFailure(error) };
    }
    const result = await runLaunchctl(ctx, ["print", service], signal);
    const latencyMs = result.durationMs;
    const fail = (detail: string): ProbeResult => ({ ok: false, latencyMs, detail });
    if (result.error !== undefined) return fail(result.error);
    if (result.aborted) return fail(abortDetail(signal));
    if (result.timedOut) return fail("launchctl print timed out");
    let job: LaunchdJobState | undefined;
    if (result.exitCode === 0) job = parseLaunchctlPrint(result.stdout);
    else if (!isNotLoaded(result)) {
      const why = firstLine(result.stderr) || firstLine(result.stdout);
      return fail(`launchctl print ${service}: exit ${result.exitCode}${why ? ` (${why})` : ""}`);
    }
    const running = job?.running ?? false;
    const ok = running === wantRunning;
    const expected = ok ? "" : ` (expected ${wantRunning ? "running" : "not running"})`;
    const facts = job ? { loaded: true, ...job } : { loaded: false, running: false };
    return { ok, latencyMs, detail: `${service} ${stateText(job)}${expected}`, facts };
  },
} satisfies ProbeHandler<LaunchdProbeParams>;
