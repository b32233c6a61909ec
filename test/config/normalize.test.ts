import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { normalize, type NormalizeInput } from "../../src/config/normalize.js";
import type { RawAlertsFile, RawServicesFile } from "../../src/config/raw-types.js";
import type { Config } from "../../src/config/model.js";

const RULES = fileURLToPath(new URL("../../rules/", import.meta.url));
const readYaml = (file: string): unknown => parse(readFileSync(path.join(RULES, file), "utf8"));

function shipped(overrides?: NormalizeInput["overrides"]): Config {
  return normalize({
    rulesDir: RULES,
    services: readYaml("services.yaml") as RawServicesFile,
    servicesFile: "services.yaml",
    alerts: readYaml("alerts.yaml") as RawAlertsFile,
    alertsFile: "alerts.yaml",
    env: {},
    ...(overrides === undefined ? {} : { overrides }),
  });
}

function withServices(services: RawServicesFile, extra: Partial<NormalizeInput> = {}): Config {
  return normalize({ rulesDir: "/rules", services, servicesFile: "services.yaml", env: {}, ...extra });
}

describe("normalize: the shipped rules are the baseline", () => {
  const config = shipped();

  it("watches the three baseline services by port, in file order", () => {
    expect(config.services.map((s) => [s.id, s.title, s.probe.type, s.probe.params])).toEqual([
      ["health-proxy", "Health Proxy", "tcp", { host: "127.0.0.1", port: 3002 }],
      ["mcp-bridge", "MCP Bridge", "tcp", { host: "127.0.0.1", port: 3003 }],
      ["boss-api", "Boss API", "tcp", { host: "127.0.0.1", port: 4000 }],
    ]);
    for (const s of config.services) {
      expect(s.enabled).toBe(true);
      expect(s.probe.timeoutMs).toBe(2000);
      expect(s.dependsOn).toEqual([]);
    }
  });

  it("heals by unload, wait 2 s, load, wait 3 s, verify, with the service's label", () => {
    const labels = {
      "health-proxy": "com.02luka.health-proxy",
      "mcp-bridge": "com.02luka.mcp-bridge",
      "boss-api": "com.02luka.boss-api",
    };
    for (const s of config.services) {
      const label = labels[s.id as keyof typeof labels];
      expect(s.heal.recipe).toBe("launchd-restart");
      expect(s.heal.steps.map((st) => [st.name, st.action, st.with, st.continueOnError])).toEqual([
        ["launchd.unload", "launchd.unload", { label }, false],
        ["wait", "wait", { for: "2s" }, false],
        ["launchd.load", "launchd.load", { label }, false],
        ["wait", "wait", { for: "3s" }, false],
        ["verify", "verify", {}, false],
      ]);
      expect(s.heal.steps[0]?.source).toEqual({
        file: "services.yaml",
        pointer: "/recipes/launchd-restart/steps/0",
      });
    }
  });

  it("limits heals to one per 5 minutes and 3 per hour, from the first failed check", () => {
    for (const s of config.services) {
      expect(s.heal.after).toBe(1);
      expect(s.heal.cooldownMs).toBe(300_000);
      expect(s.heal.budget).toEqual({ max: 3, perMs: 3_600_000 });
      expect(s.heal.timeoutMs).toBe(120_000);
    }
  });

  it("gives up after 5 failed heals, retries after 60 s then twice as long each time up to a day, HALF_OPEN without deadline", () => {
    for (const s of config.services) {
      expect(s.breaker).toEqual({
        mode: "consecutive",
        failureThreshold: 5,
        successThreshold: 2,
        openForMs: 60_000,
        window: 10,
        minSamples: 5,
        failureRate: 0.5,
        backoffFactor: 2,
        maxOpenForMs: 86_400_000,
        halfOpenTimeoutMs: Number.POSITIVE_INFINITY,
      });
    }
  });

  it("calls a service flapping after 3 outages within an hour", () => {
    for (const s of config.services) expect(s.flapping).toEqual({ outages: 3, withinMs: 3_600_000 });
  });

  it("keeps the baseline alert levels, ranked in listed order, resolving at the first tick that clears", () => {
    expect(Object.values(config.alerts.levels)).toEqual([
      {
        id: "CRITICAL",
        threshold: 3,
        cooldownMs: 3_600_000,
        resolveAfter: 1,
        channels: ["discord", "log"],
        rank: 0,
      },
      { id: "WARNING", threshold: 5, cooldownMs: 7_200_000, resolveAfter: 1, channels: ["log"], rank: 1 },
      { id: "INFO", threshold: 10, cooldownMs: 86_400_000, resolveAfter: 1, channels: ["log"], rank: 2 },
    ]);
    expect(config.alerts.rules.map((r) => [r.id, r.level, r.sendResolved, r.services])).toEqual([
      ["service-down-critical", "CRITICAL", true, []],
      ["service-down-warning", "WARNING", true, []],
      ["service-down-info", "INFO", true, []],
      ["healing-gave-up", "CRITICAL", true, []],
      ["service-flapping", "WARNING", true, []],
    ]);
  });

  it("tells at once when upkeep gave up (reminding daily) and when a service flaps; service-down rules use their level's timing", () => {
    const byId = new Map(config.alerts.rules.map((r) => [r.id, r]));
    expect(byId.get("healing-gave-up")).toMatchObject({
      threshold: 1,
      cooldownMs: 86_400_000,
      when: { var: "gaveUp" },
    });
    // Said once a day while it goes on, not at WARNING's 2 h reminders.
    expect(byId.get("service-flapping")).toMatchObject({
      threshold: 1,
      cooldownMs: 86_400_000,
      when: { var: "flapping" },
    });
    for (const id of ["service-down-critical", "service-down-warning", "service-down-info"]) {
      expect(byId.get(id)?.threshold).toBeUndefined();
      expect(byId.get(id)?.cooldownMs).toBeUndefined();
    }
  });

  it("keeps the Discord secret as a template, never its value", () => {
    const withSecret = normalize({
      rulesDir: RULES,
      services: readYaml("services.yaml") as RawServicesFile,
      servicesFile: "services.yaml",
      alerts: readYaml("alerts.yaml") as RawAlertsFile,
      alertsFile: "alerts.yaml",
      env: { DISCORD_WEBHOOK_URL: "https://discord.example/secret" },
    });
    expect(withSecret.alerts.channels["discord"]?.params).toEqual({ url: "${env:DISCORD_WEBHOOK_URL}" });
    expect(JSON.stringify(withSecret)).not.toContain("discord.example/secret");
    expect(withSecret.alerts.channels["log"]).toEqual({
      id: "log",
      type: "log",
      params: {},
      source: { file: "alerts.yaml", pointer: "/channels/log" },
    });
  });

  it("expands runtime paths and applies runtime defaults", () => {
    expect(config.rulesDir).toBe(path.resolve(RULES));
    expect(config.files).toEqual(["services.yaml", "alerts.yaml"]);
    expect(config.runtime).toEqual({
      stateDir: path.join(homedir(), ".upkeep/state"),
      logFile: path.join(homedir(), "Library/Logs/upkeep/upkeep.log"),
      logRotation: { maxBytes: 10 * 1024 * 1024, keep: 5 },
      concurrency: 8,
      probeConcurrency: 256,
      tickTimeoutMs: 120_000,
      intervalMs: 300_000,
      launchctlPath: "/bin/launchctl",
      systemctlPath: "systemctl",
      plugins: [],
      history: {
        enabled: true,
        file: path.join(homedir(), ".upkeep/state/history.db"),
        retentionMs: 90 * 86_400_000,
      },
    });
  });

  it("points every source at its place in the rules file", () => {
    const boss = config.services[2];
    expect(boss?.source).toEqual({ file: "services.yaml", pointer: "/services/boss-api" });
    expect(boss?.probe.source).toEqual({ file: "services.yaml", pointer: "/services/boss-api/probe" });
    expect(config.alerts.rules[0]?.source).toEqual({
      file: "alerts.yaml",
      pointer: "/rules/service-down-critical",
    });
  });

  it("is deeply frozen", () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.services[0]?.heal.steps[0]?.with)).toBe(true);
    expect(Object.isFrozen(config.alerts.levels["CRITICAL"]?.channels)).toBe(true);
    expect(Object.isFrozen(config.alerts.rules[0]?.when)).toBe(true);
    expect(() => {
      (config.runtime as { concurrency: number }).concurrency = 1;
    }).toThrow(TypeError);
  });
});

