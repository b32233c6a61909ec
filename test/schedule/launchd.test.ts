import { describe, expect, it } from "vitest";
import {
  installOps,
  launchdTarget,
  listFields,
  printFields,
  uninstallOps,
} from "../../src/schedule/launchd.js";
import { describeOps } from "../../src/schedule/ops.js";
import { absolutePath, cliPathWarning, intervalSeconds, searchPath } from "../../src/schedule/runner.js";

const PRINT = `gui/501/dev.upkeep.runner = {
\tactive count = 0
\tpath = /Users/ann/Library/LaunchAgents/dev.upkeep.runner.plist
\tstate = not running

\tendpoints = {
\t\tstate = active
\t\truns = 99
\t}
\truns = 7
\tlast exit code = 78: EX_CONFIG
}
`;

describe("reading launchctl output", () => {
  it("takes the job's own fields from print, not those of nested blocks", () => {
    expect(printFields(PRINT)).toMatchObject({
      state: "not running",
      runs: "7",
      "last exit code": "78: EX_CONFIG",
    });
  });

  it("reads legacy list output", () => {
    expect(listFields('{\n\t"Label" = "x";\n\t"LastExitStatus" = 256;\n\t"PID" = 42;\n};\n')).toEqual({
      Label: "x",
      LastExitStatus: "256",
      PID: "42",
    });
  });
});

describe("install and uninstall plans", () => {
  const t = launchdTarget({
    label: "dev.upkeep.runner",
    uid: 501,
    home: "/Users/ann",
    launchctl: "/bin/launchctl",
  });

  it("installs in order: folders, the plist, bootout, enable, bootstrap, print; each modern command with its legacy counterpart", () => {
    const ops = installOps(t, "<plist/>");
    expect(
      ops.map((op) =>
        op.kind === "run"
          ? [op.step.argv.slice(1).join(" "), op.legacy === null ? null : op.legacy?.argv.slice(1).join(" ")]
          : [op.kind, op.path],
      ),
    ).toEqual([
      ["mkdir", "/Users/ann/Library/LaunchAgents"],
      ["mkdir", "/Users/ann/Library/Logs/upkeep"],
      ["write", "/Users/ann/Library/LaunchAgents/dev.upkeep.runner.plist"],
      ["bootout gui/501/dev.upkeep.runner", "unload /Users/ann/Library/LaunchAgents/dev.upkeep.runner.plist"],
      ["enable gui/501/dev.upkeep.runner", null],
      [
        "bootstrap gui/501 /Users/ann/Library/LaunchAgents/dev.upkeep.runner.plist",
        "load -w /Users/ann/Library/LaunchAgents/dev.upkeep.runner.plist",
      ],
      ["print gui/501/dev.upkeep.runner", "list dev.upkeep.runner"],
    ]);
  });

  it("uninstalls by booting out, then removing the plist", () => {
    expect(uninstallOps(t).map((op) => op.kind)).toEqual(["run", "remove"]);
  });

  it("describes a dry run with the file content and every command, including the fallbacks", () => {
    const text = describeOps(installOps(t, "<plist>\n  <dict/>\n</plist>\n"), "launchctl");
    expect(text).toContain(
      "write /Users/ann/Library/LaunchAgents/dev.upkeep.runner.plist (mode 0644):\n    | <plist>\n    |   <dict/>\n    | </plist>\n",
    );
    expect(text).toContain('(if launchctl does not know "enable": skip it)');
    expect(text).toContain(
      '(if launchctl does not know "bootstrap": run /bin/launchctl load -w /Users/ann/Library/LaunchAgents/dev.upkeep.runner.plist)',
    );
  });
});

describe("runner paths", () => {
  it("expands ~ and makes paths absolute", () => {
    expect(absolutePath("~/x", "/Users/ann")).toBe("/Users/ann/x");
    expect(absolutePath("~", "/Users/ann")).toBe("/Users/ann");
    expect(absolutePath("/a/../b", "/Users/ann")).toBe("/b");
  });

  it("puts node's folder first in PATH, each folder once", () => {
    expect(searchPath("/opt/homebrew/bin/node")).toBe(
      "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
    );
    expect(searchPath("/Users/ann/.nvm/versions/node/v22.1.0/bin/node").split(":")[0]).toBe(
      "/Users/ann/.nvm/versions/node/v22.1.0/bin",
    );
  });

  it("turns the interval into whole seconds, at least 1", () => {
    expect(intervalSeconds(300_000)).toBe(300);
    expect(intervalSeconds(1500)).toBe(2);
    expect(intervalSeconds(10)).toBe(1);
  });

  it("warns about a CLI inside npx's cache", () => {
    expect(cliPathWarning("/Users/ann/.npm/_npx/123/node_modules/upkeep/bin/upkeep.js")).toMatch(/npx/);
    expect(cliPathWarning("/usr/local/lib/node_modules/upkeep/bin/upkeep.js")).toBeUndefined();
  });
});
