import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { copyOfShippedRules, positionOf, upkeep } from "../testing/helpers.js";

let rules = "";
const temps: string[] = [];
const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "upkeep-cli-test-"));
  temps.push(dir);
  return dir;
};
let wrongFile = "";
let wrongText = "";

// Heals at 0, 5, 10, 60 and 65 min fail: upkeep gives up at the 5th heal (tick 14), not at the 4th.
const WRONG = `# yaml-language-server: $schema=../../schemas/test.schema.json
version: 1
interval: 5m
tests:
  gives-up-too-early:
    description: a deliberately wrong expectation
    services:
      health-proxy: "down x16"
    expect:
      - at: 13
        breaker: { health-proxy: OPEN }
      - at: 14
        breaker: { health-proxy: OPEN }
`;

beforeAll(async () => {
  rules = await copyOfShippedRules("cli-test");
  wrongFile = relative(process.cwd(), join(rules, "tests", "wrong.test.yaml"));
  wrongText = WRONG;
  await writeFile(wrongFile, WRONG);
});

afterAll(async () => {
  await Promise.all([dirname(rules), ...temps].map((d) => rm(d, { recursive: true, force: true })));
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("upkeep test", () => {
  it("passes on the shipped rules and their tests (rules/tests by default)", async () => {
    const { code, stdout, stderr } = await upkeep("test");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain(
      "PASS rules/tests/breaker.test.yaml > gives-up-after-5-failed-heals-and-retries-with-growing-waits (130 ticks)",
    );
    expect(stdout).toContain(
      "PASS rules/tests/breaker.test.yaml > a-crash-loop-trips-the-breaker (40 ticks)",
    );
    expect(stdout).toContain("PASS rules/tests/breaker.test.yaml > fixed-by-hand-while-given-up (70 ticks)");
    expect(stdout).toContain(
      "PASS rules/tests/healing.test.yaml > heals-every-5-minutes-at-most-3-times-an-hour (70 ticks)",
    );
    expect(stdout).toContain(
      "PASS rules/tests/alerts.test.yaml > critical-after-3-failed-ticks-reminded-hourly (32 ticks)",
    );
    expect(stdout).not.toContain("FAIL");
    expect(stdout).toMatch(/\d+ tests: \d+ passed, 0 failed \(3 files, [\d,]+ simulated ticks\)\n$/);
  });

  it("fails a wrong expectation with exit 1, its file:line:col, the quoted line and a diff", async () => {
    const { code, stdout } = await upkeep("test", wrongFile);
    expect(code).toBe(1);
    const { line, column } = positionOf(wrongText, "OPEN }");
    expect(stdout).toContain(`FAIL ${wrongFile} > gives-up-too-early (16 ticks)`);
    expect(stdout).toContain(
      [
        `FAIL ${wrongFile} > gives-up-too-early: a deliberately wrong expectation`,
        `  ${wrongFile}:${line}:${column} tick 13 (1h): breaker of health-proxy`,
        `    ${line} |         breaker: { health-proxy: OPEN }`,
        `       |                                  ^`,
        "    expected: OPEN",
        "    actual:   CLOSED",
        "    the breaker of health-proxy is OPEN at ticks 14-15",
      ].join("\n"),
    );
    expect(stdout).toContain("1 test: 0 passed, 1 failed (1 file, 16 simulated ticks)");
  });

  it("runs every test file of a directory, and --rules picks the rules they run against", async () => {
    const { code, stdout } = await upkeep("test", join(rules, "tests"));
    expect(code).toBe(1);
    const shipped = await upkeep("test");
    expect(stdout.match(/^PASS .*$/gm)).toHaveLength(shipped.stdout.match(/^PASS /gm)?.length ?? -1);
    expect(stdout.match(/^FAIL .*\(\d+ ticks\)$/gm)).toEqual([
      `FAIL ${join(rules, "tests", "wrong.test.yaml")} > gives-up-too-early (16 ticks)`,
    ]);

    // The shipped tests, run against rules where CRITICAL waits for 4 failed ticks.
    const other = join(rules, "..", "stricter");
    await mkdir(other);
    await writeFile(join(other, "services.yaml"), await readFile(join(rules, "services.yaml"), "utf8"));
    const alerts = await readFile(join(rules, "alerts.yaml"), "utf8");
    await writeFile(
      join(other, "alerts.yaml"),
      alerts.replace("CRITICAL: { threshold: 3", "CRITICAL: { threshold: 4"),
    );
    const stricter = await upkeep("test", "--rules", other, "rules/tests/alerts.test.yaml");
    expect(stricter.code).toBe(1);
    expect(stricter.stdout).toContain(
      "FAIL rules/tests/alerts.test.yaml > critical-after-3-failed-ticks-reminded-hourly",
    );
  });

  it("prints one JSON document with --format json", async () => {
    const { code, stdout } = await upkeep("test", "--format", "json", wrongFile);
    expect(code).toBe(1);
    const doc = JSON.parse(stdout) as {
      ok: boolean;
      summary: Record<string, number>;
      files: {
        file: string;
        rules: string;
        tests: { name: string; passed: boolean; failures: Record<string, unknown>[] }[];
      }[];
    };
    expect(doc.ok).toBe(false);
    expect(doc.summary).toEqual({ tests: 1, passed: 0, failed: 1, brokenFiles: 0, files: 1, ticks: 16 });
    expect(doc.files[0]?.rules).toBe(relative(process.cwd(), rules));
    expect(doc.files[0]?.tests[0]?.failures[0]).toMatchObject({
      file: wrongFile,
      ...positionOf(wrongText, "OPEN }"),
      tick: 13,
      subject: "breaker of health-proxy",
      expected: "OPEN",
      actual: "CLOSED",
    });
  });

  it("prints GitHub annotations with --format github, and by default when GITHUB_ACTIONS=true", async () => {
    const { line, column } = positionOf(wrongText, "OPEN }");
    const explicit = await upkeep("test", "--format", "github", wrongFile);
    expect(explicit.code).toBe(1);
    expect(explicit.stdout).toBe(
      `::error file=${wrongFile},line=${line},col=${column},title=upkeep test%3A gives-up-too-early::` +
        "tick 13 (1h): breaker of health-proxy%0Aexpected: OPEN%0Aactual:   CLOSED%0Athe breaker of health-proxy is OPEN at ticks 14-15\n",
    );
    expect(explicit.stderr).toBe("upkeep test: 1 test: 0 passed, 1 failed (1 file, 16 simulated ticks)\n");
    vi.stubEnv("GITHUB_ACTIONS", "true");
    const auto = await upkeep("test", wrongFile);
    expect(auto.stdout).toBe(explicit.stdout);
  });

  it("exits 2 with diagnostics for a bad test file", async () => {
    const dir = await tempDir();
    const bad = join(dir, "bad.test.yaml");
    const text = `version: 1\nrules: ${JSON.stringify(rules)}\ntests:\n  t:\n    services: { health-proxy: "down x5, upp" }\n    expect: [{ at: 1, breaker: { health-proxy: OPEN } }]\n`;
    await writeFile(bad, text);
    const { code, stdout } = await upkeep("test", bad);
    expect(code).toBe(2);
    const { line, column } = positionOf(text, "upp");
    expect(stdout).toContain(`ERROR ${bad} (not run: the test file or its rules have errors, see below)`);
    expect(stdout).toContain(
      `${bad}:${line}:${column} error invalid-value: expected "up", "down" or a "(" group, got "upp"`,
    );
    expect(stdout).toContain('  hint: did you mean "up"?');
  });

  it("reports every problem of a test file in one round: schema errors and what only the rules can tell", async () => {
    const dir = await tempDir();
    const bad = join(dir, "many.test.yaml");
    const text = [
      "version: 1",
      `rules: ${JSON.stringify(rules)}`,
      "tests:",
      "  typo-in-a-key:",
      '    services: { health-proxy: "down x3" }',
      "    expect:",
      "      - at: 3",
      "        breakr: { health-proxy: OPEN }",
      "  unknown-service:",
      '    services: { helth-proxy: "down x3" }',
      "    expect: [{ at: 1, status: { boss-api: up } }]",
      "  bad-series:",
      '    services: { boss-api: "dwn x2" }',
      "    expect: [{ at: 1, status: { boss-api: up } }]",
      "  tick-typo:",
      '    service: { boss-api: "down" }',
      "    expect: [{ at: 1, status: { boss-api: down } }]",
      "",
    ].join("\n");
    await writeFile(bad, text);
    const { code, stdout } = await upkeep("test", bad, "--format", "json");
    expect(code).toBe(2);
    const report = JSON.parse(stdout) as {
      files: { diagnostics: { code: string; line: number; hint?: string }[] }[];
    };
    expect(report.files[0]?.diagnostics.map((d) => [d.line, d.code, d.hint])).toEqual([
      [positionOf(text, "breakr").line, "unknown-key", 'did you mean "breaker"?'],
      [
        positionOf(text, "helth-proxy").line,
        "unknown-service",
        expect.stringContaining('did you mean "health-proxy"?'),
      ],
      [positionOf(text, "dwn").line, "invalid-value", 'did you mean "down"?'],
      [positionOf(text, "    service:").line, "unknown-key", 'did you mean "services"?'],
    ]);
  });

  it("exits 2 when the rules a test file names have errors", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "tests"));
    await writeFile(join(dir, "services.yaml"), "version: 1\nservices: {}\nbogus: 1\n");
    await writeFile(
      join(dir, "tests", "a.test.yaml"),
      "version: 1\ntests:\n  t: { ticks: 1, expect: [{ at: 1, alerts: [] }] }\n",
    );
    const { code, stdout } = await upkeep("test", join(dir, "tests"));
    expect(code).toBe(2);
    expect(stdout).toContain('error unknown-key: unknown key "bogus"');
  });

  it("exits 2 on usage errors, and explains itself with --help", async () => {
    const help = await upkeep("test", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: upkeep test [FILES|DIRS...]");
    for (const argv of [["--bogus"], ["--format", "sarif"], ["no/such/dir"]]) {
      const { code, stderr } = await upkeep("test", ...argv);
      expect(code).toBe(2);
      expect(stderr).toMatch(/^upkeep test: /);
    }
    const empty = await tempDir();
    const none = await upkeep("test", empty);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`no test files (*.test.yaml) in ${empty}`);
  });

  it("is listed in `upkeep --help`", async () => {
    const { stdout } = await upkeep("--help");
    expect(stdout).toMatch(/^ {2}test +run rule tests/m);
  });
});
