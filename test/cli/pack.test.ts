/**
 * `upkeep pack ...` and `validate --frozen-lockfile` in-process through main(), with real files in temp
 * dirs; and a rules directory built from both shipped packs that validates and runs a tick end to end
 * against a real HTTP server on an ephemeral loopback port.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { loadRules } from "../../src/config/validate.js";
import { systemClock } from "../../src/runtime/clock.js";
import type { RuntimeLogger } from "../../src/runtime/logger.js";
import { createRedactor } from "../../src/runtime/redact.js";
import { runSession } from "../../src/runtime/session.js";
import { CONSUMER_ALERTS, simplePack, tempTree, under, writeTree } from "../packs/helpers.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function upkeep(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

async function project(): Promise<{ root: string; rules: string }> {
  const tree = await tempTree({
    "rules/services.yaml": [
      "version: 1",
      "packs:",
      "  - { use: ../packs/simple, as: web, with: { port: 8080 }, trust: [launchd.unload] }",
      "",
    ].join("\n"),
    "rules/alerts.yaml": CONSUMER_ALERTS,
    ...under("packs/simple", simplePack()),
  });
  cleanups.push(tree.cleanup);
  return { root: tree.root, rules: join(tree.root, "rules") };
}

describe("upkeep pack lock and validate --frozen-lockfile", () => {
  it("passes with a fresh lock and fails once a pack file is tampered with", async () => {
    const { root, rules } = await project();
    const locked = await upkeep("pack", "lock", "--rules", rules);
    expect(locked.code).toBe(0);
    const lock = JSON.parse(await readFile(join(rules, "rules.lock"), "utf8")) as {
      packs: Record<string, { name: string; version: string; integrity: string; resolved: string }>;
    };
    expect(lock.packs["web"]).toMatchObject({
      name: "simple",
      version: "1.0.0",
      resolved: "../packs/simple",
    });
    expect(lock.packs["web"]?.integrity).toMatch(/^sha256-/);
    expect((await upkeep("validate", "--rules", rules, "--frozen-lockfile")).code).toBe(0);

    await appendFile(join(root, "packs/simple/services.yaml"), "# harmless-looking change\n");
    const frozen = await upkeep("validate", "--rules", rules, "--frozen-lockfile", "--format", "json");
    expect(frozen.code).toBe(1);
    const report = JSON.parse(frozen.stdout) as {
      valid: boolean;
      diagnostics: { code: string; message: string; severity: string }[];
    };
    expect(report.valid).toBe(false);
    expect(report.diagnostics).toMatchObject([{ code: "pack-lock", severity: "error" }]);
    expect(report.diagnostics[0]?.message).toMatch(/"web" .* does not match rules\.lock: its files changed/);
    // Without the flag the same difference is a warning: local work goes on.
    expect((await upkeep("validate", "--rules", rules)).code).toBe(0);
  });

  it("fails --frozen-lockfile when rules.lock is missing or lacks a pack", async () => {
    const { rules } = await project();
    const missing = await upkeep("validate", "--rules", rules, "--frozen-lockfile", "--format", "json");
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/rules\.lock does not exist/);
    await writeTree(rules, { "rules.lock": JSON.stringify({ lockfileVersion: 1, packs: {} }) });
    const lacking = await upkeep("validate", "--rules", rules, "--frozen-lockfile", "--format", "json");
    expect(lacking.code).toBe(1);
    expect(lacking.stdout).toMatch(/it is not in rules\.lock/);
  });

  it("lists the packs with version and lock status", async () => {
    const { rules } = await project();
    const before = await upkeep("pack", "list", "--rules", rules, "--format", "json");
    expect(JSON.parse(before.stdout)).toEqual({
      packs: [
        {
          as: "web",
          name: "simple",
          version: "1.0.0",
          use: "../packs/simple",
          capabilities: ["launchd.unload"],
          lock: "no-lock",
        },
      ],
    });
    await upkeep("pack", "lock", "--rules", rules);
    const after = await upkeep("pack", "list", "--rules", rules);
    expect(after.stdout).toMatch(
      /^web {2}simple@1\.0\.0 {2}\.\.\/packs\/simple {2}\[locked\] {2}runs: launchd\.unload$/m,
    );
  });

  it("refuses to lock rules with errors", async () => {
    const { rules } = await project();
    await writeTree(rules, {
      "services.yaml": "version: 1\npacks:\n  - { use: ../packs/simple, as: web, with: { port: 8080 } }\n",
    });
    const result = await upkeep("pack", "lock", "--rules", rules);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/pack-untrusted/);
    expect(result.stderr).toMatch(/add trust: \[launchd\.unload\] to the pack entry/);
  });
});

describe("upkeep pack init and validate", () => {
  it("scaffolds a pack that validates on its own, and never overwrites", async () => {
    const dir = await mkdtemp(join(tmpdir(), "upkeep-pack-init-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const pack = join(dir, "my-pack");
    expect((await upkeep("pack", "init", pack)).code).toBe(0);
    const checked = await upkeep("pack", "validate", pack, "--format", "json");
    expect(JSON.parse(checked.stdout)).toEqual({ valid: true, diagnostics: [] });
    expect((await upkeep("pack", "init", pack)).code).toBe(1);
  });

  it("validates both shipped packs", async () => {
    for (const name of ["launchd-service", "http-health"]) {
      const checked = await upkeep("pack", "validate", join(REPO, "packs", name), "--format", "json");
      expect({ name, ...JSON.parse(checked.stdout) }).toEqual({ name, valid: true, diagnostics: [] });
    }
  });

  it("reports a pack's own mistakes in its files", async () => {
    const { root } = await project();
    await writeTree(join(root, "packs/simple"), {
      "pack.yaml": "name: simple\nversion: one\nupkeep: '>=0.1'\n",
    });
    const checked = await upkeep("pack", "validate", join(root, "packs/simple"), "--format", "json");
    expect(checked.code).toBe(1);
    expect(JSON.parse(checked.stdout).diagnostics).toMatchObject([{ pointer: "/version", line: 2 }]);
  });

  it("suggests the closest subcommand", async () => {
    const result = await upkeep("pack", "lokc");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/did you mean "lock"/);
  });
});

describe("a rules directory that uses both shipped packs", () => {
  const silent: RuntimeLogger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    close: () => undefined,
  };

  async function serve(status: () => number): Promise<number> {
    const server: Server = createServer((req, res) => {
      res.statusCode = req.url === "/health" ? status() : 404;
      res.end("ok");
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    cleanups.push(() => new Promise<void>((done) => server.close(() => done())));
    return (server.address() as AddressInfo).port;
  }

  it("validates (the shipped example too) and runs ticks end to end", async () => {
    const shipped = await loadRules(join(REPO, "examples/packs-rules"), { env: {}, normalize: false });
    expect(shipped.diagnostics).toEqual([]);

    let status = 200;
    const port = await serve(() => status);
    const tree = await tempTree({
      "rules/services.yaml": [
        "version: 1",
        "packs:",
        `  - use: ${join(REPO, "packs/launchd-service")}`,
        "    as: api",
        `    with: { label: com.test.api, port: ${port}, title: Test API }`,
        "    trust: [launchd.unload, launchd.load]",
        `  - use: ${join(REPO, "packs/http-health")}`,
        "    as: api-health",
        `    with: { url: "http://127.0.0.1:${port}/health", title: Test API health }`,
        "",
      ].join("\n"),
      "rules/alerts.yaml": CONSUMER_ALERTS,
    });
    cleanups.push(tree.cleanup);
    const rules = join(tree.root, "rules");
    expect((await upkeep("validate", "--rules", rules)).code).toBe(0);
    const { config, diagnostics } = await loadRules(rules, { env: {}, stateDir: join(tree.root, "state") });
    expect(diagnostics).toEqual([]);
    if (config === undefined) throw new Error("no config");
    const deps = { clock: systemClock, logger: silent, env: {}, redactor: createRedactor() };

    const healthy = await runSession(config, deps, { dryRun: false });
    expect(healthy.report.services.map((s) => [s.id, s.status])).toEqual([
      ["api/app", "up"],
      ["api-health/health", "up"],
    ]);
    expect(healthy.report.alerts).toEqual([]);

    status = 500;
    const failing = await runSession(config, deps, { dryRun: false });
    expect(failing.report.services.map((s) => [s.id, s.status])).toEqual([
      ["api/app", "up"],
      ["api-health/health", "down"],
    ]);
    // The pack's alert rule, namespaced, at the consumer's WARNING level (threshold 1).
    expect(failing.report.alerts).toMatchObject([
      { kind: "firing", ruleId: "api-health/failing", serviceId: "api-health/health", level: "WARNING" },
    ]);
  });
});
