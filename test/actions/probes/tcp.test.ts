import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tcpProbe as tcpProbeImpl, type TcpParams } from "../../../src/actions/probes/tcp.js";
import type { ProbeHandler } from "../../../src/actions/types.js";
import { freePort, makeContext, never, settings, silentServer } from "../helpers.js";

/** Typed through the interface, as the runtime calls it. */
const tcpProbe: ProbeHandler<TcpParams> = tcpProbeImpl;

describe("tcp probe", () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("passes when the port accepts a connection", async () => {
    const result = await tcpProbe.run(makeContext(), { port }, never());
    expect(result).toMatchObject({
      ok: true,
      detail: `connected to 127.0.0.1:${port}`,
      facts: { host: "127.0.0.1", port },
    });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("accepts a port rendered from a template as a numeric string", async () => {
    expect((await tcpProbe.run(makeContext(), { host: "127.0.0.1", port: String(port) }, never())).ok).toBe(
      true,
    );
  });

  it("fails with the connect error when nothing listens", async () => {
    const closed = await freePort();
    const result = await tcpProbe.run(makeContext(), { port: closed }, never());
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(`connect ECONNREFUSED 127.0.0.1:${closed}`);
  });

  it("passes on a port that accepts but never answers (connecting is all it checks)", async () => {
    const silent = await silentServer();
    try {
      expect((await tcpProbe.run(makeContext(), { port: silent.port }, never())).ok).toBe(true);
    } finally {
      await silent.close();
    }
  });

  it("fails clearly on parameters that are not a port", async () => {
    expect((await tcpProbe.run(makeContext(), { port: "abc" }, never())).detail).toBe(
      'invalid parameter port: "abc" is not a number',
    );
    expect((await tcpProbe.run(makeContext(), { port: 70000 }, never())).detail).toMatch(
      /not an integer in 1\.\.65535/,
    );
  });

  it("does not connect once its signal has timed out", async () => {
    const controller = new AbortController();
    controller.abort(new DOMException("deadline", "TimeoutError"));
    const result = await tcpProbe.run(makeContext(), { port }, controller.signal);
    expect(result).toMatchObject({ ok: false, detail: "timed out" });
  });

  it("hears an abort that arrives while it is starting", async () => {
    const controller = new AbortController();
    const running = tcpProbe.run(makeContext(), { port }, controller.signal);
    controller.abort();
    expect(await running).toMatchObject({ ok: false, detail: "aborted" });
  });

  it("describes itself", () => {
    expect(tcpProbe.describe({ port: 3002 }, { settings })).toBe("tcp connect 127.0.0.1:3002");
  });
});
