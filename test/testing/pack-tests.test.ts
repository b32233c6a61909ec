/**
 * Packs ship tests (`<pack>/tests/*.test.yaml`, written with the pack's own ids) and `upkeep test` runs
 * them for a consumer: against the consumer's Config, with ids mapped to the consumer's namespace.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadRules } from "../../src/config/validate.js";
import { runPackTests } from "../../src/testing/pack-tests.js";
import { writeTree } from "../packs/helpers.js";
import { positionOf, upkeep } from "./helpers.js";

const PACKS = fileURLToPath(new URL("../../packs/", import.meta.url));
const LAUNCHD = join(PACKS, "launchd-service");
const HEAL_TEST = relative(process.cwd(), join(LAUNCHD, "tests", "heal.test.yaml"));

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

/** A consumer rules dir in a temp folder: services.yaml from `lines`, plus optional extra files. */
async function consumer(lines: string[], extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "upkeep-pack-tests-"));
  temps.push(dir);
  await writeTree(dir, { "services.yaml": [...lines, ""].join("\n"), ...extra });
  return dir;
}

const launchdUse = (as: string, extra = ""): string =>
  `  - { use: ${LAUNCHD}, as: ${as}, with: { label: com.example.${as}, port: 4000 }, trust: [launchd.unload, launchd.load]${extra} }`;

