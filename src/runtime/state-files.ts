/** The concern files a tick reads and writes, bound to the core's state types. */
import type { Logger } from "../actions/types.js";
import { CONCERNS, STATE_VERSION, emptyConcern, type UpkeepState } from "../core/state.js";
import { isValidConcern } from "../core/state-shape.js";
import { readAll, writeAll, type ConcernSpec, type Versioned } from "./state-store.js";

const SPECS = Object.fromEntries(
  CONCERNS.map((name) => [
    name,
    {
      version: STATE_VERSION,
      fresh: () => emptyConcern(name),
      validate: (raw: Readonly<Record<string, unknown>>) => isValidConcern(name, raw),
    },
  ]),
) as { readonly [K in (typeof CONCERNS)[number]]: ConcernSpec<UpkeepState[K]> };

/** `readOnly` for readers without the tick lock (plan, status): they never move a file aside. */
export async function loadState(
  stateDir: string,
  options: { logger?: Logger; readOnly?: boolean } = {},
): Promise<{ state: UpkeepState; warnings: readonly string[] }> {
  const { value, warnings } = await readAll(stateDir, SPECS, options);
  return { state: value, warnings };
}

export async function saveState(stateDir: string, state: UpkeepState): Promise<void> {
  const values: Record<string, Versioned> = { ...state };
  await writeAll(stateDir, values);
}
