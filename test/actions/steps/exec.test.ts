import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { execStep as execStepImpl, type ExecStepParams } from "../../../src/actions/steps/exec.js";
import type { StepHandler } from "../../../src/actions/types.js";
import { fixture, isGone, killTree, makeContext, never, settings, waitFor } from "../helpers.js";

/** Typed through the interface, as the runtime calls it. */
const execStep: StepHandler<ExecStepParams> = execStepImpl;

const node = process.execPath;
const out = fixture("proc-output.mjs");

const pids: number[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) killTree(pid);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("exec step", () => {
  it("passes on exit 0 and keeps the output", async () => {
    const result = await execStep.run(makeContext(), { command: [node, out, "0", "--repeat", "3"] }, never());
    expect(result).toEqual({ ok: true, detail: `${node}: exit 0`, output: "xxx" });
  });

  it("fails (a result, not a throw) on a non-zero exit, with stderr as the reason", async () => {
    const result = await execStep.run(
      makeContext(),
      { command: [node, out, "4", "--stderr", "no such unit"] },
      never(),
    );
    expect(result).toEqual({ ok: false, detail: `${node}: exit 4 (no such unit)`, output: "no such unit" });
  });

  it("truncates captured output at outputLimit", async () => {
    const result = await execStep.run(
      makeContext(),
      { command: [node, out, "0", "--repeat", "10000"], outputLimit: "100" },
      never(),
    );
    expect(result.output).toBe(`${"x".repeat(100)}\n…[truncated 9900 bytes]`);
  });

  it("kills the whole process tree at the step timeout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "upkeep-exec-"));
    dirs.push(dir);
    const pidFile = join(dir, "pids.json");
    const controller = new AbortController();
    const running = execStep.run(
      makeContext(),
      { command: [node, fixture("proc-tree.mjs"), "--pid-file", pidFile] },
      controller.signal,
    );
    await waitFor(() => existsSync(pidFile), 10_000, "pid file");
    const { child, grandchild } = JSON.parse(readFileSync(pidFile, "utf8")) as {
      child: number;
      grandchild: number;
    };
    pids.push(child, grandchild);
    controller.abort(Object.assign(new Error("step timeout after 30000 ms"), { code: "E_TIMEOUT" }));
    const result = await running;
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(`${node}: timed out, process tree killed`);
    expect(isGone(child)).toBe(true);
    expect(isGone(grandchild)).toBe(true);
  });

  it("passes env and cwd, and reports a missing command", async () => {
    const env = await execStep.run(
      makeContext(),
      { command: [node, out, "0", "--env", "UPKEEP_X"], env: { UPKEEP_X: "1" } },
      never(),
    );
    expect(env.output).toBe("UPKEEP_X=1");
    const missing = await execStep.run(makeContext(), { command: ["/nonexistent/restart-it"] }, never());
    expect(missing).toEqual({ ok: false, detail: "command not found: /nonexistent/restart-it (ENOENT)" });
  });

  it("describes the command line, quoting only where needed", () => {
    expect(
      execStep.describe({ command: ["/usr/local/bin/restart", "--name", "boss api"] }, { settings }),
    ).toBe("/usr/local/bin/restart --name 'boss api'");
  });
});

describe("exec step with detach: true", () => {
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), "upkeep-detach-"));
    dirs.push(dir);
    return dir;
  };

  it("starts a server, leaves it running in its own session, with no pipe of ours and its output in the log", async () => {
    const dir = tempDir();
    const pidFile = join(dir, "daemon.pid");
    const log = join(dir, "logs", "daemon.log");
    const daemon = fixture("schedule-daemon.mjs");
    const result = await execStep.run(
      makeContext(),
      { command: [node, daemon, "--pid-file", pidFile, "--lifetime", "30"], detach: true, log },
      never(),
    );
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(
      new RegExp(`^${node.replace(/[/.]/g, "\\$&")}: started \\(pid \\d+\\), left running$`),
    );
    const pid = Number(
      await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8"), 10_000, "pid file"),
    );
    pids.push(pid);
    await waitFor(
      () => existsSync(log) && readFileSync(log, "utf8").includes(`alive ${pid}`),
      10_000,
      "log line",
    );
    expect(isGone(pid)).toBe(false);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const [, , pgrp, session] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    expect([pgrp, session]).toEqual([String(pid), String(pid)]);
    expect(readlinkSync(`/proc/${pid}/fd/0`)).toBe("/dev/null");
    expect(readlinkSync(`/proc/${pid}/fd/1`)).toBe(log);
    expect(readlinkSync(`/proc/${pid}/fd/2`)).toBe(log);
    expect(statSync(log).mode & 0o777).toBe(0o600);
  });

  it("fails when the command cannot start, and says so in dry runs", async () => {
    const missing = await execStep.run(
      makeContext(),
      { command: ["/nonexistent/serve"], detach: true },
      never(),
    );
    expect(missing).toEqual({ ok: false, detail: "command not found: /nonexistent/serve (ENOENT)" });
    expect(
      execStep.describe({ command: ["/usr/bin/serve", "--port", "1"], detach: true }, { settings }),
    ).toBe("/usr/bin/serve --port 1 (detached)");
  });
});
