import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIAGNOSTIC_CODES, type DiagnosticCode } from "../../src/config/diagnostics.js";
import { loadRules } from "../../src/config/validate.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/rules/", import.meta.url));
const SHIPPED = fileURLToPath(new URL("../../rules/", import.meta.url));

interface Expected {
  readonly file: "services.yaml" | "alerts.yaml" | "pack/services.yaml";
  readonly line: number;
  readonly column: number;
  readonly pointer: string;
  readonly severity?: "error" | "warning";
  readonly message?: RegExp;
  readonly hint?: string | RegExp;
}

/** One fixture dir per code (test/fixtures/rules/<code>/); each has exactly this one diagnostic. */
const CASES: Readonly<Record<Exclude<DiagnosticCode, "rules-not-found">, Expected>> = {
  "yaml-syntax": {
    file: "services.yaml",
    line: 5,
    column: 5,
    pointer: "",
    message: /Flow map/,
    hint: 'the "{" on line 4 is not closed: add "}" at the end of that line',
  },
  "yaml-warning": {
    file: "services.yaml",
    line: 4,
    column: 12,
    pointer: "",
    severity: "warning",
    message: /Unresolved tag/,
  },
  "alias-limit": {
    file: "services.yaml",
    line: 3,
    column: 10,
    pointer: "/x-b/0",
    message: /too many alias expansions/,
  },
  "forbidden-key": {
    file: "services.yaml",
    line: 5,
    column: 5,
    pointer: "/services/api/__proto__",
    message: /"__proto__" cannot be used as a key/,
  },
  "duplicate-key": {
    file: "services.yaml",
    line: 4,
    column: 37,
    pointer: "/services/api/probe/port",
    message: /duplicate key "port" \(first defined on line 4\)/,
  },
  "duplicate-id": {
    file: "services.yaml",
    line: 7,
    column: 3,
    pointer: "/services/api",
    message: /duplicate id "api" in services \(first defined on line 3\)/,
  },
  "unknown-key": {
    file: "services.yaml",
    line: 4,
    column: 5,
    pointer: "/services/api/titel",
    message: /unknown key "titel"/,
    hint: 'did you mean "title"?',
  },
  "missing-key": {
    file: "services.yaml",
    line: 3,
    column: 3,
    pointer: "/services/api",
    message: /missing required key "probe"/,
  },
  "invalid-type": {
    file: "services.yaml",
    line: 4,
    column: 12,
    pointer: "/services/api/title",
    message: /expected a string, got a list/,
  },
  "invalid-value": {
    file: "services.yaml",
    line: 5,
    column: 22,
    pointer: "/services/api/breaker/mode",
    message: /"consecutiv" is not one of: consecutive, rate/,
    hint: 'did you mean "consecutive"?',
  },
  "invalid-duration": {
    file: "services.yaml",
    line: 6,
    column: 16,
    pointer: "/services/api/breaker/openFor",
    message: /expected a duration like 2s, 5m or 1h, got "60 seconds"/,
  },
  "out-of-range": {
    file: "services.yaml",
    line: 5,
    column: 34,
    pointer: "/services/api/breaker/failureThreshold",
    message: /failureThreshold must be at least 1, got 0/,
  },
  "port-range": {
    file: "services.yaml",
    line: 6,
    column: 13,
    pointer: "/services/api/probe/port",
    message: /port must be between 1 and 65535, got 70000/,
  },
  "unknown-probe": {
    file: "services.yaml",
    line: 4,
    column: 20,
    pointer: "/services/api/probe/type",
    message: /unknown probe type "tpc"/,
    hint: 'did you mean "tcp"?',
  },
  "unknown-action": {
    file: "services.yaml",
    line: 7,
    column: 19,
    pointer: "/services/api/heal/steps/0/action",
    message: /unknown action "launchd.laod"/,
    hint: 'did you mean "launchd.load"?',
  },
  "unknown-channel-type": {
    file: "alerts.yaml",
    line: 3,
    column: 16,
    pointer: "/channels/log/type",
    message: /unknown channel type "lgo"/,
    hint: 'did you mean "log"?',
  },
  "unknown-recipe": {
    file: "services.yaml",
    line: 13,
    column: 21,
    pointer: "/services/api/heal/recipe",
    message: /unknown recipe "restrat"/,
    hint: 'did you mean "restart"?',
  },
  "unknown-level": {
    file: "alerts.yaml",
    line: 8,
    column: 12,
    pointer: "/rules/down/level",
    message: /unknown level "CRITCAL"/,
    hint: 'did you mean "CRITICAL"?',
  },
  "unknown-channel": {
    file: "alerts.yaml",
    line: 5,
    column: 54,
    pointer: "/levels/CRITICAL/channels/0",
    message: /unknown channel "lgo"/,
    hint: 'did you mean "log"?',
  },
  "unknown-service": {
    file: "services.yaml",
    line: 7,
    column: 17,
    pointer: "/services/web/dependsOn/0",
    message: /unknown service "apj"/,
    hint: 'did you mean "api"?',
  },
  "dependency-cycle": {
    file: "services.yaml",
    line: 8,
    column: 17,
    pointer: "/services/api/dependsOn/0",
    message: /^dependency cycle: db -> api -> db$/,
  },
  "invalid-logic": {
    file: "alerts.yaml",
    line: 9,
    column: 11,
    pointer: "/rules/down/when",
    message: /2 keys \(==, >=\)/,
  },
  "unknown-operator": {
    file: "alerts.yaml",
    line: 9,
    column: 13,
    pointer: "/rules/down/when/=",
    message: /unknown json-logic operator "="/,
    hint: 'did you mean "=="?',
  },
  "unsafe-var-path": {
    file: "alerts.yaml",
    line: 9,
    column: 27,
    pointer: "/rules/down/when/==/0/var",
    message: /"constructor.name" reads "constructor"/,
  },
  "unknown-fact": {
    file: "alerts.yaml",
    line: 9,
    column: 27,
    pointer: "/rules/down/when/==/0/var",
    message: /"stauts" is not a fact/,
    hint: 'did you mean "status"?',
  },
  "template-syntax": {
    file: "services.yaml",
    line: 8,
    column: 24,
    pointer: "/recipes/restart/steps/0/with/label",
    message: /unterminated/,
  },
  "unknown-template-root": {
    file: "services.yaml",
    line: 8,
    column: 38,
    pointer: "/services/api/heal/steps/0/with/command/1",
    message: /"serivce" is not available/,
    hint: 'did you mean "service"?',
  },
  "unknown-param": {
    file: "services.yaml",
    line: 8,
    column: 24,
    pointer: "/recipes/restart/steps/0/with/label",
    message: /declares no parameter "lable"/,
    hint: 'did you mean "label"?',
  },
  "missing-param": {
    file: "services.yaml",
    line: 13,
    column: 21,
    pointer: "/services/api/heal/recipe",
    message: /recipe "restart" needs the parameter "label"/,
  },
  "unknown-arg": {
    file: "services.yaml",
    line: 13,
    column: 62,
    pointer: "/services/api/heal/with/plist",
    message: /recipe "restart" has no parameter "plist"/,
  },
  "env-file": {
    file: "services.yaml",
    line: 3,
    column: 12,
    pointer: "/runtime/envFile",
    severity: "warning",
    message: /cannot read env file .*missing-secrets\.env \(ENOENT\)/,
  },
  "env-unset": {
    file: "services.yaml",
    line: 4,
    column: 89,
    pointer: "/services/api/probe/headers/Authorization",
    severity: "warning",
    message: /UPKEEP_FIXTURE_UNSET_TOKEN is not set/,
  },
  "invalid-pattern": {
    file: "services.yaml",
    line: 4,
    column: 86,
    pointer: "/services/api/probe/expect/bodyMatches",
    message:
      /^bodyMatches is not a valid JavaScript regular expression: Unterminated group \(at character 9\)$/,
    hint: /parentheses must pair up/,
  },
  "backtracking-pattern": {
    file: "services.yaml",
    line: 7,
    column: 32,
    pointer: "/services/api/probe/expect/stdoutMatches",
    severity: "warning",
    message: /^stdoutMatches repeats `\(a\+\)\+`, which holds `a\+` with nothing between the repetitions/,
    hint: /`\(a\+\)\+` -> `a\+`/,
  },
  "plugin-load": {
    file: "services.yaml",
    line: 4,
    column: 7,
    pointer: "/runtime/plugins/0",
    message: /plugin "\.\/plugins\/missing\.mjs" failed to load/,
  },
  "missing-verify": {
    file: "services.yaml",
    line: 7,
    column: 19,
    pointer: "/services/api/heal/steps/0/action",
    severity: "warning",
    message: /end with "launchd.kickstart", not "verify"/,
  },
  "deprecated-key": {
    file: "services.yaml",
    line: 3,
    column: 28,
    pointer: "/defaults/breaker/halfOpenTimeout",
    severity: "warning",
    message: /halfOpenTimeout no longer has an effect/,
    hint: /remove it/,
  },
  "breaker-never-holds": {
    file: "services.yaml",
    line: 6,
    column: 16,
    pointer: "/services/api/breaker/openFor",
    severity: "warning",
    message: /waits at most 1m, less than the 5m interval/,
  },
  "cooldown-races-interval": {
    file: "services.yaml",
    line: 7,
    column: 17,
    pointer: "/services/api/heal/cooldown",
    severity: "warning",
    message: /5m20s is just above 1 x the 5m interval/,
    hint: /use 5m .* or 10m/,
  },
  "budget-never-binds": {
    file: "services.yaml",
    line: 7,
    column: 22,
    pointer: "/services/api/heal/budget/max",
    severity: "warning",
    message: /cooldown of 30m allows at most 2/,
    hint: "lower heal.budget.max to 1, or shorten heal.cooldown",
  },
  "launchd-throttle": {
    file: "services.yaml",
    line: 3,
    column: 13,
    pointer: "/runtime/interval",
    severity: "warning",
    message: /launchd starts a job at most every 10 s, so the LaunchAgent ticks every 10 s, not every 5s/,
    hint: /upkeep watch/,
  },
  // Rule packs (src/packs): each fixture dir holds its own pack in ./pack.
  "pack-not-found": {
    file: "services.yaml",
    line: 3,
    column: 12,
    pointer: "/packs/0/use",
    message: /no pack at "\.\/missing"/,
  },
  "pack-incompatible": {
    file: "services.yaml",
    line: 3,
    column: 12,
    pointer: "/packs/0/use",
    message: /supports upkeep >=99, this is upkeep/,
  },
  "pack-param": {
    file: "services.yaml",
    line: 6,
    column: 19,
    pointer: "/packs/0/with/port",
    message: /pack "web": port must be between 1 and 65535/,
  },
  "pack-content": {
    file: "pack/services.yaml",
    line: 1,
    column: 1,
    pointer: "/defaults",
    message: /cannot set "defaults"/,
  },
  "pack-capability": {
    file: "pack/services.yaml",
    line: 5,
    column: 17,
    pointer: "/recipes/restart/steps/0/action",
    hint: "add launchd.unload to capabilities: in the pack's pack.yaml",
  },
  "pack-untrusted": {
    file: "services.yaml",
    line: 3,
    column: 5,
    pointer: "/packs/0",
    hint: /add trust: \[launchd\.unload\] to the pack entry/,
  },
  "pack-shadow": {
    file: "services.yaml",
    line: 5,
    column: 3,
    pointer: "/services/web~1app",
    hint: /overrides:/,
  },
  "unknown-override": {
    file: "services.yaml",
    line: 5,
    column: 3,
    pointer: "/overrides/web~1apps",
    hint: 'did you mean "web/app"?',
  },
  "pack-lock": {
    file: "services.yaml",
    line: 3,
    column: 5,
    pointer: "/packs/0",
    severity: "warning",
    message: /does not match rules\.lock: its files changed/,
  },
};

