import { existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rulesYaml, runMain, sandbox, uid, type Sandbox } from "../schedule/helpers.js";

let box: Sandbox;
let plist: string;
let service: string;
beforeEach(() => {
  box = sandbox();
  plist = join(box.home, "Library", "LaunchAgents", "dev.upkeep.runner.plist");
  service = `gui/${uid()}/dev.upkeep.runner`;
});
afterEach(() => box.cleanup());

const install = (...extra: string[]) => runMain(["launchd", "install", "--rules", box.rules, ...extra]);
const uninstall = (...extra: string[]) => runMain(["launchd", "uninstall", "--rules", box.rules, ...extra]);

describe("upkeep launchd install", () => {
  it("writes the plist (0644) and the log folder, then boots out, enables, bootstraps and verifies, in that order", async () => {
    const result = await install();
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([
      ["bootout", service],
      ["enable", service],
      ["bootstrap", `gui/${uid()}`, plist],
      ["print", service],
    ]);
    expect(statSync(plist).mode & 0o777).toBe(0o644);
    expect(readFileSync(plist, "utf8")).toBe(
      (await runMain(["launchd", "render", "--rules", box.rules])).stdout,
    );
    expect(statSync(join(box.home, "Library", "Logs", "upkeep")).isDirectory()).toBe(true);
    expect(result.stdout).toContain("was not loaded");
    expect(result.stdout).toContain("loaded (state = not running, runs = 2, last exit code = 0)");
    expect(result.stdout).toContain("every 120s");
  });

  it("replaces a loaded job: the second install's bootout really stops the first", async () => {
    expect((await install()).code).toBe(0);
    box.clearCalls();
    const again = await install();
    expect(again.code).toBe(0);
    expect(box.calls().map((c) => c[0])).toEqual(["bootout", "enable", "bootstrap", "print"]);
    expect(again.stdout).not.toContain("was not loaded");
  });

  it("retries bootstrap when launchd is still tearing the old job down (5: Input/output error)", async () => {
    process.env.SCHEDULE_STANDIN_BUSY = "1";
    const result = await install();
    expect(result.code).toBe(0);
    expect(box.calls().map((c) => c[0])).toEqual(["bootout", "enable", "bootstrap", "bootstrap", "print"]);
  });

  it("falls back to unload + load -w on a launchctl without bootstrap, and verifies with list", async () => {
    process.env.SCHEDULE_STANDIN_MODE = "legacy";
    const result = await install();
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([
      ["bootout", service],
      ["unload", plist],
      ["load", "-w", plist],
      ["list", "dev.upkeep.runner"],
    ]);
    expect(result.stdout).toContain("legacy");
  });

  it("does not trust legacy load's exit 0: a 'Load failed' message fails the install (exit 1) and stops", async () => {
    process.env.SCHEDULE_STANDIN_MODE = "legacy";
    process.env.SCHEDULE_STANDIN_LOAD_FAILS = "1";
    const result = await install();
    expect(result.code).toBe(1);
    expect(box.calls().map((c) => c[0])).toEqual(["bootout", "unload", "load"]);
    expect(result.stdout).toContain("exit 0 but it failed: Load failed");
    expect(result.stderr).toContain("not installed");
  });

  it("refuses (exit 2) a node that cannot run the CLI, before it writes or runs anything; --dry-run only warns", async () => {
    const notNode = join(box.root, "bin", "false-node");
    writeFileSync(notNode, "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    const result = await install("--node", notNode);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${notNode}, which did not answer --version`);
    expect(box.calls()).toEqual([]);
    expect(existsSync(plist)).toBe(false);
    const dry = await install("--node", notNode, "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain("warning: the job could not start");
  });

  it("--dry-run prints the plist and every command, and writes and runs nothing", async () => {
    const result = await install("--dry-run");
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([]);
    expect(existsSync(join(box.home, "Library"))).toBe(false);
    expect(result.stdout).toContain(`write ${plist} (mode 0644):`);
    expect(result.stdout).toContain("<key>ProgramArguments</key>");
    expect(result.stdout).toContain(`create folder ${join(box.home, "Library", "Logs", "upkeep")}`);
    for (const line of [
      `${box.launchctl} bootout ${service}`,
      `${box.launchctl} enable ${service}`,
      `${box.launchctl} bootstrap gui/${uid()} ${plist}`,
      `${box.launchctl} print ${service}`,
    ]) {
      expect(result.stdout).toContain(`run ${line}`);
    }
    expect(result.stdout).toContain(`run ${box.launchctl} load -w ${plist}`);
  });

  it.skipIf(process.platform === "darwin")(
    "off macOS, with the default launchctl, says why it cannot work and fails",
    async () => {
      writeFileSync(join(box.rules, "services.yaml"), rulesYaml({ stateDir: box.stateDir }));
      const result = await install();
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("not macOS");
      expect(result.stdout).toMatch(/command not found: \/bin\/launchctl/);
    },
  );
});

describe("upkeep launchd uninstall", () => {
  it("boots the job out and removes the plist", async () => {
    await install();
    box.clearCalls();
    const result = await uninstall();
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([["bootout", service]]);
    expect(existsSync(plist)).toBe(false);
  });

  it("succeeds when nothing is installed (not loaded is fine, no file to remove)", async () => {
    const result = await uninstall();
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([["bootout", service]]);
    expect(result.stdout).toContain("was not loaded");
  });

  it("uses legacy unload where bootout is unknown", async () => {
    process.env.SCHEDULE_STANDIN_MODE = "legacy";
    await install();
    box.clearCalls();
    expect((await uninstall()).code).toBe(0);
    expect(box.calls()).toEqual([
      ["bootout", service],
      ["unload", plist],
    ]);
    expect(existsSync(plist)).toBe(false);
  });

  it("--dry-run leaves the plist and the job alone", async () => {
    await install();
    box.clearCalls();
    const result = await uninstall("--dry-run");
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([]);
    expect(existsSync(plist)).toBe(true);
    expect(result.stdout).toContain(`run ${box.launchctl} bootout ${service}`);
    expect(result.stdout).toContain(`remove ${plist}`);
  });
});

describe("upkeep launchd status", () => {
  it("reports not installed and not loaded before install", async () => {
    const result = await runMain(["launchd", "status", "--rules", box.rules, "--format", "json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      installed: false,
      loaded: false,
      lastRunAt: null,
      lastExitCode: null,
    });
  });

  it("reports loaded, last exit code and runs from launchctl print, and the last run from the job's log files", async () => {
    await install();
    const logs = join(box.home, "Library", "Logs", "upkeep");
    mkdirSync(logs, { recursive: true });
    const stdout = join(logs, "dev.upkeep.runner.stdout.log");
    writeFileSync(stdout, "Summary: 0 healed, 0 failed\n");
    const when = new Date("2025-03-04T05:06:07.000Z");
    utimesSync(stdout, when, when);
    const result = await runMain(["launchd", "status", "--rules", box.rules, "--format", "json"]);
    expect(JSON.parse(result.stdout)).toMatchObject({
      installed: true,
      loaded: true,
      state: "not running",
      runs: 2,
      lastExitCode: "0",
      lastRunAt: when.toISOString(),
      plist,
    });
    const text = await runMain(["launchd", "status", "--rules", box.rules]);
    expect(text.stdout).toContain("loaded:     yes (state = not running, runs = 2)");
  });

  it("leaves the status page out while it is not installed", async () => {
    const result = await runMain(["launchd", "status", "--rules", box.rules, "--format", "json"]);
    expect(JSON.parse(result.stdout)).not.toHaveProperty("serve");
  });

  it("rejects an unknown subcommand with a suggestion (exit 2)", async () => {
    const result = await runMain(["launchd", "instal"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('did you mean "install"');
  });
});

describe("upkeep launchd --serve (the status page)", () => {
  let servePlist: string;
  let serveService: string;
  let listen: string;
  beforeEach(async () => {
    servePlist = join(box.home, "Library", "LaunchAgents", "dev.upkeep.runner.serve.plist");
    serveService = `gui/${uid()}/dev.upkeep.runner.serve`;
    // A free loopback port, so that nothing already answers at the page's address.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    listen = `127.0.0.1:${(server.address() as { port: number }).port}`;
    await new Promise((resolve) => server.close(resolve));
  });

  it("install writes <label>.serve.plist (0644) too and loads it after the tick's job, the same way", async () => {
    const result = await install("--serve", "--listen", listen, "--actions");
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([
      ["bootout", service],
      ["enable", service],
      ["bootstrap", `gui/${uid()}`, plist],
      ["print", service],
      ["bootout", serveService],
      ["enable", serveService],
      ["bootstrap", `gui/${uid()}`, servePlist],
      ["print", serveService],
    ]);
    expect(statSync(servePlist).mode & 0o777).toBe(0o644);
    expect(readFileSync(servePlist, "utf8")).toBe(
      (await runMain(["launchd", "render", "--rules", box.rules, "--serve", "--listen", listen, "--actions"]))
        .stdout,
    );
    expect(readFileSync(plist, "utf8")).toBe(
      (await runMain(["launchd", "render", "--rules", box.rules])).stdout,
    );
    expect(result.stdout).toContain(`dev.upkeep.runner.serve serves http://${listen}/`);
    expect(result.stdout).toContain(`actions need the token in ${join(box.stateDir, "serve.token")}`);
  });

  it("uses the legacy commands for the page's job too where launchctl needs them", async () => {
    process.env.SCHEDULE_STANDIN_MODE = "legacy";
    expect((await install("--serve", "--listen", listen)).code).toBe(0);
    expect(box.calls().slice(-3)).toEqual([
      ["unload", servePlist],
      ["load", "-w", servePlist],
      ["list", "dev.upkeep.runner.serve"],
    ]);
  });

  it("status shows the page's job when it is installed, with its address and logs", async () => {
    await install("--serve", "--listen", listen);
    const json = await runMain(["launchd", "status", "--rules", box.rules, "--format", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      installed: true,
      serve: {
        label: "dev.upkeep.runner.serve",
        plist: servePlist,
        installed: true,
        loaded: true,
        state: "not running",
        url: `http://${listen}/`,
        logs: {
          stdout: join(box.home, "Library", "Logs", "upkeep", "dev.upkeep.runner.serve.stdout.log"),
        },
      },
    });
    const text = (await runMain(["launchd", "status", "--rules", box.rules])).stdout;
    expect(text).toContain("status page dev.upkeep.runner.serve (upkeep serve)\n");
    expect(text).toContain(`  page:       http://${listen}/\n`);
  });

  it("uninstall (no --serve needed) boots out and removes both jobs", async () => {
    await install("--serve", "--listen", listen);
    box.clearCalls();
    const result = await uninstall();
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([
      ["bootout", service],
      ["bootout", serveService],
    ]);
    expect(existsSync(plist)).toBe(false);
    expect(existsSync(servePlist)).toBe(false);
  });

  it("refuses (exit 2) before it writes anything when something else answers at the page's address", async () => {
    const other = createServer((socket) => socket.destroy());
    const port = Number(listen.split(":")[1]);
    await new Promise<void>((resolve) => other.listen(port, "127.0.0.1", resolve));
    try {
      const result = await install("--serve", "--listen", listen);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`something already answers at http://${listen}/`);
      expect(existsSync(servePlist)).toBe(false);
      expect(box.calls()).toEqual([["print", serveService]]);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("--dry-run prints both plists and the page's commands", async () => {
    const result = await install("--dry-run", "--serve", "--listen", listen);
    expect(result.code).toBe(0);
    expect(box.calls()).toEqual([]);
    expect(result.stdout).toContain(`write ${servePlist} (mode 0644):`);
    expect(result.stdout).toContain("<key>KeepAlive</key>");
    expect(result.stdout).toContain(`run ${box.launchctl} bootstrap gui/${uid()} ${servePlist}`);
  });

  it("refuses --listen or --actions without --serve (exit 2)", async () => {
    for (const extra of [["--listen", listen], ["--actions"]]) {
      const result = await install(...extra);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("goes with --serve");
      expect(box.calls()).toEqual([]);
    }
  });
});
