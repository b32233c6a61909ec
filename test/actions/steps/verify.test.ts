import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { tcpProbe } from "../../../src/actions/probes/tcp.js";
import { verifyStep as verifyStepImpl, type VerifyParams } from "../../../src/actions/steps/verify.js";
import type { ProbeResult, StepHandler } from "../../../src/actions/types.js";
import { systemClock } from "../../../src/runtime/clock.js";
import { freePort, makeContext, never, probeOf, settings } from "../helpers.js";

/** Typed through the interface, as the runtime calls it. */
const verifyStep: StepHandler<VerifyParams> = verifyStepImpl;

const up: ProbeResult = { ok: true, latencyMs: 1, detail: "connected" };
const down: ProbeResult = { ok: false, latencyMs: 1, detail: "connect ECONNREFUSED" };

describe("verify step", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  });

  it("passes once a real service comes up part-way through", async () => {
    const port = await freePort();
    let calls = 0;
    const probe = async (signal: AbortSignal): Promise<ProbeResult> => {
      calls++;
      if (calls === 3) {
        // The service comes up between the 2nd and 3rd attempt.
        const server = createServer((socket) => socket.end());
        servers.push(server);
        await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
      }
      return tcpProbe.run(makeContext(), { port }, signal);
    };
    const result = await verifyStep.run(
      makeContext({ probe }),
      { interval: "20ms" },
      AbortSignal.timeout(20_000),
    );
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(
      new RegExp(`^passed \\(connected to 127\\.0\\.0\\.1:${port}\\) after 3 attempt\\(s\\)`),
    );
  });

  it("fails at its timeout when the service never comes up", async () => {
    const port = await freePort();
    const probe = (signal: AbortSignal): Promise<ProbeResult> =>
      tcpProbe.run(makeContext(), { port }, signal);
    const result = await verifyStep.run(
      makeContext({ probe }),
      { interval: "20ms" },
      AbortSignal.timeout(300),
    );
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(
      new RegExp(
        `^not passing \\(timed out, \\d+ attempt\\(s\\)\\): connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`,
      ),
    );
  });

  it("backs off exponentially up to maxInterval on the injected clock", async () => {
    vi.useFakeTimers();
    const times: number[] = [];
    const probe = async (): Promise<ProbeResult> => {
      times.push(systemClock.now());
      return down;
    };
    const controller = new AbortController();
    const running = verifyStep.run(
      makeContext({ probe }),
      { interval: "500ms", maxInterval: "3s" },
      controller.signal,
    );
    await vi.advanceTimersByTimeAsync(500 + 1000 + 2000 + 3000 + 3000);
    controller.abort();
    const result = await running;
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps).toEqual([500, 1000, 2000, 3000, 3000]);
    expect(result).toMatchObject({
      ok: false,
      detail: "not passing (aborted, 6 attempt(s)): connect ECONNREFUSED",
    });
  });

  it("needs the given number of consecutive passes: a failure resets the streak", async () => {
    const probe = probeOf([up, down, up, up]);
    const result = await verifyStep.run(makeContext({ probe }), { interval: "1ms", successes: 2 }, never());
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(/after 4 attempt\(s\)/);
  });

  it("accepts successes rendered as a numeric string and refuses a non-number", async () => {
    const probe = probeOf([up]);
    expect((await verifyStep.run(makeContext({ probe }), { successes: "1" }, never())).ok).toBe(true);
    expect((await verifyStep.run(makeContext({ probe }), { successes: "two" }, never())).detail).toBe(
      'invalid parameter successes: "two" is not a number',
    );
  });

  it("fails without a probe in its context", async () => {
    expect((await verifyStep.run(makeContext(), {}, never())).ok).toBe(false);
  });

  it("describes its policy", () => {
    expect(verifyStep.describe({}, { settings })).toBe(
      "verify: re-probe until 1 consecutive pass(es), backoff 500ms..5s",
    );
  });
});
