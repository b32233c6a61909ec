import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { parse } from "plist";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  checkLabel,
  fillTemplate,
  renderPlist,
  renderServePlist,
  templatePath,
} from "../../src/schedule/plist.js";
import { cliPath, runnerSpec } from "../../src/schedule/runner.js";
import { runMain, sandbox, type Sandbox } from "./helpers.js";

let box: Sandbox;
beforeEach(() => {
  box = sandbox();
});
afterEach(() => box.cleanup());

type Dict = Record<string, unknown>;

/** node's folder first, then the usual tool folders, each once. */
function expectedPath(node: string): string {
  const dirs = [
    dirname(node),
    "/usr/local/bin",
    "/opt/homebrew/bin",
    "/usr/bin",
    "/bin",
    "/usr/sbin",
    "/sbin",
  ];
  return dirs.filter((d, i) => dirs.indexOf(d) === i).join(":");
}

function allStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(allStrings);
  return [];
}

describe("upkeep launchd render", () => {
  it("prints a plist whose every key is what launchd needs, with absolute paths only", async () => {
    const result = await runMain(["launchd", "render", "--rules", box.rules]);
    expect(result.code).toBe(0);
    const doc = parse(result.stdout) as Dict;
    const logDir = join(box.home, "Library", "Logs", "upkeep");
    expect(doc).toEqual({
      Label: "dev.upkeep.runner",
      ProgramArguments: [process.execPath, cliPath(), "run", "--rules", box.rules],
      StartInterval: 120,
      RunAtLoad: true,
      WorkingDirectory: dirname(box.rules),
      EnvironmentVariables: {
        PATH: expectedPath(process.execPath),
        HOME: box.home,
      },
      StandardOutPath: join(logDir, "dev.upkeep.runner.stdout.log"),
      StandardErrorPath: join(logDir, "dev.upkeep.runner.stderr.log"),
      AbandonProcessGroup: true,
      ProcessType: "Standard",
    });
    const env = doc["EnvironmentVariables"] as Dict;
    const path = String(env["PATH"]).split(":");
    expect(path[0]).toBe(dirname(process.execPath));
    expect(new Set(path).size).toBe(path.length);
    expect(path).toEqual(
      expect.arrayContaining([
        "/usr/local/bin",
        "/opt/homebrew/bin",
        "/usr/bin",
        "/bin",
        "/usr/sbin",
        "/sbin",
      ]),
    );
    for (const key of ["WorkingDirectory", "StandardOutPath", "StandardErrorPath"])
      expect(isAbsolute(String(doc[key]))).toBe(true);
    for (const arg of (doc["ProgramArguments"] as string[]).filter((a) => a.includes("/")))
      expect(isAbsolute(arg)).toBe(true);
    expect(isAbsolute(String(env["HOME"]))).toBe(true);
    expect(result.stdout).not.toContain("~");
    expect(result.stdout).not.toContain("{{");
  });

  it("defaults StartInterval to 300 s, bakes in --state-dir and --label, and uses the node given with --node", async () => {
    box.cleanup();
    box = sandbox({ interval: "300s" });
    const node = join(box.root, "opt", "node", "bin", "node");
    const result = await runMain([
      "launchd",
      "render",
      "--rules",
      box.rules,
      "--state-dir",
      join(box.root, "s2"),
      "--label",
      "com.example.upkeep",
      "--node",
      node,
    ]);
    expect(result.code).toBe(0);
    const doc = parse(result.stdout) as Dict;
    expect(doc["Label"]).toBe("com.example.upkeep");
    expect(doc["StartInterval"]).toBe(300);
    expect(doc["ProgramArguments"]).toEqual([
      node,
      cliPath(),
      "run",
      "--rules",
      box.rules,
      "--state-dir",
      join(box.root, "s2"),
    ]);
    expect(String((doc["EnvironmentVariables"] as Dict)["PATH"]).split(":")[0]).toBe(dirname(node));
    expect(doc["StandardOutPath"]).toBe(
      join(box.home, "Library", "Logs", "upkeep", "com.example.upkeep.stdout.log"),
    );
  });

  it("expands ~ in --node and --state-dir against HOME", async () => {
    const result = await runMain([
      "launchd",
      "render",
      "--rules",
      box.rules,
      "--state-dir",
      "~/st",
      "--node",
      "~/bin/node",
    ]);
    const doc = parse(result.stdout) as Dict;
    expect(doc["ProgramArguments"]).toEqual([
      join(box.home, "bin", "node"),
      cliPath(),
      "run",
      "--rules",
      box.rules,
      "--state-dir",
      join(box.home, "st"),
    ]);
    expect(allStrings(doc).some((s) => s.includes("~"))).toBe(false);
  });

  it("refuses a label that is not reverse-DNS characters, and bad rules, with exit 2", async () => {
    expect((await runMain(["launchd", "render", "--rules", box.rules, "--label", "../evil"])).code).toBe(2);
    expect(checkLabel("dev.upkeep.runner")).toBeUndefined();
    const missing = await runMain(["launchd", "render", "--rules", join(box.root, "nope")]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe("");
  });
});

describe("upkeep launchd render --serve", () => {
  it("prints the status page's plist: the tick's paths, environment and log folder, running serve, kept alive", async () => {
    const tick = parse((await runMain(["launchd", "render", "--rules", box.rules])).stdout) as Dict;
    const result = await runMain([
      "launchd",
      "render",
      "--rules",
      box.rules,
      "--state-dir",
      join(box.root, "s2"),
      "--serve",
      "--listen",
      "127.0.0.1:9000",
      "--actions",
    ]);
    expect(result.code).toBe(0);
    const doc = parse(result.stdout) as Dict;
    const logDir = join(box.home, "Library", "Logs", "upkeep");
    expect(doc).toEqual({
      Label: "dev.upkeep.runner.serve",
      ProgramArguments: [
        process.execPath,
        cliPath(),
        "serve",
        "--rules",
        box.rules,
        "--state-dir",
        join(box.root, "s2"),
        "--listen",
        "127.0.0.1:9000",
        "--actions",
      ],
      KeepAlive: true,
      RunAtLoad: true,
      ThrottleInterval: 10,
      WorkingDirectory: tick["WorkingDirectory"],
      EnvironmentVariables: tick["EnvironmentVariables"],
      StandardOutPath: join(logDir, "dev.upkeep.runner.serve.stdout.log"),
      StandardErrorPath: join(logDir, "dev.upkeep.runner.serve.stderr.log"),
      AbandonProcessGroup: true,
      ProcessType: "Standard",
    });
    expect(result.stdout).not.toContain("~");
    expect(result.stdout).not.toContain("{{");
    const plain = parse(
      (await runMain(["launchd", "render", "--rules", box.rules, "--serve", "--label", "com.example.up"]))
        .stdout,
    ) as Dict;
    expect(plain["Label"]).toBe("com.example.up.serve");
    expect(plain["ProgramArguments"]).toEqual([process.execPath, cliPath(), "serve", "--rules", box.rules]);
  });

  it("refuses --listen and --actions without --serve, and an address serve would refuse at every start (exit 2)", async () => {
    const render = (...extra: string[]) => runMain(["launchd", "render", "--rules", box.rules, ...extra]);
    for (const [extra, message] of [
      [["--listen", "127.0.0.1:9000"], "--listen goes with --serve"],
      [["--actions"], "--actions goes with --serve"],
      [["--serve", "--listen", "0.0.0.0:9000"], "loopback only"],
      [["--serve", "--listen", "127.0.0.1:0"], "a fixed port"],
      [["--serve", "--listen", "9000"], "--listen must be HOST:PORT"],
    ] as const) {
      const result = await render(...extra);
      expect(result.code, extra.join(" ")).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe("");
    }
  });
});

describe("the plist template", () => {
  const spec = () =>
    runnerSpec({
      config: { rulesDir: "/srv/a & b/<rules>", runtime: { intervalMs: 90_000 } as never },
      home: "/Users/x",
      nodePath: "/opt/node/bin/node",
    });

  it("is filled by value, so characters that are special in XML survive a round trip", async () => {
    const doc = parse(await renderPlist(spec(), "dev.upkeep.runner")) as Dict;
    expect((doc["ProgramArguments"] as string[])[4]).toBe("/srv/a & b/<rules>");
    expect(doc["WorkingDirectory"]).toBe("/srv/a & b");
    expect(doc["StartInterval"]).toBe(90);
  });

  it("refuses a control character in any value instead of writing XML launchd cannot read (issue 19)", async () => {
    for (const bad of ["\n", "\r", "\t", "\u0000", "\u001b", "\u007f"]) {
      const rulesDir = `/srv/rules${bad}x`;
      const s = { ...spec(), rulesDir, args: ["run", "--rules", rulesDir] };
      await expect(renderPlist(s, "dev.upkeep.runner")).rejects.toThrow(/control character/);
      await expect(
        renderServePlist({ ...spec(), home: `/Users/x${bad}` }, "dev.upkeep.runner", { actions: false }),
      ).rejects.toThrow(/control character/);
    }
  });

  it("names only placeholders that the renderer fills", () => {
    const values = allStrings(parse(readFileSync(templatePath(), "utf8")));
    const names = values.flatMap((v) => [...v.matchAll(/\{\{(?:\.\.\.)?([A-Z_]+)\}\}/g)].map((m) => m[1]));
    expect(new Set(names)).toEqual(
      new Set([
        "LABEL",
        "NODE",
        "CLI",
        "RULES_DIR",
        "EXTRA_ARGS",
        "INTERVAL_SECONDS",
        "WORKING_DIRECTORY",
        "PATH",
        "HOME",
        "LOG_DIR",
      ]),
    );
  });

  it("throws on a placeholder it has no value for, instead of writing it out", () => {
    expect(() => fillTemplate({ a: "{{NOPE}}" }, {})).toThrow(/NOPE/);
    expect(() => fillTemplate({ a: ["{{...LIST}}"] }, { LIST: "x" })).toThrow(/not a list/);
  });
});

/**
 * The keys launchd.plist(5) documents for what upkeep writes, with the type the man page gives each. A
 * key outside this table is a typo or an undocumented key: launchd ignores those silently.
 */
const LAUNCHD_KEYS: Record<string, (v: unknown) => boolean> = {
  Label: (v) => typeof v === "string" && /^[A-Za-z0-9._-]+$/.test(v),
  ProgramArguments: (v) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === "string"),
  StartInterval: (v) => Number.isInteger(v) && (v as number) > 0,
  RunAtLoad: (v) => typeof v === "boolean",
  WorkingDirectory: (v) => typeof v === "string" && isAbsolute(v),
  EnvironmentVariables: (v) =>
    v !== null && typeof v === "object" && Object.values(v as Dict).every((s) => typeof s === "string"),
  StandardOutPath: (v) => typeof v === "string" && isAbsolute(v),
  StandardErrorPath: (v) => typeof v === "string" && isAbsolute(v),
  AbandonProcessGroup: (v) => typeof v === "boolean",
  // A boolean, or a dictionary of conditions (SuccessfulExit, NetworkState, PathState...).
  KeepAlive: (v) => typeof v === "boolean" || (v !== null && typeof v === "object" && !Array.isArray(v)),
  ThrottleInterval: (v) => Number.isInteger(v) && (v as number) > 0,
  ProcessType: (v) => ["Background", "Standard", "Adaptive", "Interactive"].includes(v as string),
};

