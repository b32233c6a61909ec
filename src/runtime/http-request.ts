/**
 * One HTTP(S) request with a deadline, an AbortSignal and a capped body read. Used by the http probe,
 * the http step and webhook channels.
 *
 * Why node:http and not fetch: fetch refuses the Fetch spec's "bad ports" (6000, 6665-6669...), and a
 * health probe must work on any port. Never throws: failures are `{ ok: false }` results.
 */
import type { IncomingHttpHeaders } from "node:http";
import { stopwatch } from "./stopwatch.js";

export interface HttpRequestOptions {
  /** Default GET. */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Own deadline for the whole exchange (connect, headers, body). */
  readonly timeoutMs?: number;
  /** Aborting ends the request at once (the runtime's probe/step timeout arrives this way). */
  readonly signal?: AbortSignal;
  /** Skip TLS certificate verification. */
  readonly insecure?: boolean;
  /** PEM certificates trusted instead of the system roots (a private CA). */
  readonly ca?: string | readonly string[];
  /** Body bytes kept (default 64 KiB); the connection is closed once reached. */
  readonly maxBodyBytes?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** UTF-8 body, at most maxBodyBytes. */
  readonly body: string;
  readonly truncated: boolean;
  /** From sending the request to the end of the (capped) body. */
  readonly latencyMs: number;
}

/** `TIMEOUT` (own deadline or a timeout abort reason), `ABORTED`, `BAD_URL`, or a Node error code. */
export type HttpErrorCode = "TIMEOUT" | "ABORTED" | "BAD_URL" | (string & {});

export type HttpOutcome =
  | { readonly ok: true; readonly response: HttpResponse }
  | { readonly ok: false; readonly code: HttpErrorCode; readonly error: string; readonly latencyMs: number };

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** True when an abort reason means "ran out of time" (AbortSignal.timeout or our E_TIMEOUT errors). */
export function isTimeoutReason(reason: unknown): boolean {
  if (typeof reason !== "object" || reason === null) return false;
  const { name, code } = reason as { name?: unknown; code?: unknown };
  return name === "TimeoutError" || code === "E_TIMEOUT";
}

export async function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpOutcome> {
  const elapsed = stopwatch();
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, code: "BAD_URL", error: `invalid URL: ${redactUrl(url)}`, latencyMs: 0 };
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    return { ok: false, code: "BAD_URL", error: `unsupported protocol ${target.protocol}`, latencyMs: 0 };
  }
  const transport = target.protocol === "https:" ? await import("node:https") : await import("node:http");
  // Checked after the import: an abort during it would otherwise never be heard.
  if (options.signal?.aborted) return abortedOutcome(options.signal, elapsed());
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  return new Promise<HttpOutcome>((resolve) => {
    let finished = false;
    const finish = (outcome: HttpOutcome): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      request.destroy();
      resolve(outcome);
    };
    const request = transport.request(target, {
      method: options.method ?? "GET",
      headers: options.headers,
      // A fresh connection per request: probes measure the real thing and nothing lingers in a pool.
      agent: false,
      ...(target.protocol === "https:" ? { rejectUnauthorized: !options.insecure } : {}),
      ...(target.protocol === "https:" && options.ca !== undefined ? { ca: [options.ca].flat() } : {}),
    });
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              finish({
                ok: false,
                code: "TIMEOUT",
                error: `timed out after ${options.timeoutMs} ms`,
                latencyMs: elapsed(),
              }),
            options.timeoutMs,
          );
    const onAbort = (): void => finish(abortedOutcome(options.signal as AbortSignal, elapsed()));
    options.signal?.addEventListener("abort", onAbort, { once: true });

    request.on("error", (error: NodeJS.ErrnoException) => {
      const code = error.code ?? "ERROR";
      finish({ ok: false, code, error: `${error.message}`, latencyMs: elapsed() });
    });
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      const done = (truncated: boolean): void =>
        finish({
          ok: true,
          response: {
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString("utf8"),
            truncated,
            latencyMs: elapsed(),
          },
        });
      response.on("data", (chunk: Buffer) => {
        const room = limit - kept;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          done(true);
          return;
        }
        chunks.push(chunk);
        kept += chunk.length;
      });
      response.on("end", () => done(false));
      response.on("error", (error: NodeJS.ErrnoException) =>
        finish({ ok: false, code: error.code ?? "ERROR", error: error.message, latencyMs: elapsed() }),
      );
    });
    request.end(options.body);
  });
}

function abortedOutcome(signal: AbortSignal, latencyMs: number): HttpOutcome {
  return isTimeoutReason(signal.reason)
    ? { ok: false, code: "TIMEOUT", error: "timed out", latencyMs }
    : { ok: false, code: "ABORTED", error: "aborted", latencyMs };
}

/** Hides a password in `user:pass@host` URLs for display (query tokens are the caller's business). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*):[^/@]*@/i, "$1:***@");
}
