/**
 * `upkeep serve` over HTTP, without a browser: the BUILT CLI as a real child (`ServeWorld`), and where a
 * case is quicker to set up in-process, `serveHandler` on a real node:http server with a stub action
 * runner. Every request goes to 127.0.0.1 (nothing here binds or reaches a non-loopback address).
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isLoopback, parseListen } from "../../src/cli/commands/serve.js";
import { readHistory } from "../../src/runtime/history-store.js";
import type { ActionResult } from "../../src/serve/actions.js";
import { serveHandler, type ServeOptions } from "../../src/serve/server.js";
import { waitFor } from "../actions/helpers.js";
import { BUILT, ServeWorld, type CliResult } from "./helpers.js";

if (!BUILT) console.warn("serve server tests: skipped: dist/ is missing: run `npm run build` first");

const DAY = 86_400_000;

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly json: () => Record<string, unknown>;
}

/** One HTTP request to 127.0.0.1:PORT on a fresh connection (node:http lets us set Host), bounded. */
function call(
  port: number,
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    /** Send the body in 1 KiB writes (chunked, no Content-Length). */
    chunked?: boolean;
    /** The loopback address to connect to (default 127.0.0.1). */
    address?: string;
  } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.address ?? "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        agent: false,
        timeout: 20_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer to ${path} within 20 s`)));
    req.on("error", reject);
    if (options.chunked === true && options.body !== undefined) {
      for (let i = 0; i < options.body.length; i += 1024) req.write(options.body.slice(i, i + 1024));
      req.end();
    } else req.end(options.body);
  });
}

/** POST /api/actions/NAME with a JSON body; `headers` adds to (or replaces) the JSON content type. */
function act(
  port: number,
  name: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return call(port, `/api/actions/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const portOf = (url: string): number => Number(new URL(url).port);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function json(text: string): unknown {
  return JSON.parse(text) as unknown;
}

/** The report without the window's ends, which depend on when it was asked for. */
function withoutWindow(doc: unknown): Record<string, unknown> {
  const copy = { ...(doc as Record<string, unknown>) };
  delete copy.since;
  delete copy.until;
  return copy;
}

function commands(world: ServeWorld): Promise<unknown[][]> {
  return readHistory(
    { file: join(world.state, "history.db"), retentionMs: 90 * DAY, intervalMs: 300_000 },
    { kinds: ["command"] },
  ).then((events) => events.map((e) => (e.kind === "command" ? [e.command, e.service, e.by] : [])));
}

