/**
 * An exec probe leaves nothing running: whatever its command started (in the background, holding our
 * pipes or not) is killed when the command exits or times out. Issue 19: `sh -c "sleep 300 & echo ok"`
 * left one `sleep` per tick.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { execProbe as execProbeImpl, type ExecProbeParams } from "../../../src/actions/probes/exec.js";
import type { ProbeHandler } from "../../../src/actions/types.js";
import { fixture, isGone, killTree, makeContext, never, waitFor } from "../helpers.js";

const execProbe: ProbeHandler<ExecProbeParams> = execProbeImpl;
const node = process.execPath;
const started: number[] = [];
const dirs: string[] = [];

function pidFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "upkeep-probe-tree-"));
  dirs.push(dir);
  return join(dir, "pids");
}

function readPid(file: string): number {
  const pid = Number(readFileSync(file, "utf8").trim());
  started.push(pid);
  return pid;
}

afterEach(() => {
  for (const pid of started.splice(0)) killTree(pid);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Bounded: a killed process is gone (or an unreaped zombie) within a few seconds at most. */
const gone = (pid: number): Promise<boolean> => waitFor(() => isGone(pid), 5000, `pid ${pid} to be gone`);

describe("exec probe: leaves nothing running", () => {
  it("kills a background grandchild that holds stdout open after the command exits", async () => {
    const file = pidFile();
    const result = await execProbe.run(
      makeContext(),
      { command: ["sh", "-c", `sleep 300 & echo $! > '${file}'; echo ok`], expect: { stdoutContains: "ok" } },
      never(),
    );
    expect(result).toMatchObject({ ok: true, detail: "exit 0" });
    await expect(gone(readPid(file))).resolves.toBe(true);
  });

  it("kills a background grandchild that does not hold our pipes", async () => {
    const file = pidFile();
    const result = await execProbe.run(
      makeContext(),
      { command: ["sh", "-c", `sleep 300 </dev/null >/dev/null 2>&1 & echo $! > '${file}'`] },
      never(),
    );
    expect(result.ok).toBe(true);
    await expect(gone(readPid(file))).resolves.toBe(true);
  });

  // Found by session id in /proc, so Linux only; elsewhere only the probe's process group is killed.
  it.skipIf(process.platform !== "linux")(
    "kills a background job that a job-control shell put in a process group of its own",
    async () => {
      // bash's `set -m` gives each background job its own process group; it stays in the probe's session.
      const file = pidFile();
      const result = await execProbe.run(
        makeContext(),
        { command: ["bash", "-c", `set -m; sleep 300 </dev/null >/dev/null 2>&1 & echo $! > '${file}'`] },
        never(),
      );
      expect(result.ok).toBe(true);
      await expect(gone(readPid(file))).resolves.toBe(true);
    },
  );

  it("kills the grandchild of a node command whose leader exits first", async () => {
    const file = pidFile();
    const result = await execProbe.run(
      makeContext(),
      { command: [node, fixture("proc-tree.mjs"), "--leader-exits", "--pid-file", file] },
      never(),
    );
    expect(result.ok).toBe(true);
    const { child, grandchild } = JSON.parse(readFileSync(file, "utf8")) as Record<string, number>;
    started.push(child as number, grandchild as number);
    await expect(gone(grandchild as number)).resolves.toBe(true);
  });

  it("kills the whole tree when the probe times out", async () => {
    const file = pidFile();
    const result = await execProbe.run(
      makeContext(),
      { command: [node, fixture("proc-tree.mjs"), "--ignore-term", "--pid-file", file] },
      AbortSignal.timeout(1500),
    );
    expect(result.ok).toBe(false);
    await waitFor(() => existsSync(file), 5000, "pid file");
    const { child, grandchild } = JSON.parse(readFileSync(file, "utf8")) as Record<string, number>;
    started.push(child as number, grandchild as number);
    await expect(gone(child as number)).resolves.toBe(true);
    await expect(gone(grandchild as number)).resolves.toBe(true);
  });
});
