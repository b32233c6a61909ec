/**
 * The merge, documented in the README: packs in listed order, then `overrides`, then the local rules.
 * Maps deep-merge, lists replace; `enabled: false` disables a pack's service (or drops a pack's alert
 * rule); an override of an id no pack provides is an error with a did-you-mean; a local rule with a pack
 * rule's id is an error (the consumer must say so with `overrides`). Pure: documents in, documents out,
 * plus a source map that sends every merged pointer back to the file and pointer it came from.
 */
import { closest, didYouMean, type Finding, parsePointer, toPointer } from "../config/diagnostics.js";
import type { YamlFile } from "../config/load.js";
import { FORBIDDEN_KEYS } from "../config/load.js";
import { type Contribution, isRec, type Origin } from "./namespace.js";

type Rec = Record<string, unknown>;

export interface MergeInput {
  readonly services: Rec;
  readonly servicesYaml: YamlFile;
  readonly alerts?: Rec;
  readonly alertsYaml?: YamlFile;
  readonly contributions: readonly Contribution[];
}

export interface Located {
  readonly yaml: YamlFile;
  readonly pointer: string;
}

export interface MergeResult {
  readonly services: Rec;
  readonly alerts?: Rec;
  readonly locate: (kind: "services" | "alerts", pointer: string) => Located;
  readonly findings: { yaml: YamlFile; finding: Finding }[];
}

export function mergePacks(input: MergeInput): MergeResult {
  const findings: MergeResult["findings"] = [];
  const origins = new Map<string, Origin>();
  const recipes: Rec = {};
  const services: Rec = {};
  const rules: Rec = {};
  for (const c of input.contributions) {
    Object.assign(recipes, c.recipes);
    Object.assign(services, c.services);
    Object.assign(rules, c.rules);
    for (const o of c.origins) origins.set(`${o.map}\0${o.id}`, o);
  }

  const overrides = isRec(input.services["overrides"]) ? input.services["overrides"] : {};
  for (const [id, patch] of Object.entries(overrides)) {
    if (!isRec(patch)) continue; // the schema reports it
    if (Object.hasOwn(services, id)) {
      services[id] = deepMerge(services[id], patch);
    } else if (Object.hasOwn(rules, id)) {
      const { enabled, ...rest } = patch;
      if (enabled === false) delete rules[id];
      else rules[id] = deepMerge(rules[id], rest);
    } else {
      const known = [...Object.keys(services), ...Object.keys(rules)];
      const suggestion = didYouMean(closest(id, known));
      findings.push({
        yaml: input.servicesYaml,
        finding: {
          pointer: toPointer(["overrides", id]),
          code: "unknown-override",
          message: `no pack provides a service or alert rule "${id}"`,
          hint:
            suggestion ??
            (known.length > 0
              ? `overrides apply to pack rules: ${known.slice(0, 8).join(", ")}`
              : "overrides apply to rules that packs provide (ids like ns/id)"),
          atKey: true,
        },
      });
    }
  }

  const local = (map: Rec, own: unknown, yaml: YamlFile, at: string): void => {
    if (!isRec(own)) return;
    for (const [id, value] of Object.entries(own)) {
      if (Object.hasOwn(map, id)) {
        findings.push({
          yaml,
          finding: {
            pointer: toPointer([at, id]),
            code: "pack-shadow",
            message: `"${id}" is already provided by a pack: a local rule cannot replace it silently`,
            hint: `to change the pack's "${id}", put the changed keys under overrides: { "${id}": {...} } in services.yaml (enabled: false turns it off)`,
            atKey: true,
          },
        });
        continue;
      }
      map[id] = value;
    }
  };
  local(recipes, input.services["recipes"], input.servicesYaml, "recipes");
  local(services, input.services["services"], input.servicesYaml, "services");
  if (input.alerts !== undefined && input.alertsYaml !== undefined)
    local(rules, input.alerts["rules"], input.alertsYaml, "rules");

  const mergedServices: Rec = { ...input.services, recipes, services };
  // Keep what the consumer wrote when it is not a map, so the schema reports it where it is.
  if (input.services["recipes"] !== undefined && !isRec(input.services["recipes"]))
    mergedServices["recipes"] = input.services["recipes"];
  if (input.services["services"] !== undefined && !isRec(input.services["services"]))
    mergedServices["services"] = input.services["services"];
  if (input.services["recipes"] === undefined && Object.keys(recipes).length === 0)
    delete mergedServices["recipes"];
  let mergedAlerts: Rec | undefined;
  if (input.alerts !== undefined || Object.keys(rules).length > 0) {
    mergedAlerts = { ...(input.alerts ?? { version: 1 }) };
    if (input.alerts?.["rules"] === undefined || isRec(input.alerts["rules"])) {
      if (input.alerts?.["rules"] !== undefined || Object.keys(rules).length > 0)
        mergedAlerts["rules"] = rules;
    }
  }

  const locate = (kind: "services" | "alerts", pointer: string): Located => {
    const own = kind === "services" ? input.servicesYaml : (input.alertsYaml ?? input.servicesYaml);
    const segments = parsePointer(pointer);
    const [map, id, ...rest] = segments;
    const origin = map === undefined || id === undefined ? undefined : origins.get(`${map}\0${id}`);
    if (origin === undefined || origin.kind !== kind) {
      return { yaml: own, pointer: kind === "alerts" && input.alertsYaml === undefined ? "" : pointer };
    }
    if (rest.length > 0 && id !== undefined && hasPath(overrides[id], rest)) {
      return { yaml: input.servicesYaml, pointer: toPointer(["overrides", id, ...rest]) };
    }
    return { yaml: origin.yaml, pointer: toPointer([...origin.prefix, ...rest]) };
  };
  return {
    services: mergedServices,
    ...(mergedAlerts === undefined ? {} : { alerts: mergedAlerts }),
    locate,
    findings,
  };
}

/** Maps merge key by key, anything else (lists included) is replaced by the patch. */
export function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isRec(base) || !isRec(patch)) return structuredClone(patch);
  const out: Rec = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (FORBIDDEN_KEYS.has(key)) continue;
    out[key] = Object.hasOwn(base, key) ? deepMerge(base[key], value) : structuredClone(value);
  }
  return out;
}

function hasPath(root: unknown, keys: readonly string[]): boolean {
  let value = root;
  for (const key of keys) {
    if (!isRec(value) || !Object.hasOwn(value, key)) return false;
    value = value[key];
  }
  return true;
}
