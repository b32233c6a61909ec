/** The concern files a tick reads and writes, bound to the core's state types. */
import type { Logger } from "../actions/types.js";
import { CONCERNS, STATE_VERSION, emptyConcern, type Concern, type UpkeepState } from "../core/state.js";
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

/**
 * Concern values exactly as their files hold them. The core hands back the object it was given when a
 * tick changed nothing in a concern (a healthy tick's breakers and alerts), and writing it would
 * rewrite the same state: megabytes of JSON and two fsyncs per file for thousands of services.
 */
const asStored = new WeakSet<object>();

/** `readOnly` for readers without the tick lock (plan, status): they never move a file aside. */
export async function loadState(
  stateDir: string,
  options: { logger?: Logger; readOnly?: boolean } = {},
): Promise<{ state: UpkeepState; warnings: readonly string[] }> {
  const { value, warnings, storedNames } = await readAll(stateDir, SPECS, options);
  for (const name of storedNames) asStored.add(value[name as Concern]);
  return { state: value, warnings };
}

/** Writes every concern, except those still the very objects `loadState` read from their files. */
export async function saveState(stateDir: string, state: UpkeepState): Promise<void> {
  const values: Record<string, Versioned> = {};
  for (const name of CONCERNS) if (!asStored.has(state[name])) values[name] = state[name];
  await writeAll(stateDir, values);
}
