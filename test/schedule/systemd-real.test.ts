/**
 * `upkeep systemd` against a real systemd user manager (shared/tools/systemd-user-manager), for a
 * throwaway user: install, ticks of a 10 s timer, heals that start a daemon (exec with detach) and that
 * restart a unit (systemd.restart), status and doctor against what the manager says, failures (bad
 * rules, a node that is gone), an uninstall that leaves nothing behind, and the status page's unit
 * (`install --serve`): it answers, systemd brings it back after a SIGKILL, uninstall removes it. Where
 * the tool cannot run (not root, no systemd, no cgroups) the suite is skipped with the reason the tool printed.
 */
import { readFileSync, writeFileSync, mkdirSync, chownSync, existsSync, symlinkSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stagePackage, startUserManager, stopUserManager, until, type UserManager } from "./user-manager.js";

const NAME = `upkit${process.pid % 100000}`;
const started = await startUserManager(NAME);
const reason = started.ok ? "" : started.reason;
if (!started.ok) console.warn(`systemd-real: skipped: ${reason}`);

/** `systemctl show` of upkeep.service once a tick ended, with its start (monotonic µs). */
interface Tick {
  readonly fields: Record<string, string>;
  readonly start: number;
}

/** A tick of a 10 s timer starts within ~10 s; a heal adds a few seconds. */
const TICK_WAIT_MS = 40_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(2000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The HTTP status of GET url, or 0 when nothing answers (2 s at most). */
async function httpStatus(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

describe.skipIf(!started.ok)(
  `upkeep systemd against a real user manager${reason === "" ? "" : ` (${reason})`}`,
  () => {
    const m = (started as { manager: UserManager }).manager;
    const project = join(m.home, "project");
    const rules = join(project, "rules");
    const state = join(project, "state");
    const apiPid = join(state, "api.pid");
    const unitDir = join(m.home, ".config", "systemd", "user");
    let cli = "";
    let node = "";
    let daemon = "";
    let apiPort = 0;
    let webPort = 0;
    let rulesText = "";

    const upkeep = (...args: string[]) => m.as([node, cli, ...args], 90_000);
    const writeAsUser = (path: string, text: string): void => {
      mkdirSync(join(path, ".."), { recursive: true });
      writeFileSync(path, text);
      chownSync(path, m.uid, m.gid);
    };
    const statusJson = async (): Promise<Record<string, unknown>> =>
      JSON.parse((await upkeep("systemd", "status", "--rules", rules, "--format", "json")).stdout) as Record<
        string,
        unknown
      >;
    const doctorJson = async (): Promise<
      Record<string, { status: string; message: string; fix?: string }>
    > => {
      const r = await upkeep("doctor", "--rules", rules, "--scheduler", "systemd", "--format", "json");
      const report = JSON.parse(r.stdout) as { checks: { id: string; status: string; message: string }[] };
      return Object.fromEntries(report.checks.map((c) => [c.id, c]));
    };
    const tickProps = [
      "ActiveState",
      "Result",
      "ExecMainStatus",
      "ExecMainStartTimestampMonotonic",
      "ExecMainExitTimestampMonotonic",
    ];
    /** Waits until a tick that started after `after` (monotonic µs) has ended; returns the service's show. */
    const tickEnded = (after: number): Promise<Tick> =>
      until<Tick>(
        async () => {
          const s = await m.show("upkeep.service", ...tickProps);
          const start = Number(s["ExecMainStartTimestampMonotonic"]);
          const exit = Number(s["ExecMainExitTimestampMonotonic"]);
          return start > after && exit >= start && s["ActiveState"] !== "activating"
            ? { fields: s, start }
            : undefined;
        },
        TICK_WAIT_MS,
        `a tick after ${after}`,
      );
    const lastTickStart = async (): Promise<number> =>
      Number(
        (await m.show("upkeep.service", "ExecMainStartTimestampMonotonic"))[
          "ExecMainStartTimestampMonotonic"
        ],
      );

    beforeAll(async () => {
      const staged = await stagePackage(m);
      if ("reason" in staged) throw new Error(staged.reason);
      ({ cli, node } = staged);
      daemon = join(m.home, "upkeep", "schedule-daemon.mjs");
      [apiPort, webPort] = [await freePort(), await freePort()];
      for (const dir of [project, rules, state, unitDir]) {
        mkdirSync(dir, { recursive: true });
        chownSync(dir, m.uid, m.gid);
      }
      for (const dir of [join(m.home, ".config"), join(m.home, ".config", "systemd")])
        chownSync(dir, m.uid, m.gid);
      // A unit the web service runs as, healed with systemd.restart; not started: the first tick heals it.
      writeAsUser(
        join(unitDir, "it-web.service"),
        `[Service]\nExecStart=${node} ${daemon} --port ${webPort} --lifetime 300\n`,
      );
      rulesText = [
        "version: 1",
        "runtime:",
        "  interval: 10s",
        `  stateDir: ${state}`,
        `  logFile: ${join(project, "logs", "upkeep.log")}`,
        "defaults:",
        "  heal: { cooldown: 1s, budget: { max: 10, per: 1h } }",
        "services:",
        "  api:",
        "    title: API (a plain process)",
        `    probe: { type: tcp, host: 127.0.0.1, port: ${apiPort} }`,
        "    heal:",
        "      steps:",
        "        - action: exec",
        "          with:",
        `            command: [${node}, ${daemon}, --port, "${apiPort}", --pid-file, ${apiPid}, --lifetime, "300"]`,
        "            detach: true",
        `            log: ${join(project, "logs", "api.log")}`,
        "        - action: verify",
        "  web:",
        "    title: Web (a systemd unit)",
        `    probe: { type: tcp, host: 127.0.0.1, port: ${webPort} }`,
        "    heal:",
        "      steps:",
        "        - action: systemd.restart",
        "          with: { unit: it-web.service }",
        "        - action: verify",
        "",
      ].join("\n");
      writeAsUser(join(rules, "services.yaml"), rulesText);
    }, 120_000);

    afterAll(async () => {
      const pid = existsSync(apiPid) ? Number(readFileSync(apiPid, "utf8")) : 0;
      await stopUserManager(NAME);
      if (pid > 0 && alive(pid)) process.kill(pid, "SIGKILL");
    }, 120_000);

    it("install refuses a node that does not exist (exit 2) and writes nothing", async () => {
      const r = await upkeep("systemd", "install", "--rules", rules, "--node", "/no/such/node");
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("/no/such/node, which does not exist");
      expect(existsSync(join(unitDir, "upkeep.service"))).toBe(false);
    });

    it("installs: the timer is active, the first tick runs at once and heals both services", async () => {
      const r = await upkeep("systemd", "install", "--rules", rules);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("timer active");
      expect(r.stdout).toMatch(/^next tick: /m);
      const tick = await tickEnded(0);
      expect(tick.fields["ExecMainStatus"]).toBe("0");
      expect(await answers(apiPort)).toBe(true);
      expect(await answers(webPort)).toBe(true);
      expect((await m.show("it-web.service", "ActiveState"))["ActiveState"]).toBe("active");
    }, 60_000);

    it("a daemon an exec heal started is still serving after its tick and the next one, at normal priority", async () => {
      const pid = Number(readFileSync(apiPid, "utf8"));
      expect(alive(pid)).toBe(true);
      const next = await tickEnded(await lastTickStart());
      expect(next.fields["ExecMainStatus"]).toBe("0");
      expect(alive(pid)).toBe(true);
      expect(await answers(apiPort)).toBe(true);
      expect(readFileSync(apiPid, "utf8")).toBe(String(pid));
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      expect(fields[16], "nice").toBe("0");
      // It writes to stdout every 200 ms: it would have died of EPIPE on a pipe of the ended tick.
      expect(readFileSync(join(project, "logs", "api.log"), "utf8")).toContain(`alive ${pid}`);
    }, 60_000);

    it("a unit killed behind upkeep's back is healed by systemd.restart", async () => {
      await m.systemctl("kill", "--signal=SIGKILL", "it-web.service");
      await until(async () => !(await answers(webPort)), 10_000, "web to stop answering");
      const tick = await tickEnded(await lastTickStart());
      expect(tick.fields["ExecMainStatus"]).toBe("0");
      expect(await answers(webPort)).toBe(true);
    }, 90_000);

    it("status and doctor tell what the manager says: next run seconds away, last trigger, last result", async () => {
      const status = await statusJson();
      expect(status).toMatchObject({
        installed: true,
        loaded: true,
        timerState: "active",
        enabled: "enabled",
        failed: false,
        error: null,
      });
      if (status["tickRunning"] === false) {
        expect(status["nextInSeconds"]).toBeGreaterThanOrEqual(0);
        expect(status["nextInSeconds"]).toBeLessThanOrEqual(11);
      }
      expect(typeof status["lastTrigger"]).toBe("string");
      expect(Math.abs(Date.parse(String(status["lastTrigger"])) - Date.now())).toBeLessThan(60_000);
      expect(status).toMatchObject({
        result: "success",
        exitStatus: "0",
        exitMeaning: "all services healthy",
      });
      const text = (await upkeep("systemd", "status", "--rules", rules)).stdout;
      expect(text).toMatch(
        /next run: {5}(\d{4}-\d\d-\d\dT\S+ \((in \d+s|now)\)|after the tick that is running now)/,
      );
      expect(text).not.toMatch(/min \d+\.\d+s|infinity/);
      const doctor = await doctorJson();
      expect(doctor["scheduler"]).toMatchObject({ status: "ok" });
      expect(doctor["scheduler"]?.message).toMatch(
        /upkeep\.timer is active; next tick .*; last trigger \d{4}-/,
      );
      expect(doctor["node-path"]?.status).toBe("ok");
    }, 60_000);

    it("bad rules: the tick fails with exit 2, status and doctor say so, and fixed rules clear it", async () => {
      writeAsUser(join(rules, "services.yaml"), `${rulesText}  bad:\n    probe: { type: tcp, prot: 1 }\n`);
      const failed = await tickEnded(await lastTickStart());
      expect(failed.fields).toMatchObject({
        ExecMainStatus: "2",
        Result: "exit-code",
        ActiveState: "failed",
      });
      expect(await statusJson()).toMatchObject({ failed: true, exitStatus: "2", result: "exit-code" });
      const doctor = await doctorJson();
      expect(doctor["scheduler"]).toMatchObject({ status: "problem" });
      expect(doctor["scheduler"]?.fix).toContain("upkeep validate");
      expect(doctor["rules"]?.status).toBe("problem");
      writeAsUser(join(rules, "services.yaml"), rulesText);
      const fixed = await tickEnded(failed.start);
      expect(fixed.fields).toMatchObject({ ExecMainStatus: "0", ActiveState: "inactive" });
      expect(await statusJson()).toMatchObject({ failed: false });
    }, 90_000);

    it("a node that is gone after install: 203/EXEC, reported by status and doctor", async () => {
      const link = join(m.home, "bin", "node");
      mkdirSync(join(m.home, "bin"), { recursive: true });
      symlinkSync(node, link);
      const install = await upkeep("systemd", "install", "--rules", rules, "--node", link);
      expect(install.code).toBe(0);
      const first = await tickEnded(await lastTickStart());
      expect(first.fields["ExecMainStatus"]).toBe("0");
      rmSync(link);
      const broken = await tickEnded(first.start);
      expect(broken.fields).toMatchObject({ ExecMainStatus: "203", ActiveState: "failed" });
      expect(await statusJson()).toMatchObject({ failed: true, exitStatus: "203" });
      const doctor = await doctorJson();
      expect(doctor["node-path"]).toMatchObject({ status: "problem" });
      expect(doctor["node-path"]?.message).toContain(link);
      expect(doctor["scheduler"]?.fix).toContain("upkeep systemd install");
    }, 90_000);

    it("uninstall of a failed install leaves no unit, link, timer or failed state, and the healed daemon running", async () => {
      const pid = Number(readFileSync(apiPid, "utf8"));
      const r = await upkeep("systemd", "uninstall", "--rules", rules);
      expect(r.code).toBe(0);
      for (const file of ["upkeep.service", "upkeep.timer", "timers.target.wants/upkeep.timer"])
        expect(existsSync(join(unitDir, file)), file).toBe(false);
      expect(
        (await m.systemctl("list-units", "--failed", "--all", "--plain", "--no-legend")).stdout,
      ).not.toContain("upkeep");
      expect((await m.systemctl("list-timers", "--all", "--plain", "--no-legend")).stdout).not.toContain(
        "upkeep.timer",
      );
      expect((await m.show("upkeep.timer", "LoadState"))["LoadState"]).toBe("not-found");
      expect((await m.show("upkeep.service", "LoadState"))["LoadState"]).toBe("not-found");
      expect(alive(pid)).toBe(true);
      expect(await statusJson()).toMatchObject({
        installed: false,
        loaded: false,
        result: null,
        lastRun: null,
      });
    }, 60_000);

    describe("install --serve: the status page as upkeep-serve.service", () => {
      let listen = "";
      const servePid = async (): Promise<number> =>
        Number((await m.show("upkeep-serve.service", "MainPID"))["MainPID"]);

      it("runs the page as the user: it answers GET /api/status, and status reports it", async () => {
        listen = `127.0.0.1:${await freePort()}`;
        const r = await upkeep("systemd", "install", "--rules", rules, "--serve", "--listen", listen);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^ok {3}connect to ${listen}: answers`, "m"));
        expect(r.stdout).toMatch(/running \(MainPID \d+\)/);
        expect(await httpStatus(`http://${listen}/api/status`)).toBe(200);
        const pid = await servePid();
        expect(readFileSync(`/proc/${pid}/status`, "utf8")).toMatch(new RegExp(`^Uid:\\s+${m.uid}\\s`, "m"));
        expect(existsSync(join(unitDir, "default.target.wants", "upkeep-serve.service"))).toBe(true);
        expect(await statusJson()).toMatchObject({
          serve: { running: true, pid, restarts: 0, enabled: "enabled", url: `http://${listen}/` },
        });
      }, 60_000);

      it("a SIGKILLed page is restarted by systemd (Restart=on-failure): a new pid answers again", async () => {
        const first = await servePid();
        expect(first).toBeGreaterThan(0);
        process.kill(first, "SIGKILL");
        const second = await until(
          async () => {
            const pid = await servePid();
            return pid > 0 && pid !== first && (await httpStatus(`http://${listen}/api/status`)) === 200
              ? pid
              : undefined;
          },
          20_000,
          "the page to answer again from a new process",
        );
        expect(alive(first)).toBe(false);
        expect((await m.show("upkeep-serve.service", "NRestarts"))["NRestarts"]).toBe("1");
        expect(await statusJson()).toMatchObject({ serve: { running: true, pid: second, restarts: 1 } });
      }, 60_000);

      it("uninstall of a page that just crashed removes its unit, its enable link and leaves nothing failed or running", async () => {
        const pid = await servePid();
        process.kill(pid, "SIGKILL");
        await until(
          async () => (await m.show("upkeep-serve.service", "SubState"))["SubState"] === "auto-restart",
          4000,
          "the page to wait for its restart",
        );
        const r = await upkeep("systemd", "uninstall", "--rules", rules);
        expect(r.code).toBe(0);
        for (const file of [
          "upkeep-serve.service",
          "default.target.wants/upkeep-serve.service",
          "upkeep.timer",
        ])
          expect(existsSync(join(unitDir, file)), file).toBe(false);
        expect(
          (await m.systemctl("list-units", "--failed", "--all", "--plain", "--no-legend")).stdout,
        ).not.toContain("upkeep");
        expect(await m.show("upkeep-serve.service", "LoadState", "ActiveState")).toMatchObject({
          LoadState: "not-found",
          ActiveState: "inactive",
        });
        expect(await httpStatus(`http://${listen}/api/status`)).toBe(0);
        expect(await statusJson()).not.toHaveProperty("serve");
      }, 60_000);
    });
  },
);

if (!started.ok) {
  describe("upkeep systemd against a real user manager", () => {
    it.skip(`skipped: ${reason}`, () => {});
  });
}