describe("normalize: defaults and overrides", () => {
  const base: RawServicesFile = {
    version: 1,
    defaults: {
      probe: { timeout: "3s" },
      breaker: { failureThreshold: 4, openFor: "30s", backoff: { factor: 2 } },
      heal: { cooldown: "10m", budget: { max: 5 } },
    },
    services: {
      api: {
        probe: { type: "http", url: "http://127.0.0.1:4000/health", timeout: "500ms" },
        breaker: { successThreshold: 3, backoff: { max: "10m" } },
        heal: {
          budget: { per: "2h" },
          steps: [{ action: "exec", with: { command: ["true"] }, timeout: "5s" }],
        },
      },
      db: { title: "Database", probe: { type: "tcp", port: 5432 } },
    },
  };

  it("merges service settings over the defaults section over the built-in defaults, key by key", () => {
    const [api, db] = withServices(base).services;
    expect(api?.title).toBe("api");
    expect(api?.probe.timeoutMs).toBe(500);
    expect(db?.probe.timeoutMs).toBe(3000);
    expect(api?.breaker).toEqual({
      mode: "consecutive",
      failureThreshold: 4,
      successThreshold: 3,
      openForMs: 30_000,
      window: 10,
      minSamples: 5,
      failureRate: 0.5,
      backoffFactor: 2,
      maxOpenForMs: 600_000,
      halfOpenTimeoutMs: Number.POSITIVE_INFINITY,
    });
    // No backoff.max anywhere: the built-in day, not a multiple of openFor.
    expect(db?.breaker).toMatchObject({ successThreshold: 2, backoffFactor: 2, maxOpenForMs: 86_400_000 });
    expect(api?.heal).toMatchObject({
      after: 1,
      cooldownMs: 600_000,
      budget: { max: 5, perMs: 7_200_000 },
      timeoutMs: 120_000,
    });
    expect(db?.heal).toEqual({
      after: 1,
      cooldownMs: 600_000,
      budget: { max: 5, perMs: 3_600_000 },
      timeoutMs: 120_000,
      steps: [],
    });
  });

  it("defaults the backoff factor to 2 and never caps the wait below openFor", () => {
    const [svc] = withServices({
      version: 1,
      services: {
        web: { probe: { type: "tcp", port: 80 }, breaker: { openFor: "2h", backoff: { max: "1h" } } },
      },
    }).services;
    expect(svc?.breaker).toMatchObject({ openForMs: 7_200_000, backoffFactor: 2, maxOpenForMs: 7_200_000 });
  });

  it("ignores the deprecated halfOpenTimeout: a service's HALF_OPEN has no deadline, whatever the interval", () => {
    const timed: RawServicesFile = {
      ...base,
      defaults: { ...base.defaults, breaker: { ...base.defaults?.breaker, halfOpenTimeout: "5m" } },
    };
    for (const interval of ["1m", "10m"]) {
      const services = withServices({ ...timed, runtime: { interval } }).services;
      for (const s of services) expect(s.breaker.halfOpenTimeoutMs).toBe(Number.POSITIVE_INFINITY);
    }
  });

  it("merges heal.after and flapping over the defaults section over the built-in defaults", () => {
    const config = withServices({
      version: 1,
      defaults: { heal: { after: 2 }, flapping: { outages: 5 } },
      services: {
        api: { probe: { type: "tcp", port: 1 }, heal: { after: 3 }, flapping: { within: "30m" } },
        db: { probe: { type: "tcp", port: 2 } },
      },
    });
    const [api, db] = config.services;
    expect(api?.heal.after).toBe(3);
    expect(db?.heal.after).toBe(2);
    expect(api?.flapping).toEqual({ outages: 5, withinMs: 1_800_000 });
    expect(db?.flapping).toEqual({ outages: 5, withinMs: 3_600_000 });
  });

  it("keeps inline steps as written, with names and flags defaulted", () => {
    const step = withServices(base).services[0]?.heal.steps[0];
    expect(step).toEqual({
      name: "exec",
      action: "exec",
      with: { command: ["true"] },
      timeoutMs: 5000,
      continueOnError: false,
      source: { file: "services.yaml", pointer: "/services/api/heal/steps/0" },
    });
  });

  it("lets --state-dir win and moves the default log next to it", () => {
    const cwd = process.cwd();
    const config = withServices(base, { overrides: { stateDir: "tmp/state" } });
    expect(config.runtime.stateDir).toBe(path.join(cwd, "tmp/state"));
    expect(config.runtime.logFile).toBe(path.join(cwd, "tmp/logs/upkeep.log"));
    const named = withServices(
      { ...base, runtime: { stateDir: "/x/state", logFile: "logs/u.log" } },
      { overrides: { stateDir: "/y" } },
    );
    expect(named.runtime.stateDir).toBe("/y");
    expect(named.runtime.logFile).toBe("/rules/logs/u.log");
  });

  it("resolves runtime paths against the rules directory, renders env there, and keeps bare commands", () => {
    const config = withServices(
      {
        ...base,
        runtime: {
          stateDir: "${env:STATE_ROOT}/upkeep",
          launchctl: "./bin/fake-launchctl",
          systemctl: "systemctl",
          plugins: ["./plugins/x.js", "upkeep-plugin-y", "@scope/z"],
        },
      },
      { env: { STATE_ROOT: "/var/state" } },
    );
    expect(config.runtime.stateDir).toBe("/var/state/upkeep");
    expect(config.runtime.logFile).toBe("/var/state/logs/upkeep.log");
    expect(config.runtime.launchctlPath).toBe("/rules/bin/fake-launchctl");
    expect(config.runtime.systemctlPath).toBe("systemctl");
    expect(config.runtime.plugins).toEqual(["/rules/plugins/x.js", "upkeep-plugin-y", "@scope/z"]);
  });

  it("does not modify or freeze the input documents", () => {
    const input = structuredClone(base);
    withServices(input);
    expect(input).toEqual(base);
    expect(Object.isFrozen(input.services["api"]?.probe)).toBe(false);
  });
});

