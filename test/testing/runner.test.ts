import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Diagnostic } from "../../src/config/diagnostics.js";
import type { Config } from "../../src/config/model.js";
import { loadRules } from "../../src/config/validate.js";
import type { Failure } from "../../src/testing/model.js";
import { runTestFiles, runTestText, type TestRun } from "../../src/testing/runner.js";
import { positionOf, SHIPPED_RULES } from "./helpers.js";

let config: Config;
const temps: string[] = [];
const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "upkeep-runner-"));
  temps.push(dir);
  return dir;
};

afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

beforeAll(async () => {
  const loaded = await loadRules(SHIPPED_RULES, { env: {} });
  if (loaded.config === undefined) throw new Error("the shipped rules do not load");
  config = loaded.config;
});

const run = (text: string): Promise<TestRun> => runTestText(text, "t.test.yaml", config);
const failuresOf = (result: TestRun): Failure[] =>
  result.files.flatMap((f) => f.tests.flatMap((t) => t.failures));
const diagnosticsOf = (result: TestRun): Diagnostic[] => result.files.flatMap((f) => f.diagnostics);
const file = (tests: string, header = "interval: 5m"): string => `version: 1\n${header}\ntests:\n${tests}`;

describe("a failing expectation", () => {
  it("is reported at the line and column of the expected value, with expected, actual and where it does hold", async () => {
    // Heals at 0, 5, 10, 60 and 65 min fail: upkeep gives up at the 5th (tick 14), not at the 4th.
    const text = file(`  t:
    services: { health-proxy: "down x16" }
    expect:
      - at: 13
        breaker: { health-proxy: OPEN }
`);
    const result = await run(text);
    expect(result.exitCode).toBe(1);
    expect(failuresOf(result)).toEqual([
      {
        file: "t.test.yaml",
        ...positionOf(text, "OPEN }"),
        pointer: "/tests/t/expect/0/breaker/health-proxy",
        tick: 13,
        elapsedMs: 60 * 60_000,
        subject: "breaker of health-proxy",
        expected: "OPEN",
        actual: "CLOSED",
        // 65m: given up; 70m: the trial heal fails and it opens again; then HALF_OPEN, the budget refusing.
        notes: ["the breaker of health-proxy is OPEN at ticks 14-15"],
        alsoFailedAt: [],
        failedTicks: 1,
      },
    ]);
  });

  it("over a range is reported once, at its first failing tick, with the other ticks", async () => {
    const text = file(
      `  t:
    services: { health-proxy: "down x30" }
    expect:
      - at: 2..30
        heals: { health-proxy: { refused: cooldown } }
`,
      "interval: 1m",
    );
    const [failure] = failuresOf(await run(text));
    // Heals at 0, 5 and 10 min (ticks 1, 6, 11); the cooldown refuses with the budget until 15m (tick 16),
    // then the budget alone: failing at ticks 6, 11 and 16-30.
    expect(failure).toMatchObject({
      tick: 6,
      expected: "refused by cooldown",
      actual: "failed (verify: not passing: simulated: down)",
      failedTicks: 17,
      ...positionOf(text, "cooldown }"),
    });
    expect(failure?.alsoFailedAt).toHaveLength(16);
  });

  it("on alerts lists the missing and the unexpected notices", async () => {
    const text = file(`  t:
    services: { health-proxy: "down x3" }
    expect:
      - at: 3
        alerts: [{ rule: service-down-warning, kind: firing }]
      - at: 2
        alerts: []
`);
    const failures = failuresOf(await run(text));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      tick: 3,
      subject: "alerts sent",
      expected: "1 alert",
      actual: "1 alert",
    });
    expect(failures[0]?.notes).toEqual([
      "- missing:    { rule: service-down-warning, kind: firing }",
      "+ unexpected: { rule: service-down-critical, service: health-proxy, level: CRITICAL, kind: firing, channels: [discord, log], count: 1 }",
      "{ rule: service-down-warning, kind: firing } is never sent in this test",
    ]);
  });

  it("on steps shows the steps that ran with their descriptions", async () => {
    const text = file(`  t:
    services: { boss-api: "down" }
    expect:
      - at: 1
        heals: { boss-api: { steps: [launchd.unload, launchd.load, verify] } }
`);
    const [failure] = failuresOf(await run(text));
    expect(failure?.actual).toBe("[launchd.unload, wait, launchd.load, wait, verify]");
    expect(failure?.notes).toContain(
      "  1. launchd.unload: launchctl unload ~/Library/LaunchAgents/com.02luka.boss-api.plist",
    );
  });
});

