import { afterEach, describe, expect, it } from "vitest";
import { launchdProbe } from "../../../src/actions/probes/launchd.js";
import { runProcess } from "../../../src/runtime/process.js";
import {
  freePort,
  makeStandin,
  never,
  portAnswers,
  settings,
  waitFor,
  type Standin,
  LAUNCHCTL_STANDIN,
} from "../helpers.js";

describe("launchd probe (through the stand-in launchctl)", () => {
  let standin: Standin;
  afterEach(async () => standin.cleanup());

  it("fails when the job is not loaded, and passes when not running is expected", async () => {
    standin = makeStandin();
    const result = await launchdProbe.run(standin.ctx, { label: "com.upkeep.absent" }, never());
    expect(result).toMatchObject({
      ok: false,
      detail: "gui/501/com.upkeep.absent not loaded (expected running)",
      facts: { loaded: false, running: false },
    });
    const expectStopped = await launchdProbe.run(
      standin.ctx,
      { label: "com.upkeep.absent", expect: { running: false } },
      never(),
    );
    expect(expectStopped.ok).toBe(true);
    expect(standin.calls()).toEqual([
      ["print", "gui/501/com.upkeep.absent"],
      ["print", "gui/501/com.upkeep.absent"],
    ]);
  });

  it("passes when the job is running and reports its pid", async () => {
    standin = makeStandin();
    const port = await freePort();
    const plist = standin.plist("com.upkeep.stub", port);
    const load = await runProcess([LAUNCHCTL_STANDIN, "load", plist], {
      timeoutMs: 10_000,
      env: standin.ctx.env,
    });
    expect(load.exitCode).toBe(0);
    await waitFor(() => portAnswers(port), 10_000, "stub service");
    const result = await launchdProbe.run(
      standin.ctx,
      { label: "com.upkeep.stub", domain: "gui/501" },
      never(),
    );
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(/^gui\/501\/com\.upkeep\.stub running \(pid \d+\)$/);
    expect(result.facts).toMatchObject({ loaded: true, running: true, state: "running" });
  });

  it("reports a launchctl that cannot be run", async () => {
    standin = makeStandin();
    const ctx = { ...standin.ctx, settings: { ...settings, launchctlPath: "/nonexistent/launchctl" } };
    const result = await launchdProbe.run(ctx, { label: "com.x" }, never());
    expect(result).toMatchObject({ ok: false, detail: "command not found: /nonexistent/launchctl (ENOENT)" });
  });

  it("describes the print command", () => {
    standin = makeStandin();
    expect(launchdProbe.describe({ label: "com.02luka.boss-api" }, { settings })).toBe(
      "launchctl print gui/501/com.02luka.boss-api",
    );
  });
});
