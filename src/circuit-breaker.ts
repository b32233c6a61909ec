/**
 * The baseline's programmatic circuit breaker (DESIGN.md contract), driven by the pure core breaker.
 *
 *   const breaker = new CircuitBreaker("boss-api", { failureThreshold: 5, successThreshold: 2, timeout: 60_000,
 *     stateFile: "/var/tmp/breakers.json" });
 *   const body = await breaker.fire(() => fetchSomething());   // E_BREAKER_OPEN while open
 *
 * State file: `{ "version": 1, "breakers": { "<name>": BreakerState, ... } }` — the same shape as the
 * tick's `breakers.json`, so several named breakers (and several processes) can share one file. Every
 * recorded outcome is lock -> read -> step -> write -> unlock (`withLock`, atomic writes), taken around
 * the recording only, never around `fn`. Outcomes that change nothing (a success while CLOSED with no
 * failures) skip the lock and the write. A corrupt file is moved aside (a process warning, or
 * `onWarning`) and the breaker starts CLOSED; a file from a newer upkeep makes every call fail with
 * E_STATE_VERSION rather than overwrite it. When an outcome cannot be recorded (E_STATE_IO, E_LOCKED
 * after the lock wait, E_STATE_VERSION), `fire` rejects with that error even if fn succeeded, so a
 * breaker that cannot persist never fails silently; for a failed fn, fn's error is its `cause`.
 *
 * Without `stateFile` the state lives in the instance.
 */
import type { BreakerSettings } from "./config/model.js";
import { canAttempt, stepBreaker, type BreakerEvent } from "./core/breaker.js";
import type { BreakerStateName } from "./core/facts.js";
import {
  emptyBreaker,
  emptyConcern,
  own,
  withEntry,
  type BreakerState,
  type BreakersState,
} from "./core/state.js";
import { UpkeepError } from "./errors.js";
import { withLock } from "./runtime/lock.js";
import { peekStateFile, readStateFile, writeStateFile, type ConcernSpec } from "./runtime/state-store.js";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. Default 5. */
  readonly failureThreshold?: number;
  /** Successes in HALF_OPEN that close it. Default 2. */
  readonly successThreshold?: number;
  /** How long (ms) it stays OPEN before letting a trial call through. Default 60000. */
  readonly timeout?: number;
  /** HALF_OPEN without any outcome for this long (ms) re-opens. Default: never (as in the baseline). */
  readonly halfOpenTimeout?: number;
  /** Share state across restarts and processes through this JSON file. */
  readonly stateFile?: string;
  readonly clock?: { now(): number };
  /** Where warnings go (a corrupt state file moved aside). Default: process.emitWarning. */
  readonly onWarning?: (message: string) => void;
}

/**
 * What `getState()` returns, as of now: an OPEN whose time is up already reads HALF_OPEN (the baseline
 * script only switched on the next call). `nextAttempt` is the epoch ms from which a call is allowed:
 * the end of the open period while OPEN (Infinity when isolated without an end; JSON prints it as
 * null), 0 while CLOSED or HALF_OPEN, so `Date.now() >= nextAttempt` tells whether `fire` would run fn.
 */
export interface BreakerSnapshot {
  readonly state: BreakerStateName;
  /** Consecutive failures while CLOSED. */
  readonly failures: number;
  /** Successes in the current HALF_OPEN. */
  readonly successes: number;
  readonly nextAttempt: number;
}

/** Thrown by `fire` while the breaker is OPEN; fn was not called. */
export class BreakerOpenError extends UpkeepError {
  readonly breaker: string;
  /** Epoch ms when a trial call will be let through; null while isolated until reset. */
  readonly retryAt: number | null;

  constructor(breaker: string, retryAt: number | null) {
    const when = retryAt === null ? "until reset" : `until ${new Date(retryAt).toISOString()}`;
    super("E_BREAKER_OPEN", `circuit breaker ${breaker} is OPEN ${when}`, { name: breaker, retryAt });
    this.breaker = breaker;
    this.retryAt = retryAt;
  }
}

const NO_DEADLINE_MS = 100 * 365 * 24 * 3_600_000;
const STATES: readonly string[] = ["CLOSED", "OPEN", "HALF_OPEN"];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const FILE_SPEC: ConcernSpec<BreakersState> = {
  version: 1,
  fresh: () => emptyConcern("breakers"),
  validate: (raw) =>
    isRecord(raw["breakers"]) &&
    Object.values(raw["breakers"]).every((b) => isRecord(b) && STATES.includes(String(b["state"]))),
};

function positive(name: string, value: number, integer: boolean): number {
  if (!Number.isFinite(value) || value < (integer ? 1 : 0) || (integer && !Number.isInteger(value))) {
    throw new UpkeepError(
      "E_USAGE",
      `CircuitBreaker option ${name} must be a ${integer ? "positive integer" : "number >= 0"}, got ${value}`,
    );
  }
  return value;
}