describe("expectations", () => {
  it("match steps by action, by name, by description and by a pattern with *", async () => {
    const result = await run(
      file(`  t:
    services: { boss-api: "down, up" }
    expect:
      - at: 1
        heals:
          boss-api:
            outcome: healed
            steps:
              - launchd.unload
              - wait 2s
              - "launchctl load ~/Library/LaunchAgents/*.plist"
              - wait
              - "verify: *"
`),
    );
    expect(failuresOf(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
  });

  it("compare facts partially, totals, status, nextAllowed and budgetLeft", async () => {
    const result = await run(
      file(`  t:
    services: { mcp-bridge: "down x4" }
    expect:
      - at: 4
        status: { mcp-bridge: down, boss-api: up }
        facts:
          mcp-bridge:
            consecutiveFailures: 4
            gaveUp: false
            flapping: false
            outages: 1
            heal: { outcome: refused, reason: budget, refusedBy: [budget], failedInRow: 3 }
        heals: { mcp-bridge: { refused: budget, nextAllowed: 1h, budgetLeft: 0 } }
        alertTotals: { CRITICAL: 1, WARNING: 0 }
`),
    );
    expect(failuresOf(result)).toEqual([]);
  });

  it("read times since tick 1 as ticks", async () => {
    const result = await run(
      file(`  t:
    services: { health-proxy: "down x18" }
    expect:
      - at: 65m
        breaker: { health-proxy: OPEN }
      - at: 0s..60m
        breaker: { health-proxy: CLOSED }
      - at: 75m..85m
        breaker: { health-proxy: HALF_OPEN }
`),
    );
    expect(failuresOf(result)).toEqual([]);
  });

  it("refused: one gate is among those that refused; a list is exactly those", async () => {
    // Interval 1m: heals at 0, 5 and 10 min; at 11m..14m the budget (until 60m) and the cooldown (until
    // 15m) both refuse, from 15m the budget alone.
    const text = file(
      `  t:
    services: { health-proxy: "down x20" }
    expect:
      - at: 12..15
        heals: { health-proxy: { refused: cooldown } }
      - at: 12..15
        heals: { health-proxy: { refused: budget, nextAllowed: 60m } }
      - at: 12..15
        heals: { health-proxy: { refused: [cooldown, budget] } }
      - at: 16..20
        heals: { health-proxy: { refused: [budget] } }
      - at: 12
        heals: { health-proxy: { refused: [cooldown] } }
      - at: 16
        heals: { health-proxy: { refused: cooldown } }
`,
      "interval: 1m",
    );
    const failures = failuresOf(await run(text));
    expect(failures.map((f) => [f.tick, f.expected, f.actual])).toEqual([
      [12, "refused by exactly cooldown", "refused by budget, cooldown"],
      [16, "refused by cooldown", "refused by budget"],
    ]);
    expect(failures[0]).toMatchObject(positionOf(text, "[cooldown] }"));
  });
});

describe("test file problems are diagnostics (exit 2) with positions", () => {
  const diagnose = async (tests: string, header?: string) => {
    const text = file(tests, header);
    return { text, diagnostics: diagnosticsOf(await run(text)) };
  };

  it("points inside a series at the mistake", async () => {
    const { text, diagnostics } = await diagnose(`  t:
    services: { health-proxy: "down x5, upp" }
    expect: [{ at: 1, status: { health-proxy: down } }]
`);
    expect(diagnostics).toEqual([
      expect.objectContaining({
        code: "invalid-value",
        message: 'expected "up", "down" or a "(" group, got "upp"',
        hint: 'did you mean "up"?',
        ...positionOf(text, "upp"),
      }),
    ]);
  });

  it("names unknown services, rules, levels and channels with a did-you-mean", async () => {
    const { text, diagnostics } = await diagnose(`  t:
    services: { helth-proxy: "down" }
    expect:
      - at: 1
        breaker: { boss-ap: OPEN }
        alerts: [{ rule: service-down-critcal, level: CRITICL, channels: [discrd] }]
`);
    expect(diagnostics.map((d) => [d.code, d.message, d.hint, d.line, d.column])).toEqual([
      [
        "unknown-service",
        'the rules have no service "helth-proxy"',
        'did you mean "health-proxy"?',
        ...Object.values(positionOf(text, "helth")),
      ],
      [
        "unknown-service",
        'the rules have no service "boss-ap"',
        'did you mean "boss-api"?',
        ...Object.values(positionOf(text, "boss-ap")),
      ],
      [
        "invalid-value",
        'the rules have no alert rule "service-down-critcal"',
        'did you mean "service-down-critical"?',
        ...Object.values(positionOf(text, "service-down-critcal")),
      ],
      [
        "unknown-level",
        'the rules have no level "CRITICL"',
        'did you mean "CRITICAL"?',
        ...Object.values(positionOf(text, "CRITICL")),
      ],
      [
        "unknown-channel",
        'the rules have no channel "discrd"',
        'did you mean "discord"?',
        ...Object.values(positionOf(text, "discrd")),
      ],
    ]);
  });

  it("refuses ticks off the interval, after the end, and expectations that expect nothing", async () => {
    const { diagnostics } = await diagnose(`  t:
    services: { health-proxy: "down x3" }
    expect:
      - at: 7m
        status: { health-proxy: down }
      - at: 4
        status: { health-proxy: down }
      - at: 1
`);
    expect(diagnostics.map((d) => [d.code, d.message, d.hint])).toEqual([
      [
        "invalid-value",
        "7m after tick 1 is not on a tick (one every 5m)",
        "the nearest ticks are tick 2 (5m) and tick 3 (10m)",
      ],
      ["out-of-range", "tick 4 is after the last tick of this test (3)", "lengthen a series or set `ticks`"],
      [
        "missing-key",
        "an expectation needs at least one of status, breaker, heals, alerts, alertTotals, facts next to `at`",
        undefined,
      ],
    ]);
  });

  it("explains what `at` and `nextAllowed` accept", async () => {
    const { text, diagnostics } = await diagnose(`  t:
    services: { health-proxy: "down x9" }
    expect:
      - at: 3-6
        status: { health-proxy: down }
      - at: 6..3
        status: { health-proxy: down }
      - at: 2
        heals: { health-proxy: { nextAllowed: 1..2 } }
`);
    expect(diagnostics.map((d) => [d.message, d.hint, d.line])).toEqual([
      [
        '"3-6" is neither a tick number nor a time since tick 1 like 25m',
        "write a tick (5), a time (25m, 1h30m) or a range of either (3..6, 10m..25m)",
        positionOf(text, "3-6").line,
      ],
      ["the range 6..3 ends before it starts", undefined, positionOf(text, "6..3").line],
      [
        "nextAllowed is one tick number or a time since tick 1 like 60m, not a range",
        undefined,
        positionOf(text, "1..2").line,
      ],
    ]);
  });

  it("checks the file against its schema, with hints", async () => {
    const { text, diagnostics } = await diagnose(`  t:
    services: { health-proxy: "down" }
    expect:
      - at: 1
        breakr: { health-proxy: OPEN }
`);
    expect(diagnostics).toEqual([
      expect.objectContaining({
        code: "unknown-key",
        message: 'unknown key "breakr"',
        hint: 'did you mean "breaker"?',
        ...positionOf(text, "breakr"),
      }),
    ]);
    const bad = await diagnose(
      "  t: { expect: [{ at: 1, breaker: { health-proxy: open } }] }\n",
      "interval: 5 minutes",
    );
    expect(bad.diagnostics.map((d) => d.code).sort()).toEqual(["invalid-duration", "invalid-value"]);
  });

  it("refuses a series for a disabled service and runs longer than the limit", async () => {
    const disabled: Config = {
      ...config,
      services: config.services.map((s) => (s.id === "boss-api" ? { ...s, enabled: false } : s)),
    };
    const text = file(`  t:\n    services: { boss-api: "down" }\n    expect: [{ at: 1, alerts: [] }]\n`);
    const result = await runTestText(text, "t.test.yaml", disabled);
    expect(diagnosticsOf(result).map((d) => d.message)).toEqual([
      'service "boss-api" is disabled in the rules: upkeep never probes it',
    ]);
    const { diagnostics } = await diagnose(
      "  t:\n    ticks: 20000000\n    expect: [{ at: 1, alerts: [] }]\n",
    );
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["out-of-range", "ticks must be at most 10000000, got 20000000"],
    ]);
  });

  it("reports YAML errors and needs something to run", async () => {
    expect((await diagnose("  t: [\n")).diagnostics[0]?.code).toBe("yaml-syntax");
    const { diagnostics } = await diagnose("  t:\n    expect: [{ at: 1, status: { boss-api: up } }]\n");
    expect(diagnostics.map((d) => d.message)).toEqual([
      "nothing to run: give `ticks` or a series under `services`",
    ]);
  });
});

