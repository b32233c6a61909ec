import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { execWords } from "../../src/schedule/installed.js";
import type { RunnerSpec } from "../../src/schedule/runner.js";
import {
  checkUnitName,
  quoteEnvAssignment,
  quoteExecArg,
  renderService,
  renderTimer,
  systemdUserDir,
} from "../../src/schedule/systemd-units.js";

const spec = (over: Partial<RunnerSpec> = {}): RunnerSpec => ({
  nodePath: "/opt/node 22/bin/node",
  cliPath: "/srv/upkeep/bin/upkeep.js",
  args: ["run", "--rules", "/home/ann/100% sure/$rules"],
  extraArgs: [],
  rulesDir: "/home/ann/100% sure/$rules",
  workingDirectory: "/home/ann/100% sure",
  intervalSeconds: 300,
  path: "/opt/node 22/bin:/usr/bin:/bin",
  home: "/home/ann",
  ...over,
});

const setting = (text: string, key: string): string[] =>
  text
    .split("\n")
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

describe("the service unit", () => {
  it("is a oneshot whose ExecStart names node and the CLI by absolute path, quoted for systemd", () => {
    const text = renderService(spec(), "upkeep");
    expect(setting(text, "Type")).toEqual(["oneshot"]);
    expect(setting(text, "SuccessExitStatus")).toEqual(["1 3"]);
    const [exec] = setting(text, "ExecStart");
    expect(exec).toBe(
      '"/opt/node 22/bin/node" /srv/upkeep/bin/upkeep.js run --rules "/home/ann/100%% sure/$$rules"',
    );
    expect(execWords(exec as string)).toEqual([
      "/opt/node 22/bin/node",
      "/srv/upkeep/bin/upkeep.js",
      "run",
      "--rules",
      "/home/ann/100% sure/$rules",
    ]);
    expect(setting(text, "WorkingDirectory")).toEqual(["/home/ann/100%% sure"]);
    expect(setting(text, "Environment")).toEqual(['"PATH=/opt/node 22/bin:/usr/bin:/bin" "HOME=/home/ann"']);
    expect(text).not.toContain("~");
  });

  it("leaves what a heal started running when the tick ends, at the priority it would get anyway", () => {
    const text = renderService(spec(), "upkeep");
    expect(setting(text, "KillMode")).toEqual(["process"]);
    expect(setting(text, "Nice")).toEqual([]);
    expect(setting(text, "IOSchedulingClass")).toEqual([]);
  });

  it("quotes any argument so that systemd's parser gives it back unchanged", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom("a", " ", '"', "\\", "%", "$", "'", ";", "/", "é") }), {
          minLength: 1,
          maxLength: 5,
        }),
        (words) => {
          expect(execWords(words.map(quoteExecArg).join(" "))).toEqual(words);
        },
      ),
    );
  });

  it("escapes specifiers in Environment= but leaves $ alone (no variable expansion there)", () => {
    expect(quoteEnvAssignment("PATH", '/a%b/$c/"d"')).toBe('"PATH=/a%%b/$c/\\"d\\""');
  });
});

describe("the timer unit", () => {
  const text = renderTimer(spec({ intervalSeconds: 120 }), "upkeep");

  it("is monotonic: first tick when the timer starts (like RunAtLoad), then every interval after each start", () => {
    expect(setting(text, "OnActiveSec")).toEqual(["0"]);
    expect(setting(text, "OnBootSec")).toEqual([]);
    expect(setting(text, "OnUnitActiveSec")).toEqual(["120s"]);
    expect(setting(text, "Unit")).toEqual(["upkeep.service"]);
    expect(setting(text, "WantedBy")).toEqual(["timers.target"]);
    expect(setting(text, "AccuracySec")).toEqual(["12s"]);
  });

  it("sets no Persistent= (it only affects OnCalendar timers) and says why", () => {
    expect(setting(text, "Persistent")).toEqual([]);
    expect(setting(text, "OnCalendar")).toEqual([]);
    expect(text).toMatch(/# No Persistent=: it only affects OnCalendar= timers/);
  });
});

describe("names and folders", () => {
  it("puts user units under $XDG_CONFIG_HOME when it is absolute, else ~/.config", () => {
    expect(systemdUserDir("/home/ann", { XDG_CONFIG_HOME: "/x/cfg" })).toBe("/x/cfg/systemd/user");
    expect(systemdUserDir("/home/ann", { XDG_CONFIG_HOME: "relative" })).toBe(
      "/home/ann/.config/systemd/user",
    );
    expect(systemdUserDir("/home/ann", {})).toBe("/home/ann/.config/systemd/user");
  });

  it("accepts unit names without suffix only", () => {
    expect(checkUnitName("upkeep")).toBeUndefined();
    expect(checkUnitName("upkeep.timer")).toMatch(/invalid/);
    expect(checkUnitName("../x")).toMatch(/invalid/);
  });
});