describe("normalize: recipes", () => {
  const recipes: RawServicesFile["recipes"] = {
    restart: {
      params: { label: { required: true }, settle: { default: "2s" }, port: { default: 80 } },
      steps: [
        {
          name: "stop ${{ params.label }}",
          action: "launchd.bootout",
          with: { label: "${{ params.label }}" },
        },
        { action: "wait", with: { for: "${{ params.settle }}" }, continueOnError: true },
        {
          action: "http",
          with: {
            url: "http://127.0.0.1:${{ params.port }}/${{ service.id }}?t=${env:TOKEN}",
            headers: { "X-Port": "${{ params.port }}" },
          },
          when: { "==": [{ var: "status" }, "${{ params.label }}"] },
        },
      ],
    },
  };

  it("substitutes params from heal.with over recipe defaults and leaves run-time references alone", () => {
    const config = withServices({
      version: 1,
      recipes,
      services: {
        web: {
          probe: { type: "tcp", port: 80 },
          heal: { recipe: "restart", with: { label: "com.web", port: 8080 } },
        },
        api: {
          probe: { type: "tcp", port: 81 },
          heal: { recipe: "restart", with: { label: "com.api", settle: "5s" } },
        },
      },
    });
    const [web, api] = config.services;
    expect(web?.heal.steps.map((s) => [s.name, s.with, s.continueOnError])).toEqual([
      ["stop com.web", { label: "com.web" }, false],
      ["wait", { for: "2s" }, true],
      [
        "http",
        { url: "http://127.0.0.1:8080/${{ service.id }}?t=${env:TOKEN}", headers: { "X-Port": 8080 } },
        false,
      ],
    ]);
    expect(web?.heal.steps[2]?.when).toEqual({ "==": [{ var: "status" }, "com.web"] });
    expect(api?.heal.steps[1]?.with).toEqual({ for: "5s" });
    expect(api?.heal.steps[2]?.with["url"]).toBe("http://127.0.0.1:80/${{ service.id }}?t=${env:TOKEN}");
  });

  it("leaves a param nobody supplied as a visible reference", () => {
    const config = withServices({
      version: 1,
      recipes,
      services: { web: { probe: { type: "tcp", port: 80 }, heal: { recipe: "restart" } } },
    });
    expect(config.services[0]?.heal.steps[0]?.with).toEqual({ label: "${{ params.label }}" });
  });

  it("throws E_INTERNAL for a recipe that does not exist (validation should have caught it)", () => {
    expect(() =>
      withServices({
        version: 1,
        services: { web: { probe: { type: "tcp", port: 80 }, heal: { recipe: "nope" } } },
      }),
    ).toThrow(expect.objectContaining({ code: "E_INTERNAL" }) as Error);
  });
});

