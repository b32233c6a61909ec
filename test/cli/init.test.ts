/**
 * `upkeep init`: the folder it writes is a newcomer's first rules. For each platform the generated folder
 * passes `validate` and its own rule tests with the BUILT CLI, run exactly as `init` prints the commands;
 * on Linux a real tick then heals the example service by starting python3's http.server on a free port,
 * and on macOS rules (run here through the launchctl stand-in) a tick heals it by bootstrapping its
 * LaunchAgent. It never overwrites, and its usage errors change nothing.
 */
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { loadRules } from "../../src/config/validate.js";
import {
  freePort,
  isGone,
  killStandinJobs,
  killTree,
  LAUNCHCTL_STANDIN,
  portAnswers,
  standinCalls,
  waitFor,
} from "../actions/helpers.js";
import { upkeep } from "../testing/helpers.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(REPO, "bin", "upkeep.js");
const BUILT = existsSync(join(REPO, "dist", "cli", "main.js"));
const builtSuite = BUILT ? describe : describe.skip;
const BUILT_NAME = BUILT
  ? "upkeep init (built CLI): the printed commands work as printed"
  : "SKIPPED: dist/cli/main.js is missing; build first (`npm run build`, as .ci/run does)";
const HAS_PYTHON = spawnSync("python3", ["--version"], { timeout: 10_000 }).status === 0;
const FILES = ["services.yaml", "alerts.yaml", "tests/example.test.yaml"] as const;

const temps: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "upkeep-init-"));
  temps.push(dir);
  return dir;
}

interface Cli {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built CLI in `cwd`, with a temp HOME (so ~/.upkeep is the test's) and none of the caller's upkeep or npm variables. */
function cli(args: readonly string[], cwd: string, extraEnv: Record<string, string> = {}): Cli {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("UPKEEP_") && !key.startsWith("npm_")) env[key] = value;
  }
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...env, HOME: join(cwd, "home"), ...extraEnv },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The indented `upkeep ...` lines init prints under "Next:", as argv (the test's paths need no quoting). */
function printedCommands(stdout: string): string[][] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("  upkeep "))
    .map((line) => line.trim().split(/\s+/).slice(1));
}

