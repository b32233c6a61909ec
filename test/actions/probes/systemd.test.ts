/**
 * The systemd probe against a real systemd user manager (shared/tools/systemd-user-manager, see
 * test/schedule/user-manager.ts) for a throwaway user: a running transient unit, a file unit that is
 * stopped and one systemd restarted, a unit that failed, and one that does not exist.
 *
 * A user manager only answers its own user, and this suite runs as root (the tool needs root). So
 * `runtime.systemctl` points at a two-line wrapper that switches to the user (setpriv) and execs the
 * real systemctl with the probe's argv untouched; the environment (XDG_RUNTIME_DIR,
 * DBUS_SESSION_BUS_ADDRESS) is the one the probe passes, as it would be for upkeep run by that user.
 * Where the manager cannot start, the suite is skipped with the tool's reason.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemdProbe } from "../../../src/actions/probes/systemd.js";
import type { HandlerContext } from "../../../src/actions/types.js";
import { startUserManager, stopUserManager, until, type UserManager } from "../../schedule/user-manager.js";
import { makeContext, never, settings } from "../helpers.js";

const NAME = `upkprb${process.pid % 100000}`;
const started = await startUserManager(NAME);
const reason = started.ok ? "" : started.reason;
if (!started.ok) console.warn(`systemd probe: skipped: ${reason}`);

const PREFIX = "upkeep-probe-test";

describe.skipIf(!started.ok)(
  `systemd probe against a real user manager${reason ? ` (${reason})` : ""}`,
  () => {
    const m = (started as { manager: UserManager }).manager;
    let dir = "";
    let ctx: HandlerContext;
    const calls = (): string[] => readFileSync(join(dir, "calls.log"), "utf8").trim().split("\n");
    const probe = (unit: string, expect?: Record<string, unknown>) =>
      systemdProbe.run(ctx, { unit, ...(expect ? { expect } : {}) }, never());
    const mainPid = async (unit: string): Promise<number> =>
      Number((await m.show(unit, "MainPID"))["MainPID"]);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "upkeep-systemd-probe-"));
      const wrapper = join(dir, "systemctl");
      writeFileSync(
        wrapper,
        `#!/bin/sh\nprintf '%s\\n' "$*" >> ${join(dir, "calls.log")}\n` +
          `exec setpriv --reuid=${m.uid} --regid=${m.gid} --init-groups systemctl "$@"\n`,
      );
      chmodSync(wrapper, 0o755);
      const env = Object.fromEntries(
        m.env.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      );
      ctx = makeContext({ env, settings: { ...settings, systemctlPath: wrapper } });
      const units = join(m.home, ".config", "systemd", "user");
      mkdirSync(units, { recursive: true });
      for (const d of [join(m.home, ".config"), join(m.home, ".config", "systemd"), units])
        chownSync(d, m.uid, m.gid);
      for (const [name, extra] of [
        ["stopped", ""],
        ["restarting", "Restart=always\nRestartSec=100ms\n"],
      ] as const) {
        const file = join(units, `${PREFIX}-${name}.service`);
        writeFileSync(file, `[Service]\nExecStart=/bin/sleep 300\n${extra}`);
        chownSync(file, m.uid, m.gid);
      }
      expect((await m.systemctl("daemon-reload")).code).toBe(0);
    }, 60_000);

    afterAll(async () => {
      await stopUserManager(NAME);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it("passes a running unit and names its state and main pid, from one `systemctl --user show`", async () => {
      const unit = `${PREFIX}-sleep`;
      const run = await m.as(["systemd-run", "--user", `--unit=${unit}`, "/bin/sleep", "300"]);
      expect(run.code, run.stderr).toBe(0);
      const pid = await mainPid(`${unit}.service`);
      const result = await probe(unit);
      expect(result).toMatchObject({
        ok: true,
        detail: `${unit}.service active (running) pid ${pid}`,
        facts: {
          unit: `${unit}.service`,
          loadState: "loaded",
          activeState: "active",
          subState: "running",
          active: true,
          mainPid: pid,
          result: "success",
          restarts: 0,
        },
      });
      expect(calls()).toEqual([
        `--user show ${unit} --property=Id,LoadState,ActiveState,SubState,MainPID,Result,NRestarts`,
      ]);
      // Stopped, a transient unit is gone altogether.
      expect((await m.systemctl("stop", `${unit}.service`)).code).toBe(0);
      expect(await probe(unit)).toMatchObject({
        ok: false,
        detail: `${unit}.service not found (expected active)`,
        facts: { loadState: "not-found", active: false, mainPid: 0 },
      });
    });

    it("fails a stopped unit, and passes it when inactive is what is expected", async () => {
      const unit = `${PREFIX}-stopped.service`;
      expect((await m.systemctl("start", unit)).code).toBe(0);
      expect((await probe(unit)).ok).toBe(true);
      expect((await m.systemctl("stop", unit)).code).toBe(0);
      expect(await probe(unit)).toMatchObject({
        ok: false,
        detail: `${unit} inactive (dead) (expected active)`,
        facts: { activeState: "inactive", subState: "dead", mainPid: 0 },
      });
      expect((await probe(unit, { state: "inactive" })).ok).toBe(true);
      expect((await probe(unit, { active: false })).ok).toBe(true);
      expect(await probe(unit, { state: ["active", "activating"] })).toMatchObject({
        ok: false,
        detail: `${unit} inactive (dead) (expected active or activating)`,
      });
    });

    it("reports a failed unit with its result, and the restarts systemd made", async () => {
      const failing = `${PREFIX}-fail`;
      await m.as(["systemd-run", "--user", `--unit=${failing}`, "/bin/sh", "-c", "exit 3"]);
      await until(
        async () => (await m.show(`${failing}.service`, "ActiveState"))["ActiveState"] === "failed",
        10_000,
        "the unit to fail",
      );
      expect(await probe(failing)).toMatchObject({
        ok: false,
        detail: `${failing}.service failed (exit-code) (expected active)`,
        facts: { activeState: "failed", result: "exit-code" },
      });

      const restarting = `${PREFIX}-restarting.service`;
      expect((await m.systemctl("start", restarting)).code).toBe(0);
      const first = await mainPid(restarting);
      process.kill(first, "SIGKILL");
      const second = await until(
        async () => {
          const pid = await mainPid(restarting);
          return pid > 0 && pid !== first ? pid : undefined;
        },
        10_000,
        "systemd to restart the unit",
      );
      expect(await probe(restarting)).toMatchObject({
        ok: true,
        detail: `${restarting} active (running) pid ${second}, 1 restart`,
        facts: { restarts: 1, mainPid: second },
      });
    });

    it("passes a missing unit only when not active is expected", async () => {
      const unit = `${PREFIX}-never-installed.service`;
      expect(await probe(unit)).toMatchObject({ ok: false, detail: `${unit} not found (expected active)` });
      expect(await probe(unit, { active: false })).toMatchObject({ ok: true, detail: `${unit} not found` });
    });

    it("reports what systemctl says when it refuses the unit name", async () => {
      const result = await probe("bad unit!");
      expect(result.ok).toBe(false);
      expect(result.detail).toMatch(
        /^systemctl --user show bad unit!: exit 1 \(Failed to get properties: .*\)$/,
      );
    });
  },
);

describe("systemd probe without a manager", () => {
  it("reports a systemctl that cannot be run", async () => {
    const ctx = makeContext({ settings: { ...settings, systemctlPath: "/nonexistent/systemctl" } });
    expect(await systemdProbe.run(ctx, { unit: "x.service" }, never())).toMatchObject({
      ok: false,
      detail: "command not found: /nonexistent/systemctl (ENOENT)",
    });
  });

  it("refuses bad expectations before running anything", async () => {
    const ctx = makeContext({ settings: { ...settings, systemctlPath: "/nonexistent/systemctl" } });
    for (const [expect_, detail] of [
      [{ active: true, state: "active" }, "invalid parameter expect: set either active or state, not both"],
      [
        { state: "runnin" },
        'invalid parameter expect.state: "runnin" is not a systemd ActiveState (active, reloading, inactive, failed, activating, deactivating, maintenance, refreshing)',
      ],
    ] as const) {
      expect(await systemdProbe.run(ctx, { unit: "x", expect: expect_ }, never())).toMatchObject({
        ok: false,
        latencyMs: 0,
        detail,
      });
    }
  });

  it("describes the show command, with --user unless user is false", () => {
    const props = "--property=Id,LoadState,ActiveState,SubState,MainPID,Result,NRestarts";
    expect(systemdProbe.describe({ unit: "redis.service" }, { settings })).toBe(
      `systemctl --user show redis.service ${props}`,
    );
    expect(systemdProbe.describe({ unit: "nginx", user: false }, { settings })).toBe(
      `systemctl show nginx ${props}`,
    );
  });
});
