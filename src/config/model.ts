/**
 * The normalized, typed rules model every part of upkeep consumes.
 *
 * The raw YAML shape is described by `schemas/services.schema.json` and `schemas/alerts.schema.json`;
 * `src/config/normalize.ts` turns a validated raw document into this model: defaults applied, recipes
 * expanded (recipe params substituted), durations converted to milliseconds, everything frozen.
 * Values that reference the environment (`${env:NAME}`) stay as template strings here and are resolved
 * at the moment of use, so secrets never live inside the Config object.
 */

/** A json-logic expression, already checked against the operator allow-list. */
export type JsonLogic = Readonly<Record<string, unknown>> | boolean;

/** Where a value came from in a rules file, for diagnostics and `explain`. */
export interface SourceRef {
  readonly file: string;
  readonly pointer: string;
}

export interface RuntimeSettings {
  /** Absolute directory holding the state files. */
  readonly stateDir: string;
  /** Absolute path of the detailed pino JSON log. */
  readonly logFile: string;
  /** Absolute path of the KEY=VALUE secrets file `${env:NAME}` falls back to (runtime.envFile). */
  readonly envFile?: string;
  /** Size-based rotation of the log file. */
  readonly logRotation: { readonly maxBytes: number; readonly keep: number };
  /** Max probes/heals in flight at once. */
  /** Heals in flight at once. */
  readonly concurrency: number;
  /** Probes in flight at once (a separate, larger bound: probes wait, heals work). */
  readonly probeConcurrency: number;
  /** No tick outlives this. */
  readonly tickTimeoutMs: number;
  /** Schedule interval used by launchd/systemd units and `watch` by default. */
  readonly intervalMs: number;
  /** Path of `launchctl` (tests point it to a stand-in). */
  readonly launchctlPath: string;
  /** Path of `systemctl`. */
  readonly systemctlPath: string;
  /** Plugin module specifiers (local paths resolved against the rules dir, or package names). */
  readonly plugins: readonly string[];
  /** Absolute path of the Prometheus textfile each tick writes (`runtime.metrics.file`); absent = none. */
  readonly metricsFile?: string;
  /** The dead man's switch pinged after every real tick (`runtime.heartbeat`); absent = none. */
  readonly heartbeat?: HeartbeatSettings;
  /** The event history (`runtime.history`). */
  readonly history: {
    readonly enabled: boolean;
    /** Absolute path of the SQLite file. */
    readonly file: string;
    readonly retentionMs: number;
  };
}

export interface HeartbeatSettings {
  /** As written: `${env:NAME}` stays unresolved (the URL holds the monitor's token) until the ping. */
  readonly url: string;
  /** As written; absent = `url` with /fail appended to its path, derived after resolution. */
  readonly failUrl?: string;
  readonly method: "GET" | "POST";
  readonly timeoutMs: number;
}

export interface ProbeSpec {
  /** Handler name, e.g. `tcp`, `http`, `exec`, `launchd`, `file`. */
  readonly type: string;
  readonly timeoutMs: number;
  /** Handler parameters: the probe object minus `type` and `timeout`. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly source: SourceRef;
}

export type BreakerMode = "consecutive" | "rate";

export interface BreakerSettings {
  /** consecutive: open after N consecutive failures; rate: open when the failure rate over the window is reached. */
  readonly mode: BreakerMode;
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly openForMs: number;
  /** Rate mode: number of most recent outcomes considered. */
  readonly window: number;
  /** Rate mode: outcomes needed in the window before the rate counts. */
  readonly minSamples: number;
  /** Rate mode: failure ratio (0..1] that opens the breaker. */
  readonly failureRate: number;
  /** Each consecutive open multiplies the open duration by this (1 = fixed). */
  readonly backoffFactor: number;
  /** Cap for the grown open duration. */
  readonly maxOpenForMs: number;
  /**
   * HALF_OPEN may last at most this long before it is treated as a failure. Infinity for services: their
   * HALF_OPEN ends by checks, never by time (the key is deprecated in rules); finite for channel breakers.
   */
  readonly halfOpenTimeoutMs: number;
}

