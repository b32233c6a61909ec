/**
 * What a healthy cold tick loads. launchd and systemd start `upkeep run` as a fresh process every
 * interval, so code a healthy tick does not need stays unloaded: node:crypto (a tenth of the start-up:
 * the Config cache key is hashed in JavaScript, temp names use no crypto randomness) is loaded only by
 * the commands and the channels that sign or make ids; perf_hooks and node:v8 not at all; and what it does need comes in a few files
 * (each ES module costs a resolve, a read and a link whatever its size: scripts/bundle-cli.mjs puts the
 * whole healthy tick in one chunk). Checked on the built CLI, from the built-in modules the process
 * loaded (read at exit by a preload) and the bundle files it loaded (seen by a module loader hook).
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
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(REPO, "bin", "upkeep.js");
const built = existsSync(join(REPO, "dist", "cli", "main.js")) ? describe : describe.skip;

let dir: string;
let server: Server;
let port: number;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "upkeep-startup-"));
  server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI with a preload that writes the built-ins loaded by exit; returns them and the exit code. */
function builtinsLoaded(
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; builtins: string[]; stderr: string } {
  const list = join(dir, "loaded.txt");
  const probe = join(dir, "probe.cjs");
  writeFileSync(
    probe,
    `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join("\\n")));\n`,
  );
  const result = spawnSync(process.execPath, ["-r", probe, BIN, ...args], {
    encoding: "utf8",
    timeout: 20_000,
    env: { ...process.env, XDG_CACHE_HOME: join(dir, "cache"), ...env },
  });
  const builtins = existsSync(list)
    ? readFileSync(list, "utf8")
        .split("\n")
        .filter((m) => m.startsWith("NativeModule "))
        .map((m) => m.slice("NativeModule ".length))
    : [];
  return { code: result.status, builtins, stderr: result.stderr };
}

function rules(services: string): string {
  const rulesDir = join(dir, "rules");
  mkdirSync(rulesDir, { recursive: true });
  writeFileSync(
    join(rulesDir, "services.yaml"),
    `version: 1\nruntime:\n  stateDir: ${JSON.stringify(join(dir, "state"))}\n  logFile: ${JSON.stringify(join(dir, "upkeep.log"))}\nservices:\n${services}`,
  );
  return rulesDir;
}

built("a healthy cold tick (built CLI)", () => {
  const healthy = (): string =>
    `  api:\n    title: API\n    probe: { type: tcp, host: 127.0.0.1, port: ${port} }\n`;

  const crypto = (builtins: string[]): string[] =>
    builtins.filter((m) => m === "crypto" || m.startsWith("internal/crypto/"));

  // The first tick records each service's first status in the history (SQLite: on Node 20 its
  // WebAssembly build loads crypto); the ticks after it, with nothing to record, are the hot path.
  it("does not load node:crypto, with the Config cache read or the rules loaded and checked afresh", () => {
    const dirOfRules = rules(healthy());
    expect(builtinsLoaded(["run", "--rules", dirOfRules]).code).toBe(0);
    const cached = builtinsLoaded(["run", "--rules", dirOfRules]);
    expect(cached.code, cached.stderr).toBe(0);
    expect(cached.builtins).toContain("net");
    expect(crypto(cached.builtins)).toEqual([]);
    // Nor what latencies and the history's WebAssembly switch used to pull in: perf_hooks (the
    // `performance` global) and node:v8.
    expect(cached.builtins.filter((m) => m === "perf_hooks" || m === "v8")).toEqual([]);
    expect(readdirSync(join(dir, "cache", "upkeep")).some((f) => f.startsWith("config-"))).toBe(true);

    const uncached = builtinsLoaded(["run", "--rules", dirOfRules], { UPKEEP_NO_CACHE: "1" });
    expect(uncached.code, uncached.stderr).toBe(0);
    expect(crypto(uncached.builtins)).toEqual([]);
  });

  it("loads its code from at most three files of the bundle (entry, run-core, bundler runtime)", () => {
    const dirOfRules = rules(healthy());
    expect(builtinsLoaded(["run", "--rules", dirOfRules]).code).toBe(0);
    const list = join(dir, "bundle-files.txt");
    const hooks = join(dir, "hooks.mjs");
    writeFileSync(
      hooks,
      'import { appendFileSync } from "node:fs";\n' +
        "export async function load(url, context, next) {\n" +
        `  if (url.includes("/dist/bundle/")) appendFileSync(${JSON.stringify(list)}, url + "\\n");\n` +
        "  return next(url, context);\n}\n",
    );
    const register = join(dir, "register.mjs");
    writeFileSync(
      register,
      `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
    const result = spawnSync(process.execPath, ["--import", register, BIN, "run", "--rules", dirOfRules], {
      encoding: "utf8",
      timeout: 20_000,
      env: { ...process.env, XDG_CACHE_HOME: join(dir, "cache") },
    });
    expect(result.status, result.stderr).toBe(0);
    const files = readFileSync(list, "utf8").trim().split("\n");
    expect(files.some((f) => f.endsWith("/dist/bundle/main.js"))).toBe(true);
    expect(files.length, files.join("\n")).toBeLessThanOrEqual(3);
  });

  it("loads it when a command needs it: `silence add` makes a random id", () => {
    const dirOfRules = rules(healthy());
    const result = builtinsLoaded([
      "silence",
      "add",
      "--service",
      "api",
      "--for",
      "1h",
      "--comment",
      "deploy",
      "--rules",
      dirOfRules,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.builtins).toContain("crypto");
  });
});
