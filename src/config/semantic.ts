/**
 * Semantic checks of the raw documents: what the schema cannot know. Names of handlers, recipes,
 * levels, channels and services must exist; dependsOn must not loop; recipe params must line up;
 * templates, env variables and json-logic must make sense where they are written.
 *
 * Runs on documents that may also have schema errors, so every read is defensive: a check that meets
 * an unexpected shape says nothing (the schema already said it).
 */
import type { HandlerKind, JsonSchema } from "../actions/types.js";
import { STEP_FACTS } from "./fact-paths.js";
import { type Finding, toPointer } from "./diagnostics.js";
import { checkLogic } from "./logic.js";
import { pluginParamFindings, substitutedFindings } from "./semantic-params.js";
import { anyStringIncludes, checkTemplates, type EnvCheck, SERVICE_FIELDS } from "./semantic-templates.js";
import type { Lookup } from "./template.js";
import { findCycles } from "./semantic-graph.js";
import { checkHealPolicy } from "./semantic-heal-policy.js";
import { checkDurations, isRec, list, type Path, rec, str, unknownName } from "./semantic-util.js";

export { checkAlerts } from "./semantic-alerts.js";
import { checkRecipeUse, type RecipeInfo, recipeInfo } from "./semantic-recipes.js";
import { checkLaunchdThrottle } from "./semantic-schedule.js";
import { checkPatterns } from "./semantic-patterns.js";

export interface HandlerCatalog {
  /** Every handler name of a kind (built-ins and plugins). */
  names(kind: HandlerKind): readonly string[];
  /** The schema of a handler without a built-in schema file (a plugin), to check its parameters. */
  pluginSchema(kind: HandlerKind, name: string): JsonSchema | undefined;
}

export interface SemanticOptions extends EnvCheck {
  readonly handlers: HandlerCatalog;
}

/** Service ids of a services document (for alerts.yaml references); undefined when unreadable. */
export function serviceIdsOf(doc: unknown): string[] | undefined {
  return isRec(doc) && isRec(doc["services"]) ? Object.keys(doc["services"]) : undefined;
}

export function checkServices(doc: unknown, given: SemanticOptions): Finding[] {
  const out: Finding[] = [];
  if (!isRec(doc)) return out;
  const options = { ...given, handlers: memoized(given.handlers) };
  const h = options.handlers;
  const stepNames = h.names("step");
  const recipes = rec(doc["recipes"]);
  const services = rec(doc["services"]);

  const runtime = rec(doc["runtime"]);
  for (const key of ["stateDir", "logFile"]) {
    checkTemplates(
      runtime[key],
      ["runtime", key],
      { roots: [], env: true, where: "in runtime paths" },
      options,
      out,
    );
  }
  // The heartbeat URL is read from the environment like a channel's: an unset variable is reported here.
  const heartbeat = rec(runtime["heartbeat"]);
  for (const key of ["url", "failUrl"]) {
    const scope = { roots: [], env: true, where: "in runtime.heartbeat" };
    checkTemplates(heartbeat[key], ["runtime", "heartbeat", key], scope, options, out);
  }

  for (const [id, recipe] of Object.entries(recipes)) {
    const params = Object.keys(rec(rec(recipe)["params"]));
    const steps = list(rec(recipe)["steps"]);
    const scope = {
      roots: ["params", "service"],
      params,
      serviceFields: SERVICE_FIELDS,
      env: true,
      where: "in recipe steps",
    };
    steps.forEach((step, i) => checkStep(step, ["recipes", id, "steps", i], scope, stepNames, options, out));
    missingVerify(steps, ["recipes", id, "steps"], `recipe "${id}"`, out);
  }

  const ids = Object.keys(services);
  const infos = new Map<string, RecipeInfo>();
  const stepScope = {
    roots: ["service"],
    serviceFields: SERVICE_FIELDS,
    env: true,
    where: "in service settings",
  };
  for (const [id, raw] of Object.entries(services)) {
    const service = rec(raw);
    checkProbe(service["probe"], ["services", id, "probe"], options, out);
    const heal = rec(service["heal"]);
    const recipeId = str(heal["recipe"]);
    if (recipeId !== undefined) {
      const info = Object.hasOwn(recipes, recipeId)
        ? recipeInfo(recipeId, recipes[recipeId], infos, options.handlers)
        : undefined;
      if (info !== undefined) checkRecipeUse(id, heal, info, out);
      else
        unknownName(
          out,
          ["services", id, "heal", "recipe"],
          "unknown-recipe",
          "recipe",
          recipeId,
          Object.keys(recipes),
        );
      checkTemplates(heal["with"], ["services", id, "heal", "with"], stepScope, options, out);
    }
    const steps = list(heal["steps"]);
    steps.forEach((step, i) =>
      checkStep(step, ["services", id, "heal", "steps", i], stepScope, stepNames, options, out),
    );
    missingVerify(steps, ["services", id, "heal", "steps"], `service "${id}"`, out);
    list(service["dependsOn"]).forEach((dep, i) => {
      if (typeof dep === "string" && !Object.hasOwn(services, dep)) {
        unknownName(out, ["services", id, "dependsOn", i], "unknown-service", "service", dep, ids);
      }
    });
  }
  out.push(...findCycles(services));
  out.push(...checkHealPolicy(doc));
  out.push(...checkLaunchdThrottle(doc));
  out.push(...checkPatterns(doc));
  checkDurations(doc, out);
  return out;
}

