/**
 * The merged rule of one service as a list of effective settings, each with the origin of its value
 * (see sources.ts), plus its heal steps and the alert rules, levels and channels that apply to it.
 */
import { parsePointer } from "../config/diagnostics.js";
import type { Config, ServiceConfig } from "../config/model.js";
import { formatDuration } from "../duration.js";
import { locate, originOfRef, serviceSetting, type Origin, type RulesFiles } from "./sources.js";

export interface Setting {
  /** Dotted path as written in the rules, e.g. `heal.budget.max`. */
  readonly key: string;
  readonly value: unknown;
  readonly source: Origin;
}

export interface StepView {
  readonly index: number;
  readonly name: string;
  readonly action: string;
  readonly with: Readonly<Record<string, unknown>>;
  readonly continueOnError: boolean;
  readonly timeout?: string;
  readonly source: Origin;
}

export interface AlertView {
  readonly rule: string;
  readonly level: string;
  readonly source: Origin;
  readonly levelSettings: readonly Setting[];
  readonly channels: readonly { id: string; type: string; source: Origin }[];
}

export interface MergedRule {
  readonly settings: readonly Setting[];
  readonly steps: readonly StepView[];
  readonly alerts: readonly AlertView[];
}

const ms = (value: number): string => formatDuration(value);
const show = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

export function mergedRule(config: Config, service: ServiceConfig, files: RulesFiles): MergedRule {
  const settings: Setting[] = [];
  const add = (key: string, value: unknown, defaultsPath?: readonly string[], note?: string): void => {
    const path = key.split(".");
    settings.push({ key, value, source: serviceSetting(files, service, path, defaultsPath, note) });
  };
  add("title", service.title, undefined, "the service id");
  add("enabled", service.enabled);
  add("dependsOn", service.dependsOn);
  add("tags", service.tags);
  add("probe.type", service.probe.type);
  add("probe.timeout", ms(service.probe.timeoutMs), ["probe", "timeout"]);
  for (const [k, v] of Object.entries(service.probe.params)) add(`probe.${k}`, v);

  const b = service.breaker;
  add("breaker.mode", b.mode, ["breaker", "mode"]);
  add("breaker.failureThreshold", b.failureThreshold, ["breaker", "failureThreshold"]);
  add("breaker.successThreshold", b.successThreshold, ["breaker", "successThreshold"]);
  add("breaker.openFor", ms(b.openForMs), ["breaker", "openFor"]);
  if (b.mode === "rate") {
    add("breaker.window", b.window, ["breaker", "window"]);
    add("breaker.minSamples", b.minSamples, ["breaker", "minSamples"]);
    add("breaker.failureRate", b.failureRate, ["breaker", "failureRate"]);
  }
  add("breaker.backoff.factor", b.backoffFactor, ["breaker", "backoff", "factor"]);
  add("breaker.backoff.max", ms(b.maxOpenForMs), ["breaker", "backoff", "max"], "1d, or openFor when longer");
  // Deprecated and ignored: listed only where the rules still set it, so its line can be found and removed.
  const halfOpen = serviceSetting(
    files,
    service,
    ["breaker", "halfOpenTimeout"],
    ["breaker", "halfOpenTimeout"],
  );
  if (halfOpen.pointer?.endsWith("/breaker/halfOpenTimeout") === true)
    settings.push({ key: "breaker.halfOpenTimeout", value: "no effect (deprecated)", source: halfOpen });

  const h = service.heal;
  add("heal.after", h.after, ["heal", "after"]);
  add("heal.cooldown", ms(h.cooldownMs), ["heal", "cooldown"]);
  add("heal.budget.max", h.budget.max, ["heal", "budget", "max"]);
  add("heal.budget.per", ms(h.budget.perMs), ["heal", "budget", "per"]);
  add("heal.timeout", ms(h.timeoutMs), ["heal", "timeout"]);
  if (h.recipe !== undefined) {
    add("heal.recipe", h.recipe);
    settings.push(...recipeArgs(service, h.recipe, files));
  }
  add("flapping.outages", service.flapping.outages, ["flapping", "outages"]);
  add("flapping.within", ms(service.flapping.withinMs), ["flapping", "within"]);
  return { settings, steps: steps(service, files), alerts: alerts(config, service, files) };
}

