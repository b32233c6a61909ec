/**
 * Validated raw documents -> the typed, frozen Config (src/config/model.ts): defaults applied, durations in
 * ms, recipes expanded with their params substituted, paths made absolute. The input has already passed the
 * schema and semantic checks, so anything impossible here is a bug (E_INTERNAL), not a user diagnostic.
 *
 * `${env:NAME}` and `${{ service.* }}` stay as written in handler parameters (resolved at the moment of
 * use, so secrets never live in the Config); only runtime paths are rendered from `env` here.
 */
import { envFilePath } from "./env-file.js";
import { DEFAULT_LOG_ROTATION, parseByteSize } from "../byte-size.js";
import { homedir } from "node:os";
import path from "node:path";
import { parseDuration } from "../duration.js";
import { UpkeepError } from "../errors.js";
import type {
  AlertsConfig,
  BreakerSettings,
  Config,
  HealSettings,
  JsonLogic,
  RuntimeSettings,
  ServiceConfig,
  Silence,
  SourceRef,
  StepSpec,
} from "./model.js";
import type {
  RawAlertsFile,
  RawRecipe,
  RawService,
  RawServicesFile,
  RawSilence,
  RawStep,
} from "./raw-types.js";
import { renderDeep, renderString, type Lookup } from "./template.js";

export interface NormalizeInput {
  readonly rulesDir: string;
  readonly services: RawServicesFile;
  readonly servicesFile: string;
  readonly alerts?: RawAlertsFile;
  readonly alertsFile?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Command-line values (relative to the working directory); they win over the rules. */
  readonly overrides?: { readonly stateDir?: string; readonly logFile?: string };
  /**
   * With packs the documents are merged from several files: `remap` sends each source ref (written
   * against servicesFile/alertsFile) to the file it came from, and `files` lists every file read.
   */
  readonly sources?: { readonly remap: (ref: SourceRef) => SourceRef; readonly files: readonly string[] };
}

/** Built-in defaults (durations in ms). Derived ones are documented where they are computed. */
export const DEFAULTS = Object.freeze({
  probeTimeoutMs: 2000,
  breaker: Object.freeze({
    mode: "consecutive",
    failureThreshold: 5,
    successThreshold: 2,
    openForMs: 60_000,
    window: 10,
    minSamples: 5,
    failureRate: 0.5,
    // Giving up re-arms with growing waits: openFor, then twice as long each time, up to a day.
    backoffFactor: 2,
    maxOpenForMs: 86_400_000,
  } as const),
  heal: Object.freeze({
    after: 1,
    cooldownMs: 300_000,
    budgetMax: 3,
    budgetPerMs: 3_600_000,
    timeoutMs: 120_000,
  }),
  flapping: Object.freeze({ outages: 3, withinMs: 3_600_000 }),
  runtime: Object.freeze({
    stateDir: "~/.upkeep/state",
    intervalMs: 300_000,
    concurrency: 8,
    probeConcurrency: 256,
    tickTimeoutMs: 120_000,
    historyRetentionMs: 90 * 86_400_000,
    launchctl: "/bin/launchctl",
    systemctl: "systemctl",
    heartbeatTimeoutMs: 5000,
  }),
  level: Object.freeze({ threshold: 1, cooldownMs: 3_600_000, resolveAfter: 1 }),
});

export function normalize(input: NormalizeInput): Config {
  const rulesDir = path.resolve(input.rulesDir);
  // Copies, so freezing the result never freezes (or shares) the caller's documents.
  const raw = structuredClone(input.services);
  const runtime = normalizeRuntime(raw, input, rulesDir);
  const services = Object.entries(raw.services).map(([id, service]) =>
    normalizeService(id, service, raw, input.servicesFile),
  );
  const files =
    input.alertsFile === undefined ? [input.servicesFile] : [input.servicesFile, input.alertsFile];
  const config: Config = {
    version: 1,
    rulesDir,
    files: input.sources?.files ?? files,
    runtime,
    services,
    alerts: normalizeAlerts(structuredClone(input.alerts), input.alertsFile ?? ""),
  };
  if (input.sources !== undefined) remapSources(config, input.sources.remap);
  return deepFreeze(config);
}

