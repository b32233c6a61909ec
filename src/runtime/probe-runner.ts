/**
 * Runs one service's probe through its handler, bounded by the probe timeout, never throwing: a broken
 * or hung probe is a failed observation for that service only.
 */
import type {
  Handler,
  HandlerKind,
  HandlerSettings,
  Logger,
  ProbeHandler,
  ProbeResult,
} from "../actions/types.js";
import type { ServiceConfig } from "../config/model.js";
import type { Clock } from "./clock.js";
import { deadlineSignal } from "./deadline.js";
import { redactValue, type Redactor } from "./redact.js";
import { resolveParams } from "./resolve.js";

export interface ProbeDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: HandlerSettings;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly redactor: Redactor;
  readonly getHandler: (name: string, kind: HandlerKind) => Handler | undefined;
}

/**
 * What a probe saw, redacted where it enters upkeep: a child given a secret through `env` can print it,
 * and from here the result reaches state, logs, history, status and channels.
 */
export function probeService(
  service: ServiceConfig,
  deps: ProbeDeps,
  signal: AbortSignal,
): Promise<ProbeResult> {
  return observe(service, deps, signal).then((result) => redactValue(result));
}

async function observe(service: ServiceConfig, deps: ProbeDeps, signal: AbortSignal): Promise<ProbeResult> {
  const began = deps.clock.now();
  const failed = (detail: string): ProbeResult => ({
    ok: false,
    latencyMs: deps.clock.now() - began,
    detail,
  });
  const handler = deps.getHandler(service.probe.type, "probe");
  if (handler === undefined || handler.kind !== "probe")
    return failed(`no probe handler named "${service.probe.type}"`);
  const { value: params, missingEnv } = resolveParams(service.probe.params, {
    service,
    env: deps.env,
    redactor: deps.redactor,
  });
  if (missingEnv.length > 0) return failed(`environment variable(s) not set: ${missingEnv.join(", ")}`);
  const deadline = deadlineSignal(signal, service.probe.timeoutMs, "probe timeout");
  try {
    // The handler should honour the signal; settling on the deadline as well makes sure a misbehaving one
    // cannot hold the tick. The deadline's own hook, not a listener on its signal (see deadline.ts).
    return await new Promise<ProbeResult>((resolve) => {
      deadline.whenAborted(() => resolve(failed(abortReason(deadline.signal))));
      let run: Promise<ProbeResult>;
      try {
        run = (handler as ProbeHandler).run(
          { clock: deps.clock, logger: deps.logger, settings: deps.settings, service, env: deps.env },
          params as Record<string, unknown>,
          deadline.signal,
        );
      } catch (error) {
        resolve(failed(errorMessage(error)));
        return;
      }
      run.then(resolve, (error: unknown) => resolve(failed(errorMessage(error))));
    });
  } finally {
    deadline.dispose();
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : "aborted";
}

/** Short human description of what a probe checks, for the summary line (`port 3002`). */
export function probeTarget(service: ServiceConfig): string {
  const p = service.probe.params;
  switch (service.probe.type) {
    case "tcp":
      return `port ${String(p.port)}`;
    case "http":
      return String(p.url);
    case "exec":
      return Array.isArray(p.command) ? `exec ${String(p.command[0])}` : "exec";
    case "launchd":
      return `launchd ${String(p.label)}`;
    case "file":
      return `file ${String(p.path)}`;
    case "systemd":
      return `systemd ${String(p.unit)}`;
    case "tls":
      return `tls ${String(p.servername ?? p.host)}:${String(p.port ?? 443)}`;
    case "disk":
      return `disk ${String(p.path)}`;
    default:
      return service.probe.type;
  }
}
