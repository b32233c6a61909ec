/**
 * `upkeep serve`: the status page and its JSON API over node:http. Read-mostly: every GET reads the
 * state files and history as the CLI does. Actions (heal, breaker reset/isolate, silence add/remove) are
 * off unless asked for; they run the CLI itself (same code, same tick lock, recorded in the history with
 * who did them) and need the token.
 *
 * Defences, each for a named attack:
 * - DNS rebinding: on loopback, a request whose Host is not this server's address is refused (421).
 * - Cross-site requests: an action must be a POST with `Content-Type: application/json` (a form or a
 *   simple fetch from another site cannot send that without a CORS preflight, which we never allow),
 *   its Origin (when sent) must be ours and Sec-Fetch-Site must not be cross-site; and it needs the
 *   token as a Bearer header, which a browser never adds by itself.
 * - Clickjacking and injection: CSP `default-src 'self'`, `frame-ancestors 'none'`, no inline script;
 *   the page writes text with textContent only.
 */
import { redactText } from "../runtime/redact.js";
import { createHash, timingSafeEqual } from "node:crypto";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import type { Config } from "../config/model.js";
import { parseDuration } from "../duration.js";
import { buildReport, reportJson } from "../cli/commands/report.js";
import { statusDocument } from "../cli/commands/status.js";
import { pageDocument } from "./page-data.js";
import { APP_CSS, APP_JS, INDEX_HTML } from "./page.js";
import { actionArgv, type ActionRequest, type ActionRunner } from "./actions.js";

export interface ServeOptions {
  readonly config: Config;
  /** Host and port the server listens on (for the Host check and the Origin check). */
  readonly host: string;
  readonly port: () => number;
  /** Loopback only; false when started with --allow-remote (then every request needs the token). */
  readonly loopback: boolean;
  readonly actions: boolean;
  /** The token actions (and, when not on loopback, every request) need; undefined = none set. */
  readonly token?: string;
  readonly runAction: ActionRunner;
  readonly now?: () => number;
  /** How often the event stream looks for changed state files. */
  readonly pollMs?: number;
}

const STATE_FILES = [
  "services.json",
  "breakers.json",
  "heals.json",
  "alerts.json",
  "outbox.json",
  "silences.json",
  "history.db",
  "history.db.pending.json",
];
const MAX_STREAMS = 32;
const MAX_BODY = 16 * 1024;

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
} as const;