export class CircuitBreaker {
  readonly name: string;
  readonly #settings: BreakerSettings;
  readonly #file: string | undefined;
  readonly #clock: { now(): number };
  readonly #warn: (message: string) => void;
  #memory: BreakerState = emptyBreaker();

  constructor(name: string, options: CircuitBreakerOptions = {}) {
    if (typeof name !== "string" || name === "") {
      throw new UpkeepError("E_USAGE", "CircuitBreaker needs a non-empty name");
    }
    this.name = name;
    const failureThreshold = positive("failureThreshold", options.failureThreshold ?? 5, true);
    const timeout = positive("timeout", options.timeout ?? 60_000, false);
    this.#settings = {
      mode: "consecutive",
      failureThreshold,
      successThreshold: positive("successThreshold", options.successThreshold ?? 2, true),
      openForMs: timeout,
      window: failureThreshold,
      minSamples: failureThreshold,
      failureRate: 1,
      backoffFactor: 1,
      maxOpenForMs: timeout,
      halfOpenTimeoutMs:
        options.halfOpenTimeout === undefined
          ? NO_DEADLINE_MS
          : positive("halfOpenTimeout", options.halfOpenTimeout, false),
    };
    this.#file = options.stateFile;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#warn = options.onWarning ?? ((message) => process.emitWarning(message, "UpkeepWarning"));
  }

  /** Runs fn when the breaker allows it and records the outcome; fn's rejection is re-thrown after recording. */
  async fire<T>(fn: () => Promise<T> | T): Promise<T> {
    const check = canAttempt(this.#settings, await this.#current(), this.#clock.now());
    if (!check.allowed) throw new BreakerOpenError(this.name, check.retryAt ?? null);
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      await this.#apply({ type: "failure" }).catch((recordError: unknown) => {
        throw recordingFailed(recordError, error);
      });
      throw error;
    }
    await this.#apply({ type: "success" });
    return result;
  }

  /** The current state (read from the state file when there is one), as of now. */
  getState(): BreakerSnapshot {
    const state = this.#file === undefined ? this.#memory : this.#entry(peekStateFile(this.#file, FILE_SPEC));
    return snapshot(stepBreaker(this.#settings, state, { type: "tick" }, this.#clock.now()).state);
  }

  /** Back to CLOSED with no failures. */
  async reset(): Promise<BreakerSnapshot> {
    return snapshot(await this.#apply({ type: "reset" }));
  }

  /** Forces OPEN until `reset()` (or until `until`, epoch ms): every fire fast-fails meanwhile. */
  async isolate(until?: number): Promise<BreakerSnapshot> {
    return snapshot(
      await this.#apply(until === undefined ? { type: "isolate" } : { type: "isolate", until }),
    );
  }

  #entry(file: BreakersState | undefined): BreakerState {
    const entry = file === undefined ? undefined : own(file.breakers, this.name);
    // Fields a hand edit dropped fall back to their defaults; the core needs every one.
    return entry === undefined ? emptyBreaker() : { ...emptyBreaker(), ...entry };
  }

  /** Unlocked read: an atomic snapshot, enough to decide whether fn may run. */
  async #current(): Promise<BreakerState> {
    if (this.#file === undefined) return this.#memory;
    const { value } = await readStateFile(this.#file, { ...FILE_SPEC, readOnly: true });
    return this.#entry(value);
  }

  async #apply(event: BreakerEvent): Promise<BreakerState> {
    const file = this.#file;
    if (file === undefined) {
      this.#memory = stepBreaker(this.#settings, this.#memory, event, this.#clock.now()).state;
      return this.#memory;
    }
    // A step that changes nothing on the unlocked snapshot is linearized at that read: no lock, no write.
    const seen = await this.#current();
    const stepped = stepBreaker(this.#settings, seen, event, this.#clock.now()).state;
    if (JSON.stringify(stepped) === JSON.stringify(seen)) return seen;
    return withLock(file, async () => {
      const { value, warnings } = await readStateFile(file, FILE_SPEC);
      warnings.forEach((warning) => this.#warn(warning));
      const next = stepBreaker(this.#settings, this.#entry(value), event, this.#clock.now()).state;
      const updated: BreakersState = { ...value, breakers: withEntry(value.breakers, this.name, next) };
      await writeStateFile(file, updated);
      return next;
    });
  }
}

/** The outcome could not be recorded (lock timeout, unwritable or newer state file): that error wins, fn's is its cause. */
function recordingFailed(recordError: unknown, callError: unknown): unknown {
  if (!(recordError instanceof UpkeepError)) return recordError;
  return new UpkeepError(
    recordError.code,
    `${recordError.message} (while recording a failed call; the call's error is the cause)`,
    { ...recordError.details },
    { cause: callError },
  );
}

function snapshot(state: BreakerState): BreakerSnapshot {
  const nextAttempt = state.state === "OPEN" ? (state.openUntil ?? Number.POSITIVE_INFINITY) : 0;
  return { state: state.state, failures: state.failures, successes: state.successes, nextAttempt };
}