describe("pack tests in `upkeep test`", () => {
  it("runs the shipped packs' tests for examples/packs-rules, grouped under each pack, and passes", async () => {
    const { code, stdout, stderr } = await upkeep("test", "--rules", "examples/packs-rules");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain(
      [
        "pack api (launchd-service@1.0.0): packs/launchd-service/tests/heal.test.yaml",
        "  PASS packs/launchd-service/tests/heal.test.yaml > heals-by-reloading-the-launch-agent (7 ticks)",
      ].join("\n"),
    );
    // The consumer's own `down` rule resolves at the same tick as the pack's `failing`: a pack's
    // `alerts:` compares the pack's rules only, so that test still passes.
    expect(stdout).toContain(
      [
        "pack api-health (http-health@1.0.0): packs/http-health/tests/alerts.test.yaml",
        "  PASS packs/http-health/tests/alerts.test.yaml > failing-fires-during-an-outage-and-resolves (14 ticks)",
      ].join("\n"),
    );
    expect(stdout).not.toContain("FAIL");
  });

  it("fails when the consumer's settings break a pack's promise, located in the pack's test file", async () => {
    const rules = await consumer([
      "version: 1",
      "packs:",
      launchdUse("web"),
      "overrides:",
      "  web/app:",
      "    heal: { budget: { max: 1, per: 1h } }",
    ]);
    const { code, stdout } = await upkeep("test", "--rules", rules);
    expect(code).toBe(1);
    const text = await readFile(HEAL_TEST, "utf8");
    // With 1 heal per hour the budget refuses too (and longest): not the cooldown alone, not until 5m.
    const refused = positionOf(text, "[cooldown], nextAllowed");
    const nextAllowed = positionOf(text, "5m } }");
    expect(stdout).toContain(
      [
        `FAIL pack web (launchd-service@1.0.0): ${HEAL_TEST} > heals-by-reloading-the-launch-agent: a down service is healed with unload, wait, load, wait, verify, then waits out the cooldown`,
        `  ${HEAL_TEST}:${refused.line}:${refused.column} tick 2 (1m): heal of web/app: refused`,
        `    ${refused.line} |         heals: { app: { refused: [cooldown], nextAllowed: 5m } }`,
      ].join("\n"),
    );
    expect(stdout).toContain(
      "    expected: refused by exactly cooldown\n    actual:   refused by budget, cooldown",
    );
    expect(stdout).toContain(
      [
        `  ${HEAL_TEST}:${nextAllowed.line}:${nextAllowed.column} tick 2 (1m): heal of web/app: nextAllowed`,
        `    ${nextAllowed.line} |         heals: { app: { refused: [cooldown], nextAllowed: 5m } }`,
      ].join("\n"),
    );
    expect(stdout).toContain("    expected: 5m after tick 1\n    actual:   1h after tick 1");
    const attempted = positionOf(text, "true } }");
    expect(stdout).toContain(
      [
        `  ${HEAL_TEST}:${attempted.line}:${attempted.column} tick 6 (5m): heal of web/app: attempted`,
        `    ${attempted.line} |         heals: { app: { attempted: true } }`,
      ].join("\n"),
    );
    expect(stdout).toContain(
      "    expected: true\n    actual:   false: no heal ran (outcome: refused (budget))",
    );
  });

  it("maps the pack's ids into each consumer's namespace, once per use of the pack", async () => {
    const rules = await consumer([
      "version: 1",
      "packs:",
      launchdUse("left"),
      launchdUse("right"),
      "overrides:",
      "  right/app:",
      "    heal: { cooldown: 2m }",
    ]);
    const { code, stdout } = await upkeep("test", "--rules", rules, "--format", "json");
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as {
      files: {
        file: string;
        pack?: { as: string };
        tests: { passed: boolean; failures: { subject: string }[] }[];
      }[];
    };
    const byNs = new Map(report.files.map((f) => [f.pack?.as, f]));
    expect([...byNs.keys()]).toEqual(["left", "right"]);
    expect(byNs.get("left")?.tests.every((t) => t.passed)).toBe(true);
    const failed = byNs.get("right")?.tests.flatMap((t) => t.failures) ?? [];
    expect(failed.map((f) => f.subject)).toContain("heal of right/app: refused");
    expect(failed.every((f) => !f.subject.includes("left/"))).toBe(true);
  });

  it("reports a pack test's unknown id with the consumer's id and a did-you-mean in the pack's ids", async () => {
    const dir = await mkdtemp(join(tmpdir(), "upkeep-pack-tests-pack-"));
    temps.push(dir);
    await cp(LAUNCHD, dir, { recursive: true });
    const bad = [
      "version: 1",
      "tests:",
      "  t:",
      "    services: { apq: down }",
      "    expect: [{ at: 1, status: { app: down } }]",
      "",
    ];
    await writeFile(join(dir, "tests", "bad.test.yaml"), bad.join("\n"));
    const rules = await consumer(["version: 1", "packs:", launchdUse("ns").replace(LAUNCHD, dir)]);
    const loaded = await loadRules(rules, { env: {} });
    expect(loaded.config).toBeDefined();
    const run = await runPackTests(loaded.packs ?? [], { ...loaded, rulesDir: rules });
    expect(run.exitCode).toBe(2);
    const file = run.files.find((f) => f.file.endsWith("bad.test.yaml"));
    expect(file?.pack).toEqual({ as: "ns", name: "launchd-service", version: "1.0.0" });
    expect(file?.diagnostics).toMatchObject([
      {
        code: "unknown-service",
        line: 4,
        message: 'the rules have no service "apq" (ns/apq in these rules, where the pack is used as "ns")',
        hint: 'did you mean "app"?',
      },
    ]);
  });

  it("skips the packs' tests with --no-packs, and when FILES are given", async () => {
    const own = [
      "version: 1",
      "tests:",
      "  cache-stays-up:",
      '    services: { cache: "up x2" }',
      "    expect: [{ at: 2, status: { cache: up } }]",
      "",
    ].join("\n");
    const rules = await consumer(
      [
        "version: 1",
        "packs:",
        launchdUse("api"),
        "services:",
        "  cache: { probe: { type: tcp, port: 6379 } }",
      ],
      { "tests/own.test.yaml": own },
    );
    const all = await upkeep("test", "--rules", rules);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain("pack api (launchd-service@1.0.0)");
    expect(all.stdout).toMatch(/3 tests: 3 passed, 0 failed \(2 files,/);

    for (const argv of [["--no-packs"], [join(rules, "tests")]]) {
      const { code, stdout } = await upkeep("test", "--rules", rules, ...argv);
      expect(code).toBe(0);
      expect(stdout).not.toContain("pack api");
      expect(stdout).toMatch(/1 test: 1 passed, 0 failed \(1 file,/);
    }
  });
});
