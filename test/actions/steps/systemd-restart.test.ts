import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemdRestartStep } from "../../../src/actions/steps/systemd-restart.js";
import { fixture, makeContext, never, settings } from "../helpers.js";

const systemctl = fixture("proc-systemctl-standin.mjs");

describe("systemd.restart step (through a stand-in systemctl)", () => {
  let dir: string;
  let log: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "upkeep-systemctl-"));
    log = join(dir, "calls.log");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const ctx = (exit = "0") =>
    makeContext({
      settings: { ...settings, systemctlPath: systemctl },
      env: { ...process.env, SYSTEMCTL_STANDIN_LOG: log, SYSTEMCTL_STANDIN_EXIT: exit },
    });
  const calls = (): string[][] =>
    existsSync(log)
      ? readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .map((l) => (JSON.parse(l) as { argv: string[] }).argv)
      : [];

  it("runs systemctl --user restart <unit> by default", async () => {
    const result = await systemdRestartStep.run(ctx(), { unit: "boss-api.service" }, never());
    expect(result).toEqual({ ok: true, detail: `${systemctl} --user restart boss-api.service: ok` });
    expect(calls()).toEqual([["--user", "restart", "boss-api.service"]]);
  });

  it("runs the system manager when user is false", async () => {
    await systemdRestartStep.run(ctx(), { unit: "nginx.service", user: false }, never());
    expect(calls()).toEqual([["restart", "nginx.service"]]);
  });

  it("fails (a result, not a throw) when systemctl does", async () => {
    const result = await systemdRestartStep.run(ctx("5"), { unit: "nope.service" }, never());
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(
      `${systemctl} --user restart nope.service: exit 5 (Failed to restart nope.service: Unit nope.service not found.)`,
    );
  });

  it("describes the command line", () => {
    expect(systemdRestartStep.describe({ unit: "boss-api.service" }, { settings })).toBe(
      "systemctl --user restart boss-api.service",
    );
    expect(
      systemdRestartStep.describe(
        { unit: "x.service", user: false },
        { settings: { ...settings, systemctlPath: "/opt/systemctl" } },
      ),
    ).toBe("/opt/systemctl restart x.service");
  });
});
