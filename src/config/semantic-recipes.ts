/**
 * A service using a recipe: every required param passed, no unknown args, and each passed value valid
 * where the recipe's steps put it. A recipe is analysed once; 5,000 services sharing it then cost a
 * look-up each, and identical argument values are validated once.
 */
import { closest, didYouMean, type Finding, toPointer } from "./diagnostics.js";
import { substitutedFindings } from "./semantic-params.js";
import type { HandlerCatalog } from "./semantic.js";
import { forEachString, paramsUsed } from "./semantic-templates.js";
import type { Lookup } from "./template.js";

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === "object" && !Array.isArray(v);

interface StepUse {
  readonly index: number;
  readonly action: string;
  readonly with: Rec;
  /** Params the step's `with` reads. */
  readonly params: readonly string[];
}

export interface RecipeInfo {
  readonly id: string;
  readonly declared: Rec;
  readonly names: readonly string[];
  /** Params any step reads. */
  readonly used: ReadonlySet<string>;
  /** Built-in steps whose parameters read params: checked again with each service's values. */
  readonly steps: readonly StepUse[];
  /** Findings per distinct argument values (pointers name the param, see `PARAM`). */
  readonly cache: Map<string, Finding[]>;
}

const PARAM = "\u0000param:";

export function recipeInfo(
  id: string,
  raw: unknown,
  infos: Map<string, RecipeInfo>,
  handlers: HandlerCatalog,
): RecipeInfo {
  const known = infos.get(id);
  if (known !== undefined) return known;
  const recipe = isRec(raw) ? raw : {};
  const declared = isRec(recipe["params"]) ? recipe["params"] : {};
  const used = new Set<string>();
  forEachString(recipe["steps"], (text) => paramsUsed(text).forEach((p) => used.add(p)));
  const steps: StepUse[] = [];
  (Array.isArray(recipe["steps"]) ? recipe["steps"] : []).forEach((step: unknown, index) => {
    if (!isRec(step) || typeof step["action"] !== "string" || !isRec(step["with"])) return;
    const params = new Set<string>();
    forEachString(step["with"], (text) => paramsUsed(text).forEach((p) => params.add(p)));
    const action = step["action"];
    const builtin =
      handlers.names("step").includes(action) && handlers.pluginSchema("step", action) === undefined;
    if (params.size > 0 && builtin) steps.push({ index, action, with: step["with"], params: [...params] });
  });
  const info = {
    id,
    declared,
    names: Object.keys(declared),
    used,
    steps,
    cache: new Map<string, Finding[]>(),
  };
  infos.set(id, info);
  return info;
}

export function checkRecipeUse(serviceId: string, heal: Rec, info: RecipeInfo, out: Finding[]): void {
  const args = isRec(heal["with"]) ? heal["with"] : {};
  const at = (...rest: string[]): string => toPointer(["services", serviceId, "heal", ...rest]);
  for (const arg of Object.keys(args)) {
    if (Object.hasOwn(info.declared, arg)) continue;
    const hint = didYouMean(closest(arg, info.names));
    out.push({
      pointer: at("with", arg),
      code: "unknown-arg",
      message: `recipe "${info.id}" has no parameter "${arg}"${info.names.length === 0 ? "" : ` (it has: ${info.names.join(", ")})`}`,
      ...(hint === undefined ? {} : { hint }),
      atKey: true,
    });
  }
  for (const [name, raw] of Object.entries(info.declared)) {
    const param = isRec(raw) ? raw : {};
    if (Object.hasOwn(args, name) || param["default"] !== undefined) continue;
    const required = param["required"] === true;
    if (!required && !info.used.has(name)) continue;
    out.push({
      pointer: at("recipe"),
      code: "missing-param",
      severity: required ? "error" : "warning",
      message: required
        ? `recipe "${info.id}" needs the parameter "${name}": pass it in heal.with`
        : `recipe "${info.id}" uses the parameter "${name}", which has no default and is not passed: the step would get the text "\${{ params.${name} }}"`,
      hint: `heal: { recipe: ${info.id}, with: { ${name}: ... } }`,
    });
  }
  const value = (name: string): unknown => {
    if (Object.hasOwn(args, name)) return args[name];
    const param = info.declared[name];
    return isRec(param) ? param["default"] : undefined;
  };
  const lookup: Lookup = (ref) =>
    ref.kind === "expr" && ref.path[0] === "params" && ref.path.length === 2
      ? value(ref.path[1] as string)
      : undefined;
  for (const step of info.steps) {
    const key = `${step.index}\u0000${JSON.stringify(step.params.map(value))}`;
    let found = info.cache.get(key);
    if (found === undefined) {
      found = substitutedFindings("step", step.action, step.with, lookup, (ref) =>
        ref.kind === "expr"
          ? {
              pointer: `${PARAM}${ref.path[1] ?? ""}`,
              note: `used by step ${step.index + 1} (${step.action}) of recipe "${info.id}"`,
            }
          : undefined,
      );
      info.cache.set(key, found);
    }
    for (const f of found) {
      const name = f.pointer.slice(PARAM.length);
      const pointer = Object.hasOwn(args, name)
        ? at("with", name)
        : toPointer(["recipes", info.id, "params", name, "default"]);
      out.push({ ...f, pointer });
    }
  }
}