export function serveHandler(options: ServeOptions): {
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  close: () => void;
} {
  const streams = new Set<ServerResponse>();
  // Every open tab reloads the page document after each tick: requests that arrive while one is being
  // computed share it.
  let building: Promise<unknown> | undefined;
  const page = (): Promise<unknown> => {
    building ??= pageDocument(options.config, { actions: options.actions, now: now() }).finally(() => {
      building = undefined;
    });
    return building;
  };
  let timer: NodeJS.Timeout | undefined;
  let signature = "";
  const now = options.now ?? Date.now;

  const poll = async (): Promise<void> => {
    const next = await stateSignature(options.config.runtime.stateDir, options.config.runtime.history.file);
    if (next === signature) return;
    signature = next;
    for (const res of streams) res.write(`event: change\ndata: ${JSON.stringify({ at: now() })}\n\n`);
  };
  const startPolling = (): void => {
    if (timer !== undefined) return;
    void stateSignature(options.config.runtime.stateDir, options.config.runtime.history.file).then((s) => {
      signature = s;
    });
    timer = setInterval(() => void poll().catch(() => undefined), options.pollMs ?? 1000);
  };
  const stopPolling = (): void => {
    if (streams.size > 0 || timer === undefined) return;
    clearInterval(timer);
    timer = undefined;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: error instanceof Error ? error.message : String(error) });
      else res.end();
    });
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://upkeep.invalid");
    if (options.loopback && !hostAllowed(req.headers.host, options.host, options.port())) {
      return send(res, 421, { error: "this server answers only to its own loopback address" });
    }
    if (!options.loopback && !authorized(req, options.token, true)) {
      if (req.method === "GET" && url.pathname === "/" && url.searchParams.has("token")) {
        return login(res, url.searchParams.get("token") ?? "", options.token);
      }
      return send(res, 401, { error: "this server needs its token (Authorization: Bearer, or /?token=...)" });
    }
    if (req.method === "POST" && url.pathname.startsWith("/api/actions/")) return action(req, res, url);
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "method not allowed" });
    switch (url.pathname) {
      case "/":
        return sendText(res, 200, "text/html; charset=utf-8", INDEX_HTML);
      case "/app.js":
        return sendText(res, 200, "text/javascript; charset=utf-8", APP_JS);
      case "/app.css":
        return sendText(res, 200, "text/css; charset=utf-8", APP_CSS);
      case "/api/status":
        return send(res, 200, await statusDocument(options.config, now(), () => undefined));
      case "/api/page":
        return send(res, 200, await page());
      case "/api/report":
        return report(res, url);
      case "/api/events":
        return events(req, res);
      default:
        return send(res, 404, { error: `no such page: ${url.pathname}` });
    }
  };

  const report = async (res: ServerResponse, url: URL): Promise<void> => {
    const sinceMs = parseDuration(url.searchParams.get("since") ?? "30d");
    if (sinceMs === undefined || sinceMs <= 0)
      return send(res, 400, { error: "since must be a duration such as 7d" });
    const only = url.searchParams.getAll("service");
    const known = new Set(options.config.services.map((s) => s.id));
    const unknown = only.find((id) => !known.has(id));
    if (unknown !== undefined) return send(res, 400, { error: `unknown service "${unknown}"` });
    const until = now();
    const doc = await buildReport(options.config, {
      since: until - sinceMs,
      until,
      only: only.length === 0 ? undefined : only,
    });
    return send(res, 200, reportJson(doc, options.config));
  };

  const events = (req: IncomingMessage, res: ServerResponse): void => {
    if (streams.size >= MAX_STREAMS) return send(res, 503, { error: "too many open event streams" });
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": "text/event-stream; charset=utf-8",
      connection: "keep-alive",
    });
    // A first "change" at once: whatever a tick changed between the page's load and this stream's start
    // is not missed.
    res.write(`retry: 3000\n\nevent: change\ndata: ${JSON.stringify({ at: now() })}\n\n`);
    streams.add(res);
    startPolling();
    const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
    req.on("close", () => {
      clearInterval(heartbeat);
      streams.delete(res);
      stopPolling();
    });
  };

  const action = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (!options.actions) return send(res, 403, { error: "actions are off: start `upkeep serve --actions`" });
    const refusal = crossSite(req, options.port());
    if (refusal !== undefined) return send(res, 403, { error: refusal });
    if (!authorized(req, options.token, false))
      return send(res, 401, {
        error: "actions need the token: Authorization: Bearer <token from the token file>",
      });
    if (!(req.headers["content-type"] ?? "").toLowerCase().startsWith("application/json"))
      return send(res, 415, { error: "actions take a JSON body (Content-Type: application/json)" });
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        // Answer, then close the connection rather than read the rest of the body.
        res.setHeader("connection", "close");
        return send(res, 413, { error: error.message });
      }
      return send(res, 400, {
        error: `bad JSON body: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
    const name = url.pathname.slice("/api/actions/".length);
    const request: ActionRequest = { name, body };
    const argv = actionArgv(options.config, request);
    if (typeof argv === "string") return send(res, 400, { error: argv });
    const result = await options.runAction(argv);
    // Exit 1 of `heal` is a result (still down after the heal), of `silence remove` a missing silence.
    const statusCode =
      result.exitCode === 3
        ? 409
        : result.exitCode === 2
          ? 400
          : result.exitCode === 1 && name === "silence-remove"
            ? 404
            : 200;
    return send(res, statusCode, { action: name, ...result });
  };

  return {
    handle,
    close: () => {
      for (const res of streams) res.end();
      streams.clear();
      stopPolling();
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, "application/json; charset=utf-8", `${JSON.stringify(body, null, 2)}\n`);
}

/** Every response body passes the process-wide redactor: the page and API are an output like any other. */
function sendText(res: ServerResponse, status: number, type: string, raw: string): void {
  const text = redactText(raw);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": type,
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function login(res: ServerResponse, given: string, token: string | undefined): void {
  if (!tokenMatches(given, token)) return send(res, 401, { error: "wrong token" });
  res.writeHead(303, {
    ...SECURITY_HEADERS,
    location: "/",
    "set-cookie": `upkeep_token=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=/`,
  });
  res.end();
}

const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];

/** The Host is one of the loopback names or the address we listen on (e.g. 127.0.0.2), with our port. */
function hostAllowed(host: string | undefined, listenHost: string, port: number): boolean {
  if (host === undefined) return false;
  const own = listenHost.includes(":") ? `[${listenHost}]` : listenHost;
  const given = host.toLowerCase();
  return [...LOOPBACK_NAMES, own.toLowerCase()].some(
    (name) => given === `${name}:${port}` || (port === 80 && given === name),
  );
}

function crossSite(req: IncomingMessage, port: number): string | undefined {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none")
    return `cross-site request refused (Sec-Fetch-Site: ${String(site)})`;
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  const host = req.headers.host ?? "";
  const own = [`http://${host}`, ...LOOPBACK_NAMES.map((n) => `http://${n}:${port}`)];
  return own.includes(origin) ? undefined : `cross-site request refused (Origin: ${origin})`;
}

/** Bearer header, or (for reads only, when not on loopback) the login cookie. */
function authorized(req: IncomingMessage, token: string | undefined, cookieOk: boolean): boolean {
  if (token === undefined) return false;
  const header = req.headers.authorization ?? "";
  const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
  if (bearer !== undefined) return tokenMatches(bearer, token);
  if (!cookieOk) return false;
  const cookie = /(?:^|;\s*)upkeep_token=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
  if (cookie === undefined) return false;
  try {
    return tokenMatches(decodeURIComponent(cookie), token);
  } catch {
    return false; // malformed %-escapes: not our cookie
  }
}

function tokenMatches(given: string, token: string | undefined): boolean {
  if (token === undefined) return false;
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(token).digest();
  return timingSafeEqual(a, b);
}

class BodyTooLarge extends Error {}

/** The body, up to MAX_BODY bytes; over that, BodyTooLarge (without destroying the socket: we still answer). */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): void => reject(new BodyTooLarge(`body over ${MAX_BODY} bytes`));
    if (Number(req.headers["content-length"] ?? 0) > MAX_BODY) return tooLarge();
    let size = 0;
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_BODY) {
        chunks.push(chunk);
        return;
      }
      req.off("data", onData);
      tooLarge();
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8") || "{}"));
    req.on("error", reject);
  });
}

async function stateSignature(stateDir: string, historyFile: string): Promise<string> {
  const files = [...STATE_FILES.map((f) => join(stateDir, f)), historyFile, `${historyFile}.pending.json`];
  const stamps = await Promise.all(
    files.map((f) =>
      stat(f).then(
        (s) => `${s.mtimeMs}:${s.size}`,
        () => "-",
      ),
    ),
  );
  return stamps.join("|");
}