describe("loadRules: one fixture per diagnostic code, exact positions", () => {
  it("has a case for every code", () => {
    expect(Object.keys(CASES).sort()).toEqual(
      Object.keys(DIAGNOSTIC_CODES)
        .filter((c) => c !== "rules-not-found")
        .sort(),
    );
  });

  for (const [code, expected] of Object.entries(CASES)) {
    it(`${code}: ${expected.file}:${expected.line}:${expected.column}`, async () => {
      const dir = join(FIXTURES, code);
      const { diagnostics, config } = await loadRules(dir, { env: {} });
      expect(diagnostics).toHaveLength(1);
      const [d] = diagnostics;
      expect(d).toMatchObject({
        severity: expected.severity ?? "error",
        code,
        file: join(dir, expected.file),
        line: expected.line,
        column: expected.column,
        pointer: expected.pointer,
      });
      if (expected.message !== undefined) expect(d?.message).toMatch(expected.message);
      if (expected.hint !== undefined) expect(d?.hint).toMatch(expected.hint);
      // Warnings still give a Config; errors never do.
      expect(config === undefined).toBe((expected.severity ?? "error") === "error");
    });
  }

  it("rules-not-found: a dir without services.yaml", async () => {
    const dir = join(FIXTURES, "rules-not-found");
    const { diagnostics, config } = await loadRules(dir, { env: {} });
    expect(config).toBeUndefined();
    expect(diagnostics).toEqual([
      expect.objectContaining({
        code: "rules-not-found",
        file: join(dir, "services.yaml"),
        line: 1,
        column: 1,
        pointer: "",
      }),
    ]);
    expect(diagnostics[0]?.hint).toMatch(/--rules DIR/);
  });

  it("rules-not-found: a rules dir that does not exist, named as given", async () => {
    const { diagnostics } = await loadRules("no/such/rules-dir", { env: {} });
    expect(diagnostics).toEqual([
      expect.objectContaining({
        code: "rules-not-found",
        file: "no/such/rules-dir",
        message: 'rules directory "no/such/rules-dir" does not exist',
      }),
    ]);
  });

  it("env-unset is an error with requireEnv, and fine when the variable is set", async () => {
    const dir = join(FIXTURES, "env-unset");
    const strict = await loadRules(dir, { env: {}, requireEnv: true });
    expect(strict.diagnostics.map((d) => [d.code, d.severity])).toEqual([["env-unset", "error"]]);
    expect(strict.config).toBeUndefined();
    const set = await loadRules(dir, { env: { UPKEEP_FIXTURE_UNSET_TOKEN: "x" }, requireEnv: true });
    expect(set.diagnostics).toEqual([]);
  });

  it("budget-never-binds spaces heals by whole ticks: max(interval, the cooldown rounded up to ticks)", async () => {
    // At a 20m interval: api's 5m cooldown still heals only every 20m (3 per hour, as its budget), web's
    // 25m cooldown every 40m (2 per hour, as its budget); db's budget of 2 binds (3 ticks per hour).
    const dir = join(FIXTURES, "budget-never-binds-interval");
    const { diagnostics, config } = await loadRules(dir, { env: {} });
    expect(config).toBeDefined();
    expect(diagnostics.map((d) => [d.code, d.severity, d.file, d.line, d.column, d.pointer])).toEqual([
      ["budget-never-binds", "warning", join(dir, "services.yaml"), 8, 22, "/services/api/heal/budget/max"],
      ["budget-never-binds", "warning", join(dir, "services.yaml"), 15, 22, "/services/web/heal/budget/max"],
    ]);
    expect(diagnostics[0]?.message).toBe(
      'service "api": the budget of 3 heals per 1h never limits healing: the cooldown of 5m at the 20m interval (a heal at most every 20m) allows at most 3',
    );
    expect(diagnostics[0]?.hint).toBe("lower heal.budget.max to 2, or shorten runtime.interval");
    expect(diagnostics[1]?.message).toMatch(
      /cooldown of 25m at the 20m interval \(a heal at most every 40m\) allows at most 2$/,
    );
    expect(diagnostics[1]?.hint).toBe("lower heal.budget.max to 1, or shorten heal.cooldown");
  });
});