describe("normalize: alerts", () => {
  const services: RawServicesFile = { version: 1, services: { web: { probe: { type: "tcp", port: 80 } } } };

  it("fills level and rule defaults", () => {
    const config = withServices(services, {
      alerts: {
        version: 1,
        channels: { log: { type: "log" } },
        levels: { PAGE: { channels: ["log"] } },
        rules: {
          flapping: {
            level: "PAGE",
            when: true,
            services: ["web"],
            sendResolved: false,
            message: "m",
            resolvedMessage: "r",
          },
        },
      },
      alertsFile: "alerts.yaml",
    });
    expect(config.alerts.levels["PAGE"]).toEqual({
      id: "PAGE",
      threshold: 1,
      cooldownMs: 3_600_000,
      resolveAfter: 1,
      channels: ["log"],
      rank: 0,
    });
    // No threshold or cooldown of its own: the level's apply.
    expect(config.alerts.rules[0]?.threshold).toBeUndefined();
    expect(config.alerts.rules[0]?.cooldownMs).toBeUndefined();
    expect(config.alerts.rules[0]).toEqual({
      id: "flapping",
      level: "PAGE",
      when: true,
      services: ["web"],
      message: "m",
      resolvedMessage: "r",
      sendResolved: false,
      source: { file: "alerts.yaml", pointer: "/rules/flapping" },
    });
  });

  it("takes a level's resolveAfter, and a rule's own threshold and cooldown over its level's", () => {
    const config = withServices(services, {
      alerts: {
        version: 1,
        channels: { log: { type: "log" } },
        levels: { PAGE: { threshold: 3, cooldown: "1h", resolveAfter: 4, channels: ["log"] } },
        rules: { now: { level: "PAGE", when: true, threshold: 1, cooldown: "24h" } },
      },
      alertsFile: "alerts.yaml",
    });
    expect(config.alerts.levels["PAGE"]).toMatchObject({
      threshold: 3,
      cooldownMs: 3_600_000,
      resolveAfter: 4,
    });
    expect(config.alerts.rules[0]).toMatchObject({ id: "now", threshold: 1, cooldownMs: 86_400_000 });
  });

  it("turns silences into epoch ms, weekday numbers and minutes", () => {
    const config = withServices(services, {
      alerts: {
        version: 1,
        silences: [
          {
            id: "upgrade",
            start: "2025-06-01T22:00:00Z",
            end: "2025-06-01T23:30:00.500+02:00",
            pauseHealing: true,
          },
          {
            id: "backup",
            services: ["web"],
            levels: ["INFO"],
            weekly: { days: ["sun", "sat", "mon"], from: "23:30", to: "24:00" },
          },
        ],
      },
      alertsFile: "alerts.yaml",
    });
    expect(config.alerts.silences).toEqual([
      {
        id: "upgrade",
        services: [],
        levels: [],
        startsAt: Date.UTC(2025, 5, 1, 22, 0, 0),
        endsAt: Date.UTC(2025, 5, 1, 21, 30, 0, 500),
        pauseHealing: true,
        source: { file: "alerts.yaml", pointer: "/silences/0" },
      },
      {
        id: "backup",
        services: ["web"],
        levels: ["INFO"],
        weekly: { days: [0, 1, 6], fromMinute: 1410, toMinute: 1440 },
        pauseHealing: false,
        source: { file: "alerts.yaml", pointer: "/silences/1" },
      },
    ]);
  });

  it("gives an empty alerts section when there is no alerts file", () => {
    expect(withServices(services).alerts).toEqual({ channels: {}, levels: {}, rules: [], silences: [] });
    expect(withServices(services).files).toEqual(["services.yaml"]);
  });
});

