/**
 * `upkeep demo` (npm start) with the BUILT CLI: it heals the service it kills, and leaves nothing
 * behind. Every process the demo starts inherits its TMPDIR, so a private TMPDIR lets the test find
 * any leftover process by its environment, and see that the demo removed its temporary folder.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { killTree, portAnswers } from "../actions/helpers.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const BUILT = existsSync(join(REPO, "dist", "cli", "main.js"));
const suite = BUILT ? describe : describe.skip;
const SUITE_NAME = BUILT
  ? "upkeep demo (built CLI)"
  : "SKIPPED: dist/cli/main.js is missing; build first (`npm run build`, as .ci/run does)";

/** Live (non-zombie) processes whose environment holds `entry` (e.g. `TMPDIR=/tmp/x`). */
function processesWithEnv(entry: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const environ = readFileSync(`/proc/${name}/environ`, "latin1").split("\0");
      if (environ.includes(entry)) found.push(Number(name));
    } catch {
      // Exited meanwhile, or not ours to read.
    }
  }
  return found;
}

let tmp: string | undefined;
afterEach(() => {
  if (tmp === undefined) return;
  for (const pid of processesWithEnv(`TMPDIR=${tmp}`)) killTree(pid);
  rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});

suite(SUITE_NAME, () => {
  it("heals the service it kills, exits 0, and leaves no process and no temporary folder behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "upkeep-demo-test-"));
    tmp = dir;
    const child = spawn(process.execPath, [join(REPO, "bin", "upkeep.js"), "demo"], {
      cwd: REPO,
      env: { ...process.env, TMPDIR: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const guard = setTimeout(() => {
        if (child.pid !== undefined) killTree(child.pid);
        reject(new Error(`demo did not finish within 60 s\n${stdout}\n${stderr}`));
      }, 60_000);
      child.once("close", (c) => {
        clearTimeout(guard);
        resolve(c);
      });
    });
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toContain("The heal worked");
    expect(stdout).toMatch(/UP \(healed/);
    expect(stdout).toContain("Stopped everything the demo started.");

    const root = /working in (\S+)/.exec(stdout)?.[1];
    expect(root?.startsWith(dir)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);

    expect(processesWithEnv(`TMPDIR=${dir}`)).toEqual([]);
    const ports = [...stdout.matchAll(/ on 127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
    expect(ports).toHaveLength(3);
    for (const port of ports) expect(await portAnswers(port)).toBe(false);
  });
});
