/**
 * Rule tests: the raw shape of a test file (schemas/test.schema.json is the contract) and the compiled
 * form the simulator and the checks use (ticks resolved, series expanded, positions attached).
 */
import type { BreakerStateName, HealOutcome, ServiceStatus } from "../core/facts.js";
import type { Position } from "../config/load.js";

export type RawMoment = number | string;
export type RefusalGate = "cooldown" | "budget" | "breaker-open" | "paused";

export interface RawHealExpectation {
  attempted?: boolean;
  outcome?: HealOutcome;
  refused?: RefusalGate | RefusalGate[];
  skipped?: "blocked" | "paused" | "waiting" | "no-steps" | "no-step-ran" | "disabled";
  trial?: boolean;
  steps?: string[];
  budgetLeft?: number;
  nextAllowed?: RawMoment;
}

export interface RawAlertExpectation {
  rule?: string;
  service?: string;
  level?: string;
  kind?: "firing" | "reminder" | "resolved";
  channels?: string[];
  count?: number;
  message?: string;
}

export interface RawExpectation {
  at: RawMoment;
  status?: Record<string, ServiceStatus>;
  breaker?: Record<string, BreakerStateName>;
  heals?: Record<string, HealOutcome | RawHealExpectation>;
  alerts?: RawAlertExpectation[];
  alertTotals?: Record<string, number>;
  facts?: Record<string, Record<string, unknown>>;
}

export interface RawTest {
  description?: string;
  interval?: string;
  start?: string;
  ticks?: number;
  services?: Record<string, string>;
  expect: RawExpectation[];
}

export interface RawTestFile {
  version: 1;
  rules?: string;
  interval?: string;
  start?: string;
  uid?: number;
  tests: Record<string, RawTest>;
}

/** One thing to compare at one tick. */
export type Check =
  | { readonly kind: "status"; readonly service: string; readonly expected: ServiceStatus }
  | { readonly kind: "breaker"; readonly service: string; readonly expected: BreakerStateName }
  | {
      readonly kind: "heal";
      readonly service: string;
      readonly field: "attempted" | "trial";
      readonly expected: boolean;
    }
  | {
      readonly kind: "heal";
      readonly service: string;
      readonly field: "outcome";
      readonly expected: HealOutcome;
    }
  | {
      readonly kind: "heal";
      readonly service: string;
      readonly field: "skipped";
      readonly expected: string;
    }
  | {
      readonly kind: "heal";
      readonly service: string;
      readonly field: "refused";
      /** One gate: among those that refused; several: exactly those. */
      readonly expected: string | readonly string[];
    }
  | {
      readonly kind: "heal";
      readonly service: string;
      readonly field: "steps";
      readonly expected: readonly string[];
    }
  | {
      readonly kind: "heal";
      readonly service: string;
      readonly field: "budgetLeft";
      readonly expected: number;
    }
  | {
      readonly kind: "heal";
      readonly service: string;
      readonly field: "nextAllowed";
      readonly expected: number;
    }
  | { readonly kind: "alerts"; readonly expected: readonly RawAlertExpectation[] }
  | { readonly kind: "alertTotal"; readonly level: string; readonly expected: number }
  | { readonly kind: "fact"; readonly service: string; readonly expected: Readonly<Record<string, unknown>> };

export interface PlacedCheck {
  readonly check: Check;
  /** 1-based tick. */
  readonly tick: number;
  /** Where the expected value is written. */
  readonly pointer: string;
  readonly position: Position;
  /** Checks made from one range (`at: 3..6`) share a group, so a failure is reported once. */
  readonly group: number;
}

export interface CompiledTest {
  readonly name: string;
  readonly description?: string;
  /** The test file as shown in reports. */
  readonly file: string;
  readonly position: Position;
  readonly ticks: number;
  readonly startMs: number;
  readonly intervalMs: number;
  readonly uid: number;
  /** Per service id; enabled services without a series are up at every tick. */
  readonly series: ReadonlyMap<string, Uint8Array>;
  /** Sorted by tick. */
  readonly checks: readonly PlacedCheck[];
  /** The alert rules `alerts:` compares (a pack's tests: the pack's own); default every rule. */
  readonly ownsRule?: (ruleId: string) => boolean;
}

/** A failed expectation, ready to print. */
export interface Failure {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly pointer: string;
  readonly tick: number;
  /** Simulated time since tick 1, in ms. */
  readonly elapsedMs: number;
  /** What was compared, e.g. "breaker of health-proxy". */
  readonly subject: string;
  readonly expected: string;
  readonly actual: string;
  /** Extra help, e.g. "OPEN from tick 6 (25m)", or the unmatched alerts. */
  readonly notes: readonly string[];
  /** Further ticks of the same range that failed too (the first 20). */
  readonly alsoFailedAt: readonly number[];
  /** How many ticks of the range failed, this one included. */
  readonly failedTicks: number;
}