/** Reads an event stream until `pattern` shows up in it, bounded by `timeoutMs`. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  pattern: RegExp,
  timeoutMs: number,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(text)) {
    const left = deadline - Date.now();
    if (left <= 0)
      throw new Error(`no ${String(pattern)} within ${timeoutMs} ms; got ${JSON.stringify(text)}`);
    let timer: NodeJS.Timeout | undefined;
    const chunk = await Promise.race([
      reader.read(),
      new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), left))),
    ]);
    clearTimeout(timer);
    if (chunk === "timeout") continue;
    if (chunk.done)
      throw new Error(`the stream ended before ${String(pattern)}; got ${JSON.stringify(text)}`);
    text += decoder.decode(chunk.value, { stream: true });
  }
  return text;
}

describe.skipIf(!BUILT)("upkeep serve: the JSON API of the real command", () => {
  let world: ServeWorld;
  beforeEach(() => {
    world = new ServeWorld();
  });
  afterEach(async () => {
    await world.close();
  });

  it("/api/status and /api/report answer what `status --format json` and `report --format json` print", async () => {
    // A 1 s interval: a tick vouches for a service for 1.5 s, so once that has passed the report's
    // numbers no longer depend on when it is asked for (only its since/until do).
    await world.start({ interval: "1s" });
    expect((await world.tick()).code).toBe(0);
    await world.killStub();
    expect((await world.tick()).code).toBe(0); // down, healed within the tick (heal.after: 1)
    await sleep(1600); // past the 1 s heal cooldown and the 1.5 s a tick vouches for

    const server = await world.serve();
    const port = portOf(server.url);
    const status = await call(port, "/api/status");
    expect(status.status).toBe(200);
    expect(status.headers["content-type"]).toBe("application/json; charset=utf-8");
    const cli = await world.cli(["status", "--rules", world.rules, "--format", "json"]);
    expect(cli.code).toBe(0);
    expect(status.json()).toEqual(json(cli.stdout));
    expect(status.json()).toMatchObject({
      stateDir: world.state,
      tickRunning: false,
      services: [
        {
          id: "api",
          status: "up",
          since: expect.any(String),
          lastOutage: { cause: expect.stringContaining("ECONNREFUSED"), end: expect.any(String) },
        },
      ],
      silences: [],
    });

    const report = await call(port, "/api/report?since=7d");
    expect(report.status).toBe(200);
    const cliReport = await world.cli([
      "report",
      "--rules",
      world.rules,
      "--since",
      "7d",
      "--format",
      "json",
    ]);
    expect(cliReport.code).toBe(0);
    const doc = report.json() as { since: string; until: string; services: { incidents: unknown[] }[] };
    expect(Date.parse(doc.until) - Date.parse(doc.since)).toBe(7 * DAY);
    expect(withoutWindow(doc)).toEqual(withoutWindow(json(cliReport.stdout)));
    expect(doc.services[0]?.incidents).toMatchObject([{ ended: "healed" }]);

    // The same checks as the CLI's flags.
    const nope = await call(port, "/api/report?service=nope");
    expect(nope.status).toBe(400);
    expect(nope.json()).toEqual({ error: 'unknown service "nope"' });
    expect((await call(port, "/api/report?since=soon")).status).toBe(400);
    expect((await call(port, "/api/report?since=0s")).status).toBe(400);
    const only = await call(port, "/api/report?since=1d&service=api");
    expect(only.status).toBe(200);
    expect((only.json() as { services: { id: string }[] }).services.map((s) => s.id)).toEqual(["api"]);
  }, 60_000); // three ticks and two CLI runs: slow on a busy machine

  it("answers only to its own loopback address in Host (a DNS-rebinding page gets 421)", async () => {
    await world.writeRules();
    const port = portOf((await world.serve()).url);
    for (const host of ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
      expect((await call(port, "/api/status", { headers: { host: `${host}:${port}` } })).status).toBe(200);
    const foreign = [
      `evil.example:${port}`,
      `127.0.0.1.evil.example:${port}`,
      `localhost:${port + 1}`,
      "127.0.0.1",
      `127.0.0.2:${port}`,
    ];
    for (const host of foreign) {
      const answer = await call(port, "/api/status", { headers: { host } });
      expect(answer.status, host).toBe(421);
      expect(answer.json()).toEqual({ error: "this server answers only to its own loopback address" });
    }
    // The page itself too, not only the API.
    expect((await call(port, "/", { headers: { host: `evil.example:${port}` } })).status).toBe(421);
  });

  it("answers to the loopback address it listens on, e.g. 127.0.0.2", async () => {
    await world.writeRules();
    const server = await world.serve([], { listen: "127.0.0.2:0" });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/$/);
    const res = await fetch(`${server.url}api/status`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { stateDir: string }).stateDir).toBe(world.state);
    // That address, not any of 127.0.0.0/8.
    const port = portOf(server.url);
    const other = await call(port, "/api/status", {
      address: "127.0.0.2",
      headers: { host: `127.0.0.3:${port}` },
    });
    expect(other.status).toBe(421);
  });

  it("refuses actions unless started with --actions (403 naming the flag), and then needs no token file", async () => {
    await world.writeRules();
    const port = portOf((await world.serve()).url);
    const answer = await act(port, "heal", { service: "api" });
    expect(answer.status).toBe(403);
    expect(answer.json()).toEqual({ error: "actions are off: start `upkeep serve --actions`" });
    expect(existsSync(join(world.state, "serve.token"))).toBe(false);
  });

  it("with --actions, refuses a request without the token, with a wrong one, not JSON, cross-site, or malformed; none runs", async () => {
    await world.writeRules();
    const port = portOf((await world.serve(["--actions"])).url);
    const token = readFileSync(join(world.state, "serve.token"), "utf8").trim();
    const bearer = { authorization: `Bearer ${token}` };
    const refused = async (answer: Promise<Answer>, status: number, error: RegExp): Promise<void> => {
      const a = await answer;
      expect({ status: a.status, error: a.json().error }).toEqual({
        status,
        error: expect.stringMatching(error),
      });
    };

    await refused(act(port, "breaker-reset", { service: "api" }), 401, /^actions need the token/);
    await refused(
      act(port, "breaker-reset", { service: "api" }, { authorization: `Bearer ${token}x` }),
      401,
      /^actions need the token/,
    );
    await refused(
      act(port, "breaker-reset", { service: "api" }, { authorization: "Basic YWxpY2U6c2VjcmV0" }),
      401,
      /^actions need the token/,
    );
    await refused(
      act(port, "breaker-reset", { service: "api" }, { ...bearer, "content-type": "text/plain" }),
      415,
      /JSON body/,
    );
    await refused(
      act(port, "breaker-reset", { service: "api" }, { ...bearer, origin: "http://evil.example" }),
      403,
      /Origin: http:\/\/evil\.example/,
    );
    await refused(
      act(port, "breaker-reset", { service: "api" }, { ...bearer, origin: `http://127.0.0.1:${port + 1}` }),
      403,
      /Origin/,
    );
    await refused(
      act(port, "breaker-reset", { service: "api" }, { ...bearer, "sec-fetch-site": "cross-site" }),
      403,
      /Sec-Fetch-Site: cross-site/,
    );
    await refused(
      act(port, "breaker-reset", { service: "api" }, { ...bearer, "sec-fetch-site": "same-site" }),
      403,
      /Sec-Fetch-Site: same-site/,
    );
    await refused(
      act(port, "reboot", { service: "api" }, bearer),
      400,
      /^unknown action "reboot": one of heal,/,
    );
    await refused(act(port, "heal", { service: "nope" }, bearer), 400, /^service: one of api$/);
    await refused(
      act(port, "breaker-isolate", { service: "api", for: "soon" }, bearer),
      400,
      /^for: a duration such as 30m or 2h$/,
    );
    await refused(act(port, "silence-add", { for: "1h" }, bearer), 400, /^comment: why/);
    await refused(act(port, "silence-remove", { id: "../x" }, bearer), 400, /^id: the silence id$/);
    await refused(act(port, "silence-remove", { id: "--help" }, bearer), 400, /^id: the silence id$/);
    await refused(act(port, "heal", { service: "api", by: "<script>" }, bearer), 400, /^by: /);
    await refused(act(port, "heal", "{service:", bearer), 400, /^bad JSON body: /);
    // A page of our own origin (same-origin fetch) passes the cross-site checks; only the action is unknown.
    await refused(
      act(
        port,
        "reboot",
        {},
        { ...bearer, origin: `http://127.0.0.1:${port}`, "sec-fetch-site": "same-origin" },
      ),
      400,
      /^unknown action/,
    );
    // Only a POST runs an action; a GET is just an unknown page.
    expect((await call(port, "/api/actions/heal", { headers: bearer })).status).toBe(404);

    expect(await commands(world)).toEqual([]);
  });

  it("with --actions and the token, runs `breaker reset` through the CLI and records who did it", async () => {
    await world.writeRules();
    const port = portOf((await world.serve(["--actions"])).url);
    const token = readFileSync(join(world.state, "serve.token"), "utf8").trim();
    const answer = await act(
      port,
      "breaker-reset",
      { service: "api", by: "alice" },
      { authorization: `Bearer ${token}` },
    );
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ action: "breaker-reset", exitCode: 0 });
    expect(await commands(world)).toEqual([["breaker reset", "api", "alice (upkeep serve)"]]);

    // "Heal now" (not forced): the stub is not running, so the heal starts it; recorded with who asked.
    const healed = await act(
      port,
      "heal",
      { service: "api", by: "bob" },
      { authorization: `Bearer ${token}` },
    );
    expect(healed.status).toBe(200);
    expect(healed.json()).toMatchObject({ action: "heal", exitCode: 0 });
    expect((await commands(world)).slice(1)).toEqual([["heal", "api", "bob (upkeep serve)"]]);
  });

  it("with --actions and the token, adds a silence and removes it again, as /api/status shows", async () => {
    await world.writeRules();
    const port = portOf((await world.serve(["--actions"])).url);
    const token = readFileSync(join(world.state, "serve.token"), "utf8").trim();
    const bearer = { authorization: `Bearer ${token}` };

    // Free text that starts with "-" is data, never taken for a flag of the CLI the action runs.
    const added = await act(
      port,
      "silence-add",
      { service: "api", for: "1h", comment: "-- deploying v2", by: "-bob" },
      bearer,
    );
    expect(added.status).toBe(200);
    expect(added.json()).toMatchObject({
      action: "silence-add",
      exitCode: 0,
      output: { id: expect.any(String) },
    });
    const id = (added.json() as { output: { id: string } }).output.id;
    expect((await call(port, "/api/status")).json().silences).toEqual([
      expect.objectContaining({
        id,
        state: "active",
        services: ["api"],
        pauseHealing: false,
        comment: "-- deploying v2",
        createdBy: "-bob (upkeep serve)",
      }),
    ]);

    const removed = await act(port, "silence-remove", { id, by: "-bob" }, bearer);
    expect(removed.status).toBe(200);
    expect(removed.json()).toMatchObject({ action: "silence-remove", exitCode: 0, output: { removed: id } });
    expect((await call(port, "/api/status")).json().silences).toEqual([]);
    expect(await commands(world)).toEqual([
      ["silence add", "api", "-bob (upkeep serve)"],
      ["silence remove", undefined, "-bob (upkeep serve)"],
    ]);

    // Removing it again: the command ran and found no such silence (exit 1): 404, with its message.
    const again = await act(port, "silence-remove", { id }, bearer);
    expect(again.status).toBe(404);
    expect(again.json()).toEqual({
      action: "silence-remove",
      exitCode: 1,
      output: "",
      error: `upkeep silence: no silence "${id}"`,
    });
  });

  it("creates the token file with mode 600 when it is missing, and the token in it works", async () => {
    await world.writeRules();
    const path = join(world.root, "secrets", "serve.token");
    const server = await world.serve(["--actions", "--token-file", path]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const token = readFileSync(path, "utf8").trim();
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(server.stderr()).toContain(`token in ${path} (created, mode 600)`);
    const answer = await act(portOf(server.url), "reboot", {}, { authorization: `Bearer ${token}` });
    expect(answer.status).toBe(400); // past the token check
  });

  it("uses an existing mode-600 token file as it is", async () => {
    await world.writeRules();
    const path = join(world.root, "serve.token");
    const token = "a-long-enough-token-0123456789";
    writeFileSync(path, `${token}\n`, { mode: 0o600 });
    const server = await world.serve(["--actions", "--token-file", path]);
    expect(server.stderr()).toContain(`token in ${path}\n`);
    expect(readFileSync(path, "utf8")).toBe(`${token}\n`);
    const port = portOf(server.url);
    expect((await act(port, "reboot", {}, { authorization: `Bearer ${token}` })).status).toBe(400);
    expect((await act(port, "reboot", {}, { authorization: "Bearer a-long-enough-token" })).status).toBe(401);
  });

  /** `upkeep serve --actions` with a token file holding `text` in `mode`. */
  async function serveWithTokenFile(text: string, mode: number): Promise<{ path: string } & CliResult> {
    await world.writeRules();
    const path = join(world.root, "serve.token");
    writeFileSync(path, text);
    chmodSync(path, mode);
    const args = ["serve", "--rules", world.rules, "--listen", "127.0.0.1:0", "--actions"];
    return { path, ...(await world.cli([...args, "--token-file", path])) };
  }

  it("refuses (exit 2) a token file others can read, telling to chmod 600 it", async () => {
    const { path, ...result } = await serveWithTokenFile("a-long-enough-token-0123456789\n", 0o644);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `upkeep serve: token file ${path} is readable by others (mode 644): run chmod 600 ${path}\n`,
    );
  });

  it("refuses (exit 2) a token shorter than 16 characters", async () => {
    const result = await serveWithTokenFile("short-token\n", 0o600);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/token file .* holds fewer than 16 characters/);
  });

  it("refuses (exit 2, before listening) a non-loopback --listen without --allow-remote, and a malformed one", async () => {
    await world.writeRules();
    for (const listen of ["0.0.0.0:0", "[::]:0", "192.168.1.1:8787"]) {
      const result = await world.cli(["serve", "--rules", world.rules, "--listen", listen]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/is not a loopback address: .*Add --allow-remote/);
    }
    const bad = await world.cli(["serve", "--rules", world.rules, "--listen", "8787"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'upkeep serve: --listen must be HOST:PORT (e.g. 127.0.0.1:8787 or [::1]:8787), not "8787"\n',
    );
  });

  it("sends the page with a strict CSP, no framing and no sniffing; its script and style with their types; 404 JSON otherwise", async () => {
    await world.writeRules();
    const port = portOf((await world.serve()).url);
    const page = await call(port, "/");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    // The CSP allows no inline script: the page has none.
    expect(page.text).toContain('<script src="/app.js"');
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);

    const js = await call(port, "/app.js");
    expect([js.status, js.headers["content-type"]]).toEqual([200, "text/javascript; charset=utf-8"]);
    const css = await call(port, "/app.css");
    expect([css.status, css.headers["content-type"]]).toEqual([200, "text/css; charset=utf-8"]);
    expect(css.headers["x-content-type-options"]).toBe("nosniff");

    const missing = await call(port, "/etc/passwd");
    expect(missing.status).toBe(404);
    expect(missing.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(missing.json()).toEqual({ error: "no such page: /etc/passwd" });
    expect(missing.headers["content-security-policy"]).toBe(csp);
    expect((await call(port, "/", { method: "PUT" })).status).toBe(405);
  });

  it("/api/events sends `event: change` at once (nothing since the page loaded is missed) and when a tick changed the state", async () => {
    await world.start();
    expect((await world.tick()).code).toBe(0);
    const server = await world.serve();
    const abort = new AbortController();
    const res = await fetch(`${server.url}api/events`, { signal: abort.signal });
    try {
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      expect(await readUntil(reader, /\n\nevent: change\ndata: .*\n\n$/, 5000)).toMatch(
        /^retry: 3000\n\nevent: change\ndata: \{"at":\d+\}\n\n$/,
      );
      expect((await world.tick()).code).toBe(0);
      const text = await readUntil(reader, /\n\n$/, 10_000);
      expect(text).toMatch(/^event: change\ndata: \{"at":\d+\}\n\n$/);
    } finally {
      abort.abort();
    }
  });

  it("exits 0 promptly on SIGTERM, even with an event stream open", async () => {
    await world.writeRules();
    const server = await world.serve();
    const abort = new AbortController();
    const res = await fetch(`${server.url}api/events`, { signal: abort.signal });
    expect(res.status).toBe(200);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      server.child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    const sent = Date.now();
    server.child.kill("SIGTERM");
    const timeout = sleep(5000).then(() => "still running after 5 s");
    expect(await Promise.race([exited, timeout])).toEqual({ code: 0, signal: null });
    expect(Date.now() - sent).toBeLessThan(3000);
    abort.abort();
  });
});