describe("the rendered plist, against launchd.plist(5)", () => {
  it("uses only documented keys, each with the documented type (the tick's plist and the status page's)", async () => {
    for (const extra of [[], ["--serve"], ["--serve", "--listen", "127.0.0.1:9000", "--actions"]]) {
      const doc = parse(
        (await runMain(["launchd", "render", "--rules", box.rules, ...extra])).stdout,
      ) as Dict;
      for (const [key, value] of Object.entries(doc)) {
        expect(Object.keys(LAUNCHD_KEYS), `undocumented key ${key} (${extra.join(" ")})`).toContain(key);
        expect(LAUNCHD_KEYS[key]?.(value), `${key} = ${JSON.stringify(value)}`).toBe(true);
      }
    }
  });

  it("follows the man page's conventions for a job kept alive (the status page)", async () => {
    const doc = parse((await runMain(["launchd", "render", "--rules", box.rules, "--serve"])).stdout) as Dict;
    expect(doc["Program"]).toBeUndefined();
    expect(isAbsolute((doc["ProgramArguments"] as string[])[0] as string)).toBe(true);
    // Kept alive, not periodic: StartInterval would start a second one while the first still runs.
    expect(doc["KeepAlive"]).toBe(true);
    expect(doc["StartInterval"]).toBeUndefined();
    expect(doc["StartCalendarInterval"]).toBeUndefined();
    expect(doc["RunAtLoad"]).toBe(true);
    // launchd's default, said explicitly: a page that exits at once is started again after 10 s.
    expect(doc["ThrottleInterval"]).toBe(10);
    for (const key of ["OnDemand", "ServiceIPC", "Debug", "LimitLoadToHosts", "LimitLoadFromHosts"])
      expect(doc[key]).toBeUndefined();
  });

  it("follows the man page's conventions for a periodic job", async () => {
    const doc = parse((await runMain(["launchd", "render", "--rules", box.rules])).stdout) as Dict;
    // The program is the first ProgramArguments item, by absolute path: launchd runs no shell.
    expect(doc["Program"]).toBeUndefined();
    expect(isAbsolute((doc["ProgramArguments"] as string[])[0] as string)).toBe(true);
    // Periodic, not kept alive: KeepAlive would restart `upkeep run` as soon as each tick exits.
    expect(doc["KeepAlive"]).toBeUndefined();
    expect(doc["StartCalendarInterval"]).toBeUndefined();
    // Processes a heal started stay when the tick exits (launchd kills the job's process group otherwise).
    expect(doc["AbandonProcessGroup"]).toBe(true);
    // Deprecated in launchd.plist(5): OnDemand (use KeepAlive), ServiceIPC, Debug, LimitLoadToHosts...
    for (const key of ["OnDemand", "ServiceIPC", "Debug", "LimitLoadToHosts", "LimitLoadFromHosts"])
      expect(doc[key]).toBeUndefined();
    // StartInterval is in seconds and at least launchd's 10 s ThrottleInterval for these rules (120s).
    expect(doc["StartInterval"]).toBeGreaterThanOrEqual(10);
  });
});
