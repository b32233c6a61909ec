/**
 * Trust. Packs are data, but their steps can run commands: every step handler with local side effects
 * (exec, launchd.*, systemd.*) and the exec probe is a capability. The pack must declare each one it
 * uses in pack.yaml `capabilities`, and the consumer must grant each declared one with `trust:` on the
 * pack entry. An update that declares a new capability therefore fails until the consumer grants it.
 */
import { toPointer, type Finding } from "../config/diagnostics.js";
import { isRec } from "./namespace.js";

/** Whether a step handler has local side effects (from the registry; injected for tests). */
export type IsLocalStep = (action: string) => boolean;

export interface Use {
  readonly capability: string;
  readonly pointer: string;
}

/** Every capability a pack's (rendered) services.yaml uses, with where. */
export function capabilitiesUsed(doc: unknown, isLocal: IsLocalStep): Use[] {
  const uses: Use[] = [];
  if (!isRec(doc)) return uses;
  const steps = (list: unknown, at: (string | number)[]): void => {
    if (!Array.isArray(list)) return;
    list.forEach((step: unknown, i) => {
      const action = isRec(step) ? step["action"] : undefined;
      if (typeof action === "string" && isLocal(action))
        uses.push({ capability: action, pointer: toPointer([...at, i, "action"]) });
    });
  };
  const recipes = isRec(doc["recipes"]) ? doc["recipes"] : {};
  for (const [id, recipe] of Object.entries(recipes))
    if (isRec(recipe)) steps(recipe["steps"], ["recipes", id, "steps"]);
  const services = isRec(doc["services"]) ? doc["services"] : {};
  for (const [id, service] of Object.entries(services)) {
    if (!isRec(service)) continue;
    const probe = service["probe"];
    if (isRec(probe) && probe["type"] === "exec")
      uses.push({ capability: "exec", pointer: toPointer(["services", id, "probe", "type"]) });
    const heal = service["heal"];
    if (isRec(heal)) steps(heal["steps"], ["services", id, "heal", "steps"]);
  }
  return uses;
}

/** Findings in the pack file for capabilities used but not declared in pack.yaml. */
export function undeclared(uses: readonly Use[], declared: readonly string[], pack: string): Finding[] {
  return uses
    .filter((u) => !declared.includes(u.capability))
    .map((u) => ({
      pointer: u.pointer,
      code: "pack-capability" as const,
      message: `pack ${pack} runs "${u.capability}" (a handler with local side effects) without declaring it`,
      hint: `add ${u.capability} to capabilities: in the pack's pack.yaml`,
    }));
}

/** The consumer's finding when declared capabilities are not all granted; undefined when they are. */
export function ungranted(
  declared: readonly string[],
  granted: readonly string[],
  entry: { readonly index: number; readonly as: string; readonly use: string; readonly hasTrust: boolean },
): Finding | undefined {
  const missing = declared.filter((c) => !granted.includes(c));
  if (missing.length === 0) return undefined;
  const all = [...new Set([...granted, ...declared])];
  return {
    pointer: toPointer(entry.hasTrust ? ["packs", entry.index, "trust"] : ["packs", entry.index]),
    code: "pack-untrusted",
    message: `pack "${entry.as}" (${entry.use}) runs ${missing.join(", ")}, which you have not granted`,
    hint: `add trust: [${all.join(", ")}] to the pack entry (packs[${entry.index}], as: ${entry.as}) if you accept that it runs these`,
  };
}
