/** Builds normalized Config objects for core tests: the baseline numbers unless a test overrides them. */
import jsonLogic from "json-logic-js";
import type {
  AlertRule,
  BreakerSettings,
  Config,
  HealSettings,
  JsonLogic,
  LevelSpec,
  ServiceConfig,
  Silence,
  StepSpec,
} from "../../src/config/model.js";
import type { EvaluateLogic } from "../../src/core/decide.js";

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

const source = { file: "test.yaml", pointer: "" };

/**
 * A service's breaker as the shipped rules normalize: gives up after 5 failed heals, tries again after
 * 60 s, then after twice as long each time (up to a day); HALF_OPEN has no deadline (it ends by checks).
 */
export const BASELINE_BREAKER: BreakerSettings = {
  mode: "consecutive",
  failureThreshold: 5,
  successThreshold: 2,
  openForMs: 60 * SECOND,
  window: 10,
  minSamples: 5,
  failureRate: 0.5,
  backoffFactor: 2,
  maxOpenForMs: 24 * HOUR,
  halfOpenTimeoutMs: Number.POSITIVE_INFINITY,
};

/**
 * The classic breaker (src/core/breaker.ts, as channels and the CircuitBreaker class use it) with the
 * baseline thresholds: a fixed 60 s open and a HALF_OPEN deadline of 10 min.
 */
export const CLASSIC_BREAKER: BreakerSettings = {
  ...BASELINE_BREAKER,
  backoffFactor: 1,
  maxOpenForMs: 60 * SECOND,
  halfOpenTimeoutMs: 10 * MINUTE,
};

const restartStep: StepSpec = {
  name: "launchd.kickstart",
  action: "launchd.kickstart",
  with: { label: "com.example.test" },
  continueOnError: false,
  source,
};

export const BASELINE_HEAL: HealSettings = {
  after: 1,
  cooldownMs: 5 * MINUTE,
  budget: { max: 3, perMs: HOUR },
  timeoutMs: MINUTE,
  steps: [restartStep],
};

/** Flapping: 3 outages within an hour (the built-in default). */
export const BASELINE_FLAPPING: ServiceConfig["flapping"] = { outages: 3, withinMs: HOUR };

/** Settings for the classic breaker's own tests. */
export function breakerSettings(overrides: Partial<BreakerSettings> = {}): BreakerSettings {
  return { ...CLASSIC_BREAKER, ...overrides };
}

/** A service's breaker: the shipped defaults unless overridden. */
export function serviceBreaker(overrides: Partial<BreakerSettings> = {}): BreakerSettings {
  return { ...BASELINE_BREAKER, ...overrides };
}

export function healSettings(overrides: Partial<HealSettings> = {}): HealSettings {
  return { ...BASELINE_HEAL, ...overrides };
}

export interface ServiceOverrides {
  title?: string;
  enabled?: boolean;
  dependsOn?: readonly string[];
  tags?: readonly string[];
  breaker?: Partial<BreakerSettings>;
  heal?: Partial<HealSettings>;
  flapping?: Partial<ServiceConfig["flapping"]>;
}

export function service(id: string, overrides: ServiceOverrides = {}): ServiceConfig {
  return {
    id,
    title: overrides.title ?? id,
    enabled: overrides.enabled ?? true,
    probe: { type: "tcp", timeoutMs: 2 * SECOND, params: { host: "127.0.0.1", port: 1 }, source },
    breaker: serviceBreaker(overrides.breaker),
    heal: healSettings(overrides.heal),
    flapping: { ...BASELINE_FLAPPING, ...overrides.flapping },
    dependsOn: overrides.dependsOn ?? [],
    tags: overrides.tags ?? [],
    source,
  };
}

export const BASELINE_LEVELS: Record<string, LevelSpec> = {
  CRITICAL: {
    id: "CRITICAL",
    threshold: 3,
    cooldownMs: HOUR,
    resolveAfter: 1,
    channels: ["discord", "log"],
    rank: 0,
  },
  WARNING: { id: "WARNING", threshold: 5, cooldownMs: 2 * HOUR, resolveAfter: 1, channels: ["log"], rank: 1 },
  INFO: { id: "INFO", threshold: 10, cooldownMs: 24 * HOUR, resolveAfter: 1, channels: ["log"], rank: 2 },
};

export const DOWN: JsonLogic = { "==": [{ var: "status" }, "down"] };

export function rule(id: string, level: string, overrides: Partial<AlertRule> = {}): AlertRule {
  return { id, level, when: DOWN, services: [], sendResolved: true, source, ...overrides };
}

/** The shipped "service down" rules, one per level (without healing-gave-up and service-flapping). */
export function baselineRules(): AlertRule[] {
  return [
    rule("service-down-critical", "CRITICAL"),
    rule("service-down-warning", "WARNING"),
    rule("service-down-info", "INFO"),
  ];
}

export function silence(id: string, overrides: Partial<Silence> = {}): Silence {
  return { id, services: [], levels: [], pauseHealing: false, ...overrides };
}

export interface ConfigParts {
  services: ServiceConfig[];
  rules?: AlertRule[];
  levels?: Record<string, LevelSpec>;
  silences?: Silence[];
}

export function makeConfig(parts: ConfigParts): Config {
  return {
    version: 1,
    rulesDir: "/rules",
    files: [],
    runtime: {
      stateDir: "/state",
      logFile: "/state/upkeep.log",
      logRotation: { maxBytes: 10 * 1024 * 1024, keep: 5 },
      concurrency: 4,
      probeConcurrency: 256,
      tickTimeoutMs: 2 * MINUTE,
      intervalMs: 5 * MINUTE,
      launchctlPath: "launchctl",
      systemctlPath: "systemctl",
      history: { enabled: false, file: "/state/history.db", retentionMs: 90 * 24 * 60 * MINUTE },
      plugins: [],
    },
    services: parts.services,
    alerts: {
      channels: {
        discord: { id: "discord", type: "discord", params: {}, source },
        log: { id: "log", type: "log", params: {}, source },
      },
      levels: parts.levels ?? BASELINE_LEVELS,
      rules: parts.rules ?? baselineRules(),
      silences: parts.silences ?? [],
    },
  };
}

/** The baseline three services (no dependencies between them). */
export function baselineConfig(): Config {
  return makeConfig({
    services: [
      service("health-proxy", { title: "Health Proxy" }),
      service("mcp-bridge", { title: "MCP Bridge" }),
      service("boss-api", { title: "Boss API" }),
    ],
  });
}

/** json-logic-js's own `apply`, as the runtime's evaluator would be. */
export const evaluate: EvaluateLogic = (expr, data) => jsonLogic.apply(expr as jsonLogic.RulesLogic, data);

/** A JSON round-trip, as between two runs of `upkeep run`. */
export function roundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
