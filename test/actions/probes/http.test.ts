import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpProbe as httpProbeImpl, type HttpProbeParams } from "../../../src/actions/probes/http.js";
import type { ProbeHandler } from "../../../src/actions/types.js";
import { getHandler } from "../../../src/actions/registry.js";
import { systemClock } from "../../../src/runtime/clock.js";
import { probeService } from "../../../src/runtime/probe-runner.js";
import { createRedactor } from "../../../src/runtime/redact.js";
import { service } from "../../core/config-fixture.js";
import { freePort, makeContext, memoryLogger, never, settings, silentServer } from "../helpers.js";

/** Typed through the interface, as the runtime calls it. */
const httpProbe: ProbeHandler<HttpProbeParams> = httpProbeImpl;

/** Makes `^(a+)+$` backtrack through 2^30 ways to split the `a`s before it fails (issue 19). */
const EVIL_BODY = `${"a".repeat(30)}!`;

function handler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    switch (req.url) {
      case "/health":
        return json(200, { status: "ok", checks: { db: "up" } });
      case "/down":
        return json(503, { status: "down" });
      case "/redirect":
        res.writeHead(302, { location: "/health" });
        return void res.end();
      case "/text":
        res.writeHead(200, { "content-type": "text/plain" });
        return void res.end("hello world, version 1.2.3");
      case "/slow":
        return void setTimeout(() => json(200, { status: "ok" }), 300);
      case "/evil":
        res.writeHead(200, { "content-type": "text/plain" });
        return void res.end(EVIL_BODY);
      case "/big":
        res.writeHead(200, { "content-type": "text/plain" });
        return void res.end("a".repeat(200 * 1024) + "END");
      case "/echo":
        return json(200, {
          method: req.method,
          token: req.headers["x-token"],
          body: Buffer.concat(chunks).toString(),
        });
      default:
        return json(404, {});
    }
  });
}

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return (server.address() as { port: number }).port;
}

const close = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe("http probe", () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createHttpServer(handler);
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => close(server));

  const probe = (params: HttpProbeParams, signal = never()) => httpProbe.run(makeContext(), params, signal);

  it("passes on any 2xx/3xx by default and reports the status as a fact", async () => {
    expect(await probe({ url: `${base}/health` })).toMatchObject({
      ok: true,
      detail: "status 200",
      facts: { status: 200 },
    });
    expect((await probe({ url: `${base}/redirect` })).ok).toBe(true);
    expect(await probe({ url: `${base}/down` })).toMatchObject({
      ok: false,
      detail: "status 503 (expected 2xx/3xx)",
      facts: { status: 503 },
    });
  });

  it("checks an expected status given as a number, a numeric string or a list", async () => {
    expect((await probe({ url: `${base}/down`, expect: { status: 503 } })).ok).toBe(true);
    expect((await probe({ url: `${base}/down`, expect: { status: "503" } })).ok).toBe(true);
    expect((await probe({ url: `${base}/redirect`, expect: { status: [200, 204] } })).detail).toBe(
      "status 302 (expected 200 or 204)",
    );
  });

  it("checks the body by substring and by regular expression", async () => {
    expect((await probe({ url: `${base}/text`, expect: { bodyContains: "hello" } })).ok).toBe(true);
    expect((await probe({ url: `${base}/text`, expect: { bodyContains: "bye" } })).detail).toBe(
      'body does not contain "bye"',
    );
    expect((await probe({ url: `${base}/text`, expect: { bodyMatches: "version \\d+\\.\\d+" } })).ok).toBe(
      true,
    );
    expect((await probe({ url: `${base}/text`, expect: { bodyMatches: "^version" } })).detail).toBe(
      "body does not match /^version/",
    );
    expect((await probe({ url: `${base}/text`, expect: { bodyMatches: "(" } })).detail).toMatch(
      /^invalid parameter expect.bodyMatches: invalid regular expression/,
    );
  });

  it("evaluates a json-logic condition over the parsed JSON body", async () => {
    const up = { "==": [{ var: "checks.db" }, "up"] };
    expect((await probe({ url: `${base}/health`, expect: { json: up } })).ok).toBe(true);
    const down = { "==": [{ var: "checks.db" }, "down"] };
    expect((await probe({ url: `${base}/health`, expect: { json: down } })).detail).toBe(
      "json condition is false",
    );
    expect((await probe({ url: `${base}/text`, expect: { json: up } })).detail).toBe(
      "body is not valid JSON",
    );
  });

  it("fails when the answer is slower than maxLatency", async () => {
    const result = await probe({ url: `${base}/slow`, expect: { maxLatency: "50ms" } });
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/^latency \d+ms exceeds 50ms$/);
    expect(result.latencyMs).toBeGreaterThan(50);
    expect((await probe({ url: `${base}/health`, expect: { maxLatency: "10s" } })).ok).toBe(true);
  });

  it("reads at most 64 KiB of body", async () => {
    const result = await probe({ url: `${base}/big`, expect: { bodyContains: "END" } });
    expect(result.detail).toBe('body does not contain "END"');
  });

  it("sends the method, headers and body it is given", async () => {
    const result = await probe({
      url: `${base}/echo`,
      method: "POST",
      headers: { "x-token": "t0k" },
      body: "ping",
      expect: {
        json: {
          and: [
            { "==": [{ var: "method" }, "POST"] },
            { "==": [{ var: "token" }, "t0k"] },
            { "==": [{ var: "body" }, "ping"] },
          ],
        },
      },
    });
    expect(result).toMatchObject({ ok: true });
  });

  it("fails with the connection error when nothing listens", async () => {
    const port = await freePort();
    const result = await probe({ url: `http://127.0.0.1:${port}/health` });
    expect(result).toMatchObject({
      ok: false,
      detail: `connect ECONNREFUSED 127.0.0.1:${port}`,
      facts: { error: "ECONNREFUSED" },
    });
  });

  it("is bounded by its timeout on a port that accepts but never answers", async () => {
    const silent = await silentServer();
    try {
      const result = await probe({ url: `http://127.0.0.1:${silent.port}/health` }, AbortSignal.timeout(300));
      expect(result).toMatchObject({ ok: false, detail: "timed out" });
    } finally {
      await silent.close();
    }
  });

  it("fails clearly on a bad URL", async () => {
    expect((await probe({ url: "not a url" })).detail).toBe("invalid URL: not a url");
    expect((await probe({ url: "ftp://127.0.0.1/x" })).detail).toBe("unsupported protocol ftp:");
  });

  it("works on ports fetch refuses (6000, 6665-6669)", async (t) => {
    const bad = createHttpServer(handler);
    let port: number | undefined;
    for (const candidate of [6666, 6000, 6665, 6667, 6668, 6669]) {
      try {
        port = await listen(bad, candidate);
        break;
      } catch {
        bad.removeAllListeners("error");
      }
    }
    if (port === undefined) return t.skip();
    try {
      expect((await probe({ url: `http://127.0.0.1:${port}/health` })).ok).toBe(true);
    } finally {
      await close(bad);
    }
  });

  it("describes itself", () => {
    expect(httpProbe.describe({ url: "http://127.0.0.1:4000/health" }, { settings })).toBe(
      "GET http://127.0.0.1:4000/health",
    );
  });
});

