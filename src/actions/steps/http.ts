/** http: calls an HTTP endpoint (e.g. a restart hook); passes on the expected status (default any 2xx). */
import { httpRequest, redactUrl } from "../../runtime/http-request.js";
import {
  loadSchema,
  optionalString,
  paramFailure,
  requireString,
  toObject,
  toStatusList,
  toStringMap,
} from "../support.js";
import type { StepHandler, StepResult } from "../types.js";

export type HttpStepParams = {
  url: string;
  /** Default POST. */
  method?: string;
  headers?: Record<string, string>;
  /** A string is sent as is; an object as JSON. */
  body?: string | Record<string, unknown>;
  expect?: {
    /** Default any 2xx. */
    status?: number | string | (number | string)[];
  };
};

/** Response body kept as step output. */
const OUTPUT_LIMIT = 4096;

function encodeBody(body: unknown, headers: Record<string, string>): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return body;
  if (!Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) {
    headers["content-type"] = "application/json";
  }
  return JSON.stringify(body);
}

export const httpStep = {
  name: "http",
  kind: "step",
  description: "Sends an HTTP request (e.g. to a restart endpoint); passes on the expected status.",
  get schema() {
    return loadSchema("step", "http");
  },
  sideEffects: "network",
  describe: (params) => `${(params.method ?? "POST").toUpperCase()} ${redactUrl(String(params.url))}`,
  async run(_ctx, params, signal): Promise<StepResult> {
    let url: string;
    let method: string;
    let headers: Record<string, string>;
    let expected: number[] | undefined;
    try {
      url = requireString(params.url, "url");
      method = (optionalString(params.method, "method") ?? "POST").toUpperCase();
      headers = toStringMap(params.headers, "headers");
      expected = toStatusList(toObject(params.expect, "expect").status, "expect.status");
    } catch (error) {
      return { ok: false, detail: paramFailure(error) };
    }
    const body = encodeBody(params.body, headers);
    const line = `${method} ${redactUrl(url)}`;
    const outcome = await httpRequest(url, {
      method,
      headers,
      signal,
      maxBodyBytes: OUTPUT_LIMIT,
      ...(body !== undefined ? { body } : {}),
    });
    if (!outcome.ok) return { ok: false, detail: `${line}: ${outcome.error}` };
    const { status, body: text } = outcome.response;
    const ok = expected ? expected.includes(status) : status >= 200 && status < 300;
    const detail = `${line}: status ${status}${ok ? "" : ` (expected ${expected ? expected.join(" or ") : "2xx"})`}`;
    return text.length > 0 ? { ok, detail, output: text } : { ok, detail };
  },
} satisfies StepHandler<HttpStepParams>;
