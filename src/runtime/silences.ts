/**
 * Ad-hoc silences (`upkeep silence add|list|remove`), kept in the `silences` state concern
 * (`<stateDir>/silences.json`, version 1) next to the rules' own silences.
 *
 * Writers (the silence command) change the file only inside `withLock` on it; the tick just reads it,
 * so a tick and a `silence add` never race. Expired silences stay listed for a week, then the next
 * write prunes them.
 *
 * A corrupt file is never moved aside or overwritten: it holds silences a person added (maintenance
 * windows among them), and starting fresh would drop them without a word. Readers (ticks, status,
 * list) warn and go on without the ad-hoc silences; writers refuse with E_STATE_CORRUPT.
 */
import type { Logger } from "../actions/types.js";
import type { Silence } from "../config/model.js";
import { UpkeepError } from "../errors.js";
import { withLock } from "./lock.js";
import { concernPath, readConcern, writeConcern, type ConcernSpec } from "./state-store.js";

export interface StoredSilence {
  readonly id: string;
  /** Empty = all services. */
  readonly services: readonly string[];
  /** Empty = all levels. */
  readonly levels: readonly string[];
  readonly startsAt: number;
  readonly endsAt: number;
  /** A maintenance window: healing of its services pauses too. */
  readonly pauseHealing: boolean;
  readonly comment: string;
  readonly createdAt: number;
  /** Who added it (the OS user name). */
  readonly createdBy: string;
}

export interface SilencesState {
  readonly version: 1;
  readonly silences: readonly StoredSilence[];
}

export type SilenceState = "active" | "pending" | "expired";

export const SILENCES_CONCERN = "silences";
/** Expired silences are kept this long for `silence list`, then pruned. */
export const KEEP_EXPIRED_MS = 7 * 24 * 3_600_000;

const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === "string");

function isStored(v: unknown): boolean {
  if (typeof v !== "object" || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s["id"] === "string" &&
    isStrings(s["services"]) &&
    isStrings(s["levels"]) &&
    typeof s["startsAt"] === "number" &&
    typeof s["endsAt"] === "number" &&
    typeof s["pauseHealing"] === "boolean"
  );
}

export const SILENCES_SPEC: ConcernSpec<SilencesState> = {
  version: 1,
  fresh: () => ({ version: 1, silences: [] }),
  validate: (raw) => Array.isArray(raw["silences"]) && raw["silences"].every(isStored),
};

export function silenceState(silence: StoredSilence, now: number): SilenceState {
  if (now < silence.startsAt) return "pending";
  return now < silence.endsAt ? "active" : "expired";
}

/** The model's shape, as the alert policy and planHeals read silences. */
export function toSilence(s: StoredSilence): Silence {
  return {
    id: s.id,
    services: s.services,
    levels: s.levels,
    startsAt: s.startsAt,
    endsAt: s.endsAt,
    pauseHealing: s.pauseHealing,
    ...(s.comment === "" ? {} : { comment: s.comment }),
  };
}

export interface LoadSilencesOptions {
  readonly logger?: Logger;
  /** Always the case (a corrupt file is never moved); accepted for callers that say so. */
  readonly readOnly?: boolean;
  /** Told when the file is corrupt (and its silences are not applied). */
  readonly warn?: (message: string) => void;
}

/** The stored silences, and why the file is corrupt when it is (then `state` has none). */
export async function readSilences(
  stateDir: string,
  options: { readonly logger?: Logger } = {},
): Promise<{ state: SilencesState; corrupt?: string }> {
  const file = concernPath(stateDir, SILENCES_CONCERN);
  const result = await readConcern(stateDir, SILENCES_CONCERN, { ...SILENCES_SPEC, readOnly: true });
  if (result.corrupt === undefined) return { state: result.value };
  const corrupt = `silences file ${file} is ${result.corrupt}`;
  options.logger?.warn({ file, reason: result.corrupt }, `${corrupt}; ad-hoc silences are not applied`);
  return { state: result.value, corrupt };
}

export async function loadSilences(
  stateDir: string,
  options: LoadSilencesOptions = {},
): Promise<SilencesState> {
  const { state, corrupt } = await readSilences(
    stateDir,
    options.logger === undefined ? {} : { logger: options.logger },
  );
  if (corrupt !== undefined)
    options.warn?.(`${corrupt}: ad-hoc silences are not applied until it is fixed or moved aside`);
  return state;
}

/** What a tick honours: every stored silence that has not ended (never moves the file). */
export async function adHocSilences(
  stateDir: string,
  options: LoadSilencesOptions & { readonly now?: number } = {},
): Promise<Silence[]> {
  const now = options.now ?? Date.now();
  const state = await loadSilences(stateDir, options);
  return state.silences.filter((s) => silenceState(s, now) !== "expired").map(toSilence);
}

export function pruneSilences(state: SilencesState, now: number): SilencesState {
  return { ...state, silences: state.silences.filter((s) => now - s.endsAt <= KEEP_EXPIRED_MS) };
}

export function newSilenceId(): string {
  // Loaded here, not at the top: every tick reads silences, only `silence add` makes one.
  return `sil-${process.getBuiltinModule("node:crypto").randomBytes(4).toString("hex")}`;
}

/**
 * Read-modify-write of the silences file under its lock; `change` returns the new state (pruned
 * afterwards) and a result for the caller. A corrupt file is refused (E_STATE_CORRUPT), unchanged.
 */
export async function updateSilences<T>(
  stateDir: string,
  now: number,
  change: (state: SilencesState) => { state: SilencesState; result: T },
  options: { logger?: Logger } = {},
): Promise<T> {
  return withLock(
    concernPath(stateDir, SILENCES_CONCERN),
    async () => {
      const { state: current, corrupt } = await readSilences(stateDir, options);
      if (corrupt !== undefined) {
        const file = concernPath(stateDir, SILENCES_CONCERN);
        throw new UpkeepError(
          "E_STATE_CORRUPT",
          `${corrupt}; it was not changed, so the silences in it are not lost: fix it or move it aside ` +
            `(mv '${file}' '${file}.bad') and run the command again`,
          { file },
        );
      }
      const { state, result } = change(current);
      await writeConcern(stateDir, SILENCES_CONCERN, pruneSilences(state, now));
      return result;
    },
    { owner: "upkeep silence" },
  );
}
