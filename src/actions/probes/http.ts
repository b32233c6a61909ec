/** http: one HTTP(S) request; passes when status, body, JSON and latency meet the expectations. */
import type { HttpResponse } from "../../runtime/http-request.js";
import { httpRequest, redactUrl } from "../../runtime/http-request.js";
import type { ProbeDeadline } from "../../runtime/pattern-match.js";
import {
  loadSchema,
  optionalString,
  paramFailure,
  requireString,
  toBoolean,
  toDurationMs,
  toObject,
  toRegExp,
  toStatusList,
  toStringMap,
} from "../support.js";
import type { ProbeHandler, ProbeResult } from "../types.js";

export type HttpProbeParams = {
  url: string;
  /** Default GET. */
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Skip TLS verification; default false. */
  insecure?: boolean | string;
  expect?: {
    /** Default: any 2xx or 3xx. */
    status?: number | string | (number | string)[];
    bodyContains?: string;
    bodyMatches?: string;
    /** json-logic over the parsed JSON body; truthy = pass. */
    json?: unknown;
    maxLatency?: string | number;
  };
};

interface Expectations {
  readonly status?: number[];
  readonly bodyContains?: string;
  readonly bodyMatches?: RegExp;
  readonly json?: unknown;
  readonly maxLatencyMs?: number;
}

function expectations(params: HttpProbeParams): Expectations {
  const expect = toObject(params.expect, "expect");
  const status = toStatusList(expect.status, "expect.status");
  const bodyContains = optionalString(expect.bodyContains, "expect.bodyContains");
  const bodyMatches = toRegExp(expect.bodyMatches, "expect.bodyMatches");
  const maxLatencyMs =
    expect.maxLatency === undefined ? undefined : toDurationMs(expect.maxLatency, "expect.maxLatency");
  return {
    ...(status ? { status } : {}),
    ...(bodyContains !== undefined ? { bodyContains } : {}),
    ...(bodyMatches ? { bodyMatches } : {}),
    ...(expect.json !== undefined ? { json: expect.json } : {}),
    ...(maxLatencyMs !== undefined ? { maxLatencyMs } : {}),
  };
}

function truthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

/** The first unmet expectation, or undefined when the response passes. */
async function firstFailure(
  response: HttpResponse,
  expect: Expectations,
  deadline: ProbeDeadline,
): Promise<string | undefined> {
  const { status } = response;
  if (expect.status ? !expect.status.includes(status) : status < 200 || status >= 400) {
    return `status ${status} (expected ${expect.status ? expect.status.join(" or ") : "2xx/3xx"})`;
  }
  if (expect.maxLatencyMs !== undefined && response.latencyMs > expect.maxLatencyMs) {
    return `latency ${response.latencyMs}ms exceeds ${expect.maxLatencyMs}ms`;
  }
  if (expect.bodyContains !== undefined && !response.body.includes(expect.bodyContains)) {
    return `body does not contain ${JSON.stringify(expect.bodyContains)}`;
  }
  if (expect.bodyMatches) {
    // Loaded only for a probe with a pattern: ticks without one never pay for it.
    const { patternFailure } = await import("../../runtime/pattern-match.js");
    const failure = await patternFailure("body", expect.bodyMatches, response.body, deadline);
    if (failure !== undefined) return failure;
  }
  if (expect.json !== undefined) {
    let data: unknown;
    try {
      data = JSON.parse(response.body);
    } catch {
      return `body is not valid JSON${response.truncated ? " (truncated at read limit)" : ""}`;
    }
    const { tryEvaluateLogic } = await import("../../config/logic.js");
    const result = tryEvaluateLogic(expect.json, data);
    if (!result.ok) return `json condition could not be evaluated: ${result.error}`;
    if (!truthy(result.value)) return "json condition is false";
  }
  return undefined;
}

export const httpProbe = {
  name: "http",
  kind: "probe",
  description: "Sends an HTTP(S) request; passes when status, body, JSON and latency meet the expectations.",
  get schema() {
    return loadSchema("probe", "http");
  },
  sideEffects: "none",
  describe: (params) => `${String(params.method ?? "GET").toUpperCase()} ${redactUrl(String(params.url))}`,
  async run(ctx, params, signal): Promise<ProbeResult> {
    const startedAt = ctx.clock.now();
    let url: string;
    let expect: Expectations;
    let insecure: boolean;
    let headers: Record<string, string>;
    let method: string;
    try {
      method = (optionalString(params.method, "method") ?? "GET").toUpperCase();
      url = requireString(params.url, "url");
      expect = expectations(params);
      insecure = toBoolean(params.insecure, "insecure", false);
      headers = toStringMap(params.headers, "headers");
    } catch (error) {
      return { ok: false, latencyMs: 0, detail: paramFailure(error) };
    }
    const outcome = await httpRequest(url, {
      method,
      headers,
      insecure,
      signal,
      ...(params.body !== undefined ? { body: String(params.body) } : {}),
    });
    if (!outcome.ok) {
      return {
        ok: false,
        latencyMs: outcome.latencyMs,
        detail: outcome.error,
        facts: { error: outcome.code },
      };
    }
    const { response } = outcome;
    const facts = { status: response.status };
    const timeoutMs = ctx.service?.probe.timeoutMs;
    const deadline = { signal, clock: ctx.clock, startedAt, timeoutMs };
    const failure = await firstFailure(response, expect, deadline);
    return failure === undefined
      ? { ok: true, latencyMs: response.latencyMs, detail: `status ${response.status}`, facts }
      : { ok: false, latencyMs: response.latencyMs, detail: failure, facts };
  },
} satisfies ProbeHandler<HttpProbeParams>;