/** heal.with values given by the service, or the recipe's parameter defaults. */
function recipeArgs(service: ServiceConfig, recipe: string, files: RulesFiles): Setting[] {
  // The recipe is where its steps are: services.yaml, or a pack's file under the pack-local id.
  const first = service.heal.steps[0]?.source;
  const at = first === undefined ? [] : parsePointer(first.pointer);
  const file = first !== undefined && at[0] === "recipes" ? first.file : files.servicesFile;
  const localId = at[0] === "recipes" && at[1] !== undefined ? at[1] : recipe;
  const doc = files.get(file)?.value as
    { recipes?: Record<string, { params?: Record<string, { default?: unknown }> }> } | undefined;
  const params = doc?.recipes?.[localId]?.params ?? {};
  const given = readWith(files, service);
  const names = [...new Set([...Object.keys(params), ...Object.keys(given)])];
  return names.flatMap((name) => {
    if (Object.hasOwn(given, name)) {
      const value = given[name];
      // Pack files are shown as written: a pack parameter's value is in the consumer's packs: entry.
      const note =
        typeof value === "string" && value.includes("${{ pack.params.")
          ? "set by the pack's with: in packs:"
          : undefined;
      const source = serviceSetting(files, service, ["heal", "with", name]);
      return [{ key: `heal.with.${name}`, value, source: note === undefined ? source : { ...source, note } }];
    }
    const param = params[name];
    if (param?.default === undefined) return [];
    const where = ["recipes", localId, "params", name, "default"];
    const source = locate(files, file, where, "recipe", recipe) ?? { kind: "recipe" as const, name: recipe };
    return [{ key: `heal.with.${name}`, value: param.default, source }];
  });
}

function readWith(files: RulesFiles, service: ServiceConfig): Record<string, unknown> {
  const read = (file: string, path: readonly string[]): Record<string, unknown> => {
    let node: unknown = files.get(file)?.value;
    for (const key of path) {
      if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return {};
      node = (node as Record<string, unknown>)[key];
    }
    return node !== null && typeof node === "object" ? (node as Record<string, unknown>) : {};
  };
  const own = read(service.source.file, [...parsePointer(service.source.pointer), "heal", "with"]);
  // A pack service's arguments may also be changed under overrides: in services.yaml.
  return { ...own, ...read(files.servicesFile, ["overrides", service.id, "heal", "with"]) };
}

function steps(service: ServiceConfig, files: RulesFiles): StepView[] {
  return service.heal.steps.map((step, index) => ({
    index,
    name: step.name,
    action: step.action,
    with: step.with,
    continueOnError: step.continueOnError,
    ...(step.timeoutMs === undefined ? {} : { timeout: ms(step.timeoutMs) }),
    source: originOfRef(files, step.source, "service", service.id),
  }));
}

function alerts(config: Config, service: ServiceConfig, files: RulesFiles): AlertView[] {
  const alertsFile = files.alertsFile;
  return config.alerts.rules
    .filter((rule) => rule.services.length === 0 || rule.services.includes(service.id))
    .map((rule) => {
      const level = config.alerts.levels[rule.level];
      const levelSetting = (key: "threshold" | "cooldown" | "resolveAfter", value: unknown): Setting => ({
        key: `levels.${rule.level}.${key}`,
        value,
        source: (alertsFile === undefined
          ? undefined
          : locate(files, alertsFile, ["levels", rule.level, key], "alerts")) ?? { kind: "default" },
      });
      // A rule's own threshold or cooldown replaces its level's, for this rule only.
      const effective = (key: "threshold" | "cooldown", own: unknown, ofLevel: unknown): Setting => {
        if (own === undefined) return levelSetting(key, ofLevel);
        const at = { file: rule.source.file, pointer: `${rule.source.pointer}/${key}` };
        const source = originOfRef(files, at, "alerts", rule.id);
        return {
          key: `rules.${rule.id}.${key}`,
          value: own,
          source: { ...source, note: `instead of levels.${rule.level}.${key} ${show(ofLevel)}` },
        };
      };
      const cooldown = rule.cooldownMs === undefined ? undefined : ms(rule.cooldownMs);
      return {
        rule: rule.id,
        level: rule.level,
        source: originOfRef(files, rule.source, "alerts", rule.id),
        levelSettings:
          level === undefined
            ? []
            : [
                effective("threshold", rule.threshold, level.threshold),
                effective("cooldown", cooldown, ms(level.cooldownMs)),
                levelSetting("resolveAfter", level.resolveAfter),
              ],
        channels: (level?.channels ?? []).map((id) => {
          const channel = config.alerts.channels[id];
          return {
            id,
            type: channel?.type ?? "?",
            source:
              channel === undefined
                ? { kind: "default" as const }
                : originOfRef(files, channel.source, "alerts"),
          };
        }),
      };
    });
}
