/**
 * The dead man's switch (`runtime.heartbeat`): after every real tick, one ping to an outside monitor
 * (healthchecks.io, an Uptime Kuma push monitor, cronitor) that alerts when the pings stop, which is
 * the one failure upkeep cannot report itself. A tick ending with a service still down pings the fail
 * URL instead (default `<url>/fail`, healthchecks.io style), so the monitor also sees "ran, not healthy".
 *
 * The ping is a record, not a gate: it never throws, never changes the tick's result, and is bounded by
 * its own timeout. Its outcome goes to `<stateDir>/heartbeat.json` (written by the tick holding the
 * lock) for `upkeep doctor`. The URL usually carries the monitor's token, so it is resolved only here
 * and registered as a secret; logs and the state file only ever show its scheme and host.
 */
import type { Logger } from "../actions/types.js";
import type { Config, HeartbeatSettings } from "../config/model.js";
import { isoTime } from "./alert-text.js";
import { httpRequest } from "./http-request.js";
import { redactText, redactValue, type Redactor } from "./redact.js";
import { resolveParams } from "./resolve.js";
import { readConcern, writeConcern, type ConcernSpec } from "./state-store.js";
import type { TickReport } from "./tick.js";

export const HEARTBEAT_CONCERN = "heartbeat";

export interface HeartbeatPing {
  /** Epoch ms the ping was sent. */
  readonly at: number;
  /** The monitor took the ping (a 2xx answer). */
  readonly ok: boolean;
  /** `success` pinged `url`; `fail` pinged `failUrl` because a service was still down. */
  readonly signal: "success" | "fail";
  /** The monitor's HTTP status, when it answered. */
  readonly status?: number;
  /** Why the ping failed (redacted): a network error, a timeout, a status, an unset variable. */
  readonly error?: string;
}

export interface HeartbeatState {
  readonly version: 1;
  readonly last: HeartbeatPing | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export const HEARTBEAT_SPEC: ConcernSpec<HeartbeatState> = {
  version: 1,
  fresh: () => ({ version: 1, last: null }),
  validate: (raw) =>
    raw["last"] === null ||
    (isRecord(raw["last"]) &&
      typeof raw["last"]["at"] === "number" &&
      typeof raw["last"]["ok"] === "boolean"),
};

/** healthchecks.io's convention: `/fail` appended to the path, the query (if any) kept. */
export function defaultFailUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.pathname = `${parsed.pathname.replace(/\/+$/, "")}/fail`;
    return parsed.toString();
  } catch {
    return `${url}/fail`;
  }
}

/** The POST body: counts and ids only, never a probe detail (those can quote secrets). */
export function heartbeatBody(report: TickReport): Record<string, unknown> {
  const down = report.services.filter((s) => s.status !== "up").map((s) => s.id);
  return {
    source: "upkeep",
    status: report.failed > 0 ? "fail" : "ok",
    summary: `${report.healed} healed, ${report.failed} failed`,
    healed: report.healed,
    failed: report.failed,
    down,
    startedAt: isoTime(report.startedAt),
    finishedAt: isoTime(report.finishedAt),
  };
}

export interface PingDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly redactor: Redactor;
  readonly now: () => number;
}

export async function pingHeartbeat(
  settings: HeartbeatSettings,
  report: TickReport,
  deps: PingDeps,
): Promise<HeartbeatPing> {
  const signal = report.failed > 0 ? "fail" : "success";
  const at = deps.now();
  const written = signal === "fail" && settings.failUrl !== undefined ? settings.failUrl : settings.url;
  const { value, missingEnv } = resolveParams({ url: written }, { env: deps.env, redactor: deps.redactor });
  if (missingEnv.length > 0) {
    return { at, ok: false, signal, error: `environment variable(s) not set: ${missingEnv.join(", ")}` };
  }
  // A literal URL in the rules holds the token just the same.
  deps.redactor.add(value.url);
  const url = signal === "fail" && settings.failUrl === undefined ? defaultFailUrl(value.url) : value.url;
  deps.redactor.add(url);
  const post = settings.method === "POST";
  const outcome = await httpRequest(url, {
    method: settings.method,
    headers: post
      ? { "content-type": "application/json", "user-agent": "upkeep" }
      : { "user-agent": "upkeep" },
    ...(post ? { body: JSON.stringify(redactValue(heartbeatBody(report), deps.redactor)) } : {}),
    timeoutMs: settings.timeoutMs,
    maxBodyBytes: 1024,
  });
  if (!outcome.ok) {
    // BAD_URL messages quote the URL: say which setting instead.
    const error = outcome.code === "BAD_URL" ? "invalid URL (runtime.heartbeat)" : outcome.error;
    return { at, ok: false, signal, error: redactText(error, deps.redactor) };
  }
  const { status } = outcome.response;
  return status >= 200 && status < 300
    ? { at, ok: true, signal, status }
    : { at, ok: false, signal, status, error: `HTTP ${status}` };
}

/** Scheme and host only: the path and query are the monitor's token. */
function endpoint(url: string): string {
  if (url.startsWith("${")) return url;
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/...`;
  } catch {
    return "(invalid url)";
  }
}

/**
 * Pings and records the result; called by the tick that holds the lock, after its state is saved.
 * Never throws: a monitor that is down or a state file that cannot be written is logged, nothing more.
 */
export async function heartbeatAfterTick(
  config: Config,
  report: TickReport,
  deps: PingDeps & { readonly logger: Logger },
): Promise<HeartbeatPing | undefined> {
  const settings = config.runtime.heartbeat;
  if (settings === undefined) return undefined;
  try {
    const ping = await pingHeartbeat(settings, report, deps);
    const fields = { endpoint: redactText(endpoint(settings.url), deps.redactor), ...ping };
    if (ping.ok) deps.logger.info(fields, "heartbeat: pinged");
    else deps.logger.warn(fields, "heartbeat: ping failed");
    const state: HeartbeatState = { version: 1, last: ping };
    await writeConcern(config.runtime.stateDir, HEARTBEAT_CONCERN, redactValue(state, deps.redactor));
    return ping;
  } catch (error) {
    deps.logger.error(
      { err: redactText(error instanceof Error ? error.message : String(error), deps.redactor) },
      "heartbeat: could not ping or record the ping",
    );
    return undefined;
  }
}

/** The last recorded ping; for readers without the lock (doctor), so a bad file is left in place. */
export async function lastHeartbeat(stateDir: string): Promise<HeartbeatPing | null> {
  const { value } = await readConcern(stateDir, HEARTBEAT_CONCERN, { ...HEARTBEAT_SPEC, readOnly: true });
  return value.last;
}
