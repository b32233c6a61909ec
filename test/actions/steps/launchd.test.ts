/**
 * The launchd steps end to end through the stand-in launchctl: they start and stop a real stub service,
 * and the stand-in's call log proves which commands ran.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { launchdProbe } from "../../../src/actions/probes/launchd.js";
import { launchdBootoutStep } from "../../../src/actions/steps/launchd-bootout.js";
import { launchdBootstrapStep } from "../../../src/actions/steps/launchd-bootstrap.js";
import { launchdKickstartStep } from "../../../src/actions/steps/launchd-kickstart.js";
import { launchdLoadStep } from "../../../src/actions/steps/launchd-load.js";
import { launchdUnloadStep } from "../../../src/actions/steps/launchd-unload.js";
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

const LABEL = "com.upkeep.stub";
/** launchctl's path is not the default, so results name it in full. */
const lc = LAUNCHCTL_STANDIN;

async function pidOf(standin: Standin): Promise<number> {
  const probe = await launchdProbe.run(standin.ctx, { label: LABEL }, never());
  expect(probe.ok).toBe(true);
  return probe.facts?.pid as number;
}

describe("launchd steps (through the stand-in launchctl)", () => {
  let standin: Standin;
  let port: number;
  let plist: string;
  beforeEach(async () => {
    standin = makeStandin();
    port = await freePort();
    plist = standin.plist(LABEL, port);
  });
  afterEach(async () => standin.cleanup());

  it("load starts the service and unload stops it (the baseline heal)", async () => {
    const loaded = await launchdLoadStep.run(standin.ctx, { label: LABEL, plist }, never());
    expect(loaded).toEqual({ ok: true, detail: `${lc} load ${plist}: ok` });
    await waitFor(() => portAnswers(port), 10_000, "service to answer after load");

    const unloaded = await launchdUnloadStep.run(standin.ctx, { label: LABEL, plist }, never());
    expect(unloaded).toEqual({ ok: true, detail: `${lc} unload ${plist}: ok` });
    expect(await portAnswers(port)).toBe(false);
    expect(standin.calls()).toEqual([
      ["load", plist],
      ["unload", plist],
    ]);
  });

  it("treats unloading a job that is not loaded as done, and loading a loaded one too", async () => {
    const unloaded = await launchdUnloadStep.run(standin.ctx, { label: LABEL, plist }, never());
    expect(unloaded.ok).toBe(true);
    expect(unloaded.detail).toBe(`${lc} unload ${plist}: not loaded (nothing to stop)`);

    expect((await launchdLoadStep.run(standin.ctx, { label: LABEL, plist }, never())).ok).toBe(true);
    const again = await launchdLoadStep.run(standin.ctx, { label: LABEL, plist }, never());
    expect(again).toMatchObject({ ok: true, detail: `${lc} load ${plist}: already loaded` });
  });

  it("fails (as a result, not a throw) when the plist does not exist", async () => {
    const missing = `${standin.dir}/missing.plist`;
    const result = await launchdLoadStep.run(standin.ctx, { label: LABEL, plist: missing }, never());
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(`${lc} load ${missing}: exit 1 (${missing}: No such file or directory)`);
  });

  it("bootstrap starts the service and bootout stops it, with the modern domain syntax", async () => {
    const boot = await launchdBootstrapStep.run(standin.ctx, { label: LABEL, plist }, never());
    expect(boot).toEqual({ ok: true, detail: `${lc} bootstrap gui/501 ${plist}: ok` });
    await waitFor(() => portAnswers(port), 10_000, "service to answer after bootstrap");

    const out = await launchdBootoutStep.run(standin.ctx, { label: LABEL, plist }, never());
    expect(out).toEqual({ ok: true, detail: `${lc} bootout gui/501/${LABEL}: ok` });
    expect(await portAnswers(port)).toBe(false);
    expect(standin.calls()).toEqual([
      ["bootstrap", "gui/501", plist],
      ["bootout", `gui/501/${LABEL}`],
    ]);
  });

  it("falls back to load/unload when launchctl does not know bootstrap/bootout", async () => {
    await standin.cleanup();
    standin = makeStandin({ LAUNCHCTL_STANDIN_LEGACY: "1" });
    plist = standin.plist(LABEL, port);

    const boot = await launchdBootstrapStep.run(standin.ctx, { label: LABEL, plist }, never());
    expect(boot.ok).toBe(true);
    expect(boot.detail).toBe(`${lc} load ${plist}: ok (legacy fallback: bootstrap unsupported)`);
    await waitFor(() => portAnswers(port), 10_000, "service to answer after the legacy load");

    const out = await launchdBootoutStep.run(standin.ctx, { label: LABEL, plist }, never());
    expect(out.detail).toBe(`${lc} unload ${plist}: ok (legacy fallback: bootout unsupported)`);
    expect(await portAnswers(port)).toBe(false);
    expect(standin.calls()).toEqual([
      ["bootstrap", "gui/501", plist],
      ["load", plist],
      ["bootout", `gui/501/${LABEL}`],
      ["unload", plist],
    ]);
  });

  it("kickstart -k restarts a running job with a new process", async () => {
    await launchdLoadStep.run(standin.ctx, { label: LABEL, plist }, never());
    await waitFor(() => portAnswers(port), 10_000, "service to answer");
    const before = await pidOf(standin);

    const kick = await launchdKickstartStep.run(standin.ctx, { label: LABEL }, never());
    expect(kick).toEqual({ ok: true, detail: `${lc} kickstart -k gui/501/${LABEL}: ok` });
    await waitFor(() => portAnswers(port), 10_000, "service to answer after kickstart");
    expect(await pidOf(standin)).not.toBe(before);

    const gentle = await launchdKickstartStep.run(standin.ctx, { label: LABEL, kill: false }, never());
    expect(gentle.detail).toBe(`${lc} kickstart gui/501/${LABEL}: ok`);
  });

  it("kickstart of an unknown job fails with launchctl's reason", async () => {
    const kick = await launchdKickstartStep.run(standin.ctx, { label: "com.upkeep.none" }, never());
    expect(kick.ok).toBe(false);
    expect(kick.detail).toBe(
      `${lc} kickstart -k gui/501/com.upkeep.none: exit 113 (Could not find service "com.upkeep.none" in domain for port)`,
    );
  });

  it("fails clearly without a label", async () => {
    expect((await launchdLoadStep.run(standin.ctx, {} as { label: string }, never())).detail).toBe(
      "invalid parameter label: is required",
    );
    expect(standin.calls()).toEqual([]);
  });
});