/** Replaces every `source` ref in the (not yet frozen) config; they are plain objects built above. */
function remapSources(node: unknown, remap: (ref: SourceRef) => SourceRef): void {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const item of node) remapSources(item, remap);
    return;
  }
  const rec = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(rec)) {
    if (key === "source" && isSourceRef(value)) rec[key] = remap(value);
    else remapSources(value, remap);
  }
}

function isSourceRef(value: unknown): value is SourceRef {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as Record<string, unknown>)["file"] === "string" &&
    typeof (value as Record<string, unknown>)["pointer"] === "string"
  );
}

function normalizeRuntime(doc: RawServicesFile, input: NormalizeInput, rulesDir: string): RuntimeSettings {
  const raw = doc.runtime ?? {};
  const env: Lookup = (ref) => (ref.kind === "env" ? input.env[ref.name] : undefined);
  const fromRules = (text: string): string => resolvePath(String(renderString(text, env)), rulesDir);
  const cwd = process.cwd();
  const stateDir =
    input.overrides?.stateDir !== undefined
      ? resolvePath(input.overrides.stateDir, cwd)
      : fromRules(raw.stateDir ?? DEFAULTS.runtime.stateDir);
  // Default log next to the state directory (~/.upkeep/state -> ~/.upkeep/logs/upkeep.log), so a
  // --state-dir override also moves the log when the rules do not name one.
  const logFile =
    input.overrides?.logFile !== undefined
      ? resolvePath(input.overrides.logFile, cwd)
      : raw.logFile !== undefined
        ? fromRules(raw.logFile)
        : path.join(path.dirname(stateDir), "logs", "upkeep.log");
  // A bare command name (systemctl) is looked up in PATH, a package name (@scope/x) is imported as is;
  // only paths are resolved.
  const command = (text: string): string =>
    text.includes("/") || isLocalPath(text) ? fromRules(text) : text;
  const plugin = (text: string): string => (isLocalPath(text) ? fromRules(text) : text);
  return {
    stateDir,
    logFile,
    logRotation: {
      maxBytes: parseByteSize(raw.logRotate?.maxSize ?? "") ?? DEFAULT_LOG_ROTATION.maxBytes,
      keep: raw.logRotate?.keep ?? DEFAULT_LOG_ROTATION.keep,
    },
    concurrency: raw.concurrency ?? DEFAULTS.runtime.concurrency,
    probeConcurrency: raw.probeConcurrency ?? DEFAULTS.runtime.probeConcurrency,
    tickTimeoutMs: duration(raw.tickTimeout, DEFAULTS.runtime.tickTimeoutMs),
    intervalMs: duration(raw.interval, DEFAULTS.runtime.intervalMs),
    launchctlPath: command(raw.launchctl ?? DEFAULTS.runtime.launchctl),
    systemctlPath: command(raw.systemctl ?? DEFAULTS.runtime.systemctl),
    plugins: (raw.plugins ?? []).map(plugin),
    history: {
      enabled: raw.history?.enabled ?? true,
      file: raw.history?.file !== undefined ? fromRules(raw.history.file) : path.join(stateDir, "history.db"),
      retentionMs: duration(raw.history?.retention, DEFAULTS.runtime.historyRetentionMs),
    },
    ...(raw.metrics === undefined ? {} : { metricsFile: fromRules(raw.metrics.file) }),
    ...(raw.heartbeat === undefined
      ? {}
      : {
          heartbeat: {
            url: raw.heartbeat.url,
            ...(raw.heartbeat.failUrl === undefined ? {} : { failUrl: raw.heartbeat.failUrl }),
            method: raw.heartbeat.method ?? "GET",
            timeoutMs: duration(raw.heartbeat.timeout, DEFAULTS.runtime.heartbeatTimeoutMs),
          },
        }),
    ...(raw.envFile === undefined ? {} : { envFile: envFilePath(raw.envFile, rulesDir) }),
  };
}