/**
 * The catalog answers the same few questions once per service (5,000 sorted name lists cost 25 ms);
 * handlers do not change during one check, so each answer is asked for once.
 */
function memoized(catalog: HandlerCatalog): HandlerCatalog {
  const names = new Map<HandlerKind, readonly string[]>();
  const schemas = new Map<string, JsonSchema | undefined>();
  return {
    names(kind) {
      let known = names.get(kind);
      if (known === undefined) names.set(kind, (known = catalog.names(kind)));
      return known;
    },
    pluginSchema(kind, name) {
      const key = `${kind}\u0000${name}`;
      if (!schemas.has(key)) schemas.set(key, catalog.pluginSchema(kind, name));
      return schemas.get(key);
    },
  };
}

function checkProbe(probe: unknown, at: Path, options: SemanticOptions, out: Finding[]): void {
  if (!isRec(probe)) return;
  const type = str(probe["type"]);
  const scope = { roots: ["service"], serviceFields: SERVICE_FIELDS, env: true, where: "in probe settings" };
  checkTemplates(probe, at, scope, options, out);
  if (type === "http" && isRec(probe["expect"]) && "json" in probe["expect"]) {
    out.push(...checkLogic(probe["expect"]["json"], toPointer([...at, "expect", "json"])));
  }
  if (type === undefined) return;
  const names = options.handlers.names("probe");
  if (!names.includes(type)) {
    unknownName(out, [...at, "type"], "unknown-probe", "probe type", type, names);
    return;
  }
  const { type: _type, timeout: _timeout, ...params } = probe;
  const plugin = options.handlers.pluginSchema("probe", type);
  if (plugin !== undefined) {
    out.push(...pluginParamFindings(plugin, params, at));
    return;
  }
  // A set env variable is known now: check the value it gives (without printing it).
  if (!anyStringIncludes(params, "${env:")) return;
  const lookup: Lookup = (ref) => (ref.kind === "env" ? options.env[ref.name] : undefined);
  out.push(
    ...substitutedFindings("probe", type, params, lookup, (ref, segments) =>
      ref.kind === "env"
        ? { pointer: toPointer([...at, ...segments]), note: `from \${env:${ref.name}}` }
        : undefined,
    ),
  );
}

function checkStep(
  raw: unknown,
  at: Path,
  scope: Parameters<typeof checkTemplates>[2],
  stepNames: readonly string[],
  options: SemanticOptions,
  out: Finding[],
): void {
  if (!isRec(raw)) return;
  checkTemplates({ name: raw["name"], with: raw["with"], when: raw["when"] }, at, scope, options, out);
  if ("when" in raw) out.push(...checkLogic(raw["when"], toPointer([...at, "when"]), { facts: STEP_FACTS }));
  const action = str(raw["action"]);
  if (action === undefined) return;
  if (!stepNames.includes(action)) {
    unknownName(out, [...at, "action"], "unknown-action", "action", action, stepNames);
    return;
  }
  const plugin = options.handlers.pluginSchema("step", action);
  const params = raw["with"] ?? {};
  if (plugin !== undefined && !JSON.stringify(params).includes("${{")) {
    out.push(...pluginParamFindings(plugin, params, [...at, "with"]));
  }
}

function missingVerify(steps: unknown[], at: Path, owner: string, out: Finding[]): void {
  if (steps.length === 0) return;
  const last = rec(steps[steps.length - 1]);
  const action = str(last["action"]);
  if (action === undefined || action === "verify") return;
  out.push({
    pointer: toPointer([...at, steps.length - 1, "action"]),
    code: "missing-verify",
    severity: "warning",
    message: `the heal steps of ${owner} end with "${action}", not "verify": a heal is never confirmed`,
    hint: "add `- action: verify` as the last step",
  });
}