describe("launchd step descriptions", () => {
  const savedHome = process.env.HOME;
  beforeEach(() => {
    process.env.HOME = "/Users/x";
  });
  afterEach(() => {
    process.env.HOME = savedHome;
  });

  it("show the resolved command line with the default plist path expanded", () => {
    expect(launchdUnloadStep.describe({ label: "com.a" }, { settings })).toBe(
      "launchctl unload /Users/x/Library/LaunchAgents/com.a.plist",
    );
    expect(launchdLoadStep.describe({ label: "com.a", plist: "~/agents/a.plist" }, { settings })).toBe(
      "launchctl load /Users/x/agents/a.plist",
    );
    expect(launchdBootoutStep.describe({ label: "com.02luka.health-proxy" }, { settings })).toBe(
      "launchctl bootout gui/501/com.02luka.health-proxy",
    );
    expect(launchdBootstrapStep.describe({ label: "com.a", domain: "user/501" }, { settings })).toBe(
      "launchctl bootstrap user/501 /Users/x/Library/LaunchAgents/com.a.plist",
    );
    expect(launchdKickstartStep.describe({ label: "com.a" }, { settings })).toBe(
      "launchctl kickstart -k gui/501/com.a",
    );
    expect(launchdKickstartStep.describe({ label: "com.a", kill: false }, { settings })).toBe(
      "launchctl kickstart gui/501/com.a",
    );
  });

  it("show launchctl's full path when it is not the default", () => {
    const custom = { ...settings, launchctlPath: "/opt/test/launchctl" };
    expect(launchdBootoutStep.describe({ label: "com.a" }, { settings: custom })).toBe(
      "/opt/test/launchctl bootout gui/501/com.a",
    );
    expect(
      launchdUnloadStep.describe(
        { label: "com.a" },
        { settings: { ...settings, launchctlPath: "/bin/launchctl" } },
      ),
    ).toBe("launchctl unload /Users/x/Library/LaunchAgents/com.a.plist");
  });
});