function normalizeService(
  id: string,
  service: RawService,
  raw: RawServicesFile,
  file: string,
): ServiceConfig {
  const pointer = ["services", id];
  const { type, timeout, ...params } = service.probe;
  return omitUndefined({
    id,
    title: service.title ?? id,
    description: service.description,
    enabled: service.enabled ?? true,
    probe: {
      type,
      timeoutMs: duration(timeout ?? raw.defaults?.probe?.timeout, DEFAULTS.probeTimeoutMs),
      params,
      source: source(file, [...pointer, "probe"]),
    },
    breaker: normalizeBreaker(raw, service),
    heal: normalizeHeal(id, service, raw, file),
    flapping: normalizeFlapping(raw, service),
    dependsOn: service.dependsOn ?? [],
    tags: service.tags ?? [],
    source: source(file, pointer),
  });
}

function normalizeBreaker(raw: RawServicesFile, service: RawService): BreakerSettings {
  const merged = { ...raw.defaults?.breaker, ...service.breaker };
  const backoff = { ...raw.defaults?.breaker?.backoff, ...service.breaker?.backoff };
  const d = DEFAULTS.breaker;
  const openForMs = duration(merged.openFor, d.openForMs);
  const successThreshold = merged.successThreshold ?? d.successThreshold;
  return {
    mode: merged.mode ?? d.mode,
    failureThreshold: merged.failureThreshold ?? d.failureThreshold,
    successThreshold,
    openForMs,
    window: merged.window ?? d.window,
    minSamples: merged.minSamples ?? d.minSamples,
    failureRate: merged.failureRate ?? d.failureRate,
    backoffFactor: backoff.factor ?? d.backoffFactor,
    maxOpenForMs: Math.max(openForMs, duration(backoff.max, d.maxOpenForMs)),
    // HALF_OPEN ends by checks, never by time (breaker.halfOpenTimeout is deprecated and ignored).
    halfOpenTimeoutMs: Number.POSITIVE_INFINITY,
  };
}

function normalizeFlapping(raw: RawServicesFile, service: RawService): ServiceConfig["flapping"] {
  const merged = { ...raw.defaults?.flapping, ...service.flapping };
  return {
    outages: merged.outages ?? DEFAULTS.flapping.outages,
    withinMs: duration(merged.within, DEFAULTS.flapping.withinMs),
  };
}

function normalizeHeal(id: string, service: RawService, raw: RawServicesFile, file: string): HealSettings {
  const heal = service.heal ?? {};
  const defaults = raw.defaults?.heal;
  const d = DEFAULTS.heal;
  const limits = {
    after: heal.after ?? defaults?.after ?? d.after,
    cooldownMs: duration(heal.cooldown ?? defaults?.cooldown, d.cooldownMs),
    budget: {
      max: heal.budget?.max ?? defaults?.budget?.max ?? d.budgetMax,
      perMs: duration(heal.budget?.per ?? defaults?.budget?.per, d.budgetPerMs),
    },
    timeoutMs: duration(heal.timeout ?? defaults?.timeout, d.timeoutMs),
  };
  const recipeId = heal.recipe;
  if (recipeId !== undefined) {
    const recipes = raw.recipes ?? {};
    const recipe: RawRecipe = Object.hasOwn(recipes, recipeId)
      ? (recipes[recipeId] as RawRecipe)
      : internal(`service ${id} uses the unknown recipe ${recipeId}`);
    const args = recipeArgs(recipe, heal.with ?? {});
    const params: Lookup = (ref) =>
      ref.kind === "expr" && ref.path[0] === "params" ? readPath(args, ref.path.slice(1)) : undefined;
    const steps = recipe.steps.map((step, i) =>
      normalizeStep(step, params, source(file, ["recipes", recipeId, "steps", i])),
    );
    return { ...limits, steps, recipe: recipeId };
  }
  const none: Lookup = () => undefined;
  const steps = (heal.steps ?? []).map((step, i) =>
    normalizeStep(step, none, source(file, ["services", id, "heal", "steps", i])),
  );
  return { ...limits, steps };
}

/** Recipe param defaults overlaid with the service's heal.with values. */
function recipeArgs(recipe: RawRecipe, given: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const defaults = Object.entries(recipe.params ?? {})
    .filter(([, param]) => param.default !== undefined)
    .map(([name, param]) => [name, param.default] as const);
  // fromEntries defines own data properties: a param named __proto__ stays plain data.
  return Object.fromEntries([...defaults, ...Object.entries(given)]);
}