describe("runTestFiles: a list of files and, for each, the Config it tests", () => {
  it("is all a rule pack needs to run its tests against a consumer's rules", async () => {
    const dir = await tempDir();
    const good = join(dir, "good.test.yaml");
    const broken = join(dir, "broken.test.yaml");
    await writeFile(
      good,
      file(
        `  t:\n    services: { boss-api: "down x3" }\n    expect: [{ at: 3, alertTotals: { CRITICAL: 1 } }]\n`,
      ),
    );
    await writeFile(broken, "version: 2\n");
    const asked: string[] = [];
    const result = await runTestFiles([good, broken, join(dir, "missing.test.yaml")], {
      configFor: async (parsed) => {
        asked.push(parsed.file);
        return { config, diagnostics: [] };
      },
    });
    expect(asked).toEqual([good]);
    expect(result.files.map((f) => [f.tests.map((t) => t.passed), f.diagnostics.map((d) => d.code)])).toEqual(
      [
        [[true], []],
        [[], ["missing-key", "invalid-value"]],
        [[], ["rules-not-found"]],
      ],
    );
    expect(result).toMatchObject({ passed: 1, failed: 0, broken: 2, ticks: 3, exitCode: 2 });
  });

  it("reports the rules' errors when the Config cannot be built", async () => {
    const result = await runTestText(
      file(`  t:\n    ticks: 1\n    expect: [{ at: 1, alerts: [] }]\n`),
      "t.test.yaml",
      config,
    );
    expect(result.exitCode).toBe(0);
    const dir = await tempDir();
    const path = join(dir, "x.test.yaml");
    await writeFile(path, file(`  t:\n    ticks: 1\n    expect: [{ at: 1, alerts: [] }]\n`));
    const bad: Diagnostic = {
      severity: "error",
      code: "unknown-action",
      message: "nope",
      file: "s.yaml",
      line: 2,
      column: 3,
      pointer: "",
    };
    const failed = await runTestFiles([path], {
      configFor: async () => ({ diagnostics: [bad], rulesDir: "r" }),
    });
    expect(failed.files[0]).toMatchObject({ rulesDir: "r", tests: [], diagnostics: [bad] });
    expect(failed.exitCode).toBe(2);
  });
});
