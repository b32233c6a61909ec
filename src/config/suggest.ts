import { createRequire } from "node:module";

/**
 * The one "did you mean" helper (rules keys and names, CLI commands, subcommands and flags, rule tests).
 * Two copies with different rules used to drift: `upkeep rnu` got no hint while `lable` in the rules did.
 */

type Distance = (a: string, b: string) => number;
let levenshtein: Distance | undefined;

/**
 * The closest candidate, or undefined when nothing is close. In order of preference:
 * - an abbreviation (`cmd` for `command`, `desc` for `description`): the letters in order, same first
 *   letter, at least 3 of them; otherwise `cmd` would get `cwd`, one edit away but not what was meant;
 * - the smallest edit distance, up to a third of the length (1..3);
 * - swapped neighbours (`rnu` -> `run`, `lable` -> `label`): two Levenshtein edits, the most common typo.
 * fastest-levenshtein is loaded on the first hint only: valid rules (every `upkeep run`) never need it.
 */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  levenshtein ??= (createRequire(import.meta.url)("fastest-levenshtein") as { distance: Distance }).distance;
  const needle = input.toLowerCase();
  const limit = Math.max(1, Math.min(3, Math.floor(input.length / 3)));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  let swapped: string | undefined;
  let abbreviated: string | undefined;
  for (const candidate of candidates) {
    if (candidate === input) continue;
    const lower = candidate.toLowerCase();
    const d = levenshtein(needle, lower);
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = d;
    }
    if (swapped === undefined && isTransposition(needle, lower)) swapped = candidate;
    if (isAbbreviation(needle, lower) && (abbreviated === undefined || candidate.length < abbreviated.length))
      abbreviated = candidate;
  }
  return abbreviated ?? (bestDistance <= limit ? best : swapped);
}

/** Kept for the callers that say "closest": the same function. */
export const closest = suggest;

export function didYouMean(candidate: string | undefined): string | undefined {
  return candidate === undefined ? undefined : `did you mean "${candidate}"?`;
}

function isTransposition(a: string, b: string): boolean {
  if (a.length !== b.length || a === b) return false;
  let i = 0;
  while (a[i] === b[i]) i++;
  return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}

/** `short` is `long` with letters left out, starting with the same letter. */
function isAbbreviation(short: string, long: string): boolean {
  if (short.length < 3 || short.length >= long.length || short[0] !== long[0]) return false;
  let j = 0;
  for (const ch of long) if (ch === short[j]) j++;
  return j >= short.length;
}