function normalizeStep(step: RawStep, params: Lookup, src: SourceRef): StepSpec {
  return omitUndefined({
    name: step.name === undefined ? step.action : String(renderString(step.name, params)),
    action: step.action,
    with: renderDeep(step.with ?? {}, params) as Record<string, unknown>,
    when: step.when === undefined ? undefined : (renderDeep(step.when, params) as JsonLogic),
    timeoutMs: step.timeout === undefined ? undefined : duration(step.timeout, 0),
    continueOnError: step.continueOnError ?? false,
    source: src,
  });
}

function normalizeAlerts(raw: RawAlertsFile | undefined, file: string): AlertsConfig {
  const channels = Object.entries(raw?.channels ?? {}).map(([id, c]) => ({
    id,
    type: c.type,
    params: c.with ?? {},
    source: source(file, ["channels", id]),
  }));
  const levels = Object.entries(raw?.levels ?? {}).map(([id, level], rank) => ({
    id,
    threshold: level.threshold ?? DEFAULTS.level.threshold,
    cooldownMs: duration(level.cooldown, DEFAULTS.level.cooldownMs),
    resolveAfter: level.resolveAfter ?? DEFAULTS.level.resolveAfter,
    channels: level.channels,
    rank,
  }));
  return {
    channels: Object.fromEntries(channels.map((c) => [c.id, c])),
    levels: Object.fromEntries(levels.map((l) => [l.id, l])),
    rules: Object.entries(raw?.rules ?? {}).map(([id, rule]) =>
      omitUndefined({
        id,
        level: rule.level,
        when: rule.when,
        threshold: rule.threshold,
        cooldownMs: rule.cooldown === undefined ? undefined : duration(rule.cooldown, 0),
        services: rule.services ?? [],
        message: rule.message,
        resolvedMessage: rule.resolvedMessage,
        sendResolved: rule.sendResolved ?? true,
        source: source(file, ["rules", id]),
      }),
    ),
    silences: (raw?.silences ?? []).map((s, i) => normalizeSilence(s, source(file, ["silences", i]))),
  };
}

const DAYS: Readonly<Record<string, number>> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

function normalizeSilence(raw: RawSilence, src: SourceRef): Silence {
  return omitUndefined({
    id: raw.id,
    services: raw.services ?? [],
    levels: raw.levels ?? [],
    startsAt: raw.start === undefined ? undefined : epochMs(raw.start),
    endsAt: raw.end === undefined ? undefined : epochMs(raw.end),
    weekly:
      raw.weekly === undefined
        ? undefined
        : {
            days: [...new Set(raw.weekly.days.map((day) => DAYS[day] ?? internal(`bad day ${day}`)))].sort(
              (a, b) => a - b,
            ),
            fromMinute: minuteOfDay(raw.weekly.from),
            toMinute: minuteOfDay(raw.weekly.to),
          },
    pauseHealing: raw.pauseHealing ?? false,
    comment: raw.comment,
    source: src,
  });
}

// ---- small helpers ----

function duration(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  return parseDuration(text) ?? internal(`bad duration ${text}`);
}

function epochMs(text: string): number {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? internal(`bad date-time ${text}`) : ms;
}

function minuteOfDay(text: string): number {
  const match = /^(\d\d):(\d\d)$/.exec(text);
  if (match === null) return internal(`bad time of day ${text}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

function internal(message: string): never {
  throw new UpkeepError("E_INTERNAL", `normalize: ${message} (rules should have been validated first)`);
}

function source(file: string, segments: readonly (string | number)[]): SourceRef {
  const pointer = segments.map((s) => `/${String(s).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
  return { file, pointer };
}

function readPath(root: unknown, keys: readonly string[]): unknown {
  let value = root;
  for (const key of keys) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function isLocalPath(text: string): boolean {
  return text.startsWith(".") || text.startsWith("~") || path.isAbsolute(text);
}

function resolvePath(text: string, base: string): string {
  const home = text === "~" || text.startsWith("~/") ? path.join(homedir(), text.slice(1)) : text;
  return path.resolve(base, home);
}

/** Drops keys whose value is undefined, so optional fields are absent rather than present-but-undefined. */
function omitUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
  if (value !== null && typeof value === "object" && !seen.has(value)) {
    seen.add(value);
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item, seen);
  }
  return value;
}
