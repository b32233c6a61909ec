/**
 * One pack's rendered files -> its contribution under a namespace: `api` becomes `web/api`, and the
 * references inside the pack (heal.recipe, dependsOn, an alert rule's services) follow. What a pack may
 * contribute is limited to data: recipes and services (services.yaml) and alert rules (alerts.yaml);
 * runtime settings, plugins, defaults, channels and levels stay the consumer's.
 */
import type { Finding } from "../config/diagnostics.js";
import type { YamlFile } from "../config/load.js";

type Rec = Record<string, unknown>;

export const PACK_KEYS = {
  services: ["version", "recipes", "services"],
  alerts: ["version", "rules"],
} as const;

export interface PackFile {
  readonly yaml: YamlFile;
  /** The document with pack params rendered. */
  readonly value: unknown;
}

/** Where a merged entry came from: `/<kind's map>/<ns/id>` maps to `prefix` in `yaml`. */
export interface Origin {
  readonly kind: "services" | "alerts";
  readonly map: "recipes" | "services" | "rules";
  readonly id: string;
  readonly yaml: YamlFile;
  readonly prefix: readonly string[];
}

export interface Contribution {
  readonly ns: string;
  readonly recipes: Rec;
  readonly services: Rec;
  readonly rules: Rec;
  readonly origins: Origin[];
  readonly findings: { yaml: YamlFile; finding: Finding }[];
}

export function isRec(value: unknown): value is Rec {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function namespacePack(ns: string, services?: PackFile, alerts?: PackFile): Contribution {
  const out: Contribution = { ns, recipes: {}, services: {}, rules: {}, origins: [], findings: [] };
  const doc = (file: PackFile | undefined, kind: "services" | "alerts"): Rec => {
    if (file === undefined) return {};
    if (!isRec(file.value)) {
      out.findings.push({
        yaml: file.yaml,
        finding: { pointer: "", code: "invalid-type", message: `a pack's ${kind}.yaml must be a mapping` },
      });
      return {};
    }
    for (const key of Object.keys(file.value)) {
      if ((PACK_KEYS[kind] as readonly string[]).includes(key)) continue;
      out.findings.push({
        yaml: file.yaml,
        finding: {
          pointer: `/${key}`,
          code: "pack-content",
          message: `a pack cannot set "${key}" in ${kind}.yaml (packs contribute ${kind === "services" ? "recipes and services" : "alert rules"} only)`,
          hint: "runtime settings, plugins, defaults, channels and levels belong to the rules that use the pack",
          atKey: true,
        },
      });
    }
    return file.value;
  };
  const s = doc(services, "services");
  const a = doc(alerts, "alerts");
  const recipes = isRec(s["recipes"]) ? s["recipes"] : {};
  const svcs = isRec(s["services"]) ? s["services"] : {};
  const rules = isRec(a["rules"]) ? a["rules"] : {};
  const local = (ids: Rec) => (id: unknown) =>
    typeof id === "string" && Object.hasOwn(ids, id) ? `${ns}/${id}` : id;
  const recipeRef = local(recipes);
  const serviceRef = local(svcs);

  for (const [id, recipe] of Object.entries(recipes)) {
    out.recipes[`${ns}/${id}`] = recipe;
    if (services !== undefined)
      add(out, "services", "recipes", `${ns}/${id}`, services.yaml, ["recipes", id]);
  }
  for (const [id, service] of Object.entries(svcs)) {
    out.services[`${ns}/${id}`] = isRec(service) ? renameService(service, recipeRef, serviceRef) : service;
    if (services !== undefined)
      add(out, "services", "services", `${ns}/${id}`, services.yaml, ["services", id]);
  }
  const own = Object.keys(svcs).map((id) => `${ns}/${id}`);
  for (const [id, rule] of Object.entries(rules)) {
    let renamed = rule;
    if (isRec(rule)) {
      const listed = rule["services"];
      // A pack's rule watches the pack's own services unless it names some; a pack of alert rules only
      // (no services) applies to every service.
      renamed = Array.isArray(listed)
        ? { ...rule, services: listed.map(serviceRef) }
        : own.length > 0
          ? { ...rule, services: own }
          : rule;
    }
    out.rules[`${ns}/${id}`] = renamed;
    if (alerts !== undefined) add(out, "alerts", "rules", `${ns}/${id}`, alerts.yaml, ["rules", id]);
  }
  return out;
}

function renameService(
  service: Rec,
  recipeRef: (id: unknown) => unknown,
  serviceRef: (id: unknown) => unknown,
): Rec {
  const copy: Rec = { ...service };
  const heal = service["heal"];
  if (isRec(heal) && heal["recipe"] !== undefined)
    copy["heal"] = { ...heal, recipe: recipeRef(heal["recipe"]) };
  const deps = service["dependsOn"];
  if (Array.isArray(deps)) copy["dependsOn"] = deps.map(serviceRef);
  return copy;
}

function add(
  out: Contribution,
  kind: Origin["kind"],
  map: Origin["map"],
  id: string,
  yaml: YamlFile,
  prefix: string[],
): void {
  out.origins.push({ kind, map, id, yaml, prefix });
}