describe("upkeep init (in process)", () => {
  it("writes the three files, each starting with a $schema line naming this upkeep's editor schema (absolute outside its project)", async () => {
    const dir = join(tempDir(), "rules");
    const { code, stderr } = await upkeep("init", dir, "--platform", "linux");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    for (const [file, schema] of [
      ["services.yaml", "services"],
      ["alerts.yaml", "alerts"],
      ["tests/example.test.yaml", "test"],
    ] as const) {
      const first = readFileSync(join(dir, file), "utf8").split("\n")[0];
      const target = join(REPO, "schemas", "editor", `${schema}.json`);
      expect(first).toBe(`# yaml-language-server: $schema=${target}`);
      expect(existsSync(target)).toBe(true);
      expect((await upkeep("schema", schema, "--path")).stdout).toBe(`${target}\n`);
    }
    expect(readdirSync(dir, { recursive: true }).map(String).sort()).toEqual(
      ["alerts.yaml", "services.yaml", "tests", "tests/example.test.yaml"].sort(),
    );
  });

  it("`upkeep schema --path` prints an absolute path: the editor copy for rules documents, else the schema file", async () => {
    expect((await upkeep("schema", "--path")).stdout).toBe(
      `${join(REPO, "schemas", "editor", "services.json")}\n`,
    );
    const wait = await upkeep("schema", "handlers/wait", "--path");
    expect(wait.code).toBe(0);
    expect(wait.stdout).toBe(`${join(REPO, "schemas", "handlers", "step", "wait.schema.json")}\n`);
    expect((await upkeep("schema", "nope", "--path")).code).toBe(2);
  });

  it.each(["linux", "macos"] as const)(
    "the commented runtime block of %s is what upkeep uses when the rules name none",
    async (platform) => {
      const dir = join(tempDir(), "rules");
      expect((await upkeep("init", dir, "--platform", platform)).code).toBe(0);
      const text = readFileSync(join(dir, "services.yaml"), "utf8");
      const block = /^# runtime:\n(?:# {3}.*\n)+/m.exec(text)?.[0];
      expect(block, "a commented runtime: block").toBeDefined();
      const uncommented = join(tempDir(), "rules");
      mkdirSync(uncommented);
      writeFileSync(
        join(uncommented, "services.yaml"),
        text.replace(block ?? "", (block ?? "").replace(/^# ?/gm, "")),
      );
      const before = await loadRules(dir, { env: {} });
      const after = await loadRules(uncommented, { env: {} });
      expect(after.diagnostics).toEqual([]);
      const runtime = (r: typeof before): unknown => {
        const { stateDir, logFile, intervalMs, launchctlPath, systemctlPath } = r.config?.runtime ?? {};
        return { stateDir, logFile, intervalMs, launchctlPath, systemctlPath };
      };
      expect(runtime(after)).toEqual(runtime(before));
      expect(block).toContain(platform === "linux" ? "systemctl:" : "launchctl:");
    },
  );

  it("refuses to overwrite: names every file in the way, exits 2 and writes nothing", async () => {
    const dir = join(tempDir(), "rules");
    mkdirSync(join(dir, "tests"), { recursive: true });
    writeFileSync(join(dir, "alerts.yaml"), "mine\n");
    writeFileSync(join(dir, "tests", "example.test.yaml"), "mine too\n");
    const { code, stdout, stderr } = await upkeep("init", dir);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(
      `already there: ${dir}/alerts.yaml, ${dir}/tests/example.test.yaml; nothing was written`,
    );
    expect(existsSync(join(dir, "services.yaml"))).toBe(false);
    expect(readFileSync(join(dir, "alerts.yaml"), "utf8")).toBe("mine\n");
    expect(readFileSync(join(dir, "tests", "example.test.yaml"), "utf8")).toBe("mine too\n");
  });

  it("refuses a folder that is a file", async () => {
    const file = join(tempDir(), "rules");
    writeFileSync(file, "not a folder\n");
    const { code, stderr } = await upkeep("init", file);
    expect(code).toBe(2);
    expect(stderr).toContain(`upkeep init: not a folder: ${file}; nothing was written`);
    expect(readFileSync(file, "utf8")).toBe("not a folder\n");
    const tests = join(tempDir(), "rules");
    mkdirSync(tests);
    writeFileSync(join(tests, "tests"), "not a folder either\n");
    const second = await upkeep("init", tests);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`upkeep init: not a folder: ${tests}/tests; nothing was written`);
    expect(readdirSync(tests)).toEqual(["tests"]);
  });

  it.each([
    [(root: string) => [join(root, "a"), "--rules", join(root, "b")], "two folders given: "],
    [(root: string) => [join(root, "a"), join(root, "b")], "expected one folder, got 2"],
    [
      (root: string) => [root, "--platform", "darwin"],
      '--platform must be linux or macos, not "darwin" (did you mean "macos"?)',
    ],
    [(root: string) => [root, "--platform", "linx"], '(did you mean "linux"?)'],
    [
      (root: string) => [root, "--port", "70000"],
      '--port must be a port number from 1 to 65535, not "70000"',
    ],
    [(root: string) => [root, "--prot", "80"], "unknown option --prot (did you mean --port?)"],
  ])("usage error %#: exit 2, nothing written", async (args, message) => {
    const root = tempDir();
    const { code, stdout, stderr } = await upkeep("init", ...args(root));
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(message);
    expect(readdirSync(root)).toEqual([]);
  });

  it("accepts DIR and --rules naming the same folder", async () => {
    const dir = join(tempDir(), "rules");
    const { code } = await upkeep("init", dir, "--rules", `${dir}/`);
    expect(code).toBe(0);
    expect(existsSync(join(dir, "services.yaml"))).toBe(true);
  });

  it("is listed in `upkeep --help` and has its own --help", async () => {
    expect((await upkeep("--help")).stdout).toMatch(/^ {2}init +scaffold a rules folder/m);
    const help = await upkeep("init", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: upkeep init [DIR] [--platform macos|linux] [--port N]");
  });
});

builtSuite(BUILT_NAME, () => {
  it("prints what it wrote and the next commands with the folder as given (relative stays relative)", () => {
    const cwd = tempDir();
    const { code, stdout, stderr } = cli(["init", "my-rules", "--platform", "linux"], cwd);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("Wrote a rules folder for linux:\n  my-rules/services.yaml ");
    expect(stdout).toContain("\n  my-rules/alerts.yaml ");
    expect(stdout).toContain("\n  my-rules/tests/example.test.yaml ");
    expect(printedCommands(stdout)).toEqual([
      ["validate", "--rules", "my-rules"],
      ["test", "--rules", "my-rules"],
      ["run", "--rules", "my-rules"],
    ]);
    expect(stdout).toContain("\nTo run a tick every 5m: upkeep systemd install --rules my-rules\n");
    for (const file of FILES) expect(existsSync(join(cwd, "my-rules", file))).toBe(true);
  });

  it("defaults to ./rules, and prints `npx upkeep` when run through npx", () => {
    const cwd = tempDir();
    const { code, stdout } = cli(["init", "--platform", "macos"], cwd, { npm_command: "exec" });
    expect(code).toBe(0);
    expect(stdout).toContain("  npx upkeep validate --rules ./rules\n");
    expect(stdout).toContain("To run a tick every 5m: npx upkeep launchd install --rules ./rules\n");
    expect(existsSync(join(cwd, "rules", "services.yaml"))).toBe(true);
  });

  it.each(["linux", "macos"] as const)(
    "the %s folder passes validate and its rule tests, run as printed",
    (platform) => {
      const cwd = tempDir();
      const init = cli(["init", "--platform", platform], cwd);
      expect(init.code).toBe(0);
      const [validate, test] = printedCommands(init.stdout);
      const valid = cli(validate ?? [], cwd);
      expect(valid.stdout).toBe("rules are valid\n");
      expect(valid.code).toBe(0);
      const tests = cli(test ?? [], cwd);
      expect(tests.stdout).toContain("PASS rules/tests/example.test.yaml > web-is-healed");
      expect(tests.stdout).toContain("PASS rules/tests/example.test.yaml > web-stays-down");
      expect(tests.stdout).toContain("2 tests: 2 passed, 0 failed");
      expect(tests.code).toBe(0);
    },
  );

  // python3 is what the Linux example starts; without it (or off Linux) there is nothing to heal with.
  it.skipIf(!HAS_PYTHON || process.platform !== "linux")(
    "linux: `upkeep run` as printed heals web by starting python3 -m http.server, and the next run finds it up",
    async () => {
      const cwd = tempDir();
      const port = await freePort();
      cleanups.push(() => killServersOn(port));
      const init = cli(["init", "--platform", "linux", "--port", String(port)], cwd);
      expect(init.code).toBe(0);
      const run = printedCommands(init.stdout)[2] ?? [];
      expect(run).toEqual(["run", "--rules", "./rules"]);
      expect(await portAnswers(port)).toBe(false);

      const first = cli(run, cwd);
      expect(first.stderr).toBe("");
      expect(first.stdout).toContain(
        `Example web server (http://127.0.0.1:${port}/): UP (healed; was down: connect ECONNREFUSED 127.0.0.1:${port})`,
      );
      expect(first.code).toBe(0);
      const log = readFileSync(join(cwd, "home", ".upkeep", "logs", "upkeep.log"), "utf8");
      const pid = Number(/python3: started \(pid (\d+)\), left running/.exec(log)?.[1]);
      expect(pid).toBeGreaterThan(0);
      expect(isGone(pid)).toBe(false);
      expect(await portAnswers(port)).toBe(true);

      const second = cli(run, cwd);
      expect(second.stdout).toContain(`Example web server (http://127.0.0.1:${port}/): UP\n`);
      expect(second.stdout).toContain("Summary: 0 healed, 0 failed");
      expect(second.code).toBe(0);
      // The server's own output went where the rules say, inside the test's HOME.
      expect(readFileSync(join(cwd, "home", ".upkeep", "logs", "web.log"), "utf8")).toContain(
        '"GET / HTTP/1.1" 200',
      );
    },
  );

  it("macos: `upkeep run` heals web by booting out and bootstrapping its LaunchAgent (stand-in launchctl)", async () => {
    const cwd = tempDir();
    const port = await freePort();
    const standin = join(cwd, "launchctl");
    cleanups.push(() => killStandinJobs(standin));
    const init = cli(["init", "--platform", "macos", "--port", String(port)], cwd);
    expect(init.code).toBe(0);
    // The stand-in reads JSON "plists"; its job is a tiny HTTP server on the example's port.
    const agents = join(cwd, "home", "Library", "LaunchAgents");
    mkdirSync(agents, { recursive: true });
    const server = `require("http").createServer((q, s) => s.end("ok")).listen(${port}, "127.0.0.1")`;
    writeFileSync(
      join(agents, "com.example.web.plist"),
      JSON.stringify({ Label: "com.example.web", ProgramArguments: ["node", "-e", server] }),
    );
    const services = join(cwd, "rules", "services.yaml");
    writeFileSync(services, `${readFileSync(services, "utf8")}runtime:\n  launchctl: ${LAUNCHCTL_STANDIN}\n`);

    const run = cli(printedCommands(init.stdout)[2] ?? [], cwd, { LAUNCHCTL_STANDIN_DIR: standin });
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain(`Example web server (http://127.0.0.1:${port}/): UP (healed;`);
    expect(run.code).toBe(0);
    const uid = process.getuid?.() ?? 501;
    expect(standinCalls(standin)).toEqual([
      ["bootout", `gui/${uid}/com.example.web`],
      ["bootstrap", `gui/${uid}`, join(agents, "com.example.web.plist")],
    ]);
  });
});

/** Kills every http.server this test started on `port` (found by its argv) and waits until each is gone. */
async function killServersOn(port: number): Promise<void> {
  const pids = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return argv.includes("http.server") && argv.includes(String(port));
      } catch {
        return false;
      }
    })
    .map(Number);
  for (const pid of pids) {
    killTree(pid);
    await waitFor(() => isGone(pid), 5000, `http.server ${pid} to exit`);
  }
}
