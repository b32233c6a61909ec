import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { acquireLock } from "../../src/runtime/lock.js";
import { checkLock, checkWritable, versionAtLeast } from "../../src/schedule/doctor-checks.js";
import { cliPath } from "../../src/schedule/runner.js";
import { runMain, sandbox, type Sandbox } from "../schedule/helpers.js";
import { handOver, runCli, skipReason } from "./unprivileged.js";

let box: Sandbox;
beforeEach(() => {
  box = sandbox();
});
afterEach(() => box.cleanup());

interface Check {
  id: string;
  status: "ok" | "problem" | "skipped";
  message: string;
  fix?: string;
}

async function doctor(
  ...extra: string[]
): Promise<{ code: number; checks: Record<string, Check>; text: string }> {
  const json = await runMain(["doctor", "--rules", box.rules, "--format", "json", ...extra]);
  const text = await runMain(["doctor", "--rules", box.rules, ...extra]);
  expect(text.code).toBe(json.code);
  const report = JSON.parse(json.stdout) as { ok: boolean; checks: Check[] };
  expect(report.ok).toBe(json.code === 0);
  return {
    code: json.code,
    checks: Object.fromEntries(report.checks.map((c) => [c.id, c])),
    text: text.stdout,
  };
}

const built = existsSync(join(dirname(cliPath()), "..", "dist", "cli", "main.js"));

describe("upkeep doctor", () => {
  it.skipIf(!built)("finds nothing wrong with a fresh launchd install (exit 0)", async () => {
    expect((await runMain(["launchd", "install", "--rules", box.rules])).code).toBe(0);
    const { code, checks, text } = await doctor("--scheduler", "launchd");
    expect(Object.values(checks).filter((c) => c.status === "problem")).toEqual([]);
    expect(code).toBe(0);
    expect(checks["scheduler"]?.message).toContain(
      "dev.upkeep.runner is loaded (last exit code 0, runs = 2)",
    );
    expect(checks["node-path"]?.message).toContain(process.execPath);
    expect(checks["state-dir"]?.message).toContain("created at the first run");
    expect(text).toContain("No problems found.");
  });

  it("reports a broken launchd setup, each problem with its fix (exit 1)", async () => {
    // A node that worked at install and was removed since (a node upgrade, an nvm switch).
    const gone = join(box.root, "old-node", "bin", "node");
    mkdirSync(dirname(gone), { recursive: true });
    symlinkSync(process.execPath, gone);
    expect((await runMain(["launchd", "install", "--rules", box.rules, "--node", gone])).code).toBe(0);
    rmSync(gone);
    rmSync(join(box.home, "Library", "Logs", "upkeep"), { recursive: true });
    writeFileSync(box.stateDir, "not a folder");
    const { code, checks, text } = await doctor("--scheduler", "launchd");
    expect(code).toBe(1);
    expect(checks["node-path"]).toMatchObject({
      status: "problem",
      fix: expect.stringContaining("upkeep launchd install"),
    });
    expect(checks["node-path"]?.message).toContain(gone);
    expect(checks["launchd-logs"]).toMatchObject({
      status: "problem",
      fix: `mkdir -p '${join(box.home, "Library", "Logs", "upkeep")}'`,
    });
    expect(checks["launchd-logs"]?.message).toContain("exit 78");
    expect(checks["state-dir"]).toMatchObject({ status: "problem" });
    expect(checks["state-dir"]?.message).toContain("is not a folder");
    expect(checks["rules"]?.status).toBe("ok");
    expect(text).toContain("PROBLEM");
    expect(text).toContain("fix: mkdir -p");
    expect(text).toMatch(/\d problem\(s\) found\./);
  });

  it("reports a missing LaunchAgent and how to install it", async () => {
    const { code, checks } = await doctor("--scheduler", "launchd");
    expect(code).toBe(1);
    expect(checks["scheduler"]).toMatchObject({
      status: "problem",
      fix: `upkeep launchd install --rules '${box.rules}'`,
    });
  });

  it("reports a plist that launchd has not loaded", async () => {
    await runMain(["launchd", "install", "--rules", box.rules]);
    // Booted out behind upkeep's back: the file stays, the job is gone.
    const { execFileSync } = await import("node:child_process");
    execFileSync(box.launchctl, ["bootout", `gui/${process.getuid?.() ?? 0}/dev.upkeep.runner`]);
    const { checks } = await doctor("--scheduler", "launchd");
    expect(checks["scheduler"]).toMatchObject({ status: "problem" });
    expect(checks["scheduler"]?.message).toContain("has not loaded it");
  });

  it("explains a job that launchd could not set up (last exit 78) and how to fix it", async () => {
    await runMain(["launchd", "install", "--rules", box.rules]);
    process.env.SCHEDULE_STANDIN_LAST_EXIT = "78: EX_CONFIG";
    const { code, checks } = await doctor("--scheduler", "launchd");
    expect(code).toBe(1);
    expect(checks["scheduler"]).toMatchObject({
      status: "problem",
      fix: `mkdir -p '${join(box.home, "Library", "Logs", "upkeep")}', then upkeep launchd install`,
    });
    expect(checks["scheduler"]?.message).toContain("last exited 78 (EX_CONFIG)");
  });

  it("counts rule errors, and skips the checks that need the rules", async () => {
    writeFileSync(
      join(box.rules, "services.yaml"),
      "version: 1\nservices:\n  api:\n    probe: { type: tcpp, port: 1 }\n",
    );
    const { code, checks } = await doctor("--scheduler", "none");
    expect(code).toBe(1);
    expect(checks["rules"]).toMatchObject({
      status: "problem",
      fix: `upkeep validate --rules '${box.rules}' shows each one with its fix`,
    });
    expect(checks["rules"]?.message).toMatch(/[1-9]\d* error\(s\)/);
    expect(checks["scheduler"]?.status).toBe("skipped");
    for (const id of ["state-dir", "log-dir", "lock"]) expect(checks[id]?.status).toBe("skipped");
  });

  it("checks the systemd timer and says when lingering is off", async () => {
    expect((await runMain(["systemd", "install", "--rules", box.rules])).code).toBe(0);
    const { checks } = await doctor("--scheduler", "systemd");
    expect(checks["scheduler"]).toMatchObject({ status: "ok" });
    expect(checks["scheduler"]?.message).toContain("upkeep.timer is active");
    expect(checks["linger"]?.status).toMatch(/ok|skipped/);
    process.env.SCHEDULE_STANDIN_NO_BUS = "1";
    const noBus = await doctor("--scheduler", "systemd");
    expect(noBus.code).toBe(1);
    expect(noBus.checks["scheduler"]?.message).toContain("loginctl enable-linger");
  });

  it("reports a tick lock held far longer than a tick may run, and not one held by a running tick", async () => {
    // A short tickTimeout (stuck after 10 s + 60 s) lets the lock look 3 minutes old: a lock older
    // than the machine's uptime counts as abandoned, and CI machines are freshly booted.
    box.cleanup();
    box = sandbox({ tickTimeout: "10s" });
    mkdirSync(box.stateDir, { recursive: true });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() - 3 * 60_000);
    let release: () => Promise<void>;
    try {
      release = await acquireLock(box.stateDir, { owner: "upkeep run" });
    } finally {
      vi.useRealTimers();
    }
    try {
      const { checks } = await doctor("--scheduler", "none");
      expect(checks["lock"]).toMatchObject({
        status: "problem",
        fix: expect.stringContaining(`kill ${process.pid}`),
      });
    } finally {
      await release();
    }
    const fresh = await acquireLock(box.stateDir, { owner: "upkeep run" });
    try {
      const { checks } = await doctor("--scheduler", "none");
      expect(checks["lock"]?.status).toBe("ok");
      expect(checks["lock"]?.message).toContain("a tick is running now");
    } finally {
      await fresh();
    }
  });
});

