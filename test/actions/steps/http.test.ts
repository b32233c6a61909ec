import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpStep as httpStepImpl, type HttpStepParams } from "../../../src/actions/steps/http.js";
import type { StepHandler } from "../../../src/actions/types.js";
import { freePort, makeContext, never, settings, silentServer } from "../helpers.js";

/** Typed through the interface, as the runtime calls it. */
const httpStep: StepHandler<HttpStepParams> = httpStepImpl;

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe("http step", () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        seen.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        const status = req.url === "/broken" ? 500 : req.url === "/accepted" ? 202 : 200;
        res.writeHead(status, { "content-type": "text/plain" });
        res.end(status === 500 ? "restart failed" : "restarting");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("POSTs by default and passes on 2xx, keeping the body as output", async () => {
    const result = await httpStep.run(makeContext(), { url: `${base}/restart` }, never());
    expect(result).toEqual({ ok: true, detail: `POST ${base}/restart: status 200`, output: "restarting" });
    expect(seen.at(-1)).toMatchObject({ method: "POST", url: "/restart" });
  });

  it("sends an object body as JSON and a string body as is", async () => {
    await httpStep.run(makeContext(), { url: `${base}/restart`, body: { service: "boss-api" } }, never());
    expect(seen.at(-1)?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(seen.at(-1)?.body ?? "")).toEqual({ service: "boss-api" });
    await httpStep.run(
      makeContext(),
      { url: `${base}/restart`, method: "put", body: "now", headers: { authorization: "Bearer t" } },
      never(),
    );
    expect(seen.at(-1)).toMatchObject({ method: "PUT", body: "now", headers: { authorization: "Bearer t" } });
  });

  it("fails on an unexpected status", async () => {
    const result = await httpStep.run(makeContext(), { url: `${base}/broken` }, never());
    expect(result).toEqual({
      ok: false,
      detail: `POST ${base}/broken: status 500 (expected 2xx)`,
      output: "restart failed",
    });
    const exact = await httpStep.run(
      makeContext(),
      { url: `${base}/accepted`, expect: { status: 200 } },
      never(),
    );
    expect(exact.detail).toBe(`POST ${base}/accepted: status 202 (expected 200)`);
  });

  it("fails on a refused connection and at its timeout", async () => {
    const port = await freePort();
    const refused = await httpStep.run(makeContext(), { url: `http://127.0.0.1:${port}/restart` }, never());
    expect(refused).toEqual({
      ok: false,
      detail: `POST http://127.0.0.1:${port}/restart: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
    const silent = await silentServer();
    try {
      const hung = await httpStep.run(
        makeContext(),
        { url: `http://127.0.0.1:${silent.port}/` },
        AbortSignal.timeout(200),
      );
      expect(hung).toEqual({ ok: false, detail: `POST http://127.0.0.1:${silent.port}/: timed out` });
    } finally {
      await silent.close();
    }
  });

  it("describes the request without a password in the URL", () => {
    expect(httpStep.describe({ url: "http://127.0.0.1:4000/restart" }, { settings })).toBe(
      "POST http://127.0.0.1:4000/restart",
    );
    expect(
      httpStep.describe({ url: "http://admin:s3cret@127.0.0.1:4000/restart", method: "put" }, { settings }),
    ).toBe("PUT http://admin:***@127.0.0.1:4000/restart");
  });
});