describe("loadRules", () => {
  it("accepts the shipped rules and returns a Config (the only finding: the unset Discord webhook)", async () => {
    const { diagnostics, config } = await loadRules(SHIPPED, { env: {} });
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(diagnostics.map((d) => d.code)).toEqual(["env-unset"]);
    expect(config?.services.map((s) => s.id)).toEqual(["health-proxy", "mcp-bridge", "boss-api"]);
    const withEnv = await loadRules(SHIPPED, { env: { DISCORD_WEBHOOK_URL: "https://example.invalid/x" } });
    expect(withEnv.diagnostics).toEqual([]);
  });

  it("loads plugins before checking names, and checks plugin parameters with the plugin's schema", async () => {
    const { diagnostics } = await loadRules(join(FIXTURES, "with-plugin"), { env: {} });
    expect(diagnostics.map((d) => [d.code, d.line, d.column, d.pointer, d.hint])).toEqual([
      ["unknown-key", 6, 63, "/services/cache/probe/retires", 'did you mean "retries"?'],
      ["out-of-range", 10, 54, "/services/cache/heal/steps/0/with/db", undefined],
    ]);
  });

  it("skips building the Config when asked (validate only prints diagnostics)", async () => {
    const result = await loadRules(join(FIXTURES, "valid"), { env: {}, normalize: false });
    expect(result).toEqual({ diagnostics: [] });
  });

  it("accepts a complete fixture and applies --state-dir", async () => {
    const { diagnostics, config } = await loadRules(join(FIXTURES, "valid"), {
      env: {},
      stateDir: "/tmp/upkeep-state-x",
    });
    expect(diagnostics).toEqual([]);
    expect(config?.runtime.stateDir).toBe("/tmp/upkeep-state-x");
    expect(config?.services[0]?.heal.steps.map((s) => s.with)).toEqual([{ label: "com.example.api" }, {}]);
  });

  describe("with several problems in one file", () => {
    let dir = "";
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "upkeep-validate-"));
      await writeFile(
        join(dir, "services.yaml"),
        [
          "version: 1",
          "services:",
          "  api:",
          "    titel: API",
          "    probe: { type: tcp, port: 70000 }",
          "    dependsOn: [web]",
          "    heal:",
          "      steps:",
          "        - action: launchd.laod",
          "          with: { label: x }",
          "  web:",
          "    probe: { type: tcp, port: 8080 }",
          "    dependsOn: [api]",
          "",
        ].join("\n"),
      );
      await writeFile(
        join(dir, "alerts.yaml"),
        "version: 1\nrules:\n  r:\n    level: NOPE\n    when: true\n    services: [apj]\n",
      );
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("reports all of them, sorted by file and position, without duplicates", async () => {
      const { diagnostics } = await loadRules(dir, { env: {} });
      expect(
        diagnostics.map((d) => `${d.file.slice(dir.length + 1)}:${d.line}:${d.column} ${d.code}`),
      ).toEqual([
        "alerts.yaml:4:12 unknown-level",
        "alerts.yaml:6:16 unknown-service",
        "services.yaml:4:5 unknown-key",
        "services.yaml:5:31 port-range",
        "services.yaml:9:19 unknown-action",
        "services.yaml:9:19 missing-verify",
        "services.yaml:13:17 dependency-cycle",
      ]);
      const keys = diagnostics.map((d) => `${d.file}|${d.pointer}|${d.code}|${d.message}`);
      expect(new Set(keys).size).toBe(keys.length);
    });
  });

  it("rejects an alias bomb (9^9 items if expanded) and __proto__ keys, with Object.prototype untouched", async () => {
    const bomb = await loadRules(join(FIXTURES, "alias-limit"), { env: {} });
    expect(bomb.diagnostics.map((d) => d.code)).toEqual(["alias-limit"]);
    const proto = await loadRules(join(FIXTURES, "forbidden-key"), { env: {} });
    expect(proto.diagnostics.map((d) => d.code)).toEqual(["forbidden-key"]);
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
});