describe("doctor's building blocks", () => {
  it.skipIf(skipReason !== undefined)(
    `reports a state folder that refuses new files, as the user the tick runs as${skipReason === undefined ? "" : ` [skipped: ${skipReason}]`}`,
    async () => {
      const root = mkdtempSync(join(tmpdir(), "upkeep-doctor-modes-"));
      try {
        const state = join(root, "state");
        mkdirSync(join(root, "rules"));
        mkdirSync(state);
        writeFileSync(
          join(root, "rules", "services.yaml"),
          `version: 1\nruntime: { stateDir: ${JSON.stringify(state)}, logFile: ${JSON.stringify(join(root, "logs", "upkeep.log"))} }\n` +
            "services:\n  api: { probe: { type: tcp, port: 8080 } }\n",
        );
        handOver(root);
        chmodSync(state, 0o500);
        const result = await runCli(
          ["doctor", "--scheduler", "none", "--format", "json", "--rules", join(root, "rules")],
          { HOME: root, XDG_CACHE_HOME: join(root, "cache") },
        );
        expect(result.code, result.stderr).toBe(1);
        const checks = (JSON.parse(result.stdout) as { checks: Check[] }).checks;
        expect(checks.find((c) => c.id === "state-dir")).toMatchObject({
          status: "problem",
          message: `state folder ${state} is not writable (EACCES)`,
          fix: expect.stringContaining("chmod u+rwx"),
        });
      } finally {
        chmodSync(join(root, "state"), 0o700);
        rmSync(root, { recursive: true, force: true });
      }
    },
  );

  it("compares versions numerically", () => {
    expect(versionAtLeast("20.19.0", "20.19.0")).toBe(true);
    expect(versionAtLeast("v20.9.0", "20.19.0")).toBe(false);
    expect(versionAtLeast("22.1.0", "20.19.0")).toBe(true);
    expect(versionAtLeast("20.18.9", "20.19.0")).toBe(false);
  });

  it("treats a missing folder as fine when upkeep creates it, and as a problem when launchd needs it beforehand", async () => {
    const dir = join(box.root, "new", "logs");
    expect((await checkWritable("x", dir, "log folder", true)).status).toBe("ok");
    expect((await checkWritable("x", dir, "log folder", false)).status).toBe("problem");
    mkdirSync(dir, { recursive: true });
    expect((await checkWritable("x", dir, "log folder", false)).status).toBe("ok");
  });

  it("judges a lock stuck only past the tick timeout plus a minute", () => {
    const holder = { state: "held" as const, pid: 4242, host: "h", startedAt: 0, command: "upkeep run" };
    expect(checkLock(undefined, 120_000).status).toBe("ok");
    expect(checkLock(holder, 120_000, 180_000).status).toBe("ok");
    expect(checkLock(holder, 120_000, 180_001).status).toBe("problem");
  });
});
