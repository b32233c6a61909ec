import { describe, expect, it } from "vitest";
import { execProbe as execProbeImpl, type ExecProbeParams } from "../../../src/actions/probes/exec.js";
import type { ProbeHandler } from "../../../src/actions/types.js";
import { getHandler } from "../../../src/actions/registry.js";
import { systemClock } from "../../../src/runtime/clock.js";
import { probeService } from "../../../src/runtime/probe-runner.js";
import { createRedactor } from "../../../src/runtime/redact.js";
import { service } from "../../core/config-fixture.js";
import { fixture, makeContext, memoryLogger, never, settings } from "../helpers.js";

/** Typed through the interface, as the runtime calls it. */
const execProbe: ProbeHandler<ExecProbeParams> = execProbeImpl;

const node = process.execPath;
const out = fixture("proc-output.mjs");

describe("exec probe", () => {
  it("passes on exit code 0 and fails on another, with stderr as the reason", async () => {
    expect(await execProbe.run(makeContext(), { command: [node, out, "0"] }, never())).toMatchObject({
      ok: true,
      detail: "exit 0",
      facts: { exitCode: 0 },
    });
    const failed = await execProbe.run(
      makeContext(),
      { command: [node, out, "2", "--stderr", "db down"] },
      never(),
    );
    expect(failed).toMatchObject({
      ok: false,
      detail: "exit 2 (expected 0): db down",
      facts: { exitCode: 2 },
    });
  });

  it("checks an expected exit code, given as a number or a numeric string", async () => {
    expect(
      (await execProbe.run(makeContext(), { command: [node, out, "3"], expect: { exitCode: 3 } }, never()))
        .ok,
    ).toBe(true);
    expect(
      (await execProbe.run(makeContext(), { command: [node, out, "3"], expect: { exitCode: "3" } }, never()))
        .ok,
    ).toBe(true);
  });

  it("checks stdout by substring and regular expression", async () => {
    const command = [node, out, "0", "--env", "UPKEEP_STATE"];
    const ctx = makeContext({ env: { ...process.env, UPKEEP_STATE: "ready" } });
    expect((await execProbe.run(ctx, { command, expect: { stdoutContains: "=ready" } }, never())).ok).toBe(
      true,
    );
    expect(
      (await execProbe.run(ctx, { command, expect: { stdoutMatches: "^UPKEEP_STATE=r" } }, never())).ok,
    ).toBe(true);
    expect((await execProbe.run(ctx, { command, expect: { stdoutContains: "busy" } }, never())).detail).toBe(
      'stdout does not contain "busy"',
    );
  });

  it("lets params.env override the context environment", async () => {
    const ctx = makeContext({ env: { ...process.env, UPKEEP_STATE: "ready" } });
    const result = await execProbe.run(
      ctx,
      {
        command: [node, out, "0", "--env", "UPKEEP_STATE"],
        env: { UPKEEP_STATE: "drained" },
        expect: { stdoutContains: "drained" },
      },
      never(),
    );
    expect(result.ok).toBe(true);
  });

  it("reports a missing command clearly", async () => {
    const result = await execProbe.run(makeContext(), { command: ["/nonexistent/health-check"] }, never());
    expect(result).toMatchObject({
      ok: false,
      detail: "command not found: /nonexistent/health-check (ENOENT)",
    });
  });

  it("refuses a command that is not an argv array", async () => {
    const result = await execProbe.run(
      makeContext(),
      { command: "curl localhost" as unknown as string[] },
      never(),
    );
    expect(result.detail).toBe("invalid parameter command: must be a non-empty array of strings");
  });

  it("ends a hung command when its signal times out", async () => {
    const result = await execProbe.run(
      makeContext(),
      { command: [node, fixture("proc-tree.mjs")] },
      AbortSignal.timeout(500),
    );
    expect(result).toMatchObject({ ok: false, detail: "timed out" });
  });

  it("describes the command line", () => {
    expect(execProbe.describe({ command: ["pg_isready", "-h", "127.0.0.1"] }, { settings })).toBe(
      "pg_isready -h 127.0.0.1",
    );
  });
});

describe("exec probe: stdout made to make its pattern backtrack (issue 19)", () => {
  /** Prints 30 `a`s and a `!`: `^(a+)+$` backtracks through 2^30 ways to split them before it fails. */
  // printf from sh starts in milliseconds even on a loaded machine; a node child could use up the timeout.
  const evil = ["sh", "-c", `printf '%s' '${"a".repeat(30)}!'`];

  /** Through the probe runner, as a tick runs it: the runner's deadline races the handler. */
  const probeThroughRunner = (stdoutMatches: string) => {
    const base = service("worker");
    const worker = {
      ...base,
      probe: {
        ...base.probe,
        type: "exec",
        // Slack for starting node on a busy machine; the pattern gets what is left.
        timeoutMs: 3000,
        params: { command: evil, expect: { stdoutMatches } },
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
    return probeService(worker, deps, never());
  };

  it("answers ^(a+)+$ at once on V8's linear engine: stdout does not match", async () => {
    expect(await probeThroughRunner("^(a+)+$")).toMatchObject({
      ok: false,
      detail: "stdout does not match /^(a+)+$/",
    });
  });

  it("fails a pattern only backtracking can run when it outlasts the probe timeout, saying so", async () => {
    const result = await probeThroughRunner("^(?!x)(a+)+$");
    expect(result).toMatchObject({ ok: false, facts: { exitCode: 0 } });
    expect(result.detail).toMatch(/^stdout pattern \/\^\(\?!x\)\(a\+\)\+\$\/ did not finish within \d+ms$/);
  });

  it("still passes a pattern that matches, on either engine", async () => {
    expect((await probeThroughRunner("^a+!$")).ok).toBe(true);
    expect((await probeThroughRunner("^(?=a)(a)\\1+!$")).ok).toBe(true);
  });
});
