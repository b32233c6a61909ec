import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
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

describe("upkeep systemd install", () => {
  it("checks the manager, writes both units (0644), reloads, clears a failure, enables and restarts the timer and verifies it, in that order", async () => {
    const result = await install();
    expect(result.code).toBe(0);
    expect(box.calls().slice(0, 6)).toEqual([
      ["--user", "show", "--property=Version"],
      ["--user", "daemon-reload"],
      ["--user", "reset-failed", "upkeep.service"],
      ["--user", "enable", "upkeep.timer"],
      ["--user", "restart", "upkeep.timer"],
      ["--user", "show", "upkeep.timer", "--property=LoadState,ActiveState"],
    ]);
    for (const name of ["upkeep.service", "upkeep.timer"])
      expect(statSync(join(unitDir, name)).mode & 0o777).toBe(0o644);
    const service = readFileSync(join(unitDir, "upkeep.service"), "utf8");
    expect(service).toContain(`ExecStart=${process.execPath} ${cliPath()} run --rules ${box.rules}\n`);
    expect(service).toContain("Type=oneshot\n");
    expect(service).toContain("KillMode=process\n");
    expect(service).toContain(`WorkingDirectory=${join(box.root, "project")}\n`);
    expect(readFileSync(join(unitDir, "upkeep.timer"), "utf8")).toContain("OnUnitActiveSec=120s\n");
    expect(result.stdout).toContain("timer active");
    expect(result.stdout).toContain("loginctl enable-linger");
  });

  it("prints when the next tick starts as a time of day, from list-timers, not the monotonic NextElapseUSecMonotonic", async () => {
    const result = await install();
    expect(result.stdout).toMatch(/^next tick: 2025-01-02T03:06:05\.000Z \(now\)$/m);
    expect(result.stdout).not.toContain("2d 3h");
  });

  it("respects XDG_CONFIG_HOME", async () => {
    process.env.XDG_CONFIG_HOME = join(box.root, "xdg");
    expect((await install()).code).toBe(0);
    expect(existsSync(join(box.root, "xdg", "systemd", "user", "upkeep.timer"))).toBe(true);
    expect(existsSync(unitDir)).toBe(false);
  });

  it("without a user bus, fails (exit 1) with the lingering hint before it writes anything", async () => {
    process.env.SCHEDULE_STANDIN_NO_BUS = "1";
    const result = await install();
    expect(result.code).toBe(1);
    expect(box.calls()).toEqual([["--user", "show", "--property=Version"]]);
    expect(result.stdout).toContain("Failed to connect to bus");
    expect(result.stdout).toContain("loginctl enable-linger");
    expect(existsSync(unitDir)).toBe(false);
  });

  it("refuses (exit 2) a --node that does not exist, before it writes or runs anything", async () => {
    const result = await install("--node", join(box.root, "no", "such", "node"));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(box.root, "no", "such", "node")}, which does not exist`);
    expect(result.stderr).toContain("fix: run `upkeep systemd install` again");
    expect(box.calls()).toEqual([]);
    expect(existsSync(unitDir)).toBe(false);
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
    expect(result.stdout).toContain(`run ${box.systemctl} --user enable upkeep-dev.timer`);
    expect(result.stdout).toContain(`run ${box.systemctl} --user restart upkeep-dev.timer`);
  });
});

describe("upkeep systemd uninstall", () => {
  it("disables the timer, removes both units and the enable link, reloads and clears a failed state", async () => {
    await install();
    box.clearCalls();
    const result = await uninstall();
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([
      ["--user", "disable", "--now", "upkeep.timer"],
      ["--user", "daemon-reload"],
      ["--user", "reset-failed", "upkeep.service", "upkeep.timer"],
    ]);
    expect(existsSync(join(unitDir, "upkeep.service"))).toBe(false);
    expect(existsSync(join(unitDir, "upkeep.timer"))).toBe(false);
  });

  it("without a user bus still removes the files and the enable link, and says what it could not do (exit 1)", async () => {
    await install();
    const link = join(unitDir, "timers.target.wants", "upkeep.timer");
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(unitDir, "upkeep.timer"), link);
    process.env.SCHEDULE_STANDIN_NO_BUS = "1";
    const result = await uninstall();
    expect(result.code).toBe(1);
    for (const file of ["upkeep.service", "upkeep.timer", "timers.target.wants/upkeep.timer"])
      expect(existsSync(join(unitDir, file)), file).toBe(false);
    expect(result.stdout).toMatch(/^FAIL .* --user daemon-reload: .*loginctl enable-linger/m);
    expect(result.stderr).toContain("uninstall incomplete");
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
  it("reports the timer state, next run, last trigger and the last tick's result and what it means", async () => {
    await install();
    const result = await runMain(["systemd", "status", "--rules", box.rules, "--format", "json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      installed: true,
      loaded: true,
      timerState: "active",
      enabled: "enabled",
      lastTrigger: "2025-01-02T03:04:05.000Z",
      nextElapse: "2025-01-02T03:06:05.000Z",
      lastRun: "2025-01-02T03:04:05.000Z",
      result: "success",
      exitStatus: "1",
      exitMeaning: "a watched service is still down",
      failed: false,
      error: null,
    });
  });

  it("before install: not loaded, never ran, no result (systemd's Result=success of an unknown unit is not one)", async () => {
    const result = await runMain(["systemd", "status", "--rules", box.rules, "--format", "json"]);
    expect(JSON.parse(result.stdout)).toMatchObject({
      installed: false,
      loaded: false,
      timerState: null,
      lastTrigger: null,
      nextElapse: null,
      lastRun: null,
      result: null,
      exitStatus: null,
    });
    const text = await runMain(["systemd", "status", "--rules", box.rules]);
    expect(text.stdout).toContain("last result:  never ran\n");
    expect(text.stdout).toContain("timer:        not loaded\n");
  });
});