describe("parseListen and isLoopback", () => {
  it("parses HOST:PORT and [IPv6]:PORT; anything else is a usage message", () => {
    expect(parseListen("127.0.0.1:8787")).toEqual({ host: "127.0.0.1", port: 8787 });
    expect(parseListen("localhost:0")).toEqual({ host: "localhost", port: 0 });
    expect(parseListen("[::1]:8787")).toEqual({ host: "::1", port: 8787 });
    expect(parseListen("0.0.0.0:65535")).toEqual({ host: "0.0.0.0", port: 65_535 });
    for (const bad of [
      "",
      "8787",
      ":8787",
      "127.0.0.1",
      "127.0.0.1:",
      "127.0.0.1:65536",
      "127.0.0.1:x",
      "::1:8787",
      "[::1]8787",
      "[]:80",
      "127.0.0.1:123456",
    ])
      expect(parseListen(bad)).toBe(
        `--listen must be HOST:PORT (e.g. 127.0.0.1:8787 or [::1]:8787), not "${bad}"`,
      );
  });

  it("counts 127.0.0.0/8, ::1 and localhost as loopback, nothing else", () => {
    for (const host of ["127.0.0.1", "127.0.0.5", "127.255.255.254", "::1", "0:0:0:0:0:0:0:1", "localhost"])
      expect(isLoopback(host), host).toBe(true);
    for (const host of [
      "0.0.0.0",
      "192.168.1.1",
      "10.0.0.1",
      "::",
      "::ffff:192.168.1.1",
      "128.0.0.1",
      "127.evil.example",
      "localhost.evil.example",
      "example.com",
      "",
    ])
      expect(isLoopback(host), host).toBe(false);
  });
});

