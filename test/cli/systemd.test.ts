import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cliPath } from "../../src/schedule/runner.js";
import { FIXTURES, runMain, sandbox, type Sandbox } from "../schedule/helpers.js";

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
    expect(JSON.parse(result.stdout)).not.toHaveProperty("serve");
    expect(text.stdout).not.toContain("status page");
  });
});

/**
 * The stand-in systemctl knows oneshot ticks only; for the status page's unit this wrapper answers
 * `show` like the manager does for a running simple service once it was restarted (and its file is there).
 */
function pageRunsInStandIn(): void {
  const script = join(box.root, "bin", "serve-systemctl.mjs");
  writeFileSync(
    script,
    `import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
const argv = process.argv.slice(2);
const unit = argv.find((a) => a.endsWith("-serve.service"));
const log = process.env.SCHEDULE_STANDIN_LOG;
if (argv.includes("show") && unit !== undefined && process.env.SCHEDULE_STANDIN_NO_BUS !== "1") {
  const dir = join(process.env.XDG_CONFIG_HOME || join(process.env.HOME, ".config"), "systemd", "user");
  const restarted = existsSync(log) && readFileSync(log, "utf8").includes(JSON.stringify(["--user", "restart", unit]));
  appendFileSync(log, JSON.stringify(argv) + "\\n");
  const running = existsSync(join(dir, unit)) && restarted;
  process.stdout.write(running
    ? "LoadState=loaded\\nActiveState=active\\nSubState=running\\nUnitFileState=enabled\\nResult=success\\nMainPID=4242\\nNRestarts=1\\nExecMainStartTimestamp=@1735787045\\n"
    : "LoadState=not-found\\nActiveState=inactive\\nSubState=dead\\nUnitFileState=\\nResult=success\\nMainPID=0\\nNRestarts=0\\n");
  process.exit(0);
}
await import(${JSON.stringify(pathToFileURL(join(FIXTURES, "schedule-systemctl.mjs")).href)});
`,
  );
  writeFileSync(box.systemctl, `#!/bin/sh\nexec '${process.execPath}' '${script}' "$@"\n`);
}

