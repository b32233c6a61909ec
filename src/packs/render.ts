/**
 * `${{ pack.params.NAME }}` in pack files, rendered with the consumer's (validated) `with:` values before
 * anything else looks at the pack. Other templates (`${{ params.x }}` of recipes, `${{ service.title }}`,
 * `${env:NAME}`) stay as written for the usual checks and run-time rendering.
 */
import { closest, didYouMean, type Finding, toPointer } from "../config/diagnostics.js";
import { findRefs, renderDeep, walkStrings } from "../config/template.js";

export interface RenderResult {
  readonly value: unknown;
  /** Findings in the pack file (unknown params, other `pack.*` roots). */
  readonly findings: Finding[];
  /** Declared params that were read but have no value (not passed, no default). */
  readonly unset: string[];
}

export function renderPackParams(
  doc: unknown,
  values: Readonly<Record<string, unknown>>,
  declared: readonly string[],
): RenderResult {
  const findings: Finding[] = [];
  const unset = new Set<string>();
  walkStrings(doc, (text, at) => {
    if (!text.includes("${{")) return;
    for (const ref of findRefs(text)) {
      if (ref.kind !== "expr" || ref.path[0] !== "pack") continue;
      const pointer = toPointer(at);
      const name = ref.path[2];
      if (ref.path[1] !== "params" || name === undefined) {
        findings.push({
          pointer,
          code: "unknown-template-root",
          message: `"${ref.path.join(".")}" is not available in a pack: only pack.params.NAME is`,
        });
      } else if (!declared.includes(name)) {
        findings.push({
          pointer,
          code: "unknown-param",
          message: `pack.params.${name} is not declared in pack.yaml params.properties`,
          ...hint(closest(name, declared)),
        });
      } else if (readPath(values, ref.path.slice(2)) === undefined) {
        unset.add(name);
      }
    }
  });
  const value = renderDeep(doc, (ref) =>
    ref.kind === "expr" && ref.path[0] === "pack" && ref.path[1] === "params"
      ? readPath(values, ref.path.slice(2))
      : undefined,
  );
  return { value, findings, unset: [...unset] };
}

function hint(candidate: string | undefined): { hint?: string } {
  const text = didYouMean(candidate);
  return text === undefined ? {} : { hint: text };
}

function readPath(root: unknown, keys: readonly string[]): unknown {
  let value = root;
  for (const key of keys) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
