import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cliPath } from "../../src/schedule/runner.js";
import { runMain, sandbox, type Sandbox } from "../schedule/helpers.js";

let box: Sandbox;
let unitDir: string;
beforeEach(() => {
  box = sandbox();
  unitDir = join(box.home, ".config", "systemd", "user");
});
afterEach(() => box.cleanup());

const install = (...extra: string[]) => runMain(["systemd", "install", "--rules", box.rules, ...extra]);
const uninstall = (...extra: string[]) => runMain(["systemd", "uninstall", "--rules", box.rules, ...extra]);
const SHOW_TIMER =
  "--property=LoadState,ActiveState,UnitFileState,LastTriggerUSec,NextElapseUSecMonotonic,Result";

describe("upkeep systemd install", () => {
  it("writes both units (0644), reloads, enables the timer with --now and verifies it, in that order", async () => {
    const result = await install();
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([
      ["--user", "daemon-reload"],
      ["--user", "enable", "--now", "upkeep.timer"],
      ["--user", "show", "upkeep.timer", SHOW_TIMER],
    ]);
    for (const name of ["upkeep.service", "upkeep.timer"])
      expect(statSync(join(unitDir, name)).mode & 0o777).toBe(0o644);
    const service = readFileSync(join(unitDir, "upkeep.service"), "utf8");
    expect(service).toContain(`ExecStart=${process.execPath} ${cliPath()} run --rules ${box.rules}\n`);
    expect(service).toContain("Type=oneshot\n");
    expect(service).toContain(`WorkingDirectory=${join(box.root, "project")}\n`);
    expect(readFileSync(join(unitDir, "upkeep.timer"), "utf8")).toContain("OnUnitActiveSec=120s\n");
    expect(result.stdout).toContain("timer active");
    expect(result.stdout).toContain("loginctl enable-linger");
  });

  it("respects XDG_CONFIG_HOME", async () => {
    process.env.XDG_CONFIG_HOME = join(box.root, "xdg");
    expect((await install()).code).toBe(0);
    expect(existsSync(join(box.root, "xdg", "systemd", "user", "upkeep.timer"))).toBe(true);
    expect(existsSync(unitDir)).toBe(false);
  });

  it("without a user bus, fails (exit 1) with the lingering hint and stops after the first command", async () => {
    process.env.SCHEDULE_STANDIN_NO_BUS = "1";
    const result = await install();
    expect(result.code).toBe(1);
    expect(box.calls()).toEqual([["--user", "daemon-reload"]]);
    expect(result.stdout).toContain("Failed to connect to bus");
    expect(result.stdout).toContain("loginctl enable-linger");
  });

  it("--dry-run prints both units and every command, and writes and runs nothing", async () => {
    const result = await install("--dry-run", "--unit", "upkeep-dev");
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([]);
    expect(existsSync(join(box.home, ".config"))).toBe(false);
    expect(result.stdout).toContain(`write ${join(unitDir, "upkeep-dev.service")} (mode 0644):`);
    expect(result.stdout).toContain("| ExecStart=");
    expect(result.stdout).toContain("| OnUnitActiveSec=120s");
    expect(result.stdout).toContain(`run ${box.systemctl} --user daemon-reload`);
    expect(result.stdout).toContain(`run ${box.systemctl} --user enable --now upkeep-dev.timer`);
  });
});

describe("upkeep systemd uninstall", () => {
  it("disables the timer, removes both units and reloads", async () => {
    await install();
    box.clearCalls();
    const result = await uninstall();
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([
      ["--user", "disable", "--now", "upkeep.timer"],
      ["--user", "daemon-reload"],
    ]);
    expect(existsSync(join(unitDir, "upkeep.service"))).toBe(false);
    expect(existsSync(join(unitDir, "upkeep.timer"))).toBe(false);
  });

  it("succeeds when nothing is installed", async () => {
    const result = await uninstall();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("was not installed");
  });

  it("--dry-run leaves everything in place", async () => {
    await install();
    box.clearCalls();
    expect((await uninstall("--dry-run")).code).toBe(0);
    expect(box.calls()).toEqual([]);
    expect(existsSync(join(unitDir, "upkeep.timer"))).toBe(true);
  });
});

describe("upkeep systemd status", () => {
  it("reports the timer state, last trigger and the last tick's result from systemctl show", async () => {
    await install();
    const result = await runMain(["systemd", "status", "--rules", box.rules, "--format", "json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      installed: true,
      timerState: "active",
      enabled: "enabled",
      lastTrigger: "Thu 2025-01-02 03:04:05 UTC",
      result: "success",
      exitStatus: "1",
      error: null,
    });
  });

  it("before install: units missing, timer inactive, never triggered", async () => {
    const result = await runMain(["systemd", "status", "--rules", box.rules, "--format", "json"]);
    expect(JSON.parse(result.stdout)).toMatchObject({
      installed: false,
      timerState: "inactive",
      lastTrigger: null,
    });
  });
});
