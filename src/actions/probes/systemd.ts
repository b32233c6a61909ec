/**
 * systemd: reads a unit's state with one `systemctl [--user] show UNIT --property=...` (the Linux twin of
 * the launchd probe). `show` rather than `is-active`: one call gives the state, the main pid, the last
 * result and the restart count, and a missing unit is an answer (LoadState=not-found), not an error.
 */
import { displayCommand } from "../launchctl.js";
import { formatCommandLine, runProcess } from "../../runtime/process.js";
import {
  abortDetail,
  firstLine,
  loadSchema,
  paramFailure,
  ParamError,
  requireString,
  toBoolean,
  toObject,
} from "../support.js";
import type { ProbeHandler, ProbeResult } from "../types.js";

export type SystemdProbeParams = {
  unit: string;
  /** The user's service manager (--user); default true. */
  user?: boolean | string;
  expect?: {
    /** Default true: ActiveState active or reloading (what `systemctl is-active` accepts). */
    active?: boolean | string;
    /** One ActiveState or a list of them, instead of `active`. */
    state?: string | string[];
  };
};

/** Safety cap only: the runtime's signal carries the probe timeout. */
const PROCESS_CAP_MS = 60_000;
const PROPERTIES = ["Id", "LoadState", "ActiveState", "SubState", "MainPID", "Result", "NRestarts"];
export const ACTIVE_STATES = [
  "active",
  "reloading",
  "inactive",
  "failed",
  "activating",
  "deactivating",
  "maintenance",
  "refreshing",
] as const;

function showArgs(user: boolean, unit: string): string[] {
  return [...(user ? ["--user"] : []), "show", unit, `--property=${PROPERTIES.join(",")}`];
}

/** What passes: a set of ActiveStates, with the words for a mismatch. */
interface Expectation {
  readonly states: readonly string[];
  readonly words: string;
}

function expectation(params: SystemdProbeParams): Expectation {
  const expect = toObject(params.expect, "expect");
  if (expect.state !== undefined && expect.state !== null) {
    if (expect.active !== undefined) throw new ParamError("expect", "set either active or state, not both");
    const list = Array.isArray(expect.state) ? expect.state : [expect.state];
    const states = list.map((s, i) => {
      const at = Array.isArray(expect.state) ? `expect.state[${i}]` : "expect.state";
      const state = requireString(s, at);
      if (!(ACTIVE_STATES as readonly string[]).includes(state))
        throw new ParamError(at, `"${state}" is not a systemd ActiveState (${ACTIVE_STATES.join(", ")})`);
      return state;
    });
    if (states.length === 0) throw new ParamError("expect.state", "is an empty list");
    return { states, words: states.join(" or ") };
  }
  return toBoolean(expect.active, "expect.active", true)
    ? { states: ["active", "reloading"], words: "active" }
    : { states: ACTIVE_STATES.filter((s) => s !== "active" && s !== "reloading"), words: "not active" };
}

function parseShow(stdout: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return fields;
}

/** `active (running) pid 1234`, `failed (exit-code)`, `not found`; restarts when there were any. */
function stateText(f: Record<string, string>, pid: number, restarts: number): string {
  if (f["LoadState"] === "not-found") return "not found";
  const active = f["ActiveState"] ?? "unknown";
  // SubState of a failed unit is "failed" too: the Result says why.
  const why = active === "failed" ? (f["Result"] ?? "") : (f["SubState"] ?? "");
  const load = f["LoadState"] !== undefined && f["LoadState"] !== "loaded" ? `${f["LoadState"]}, ` : "";
  return (
    `${load}${active}${why === "" ? "" : ` (${why})`}${pid > 0 ? ` pid ${pid}` : ""}` +
    `${restarts > 0 ? `, ${restarts} restart${restarts === 1 ? "" : "s"}` : ""}`
  );
}

const count = (text: string | undefined): number => {
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 ? n : 0;
};

/** The failure summary systemctl writes last ("Failed to get properties: ..."). */
function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return firstLine(lines[lines.length - 1] ?? "");
}

export const systemdProbe = {
  name: "systemd",
  kind: "probe",
  description:
    "Reads a unit's state with `systemctl [--user] show`; passes when it is active (or in the expected state).",
  get schema() {
    return loadSchema("probe", "systemd");
  },
  sideEffects: "none",
  describe: (params, ctx) =>
    formatCommandLine([
      displayCommand(ctx.settings.systemctlPath, "systemctl"),
      ...showArgs(params.user !== false && params.user !== "false", String(params.unit)),
    ]),
  async run(ctx, params, signal): Promise<ProbeResult> {
    let unit: string;
    let user: boolean;
    let expect: Expectation;
    try {
      unit = requireString(params.unit, "unit");
      user = toBoolean(params.user, "user", true);
      expect = expectation(params);
    } catch (error) {
      return { ok: false, latencyMs: 0, detail: paramFailure(error) };
    }
    const args = showArgs(user, unit);
    const result = await runProcess([ctx.settings.systemctlPath, ...args], {
      env: ctx.env,
      signal,
      timeoutMs: PROCESS_CAP_MS,
      outputLimit: 4096,
      killLeftovers: true,
    });
    const latencyMs = result.durationMs;
    const fail = (detail: string): ProbeResult => ({ ok: false, latencyMs, detail });
    if (result.error !== undefined) return fail(result.error);
    if (result.aborted) return fail(abortDetail(signal));
    if (result.timedOut) return fail("systemctl show timed out");
    if (result.exitCode !== 0) {
      const why = lastLine(result.stderr) || lastLine(result.stdout);
      const command = `systemctl${user ? " --user" : ""} show ${unit}`;
      return fail(`${command}: exit ${String(result.exitCode)}${why ? ` (${why})` : ""}`);
    }
    const f = parseShow(result.stdout);
    const pid = count(f["MainPID"]);
    const restarts = count(f["NRestarts"]);
    const activeState = f["ActiveState"] ?? "unknown";
    const ok = expect.states.includes(activeState);
    const facts = {
      unit: f["Id"] || unit,
      loadState: f["LoadState"] ?? "unknown",
      activeState,
      subState: f["SubState"] ?? "unknown",
      active: activeState === "active" || activeState === "reloading",
      mainPid: pid,
      result: f["Result"] ?? "unknown",
      restarts,
    };
    const expected = ok ? "" : ` (expected ${expect.words})`;
    return { ok, latencyMs, detail: `${facts.unit} ${stateText(f, pid, restarts)}${expected}`, facts };
  },
} satisfies ProbeHandler<SystemdProbeParams>;
