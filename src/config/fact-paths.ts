/**
 * The shape of the facts alert conditions (`var: heal.outcome`) and alert messages
 * (`${{ service.title }}`) read, so a misspelt nested field is caught at load time: json-logic and the
 * template renderer both turn an unknown path into null or the raw text, silently.
 */
import type { ServiceFacts } from "../core/facts.js";

/** `value`: a scalar (no fields); `list`: an array (an index or `length`); `open`: anything (probe facts). */
export type FactShape = "value" | "list" | "open" | { readonly [field: string]: FactShape };
export type FactFields = { readonly [field: string]: FactShape };

// `satisfies` makes a new field in ServiceFacts a compile error here until it is listed.
const SERVICE = { id: "value", title: "value", tags: "list" } as const satisfies Record<
  keyof ServiceFacts["service"],
  FactShape
>;
const HEAL = {
  outcome: "value",
  reason: "value",
  refusedBy: "list",
  forced: "value",
  nextAllowedAt: "value",
  budgetLeft: "value",
  failedInRow: "value",
  failedSince: "value",
} as const satisfies Record<keyof ServiceFacts["heal"], FactShape>;

/** The facts of one service after a tick (alert rules). */
export const FACTS = {
  service: SERVICE,
  status: "value",
  detail: "value",
  latencyMs: "value",
  consecutiveFailures: "value",
  consecutiveSuccesses: "value",
  since: "value",
  breaker: "value",
  gaveUp: "value",
  flapping: "value",
  outages: "value",
  heal: HEAL,
  blockedBy: "list",
} as const satisfies Record<keyof ServiceFacts, FactShape>;

/** A heal step's `when` also reads the probe's own facts, whose fields depend on the probe. */
export const STEP_FACTS: FactFields = { ...FACTS, probe: "open" };

export interface PathProblem {
  /** The path up to and including the segment that is wrong ("heal.outcom"). */
  readonly path: string;
  /** The same path with the closest field instead, when one is close. */
  readonly suggestion?: string;
  /** What fits at that place, for the message. */
  readonly expected: string;
}

/**
 * Undefined when `segments` names something the facts have; else where it goes wrong.
 * @param suggestField the did-you-mean helper (passed in so this module stays free of it)
 */
export function checkFactPath(
  fields: FactFields,
  segments: readonly string[],
  suggestField: (input: string, candidates: readonly string[]) => string | undefined,
): PathProblem | undefined {
  let shape: FactShape = fields;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const before = segments.slice(0, i).join(".");
    const path = segments.slice(0, i + 1).join(".");
    if (shape === "open") return undefined;
    if (shape === "value") {
      return { path, expected: `"${before}" is a single value with no fields` };
    }
    if (shape === "list") {
      if (/^\d+$/.test(segment) || segment === "length") {
        shape = "value";
        continue;
      }
      return { path, expected: `"${before}" is a list: read an item by its index (${before}.0)` };
    }
    if (!Object.hasOwn(shape, segment)) {
      const names = Object.keys(shape);
      const guess = suggestField(segment, names);
      return {
        path,
        ...(guess === undefined ? {} : { suggestion: [...segments.slice(0, i), guess].join(".") }),
        expected:
          i === 0
            ? `facts: ${names.join(", ")}`
            : `"${before}" has ${names.map((n) => `${before}.${n}`).join(", ")}`,
      };
    }
    shape = shape[segment] as FactShape;
  }
  return undefined;
}