/** A free loopback port, and a server that listens there once the page's unit was restarted (as the page would). */
async function pageAddress(): Promise<{ port: number; listen: string; close(): Promise<void> }> {
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const timer = setInterval(() => {
    const restarted = box.calls().some((c) => c[1] === "restart" && c[2] === "upkeep-serve.service");
    if (restarted && !server.listening) server.listen(port, "127.0.0.1");
  }, 50);
  return {
    port,
    listen: `127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        clearInterval(timer);
        if (server.listening) server.close(() => resolve());
        else resolve();
      }),
  };
}

describe("upkeep systemd --serve (the status page)", () => {
  let page: Awaited<ReturnType<typeof pageAddress>>;
  beforeEach(async () => {
    pageRunsInStandIn();
    page = await pageAddress();
  });
  afterEach(() => page.close());

  it("install writes <unit>-serve.service too, then enables and restarts it after the timer, waits for its address and checks its process", async () => {
    const result = await install("--serve", "--listen", page.listen, "--actions");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const calls = box.calls();
    expect(calls).toContainEqual(["--user", "reset-failed", "upkeep.service", "upkeep-serve.service"]);
    const afterTimer = calls.findIndex((c) => c[1] === "show" && c[2] === "upkeep.timer");
    expect(calls.slice(afterTimer + 1, afterTimer + 4)).toEqual([
      ["--user", "enable", "upkeep-serve.service"],
      ["--user", "restart", "upkeep-serve.service"],
      ["--user", "show", "upkeep-serve.service", "--property=ActiveState,SubState,Result,MainPID"],
    ]);
    const unit = readFileSync(join(unitDir, "upkeep-serve.service"), "utf8");
    expect(statSync(join(unitDir, "upkeep-serve.service")).mode & 0o777).toBe(0o644);
    expect(unit).toContain(
      `ExecStart=${process.execPath} ${cliPath()} serve --rules ${box.rules} --listen ${page.listen} --actions\n`,
    );
    expect(unit).toContain("Restart=on-failure\n");
    expect(result.stdout).toMatch(new RegExp(`^ok   connect to ${page.listen}: answers`, "m"));
    expect(result.stdout).toContain("running (MainPID 4242)");
    expect(result.stdout).toContain(`upkeep-serve.service serves http://${page.listen}/`);
    expect(result.stdout).toContain(`actions need the token in ${join(box.stateDir, "serve.token")}`);
  });

  it("--dry-run shows the page's unit, its commands and the wait for its address, and does nothing", async () => {
    const result = await install("--dry-run", "--serve", "--listen", page.listen);
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([]);
    expect(existsSync(unitDir)).toBe(false);
    expect(result.stdout).toContain(`write ${join(unitDir, "upkeep-serve.service")} (mode 0644):`);
    expect(result.stdout).toContain("| Type=simple");
    expect(result.stdout).toContain(`run ${box.systemctl} --user restart upkeep-serve.service`);
    expect(result.stdout).toContain(`wait up to 15s for ${page.listen} to accept a connection`);
  });

  it("render prints the three units", async () => {
    const result = await runMain(["systemd", "render", "--rules", box.rules, "--serve"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`# ${join(unitDir, "upkeep-serve.service")}\n`);
    expect(result.stdout).toContain(
      `ExecStart=${process.execPath} ${cliPath()} serve --rules ${box.rules}\n`,
    );
  });

  it("refuses (exit 2) before it writes anything when something else answers at the page's address", async () => {
    const other = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => other.listen(page.port, "127.0.0.1", resolve));
    try {
      const result = await install("--serve", "--listen", page.listen);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`something already answers at http://${page.listen}/`);
      expect(existsSync(unitDir)).toBe(false);
      expect(box.calls()).toEqual([["--user", "show", "upkeep-serve.service", "--property=ActiveState"]]);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("status reports the page when it is installed: running, pid, restarts, address", async () => {
    expect((await install("--serve", "--listen", page.listen)).code).toBe(0);
    const json = await runMain(["systemd", "status", "--rules", box.rules, "--format", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      installed: true,
      serve: {
        unit: "upkeep-serve.service",
        installed: true,
        loaded: true,
        running: true,
        state: "active",
        pid: 4242,
        restarts: 1,
        failed: false,
        url: `http://${page.listen}/`,
        error: null,
      },
    });
    const text = (await runMain(["systemd", "status", "--rules", box.rules])).stdout;
    expect(text).toContain("status page upkeep-serve.service (upkeep serve)\n");
    expect(text).toMatch(
      / {2}state: {8}running \(pid 4242, since 2025-01-02T03:04:05\.000Z, 1 restart after a failure\), enabled\n/,
    );
    expect(text).toContain(`  page:         http://${page.listen}/\n`);
  });

  it("install without --serve leaves an installed page alone and says so", async () => {
    expect((await install("--serve", "--listen", page.listen)).code).toBe(0);
    box.clearCalls();
    const again = await install();
    expect(again.code).toBe(0);
    expect(box.calls().some((c) => c.some((a) => a.includes("serve")))).toBe(false);
    expect(existsSync(join(unitDir, "upkeep-serve.service"))).toBe(true);
    expect(again.stderr).toContain("upkeep-serve.service (the status page) was left as it was");
  });

  it("uninstall (no --serve needed) stops and removes the page's unit and clears its failed state too", async () => {
    expect((await install("--serve", "--listen", page.listen)).code).toBe(0);
    box.clearCalls();
    const result = await uninstall();
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([
      ["--user", "disable", "--now", "upkeep.timer"],
      ["--user", "disable", "--now", "upkeep-serve.service"],
      ["--user", "daemon-reload"],
      ["--user", "reset-failed", "upkeep.service", "upkeep.timer", "upkeep-serve.service"],
    ]);
    expect(existsSync(join(unitDir, "upkeep-serve.service"))).toBe(false);
  });

  it("uninstall without a user bus still removes the page's unit and its enable link (exit 1)", async () => {
    expect((await install("--serve", "--listen", page.listen)).code).toBe(0);
    const link = join(unitDir, "default.target.wants", "upkeep-serve.service");
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(unitDir, "upkeep-serve.service"), link);
    process.env.SCHEDULE_STANDIN_NO_BUS = "1";
    const result = await uninstall();
    expect(result.code).toBe(1);
    for (const file of ["upkeep-serve.service", "default.target.wants/upkeep-serve.service", "upkeep.timer"])
      expect(existsSync(join(unitDir, file)), file).toBe(false);
    expect(result.stdout).toMatch(/^FAIL .* --user disable --now upkeep-serve\.service: /m);
  });

  it("refuses --listen or --actions without --serve, and a --listen serve would refuse (exit 2)", async () => {
    for (const extra of [["--listen", page.listen], ["--actions"], ["--serve", "--listen", "0.0.0.0:80"]]) {
      const result = await install(...extra);
      expect(result.code, extra.join(" ")).toBe(2);
      expect(box.calls()).toEqual([]);
    }
  });
});
