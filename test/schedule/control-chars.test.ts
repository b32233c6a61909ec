/**
 * Issue 19: a newline in the rules folder's name, --state-dir or --node split the rendered ExecStart=
 * and added directives of the attacker's choosing to the unit. Paths with control characters are refused
 * (exit 2, a message that shows the character escaped, nothing printed or written, no systemctl or
 * launchctl call); paths with spaces, quotes, `%`, `$` and backslashes are written so that the
 * scheduler reads them back unchanged.
 */
import { cpSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runMain, sandbox, type Sandbox } from "./helpers.js";

let box: Sandbox;
beforeEach(() => {
  box = sandbox();
});
afterEach(() => box.cleanup());

/** A copy of the sandbox's rules in a folder of the given name. */
function rulesNamed(name: string): string {
  const dir = join(box.root, name);
  mkdirSync(dir, { recursive: true });
  cpSync(box.rules, dir, { recursive: true });
  return dir;
}

const injected = "rules\nExecStartPre=/bin/touch /tmp/upkeep-issue-19";

/** Nothing of either scheduler was written under HOME, and no state folder was made. */
function expectNothingWritten(): void {
  expect(existsSync(join(box.home, ".config", "systemd"))).toBe(false);
  expect(existsSync(join(box.home, "Library"))).toBe(false);
  expect(existsSync(box.stateDir)).toBe(false);
  expect(box.calls()).toEqual([]);
}

describe.each(["systemd", "launchd"] as const)("upkeep %s: control characters in a path", (tool) => {
  const cases: [string, () => string[]][] = [
    ["the rules folder's name", () => ["--rules", rulesNamed(injected)]],
    ["--state-dir", () => ["--rules", box.rules, "--state-dir", join(box.root, injected)]],
    ["--node", () => ["--rules", box.rules, "--node", `${process.execPath}\nExecStartPost=/bin/true`]],
    ["a carriage return", () => ["--rules", rulesNamed("rules\rX")]],
    ["a tab", () => ["--rules", rulesNamed("rules\tX")]],
    ["an escape (ESC)", () => ["--rules", rulesNamed("rules\u001b[31mX")]],
  ];

  for (const [what, args] of cases) {
    it(`refuses ${what} with exit 2, a readable message, and writes nothing (render and install)`, async () => {
      const argv = args();
      for (const sub of ["render", "install"]) {
        const result = await runMain([tool, sub, ...argv]);
        expect(result.code).toBe(2);
        expect(result.stdout).toBe("");
        expect(result.stderr).toMatch(/control character/);
        // The path is shown escaped: the message itself stays on one line.
        expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
        expect(result.stderr).not.toMatch(/^\s+at /m);
      }
      expectNothingWritten();
    });
  }
});

describe("upkeep systemd render: paths with special characters", () => {
  it("writes spaces, quotes, %, $ and backslashes so that they read back unchanged", async () => {
    const odd = `100% "sure" $HOME it's a\\b`;
    const rules = rulesNamed(join(odd, "rules"));
    // The program's path may hold neither quotes nor backslashes (systemd refuses them): tested below.
    const nodeDir = join(box.root, "node 100% $HOME", "bin");
    mkdirSync(nodeDir, { recursive: true });
    symlinkSync(process.execPath, join(nodeDir, "node"));
    const result = await runMain([
      "systemd",
      "render",
      "--rules",
      rules,
      "--node",
      join(nodeDir, "node"),
      "--state-dir",
      join(box.root, odd, "state"),
    ]);
    expect(result.code).toBe(0);
    const exec = result.stdout.split("\n").find((l) => l.startsWith("ExecStart=")) ?? "";
    expect(exec).toContain('100%% \\"sure\\" $$HOME it\'s a\\\\b');
    expect(result.stdout).toContain(`WorkingDirectory=${join(box.root, '100%% "sure" $HOME it\'s a\\b')}`);
    expect(exec.startsWith(`ExecStart="${join(box.root, "node 100%% $HOME", "bin", "node")}" `)).toBe(true);
  });

  it("refuses a node path that systemd would refuse to start (a quote in it), with exit 2 and nothing written", async () => {
    const nodeDir = join(box.root, `it's`, "bin");
    mkdirSync(nodeDir, { recursive: true });
    symlinkSync(process.execPath, join(nodeDir, "node"));
    for (const sub of ["render", "install"]) {
      const result = await runMain(["systemd", sub, "--rules", box.rules, "--node", join(nodeDir, "node")]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/quote or a backslash/);
    }
    expectNothingWritten();
  });
});