/** serveHandler on a real node:http server at 127.0.0.1:0, with a runner that records what it was asked. */
async function mount(
  world: ServeWorld,
  options: Partial<ServeOptions> = {},
): Promise<{ port: number; calls: string[][]; close: () => Promise<void> }> {
  const config = await world.config();
  const calls: string[][] = [];
  const server = createServer();
  let port = 0;
  const handler = serveHandler({
    config,
    host: "127.0.0.1",
    port: () => port,
    loopback: true,
    actions: false,
    runAction: (argv): Promise<ActionResult> => {
      calls.push([...argv]);
      return Promise.resolve({ exitCode: 0, output: { ok: true }, error: "" });
    },
    ...options,
  });
  server.on("request", handler.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  port = address.port;
  return {
    port,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        handler.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe("serveHandler on a real HTTP server", () => {
  let world: ServeWorld;
  let closeServer: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    world = new ServeWorld();
    await world.writeRules();
  });
  afterEach(async () => {
    await closeServer?.();
    closeServer = undefined;
    await world.close();
  });

  it("off loopback (--allow-remote) needs the token for everything; /?token= logs in with a cookie good for reads, not actions", async () => {
    const token = "remote-token-0123456789abcdef";
    const served = await mount(world, { loopback: false, actions: true, token });
    closeServer = served.close;
    const { port, calls } = served;

    const anonymous = await call(port, "/api/status");
    expect(anonymous.status).toBe(401);
    expect(anonymous.json().error).toMatch(/needs its token/);
    expect((await call(port, "/")).status).toBe(401);
    expect(
      (await call(port, "/api/status", { headers: { authorization: "Bearer wrong-token" } })).status,
    ).toBe(401);
    // Any Host name: a remote server is reached by whatever name the network gives it; the token guards it.
    const withBearer = await call(port, "/api/status", {
      headers: { authorization: `Bearer ${token}`, host: `upkeep.lan:${port}` },
    });
    expect(withBearer.status).toBe(200);
    expect(withBearer.json().stateDir).toBe(world.state);

    expect((await call(port, "/?token=wrong")).status).toBe(401);
    const login = await call(port, `/?token=${token}`);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe("/");
    const cookie = login.headers["set-cookie"]?.[0] ?? "";
    expect(cookie.split("; ")).toEqual([`upkeep_token=${token}`, "HttpOnly", "SameSite=Strict", "Path=/"]);
    const session = { cookie: cookie.split(";")[0] as string };
    expect((await call(port, "/api/status", { headers: session })).status).toBe(200);
    expect((await call(port, "/", { headers: session })).status).toBe(200);
    expect((await call(port, "/api/status", { headers: { cookie: "upkeep_token=wrong" } })).status).toBe(401);
    expect((await call(port, "/api/status", { headers: { cookie: "upkeep_token=%E0" } })).status).toBe(401);

    // The cookie never runs an action: a browser sends it by itself, the Bearer header it never does.
    const byCookie = await act(port, "breaker-reset", { service: "api" }, session);
    expect(byCookie.status).toBe(401);
    expect(calls).toEqual([]);
    const byBearer = await act(
      port,
      "breaker-reset",
      { service: "api", by: "carol" },
      { authorization: `Bearer ${token}` },
    );
    expect(byBearer.status).toBe(200);
    expect(byBearer.json()).toEqual({
      action: "breaker-reset",
      exitCode: 0,
      output: { ok: true },
      error: "",
    });
    expect(calls).toEqual([
      [
        "breaker",
        "reset",
        "api",
        "--by=carol (upkeep serve)",
        "--rules",
        world.rules,
        "--state-dir",
        world.state,
        "--format",
        "json",
      ],
    ]);
  });

  it("passes on the CLI's refusals: exit 2 is 400, exit 3 (another tick holds the lock) is 409", async () => {
    const token = "loopback-token-0123456789";
    const served = await mount(world, {
      actions: true,
      token,
      runAction: (argv) =>
        Promise.resolve({ exitCode: argv[0] === "heal" ? 3 : 2, output: "", error: "refused" }),
    });
    closeServer = served.close;
    const bearer = { authorization: `Bearer ${token}` };
    expect((await act(served.port, "heal", { service: "api" }, bearer)).status).toBe(409);
    expect((await act(served.port, "breaker-reset", { service: "api" }, bearer)).status).toBe(400);
  });

  it("holds at most 32 event streams, and a closed one frees its place", async () => {
    const served = await mount(world, { pollMs: 50 });
    closeServer = served.close;
    const aborts: AbortController[] = [];
    try {
      const open = async (): Promise<number> => {
        const abort = new AbortController();
        aborts.push(abort);
        return (await fetch(`http://127.0.0.1:${served.port}/api/events`, { signal: abort.signal })).status;
      };
      const statuses = await Promise.all(Array.from({ length: 32 }, open));
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(await open()).toBe(503);
      aborts[0]?.abort();
      expect(await waitFor(async () => (await open()) === 200, 5000, "a place for a new stream")).toBe(true);
    } finally {
      for (const abort of aborts) abort.abort();
    }
  });

  it("answers an action body over 16 KiB with a refusal, not a dropped connection", async () => {
    const token = "loopback-token-0123456789";
    const served = await mount(world, { actions: true, token });
    closeServer = served.close;
    const answer = await act(
      served.port,
      "silence-add",
      { service: "api", for: "1h", comment: "x".repeat(20_000) },
      { authorization: `Bearer ${token}` },
    );
    expect(answer.status).toBe(413);
    expect(answer.json()).toEqual({ error: "body over 16384 bytes" });
    // The same when no Content-Length announces it (a chunked body).
    const chunked = await call(served.port, "/api/actions/silence-add", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ service: "api", for: "1h", comment: "x".repeat(20_000) }),
      chunked: true,
    });
    expect(chunked.status).toBe(413);
    expect(chunked.headers["transfer-encoding"]).toBeUndefined();
    expect(served.calls).toEqual([]);
  });

  it("/api/page carries whether actions are on", async () => {
    for (const actions of [false, true]) {
      const served = await mount(world, {
        actions,
        ...(actions ? { token: "loopback-token-0123456789" } : {}),
      });
      try {
        const page = await call(served.port, "/api/page");
        expect(page.status).toBe(200);
        expect(page.json()).toMatchObject({ actions, status: { stateDir: world.state } });
      } finally {
        await served.close();
      }
    }
  });
});