describe("http probe: a body made to make its pattern backtrack (issue 19)", () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createHttpServer(handler);
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => close(server));

  /** Through the probe runner, as a tick runs it: the runner's deadline races the handler. */
  const probeThroughRunner = (path: string, expectations: HttpProbeParams["expect"], timeoutMs = 1000) => {
    const base_ = service("api");
    const api = {
      ...base_,
      probe: {
        ...base_.probe,
        type: "http",
        timeoutMs,
        params: { url: `${base}${path}`, expect: expectations },
      },
    };
    const deps = {
      clock: systemClock,
      logger: memoryLogger(),
      settings,
      env: process.env,
      redactor: createRedactor(),
      getHandler,
    };
    return probeService(api, deps, never());
  };

  it("answers ^(a+)+$ at once on V8's linear engine: the body does not match", async () => {
    expect(await probeThroughRunner("/evil", { bodyMatches: "^(a+)+$" })).toMatchObject({
      ok: false,
      detail: "body does not match /^(a+)+$/",
    });
  });

  it("fails a pattern only backtracking can run when it outlasts the probe timeout, saying so", async () => {
    // The lookahead keeps the linear engine out; the match runs in a worker the deadline stops.
    const result = await probeThroughRunner("/evil", { bodyMatches: "^(?!x)(a+)+$" });
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/^body pattern \/\^\(\?!x\)\(a\+\)\+\$\/ did not finish within \d+ms$/);
  });

  it("keeps the event loop free while such a pattern runs: another probe completes meanwhile", async () => {
    const order: string[] = [];
    const evil = probeThroughRunner("/evil", { bodyMatches: "^(?!x)(a+)+$" }, 1500).then((r) => {
      order.push("evil");
      return r;
    });
    // Answers 300 ms later, while the evil pattern runs: it can finish first only if nothing blocks the loop.
    const healthy = await probeThroughRunner("/slow", { bodyMatches: '"status":"ok"' }, 1500);
    order.push("healthy");
    expect(healthy).toMatchObject({ ok: true, detail: "status 200" });
    expect((await evil).ok).toBe(false);
    expect(order).toEqual(["healthy", "evil"]);
  });

  it("matches patterns the linear engine cannot run, and large bodies, with ordinary results", async () => {
    expect((await probeThroughRunner("/text", { bodyMatches: "(?=hello)hello (w)orld" })).ok).toBe(true);
    expect((await probeThroughRunner("/text", { bodyMatches: "(l)\\1o" })).ok).toBe(true);
    // 64 KiB of `a` is too much work for this thread: the worker answers.
    expect((await probeThroughRunner("/big", { bodyMatches: "^a{3}" })).ok).toBe(true);
    expect((await probeThroughRunner("/big", { bodyMatches: "b" })).detail).toBe("body does not match /b/");
  });
});

describe("http probe over TLS", () => {
  let dir: string | undefined;
  let server: Server | undefined;
  let base = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "upkeep-tls-"));
    try {
      execFileSync("openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
      ], { stdio: "ignore" }); // prettier-ignore
    } catch {
      return; // no openssl: the tests below skip
    }
    const options = { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
    server = createHttpsServer(options, handler);
    base = `https://127.0.0.1:${await listen(server)}`;
  });
  afterAll(async () => {
    if (server) await close(server);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a self-signed certificate unless insecure is set", async (t) => {
    if (!server) return t.skip();
    const strict = await httpProbe.run(makeContext(), { url: `${base}/health` }, never());
    expect(strict.ok).toBe(false);
    expect(strict.detail).toMatch(/self[- ]signed/i);
    const insecure = await httpProbe.run(makeContext(), { url: `${base}/health`, insecure: true }, never());
    expect(insecure).toMatchObject({ ok: true, detail: "status 200" });
  });
});