export interface StepSpec {
  /** Display name; defaults to the action name. */
  readonly name: string;
  /** Handler name, e.g. `launchd.unload`, `wait`, `verify`. */
  readonly action: string;
  /** Parameters with recipe params already substituted; may still hold `${env:..}` / `${{ service.* }}` templates. */
  readonly with: Readonly<Record<string, unknown>>;
  readonly when?: JsonLogic;
  readonly timeoutMs?: number;
  readonly continueOnError: boolean;
  readonly source: SourceRef;
}

export interface HealSettings {
  /** Heal only once this many checks in a row failed (1 = at the first failed check). */
  readonly after: number;
  readonly cooldownMs: number;
  readonly budget: { readonly max: number; readonly perMs: number };
  /** Whole heal (all steps) is bounded by this. */
  readonly timeoutMs: number;
  /** Empty when the service has no heal steps (monitor only). */
  readonly steps: readonly StepSpec[];
  /** Recipe name the steps came from, if any. */
  readonly recipe?: string;
}

export interface ServiceConfig {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly enabled: boolean;
  readonly probe: ProbeSpec;
  readonly breaker: BreakerSettings;
  readonly heal: HealSettings;
  /** A service that went down `outages` times within `withinMs` is flapping (a fact alert rules read). */
  readonly flapping: { readonly outages: number; readonly withinMs: number };
  readonly dependsOn: readonly string[];
  readonly tags: readonly string[];
  readonly source: SourceRef;
}

export interface ChannelSpec {
  readonly id: string;
  /** Handler name, e.g. `log`, `discord`, `slack`, `webhook`, `command`, `macos`. */
  readonly type: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly source: SourceRef;
}

export interface LevelSpec {
  readonly id: string;
  /** Consecutive ticks the condition must hold before the alert fires. */
  readonly threshold: number;
  /** Reminder interval while still firing. */
  readonly cooldownMs: number;
  /** Consecutive ticks the condition must stop holding before a firing alert resolves. */
  readonly resolveAfter: number;
  readonly channels: readonly string[];
  /** Lower is more severe; the order the levels are listed in. */
  readonly rank: number;
}

export interface AlertRule {
  readonly id: string;
  readonly level: string;
  readonly when: JsonLogic;
  /** Overrides the level's threshold for this rule (e.g. 1: tell at once). */
  readonly threshold?: number;
  /** Overrides the level's reminder interval for this rule. */
  readonly cooldownMs?: number;
  /** Service ids the rule applies to; empty = all services. */
  readonly services: readonly string[];
  /** Template for firing and reminder messages (`${{ service.title }}` etc.); default used when absent. */
  readonly message?: string;
  readonly resolvedMessage?: string;
  /** Send a resolved notice when a firing alert stops matching. */
  readonly sendResolved: boolean;
  readonly source: SourceRef;
}

export interface WeeklyWindow {
  /** 0 = Sunday ... 6 = Saturday. */
  readonly days: readonly number[];
  /** Minutes after local midnight. */
  readonly fromMinute: number;
  readonly toMinute: number;
}

export interface Silence {
  readonly id: string;
  /** Empty = all services. */
  readonly services: readonly string[];
  /** Empty = all levels. */
  readonly levels: readonly string[];
  /** Epoch ms; absent = open-ended. */
  readonly startsAt?: number;
  readonly endsAt?: number;
  readonly weekly?: WeeklyWindow;
  /** A maintenance window: also pause healing for its services. */
  readonly pauseHealing: boolean;
  readonly comment?: string;
  readonly source?: SourceRef;
}

export interface AlertsConfig {
  readonly channels: Readonly<Record<string, ChannelSpec>>;
  /** In listed order (rank). */
  readonly levels: Readonly<Record<string, LevelSpec>>;
  readonly rules: readonly AlertRule[];
  readonly silences: readonly Silence[];
}

export interface Config {
  readonly version: 1;
  /** Absolute rules directory. */
  readonly rulesDir: string;
  readonly files: readonly string[];
  readonly runtime: RuntimeSettings;
  /** In file order. */
  readonly services: readonly ServiceConfig[];
  readonly alerts: AlertsConfig;
}