describe("normalize: defaults match what the schemas tell editors", () => {
  type Props = Record<string, { default?: unknown }>;
  const defs = (name: string): Record<string, { properties: Props }> =>
    (
      JSON.parse(
        readFileSync(fileURLToPath(new URL(`../../schemas/${name}.schema.json`, import.meta.url)), "utf8"),
      ) as {
        $defs: Record<string, { properties: Props }>;
      }
    ).$defs;
  const config = withServices({ version: 1, services: { web: { probe: { type: "tcp", port: 80 } } } });
  const web = config.services[0];

  it("for the breaker, heal budget and runtime", () => {
    const breaker = defs("services")["breaker"]?.properties ?? {};
    expect(breaker["mode"]?.default).toBe(web?.breaker.mode);
    expect(breaker["failureThreshold"]?.default).toBe(web?.breaker.failureThreshold);
    expect(breaker["successThreshold"]?.default).toBe(web?.breaker.successThreshold);
    expect(breaker["window"]?.default).toBe(web?.breaker.window);
    expect(breaker["minSamples"]?.default).toBe(web?.breaker.minSamples);
    expect(breaker["failureRate"]?.default).toBe(web?.breaker.failureRate);
    expect(defs("services")["budget"]?.properties["max"]?.default).toBe(web?.heal.budget.max);
    const runtime = defs("services")["runtime"]?.properties ?? {};
    expect(runtime["concurrency"]?.default).toBe(config.runtime.concurrency);
    expect(runtime["probeConcurrency"]?.default).toBe(config.runtime.probeConcurrency);
    expect(runtime["launchctl"]?.default).toBe(config.runtime.launchctlPath);
    expect(runtime["systemctl"]?.default).toBe(config.runtime.systemctlPath);
    expect(defs("services")["service"]?.properties["enabled"]?.default).toBe(web?.enabled);
  });

  it("for levels and rules", () => {
    const alerts = withServices(
      { version: 1, services: {} },
      {
        alerts: {
          version: 1,
          levels: { X: { channels: ["log"] } },
          rules: { r: { level: "X", when: true } },
        },
      },
    ).alerts;
    expect(defs("alerts")["level"]?.properties["threshold"]?.default).toBe(alerts.levels["X"]?.threshold);
    expect(defs("alerts")["rule"]?.properties["sendResolved"]?.default).toBe(alerts.rules[0]?.sendResolved);
  });
});
