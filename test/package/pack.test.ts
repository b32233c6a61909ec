/**
 * What `npm pack` ships, and that it works for a consumer: the real tarball (built dist/, scripts
 * skipped since dist/ is fresh) is listed, then installed offline into an empty project, which imports
 * the package's entries, resolves its exported files, runs its bin and type-checks against its types
 * with the repository's TypeScript.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const root = mkdtempSync(join(tmpdir(), "upkeep-pack-"));
const consumer = join(root, "consumer");

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  timeout = 120_000,
): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout,
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  expect(result.error, what).toBeUndefined();
  expect(result.status, `${what}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

let files: string[] = [];
let tarball = "";
let installedOffline = true;

beforeAll(() => {
  ok(run(process.execPath, ["scripts/ensure-built.mjs"], REPO, 300_000), "build dist/");
  const packed = JSON.parse(
    ok(run(NPM, ["pack", "--json", "--ignore-scripts", "--pack-destination", root], REPO), "npm pack"),
  ) as { filename: string; files: { path: string }[] }[];
  files = packed[0]?.files.map((f) => f.path) ?? [];
  tarball = join(root, packed[0]?.filename ?? "missing.tgz");
  mkdirSync(consumer);
  writeFileSync(
    join(consumer, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  const install = run(NPM, ["install", "--offline", "--no-audit", "--no-fund", tarball], consumer, 180_000);
  if (install.status !== 0) {
    // No npm cache with the dependencies: unpack the tarball and borrow the repository's dependencies.
    installedOffline = false;
    const target = join(consumer, "node_modules", "upkeep");
    mkdirSync(target, { recursive: true });
    ok(run("tar", ["-xzf", tarball, "-C", target, "--strip-components=1"], consumer), "unpack the tarball");
    symlinkSync(join(REPO, "node_modules"), join(target, "node_modules"), "dir");
  }
}, 420_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("npm pack contents", () => {
  it("ships LICENSE, README, package.json, the bin, the bundled CLI and the editor schemas", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "LICENSE",
        "README.md",
        "package.json",
        "bin/upkeep.js",
        "dist/bundle/main.js",
        "dist/index.js",
        "dist/index.d.ts",
        "dist/testing/index.js",
        "schemas/services.schema.json",
      ]),
    );
    const editor = files.filter((f) => /^schemas\/editor\/[^/]+\.json$/.test(f));
    expect(editor).toEqual(
      expect.arrayContaining(["schemas/editor/services.json", "schemas/editor/alerts.json"]),
    );
  });

  it("ships no tests and no TypeScript sources (declarations only)", () => {
    expect(files.filter((f) => f.startsWith("test/") || f.startsWith("src/"))).toEqual([]);
    expect(files.filter((f) => /\.(c|m)?ts$/.test(f) && !/\.d\.(c|m)?ts$/.test(f))).toEqual([]);
  });

  it("ships the CLI once (dist/bundle); of dist/cli only what the library entries import", () => {
    // dist/testing/format.js imports dist/cli/format/diagnostics.js (the consumer test below loads it).
    expect(files.filter((f) => f.startsWith("dist/cli/")).sort()).toEqual([
      "dist/cli/format/diagnostics.d.ts",
      "dist/cli/format/diagnostics.js",
    ]);
  });
});

describe("the packed package in a fresh consumer project", () => {
  it("installs from the tarball offline (dependencies from the npm cache)", () => {
    expect(
      installedOffline,
      "npm install --offline failed; the other checks used the repository's node_modules",
    ).toBe(true);
  });

  it("imports its entries and resolves its exported files", () => {
    const script = `
      const m = await import("upkeep");
      const t = await import("upkeep/testing");
      const { createRequire } = await import("node:module");
      const require = createRequire(import.meta.url);
      const schema = await import("upkeep/schemas/services.schema.json", { with: { type: "json" } });
      console.log(JSON.stringify({
        breaker: typeof m.CircuitBreaker,
        testing: Object.keys(t).length > 0,
        pkg: require("upkeep/package.json").name,
        schema: typeof schema.default.properties,
        editor: require.resolve("upkeep/schemas/editor/services.json").endsWith("schemas/editor/services.json"),
      }));`;
    const out = ok(
      run(process.execPath, ["--input-type=module", "-e", script], consumer),
      "consumer imports",
    );
    expect(JSON.parse(out)).toEqual({
      breaker: "function",
      testing: true,
      pkg: "upkeep",
      schema: "object",
      editor: true,
    });
  });

  it("runs its bin (the bundled CLI, without dist/cli)", () => {
    const version = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string })
      .version;
    const out = ok(
      run(
        process.execPath,
        [join(consumer, "node_modules", "upkeep", "bin", "upkeep.js"), "--version"],
        consumer,
      ),
      "upkeep --version",
    );
    expect(out.trim()).toBe(version);
  });

  it("type-checks a consumer that imports from 'upkeep' and 'upkeep/testing' (moduleResolution node16)", () => {
    writeFileSync(
      join(consumer, "consumer.ts"),
      `import { CircuitBreaker, isUpkeepError } from "upkeep";
import * as testing from "upkeep/testing";
const breaker = new CircuitBreaker("svc", { failureThreshold: 5, successThreshold: 2, timeout: 60_000, stateFile: "state.json" });
const state: "CLOSED" | "OPEN" | "HALF_OPEN" = breaker.getState().state;
export const used = [state, isUpkeepError(new Error("x")), Object.keys(testing).length];
`,
    );
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "node16",
          moduleResolution: "node16",
          target: "es2022",
          strict: true,
          noEmit: true,
          // Check the package's own declarations too, not only the consumer's use of them.
          skipLibCheck: false,
          typeRoots: [join(REPO, "node_modules", "@types")],
          types: ["node"],
        },
        files: ["consumer.ts"],
      }),
    );
    const tsc = join(REPO, "node_modules", "typescript", "bin", "tsc");
    const result = run(process.execPath, [tsc, "-p", "tsconfig.json"], consumer, 180_000);
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  }, 200_000);
});
