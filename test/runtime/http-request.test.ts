import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpRequest, isTimeoutReason, redactUrl } from "../../src/runtime/http-request.js";
import { silentServer } from "../actions/helpers.js";

describe("httpRequest", () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/big") {
        res.writeHead(200);
        res.end("b".repeat(10_000));
        return;
      }
      res.writeHead(201, { "x-upkeep": "yes" });
      res.end(`${req.method} ${req.url}`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("returns status, headers, body and latency", async () => {
    const outcome = await httpRequest(`${base}/x`, { method: "DELETE", timeoutMs: 5000 });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.response).toMatchObject({ status: 201, body: "DELETE /x", truncated: false });
    expect(outcome.response.headers["x-upkeep"]).toBe("yes");
    expect(outcome.response.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("caps the body it reads", async () => {
    const outcome = await httpRequest(`${base}/big`, { maxBodyBytes: 100 });
    expect(outcome.ok && outcome.response.body).toBe("b".repeat(100));
    expect(outcome.ok && outcome.response.truncated).toBe(true);
  });

  it("ends at its own deadline, or when its signal aborts, on a server that never answers", async () => {
    const silent = await silentServer();
    try {
      const url = `http://127.0.0.1:${silent.port}/`;
      expect(await httpRequest(url, { timeoutMs: 100 })).toMatchObject({ ok: false, code: "TIMEOUT" });
      const controller = new AbortController();
      const pending = httpRequest(url, { signal: controller.signal });
      controller.abort();
      expect(await pending).toMatchObject({ ok: false, code: "ABORTED", error: "aborted" });
      expect(await httpRequest(url, { signal: AbortSignal.timeout(50) })).toMatchObject({
        ok: false,
        code: "TIMEOUT",
      });
    } finally {
      await silent.close();
    }
  });

  it("classifies abort reasons and hides URL passwords", () => {
    expect(isTimeoutReason(new DOMException("x", "TimeoutError"))).toBe(true);
    expect(isTimeoutReason(Object.assign(new Error("probe timeout"), { code: "E_TIMEOUT" }))).toBe(true);
    expect(isTimeoutReason(new DOMException("x", "AbortError"))).toBe(false);
    expect(redactUrl("https://u:p@h/x?y")).toBe("https://u:***@h/x?y");
    expect(redactUrl("https://h/x")).toBe("https://h/x");
  });
});
