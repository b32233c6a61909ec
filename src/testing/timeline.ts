/**
 * A compact record of a whole run, kept for tests short enough to afford it, so a failure can say where
 * the expected thing did happen ("OPEN at ticks 6-7") instead of only that it did not happen here.
 */
import type { AlertIntent } from "../core/alerts.js";
import { own } from "../core/state.js";
import { alertMatches } from "./alert-match.js";
import type { CheckContext } from "./expect.js";
import type { Check } from "./model.js";
import { show, ticksPhrase } from "./show.js";
import type { TickOutcome } from "./simulate.js";

/** Bigger runs (ticks x services) are not recorded: their failures still say expected and actual. */
export const TIMELINE_MAX_CELLS = 200_000;
const MAX_ALERTS = 10_000;

export class Timeline {
  readonly #ids: readonly string[];
  readonly #status: string[] = [];
  readonly #breaker: string[] = [];
  readonly #heal: string[] = [];
  readonly #alerts: { tick: number; intent: AlertIntent }[] = [];

  constructor(serviceIds: readonly string[]) {
    this.#ids = serviceIds;
  }

  record(tick: TickOutcome): void {
    const { facts, state } = tick.result;
    for (const id of this.#ids) {
      const f = own(facts, id);
      this.#status.push(f?.status ?? "not probed");
      this.#breaker.push(own(state.breakers.breakers, id)?.state ?? "CLOSED");
      const outcome = f?.heal.outcome ?? "none";
      // outcome:reason:gate,gate (the gates only for refusals)
      this.#heal.push(
        outcome === "refused" || outcome === "skipped"
          ? `${outcome}:${f?.heal.reason ?? ""}:${(f?.heal.refusedBy ?? []).join(",")}`
          : outcome,
      );
    }
    for (const intent of tick.result.alerts) {
      if (this.#alerts.length < MAX_ALERTS) this.#alerts.push({ tick: tick.tick, intent });
    }
  }

  /** Where the expected value of a failed check holds instead, as note lines. */
  notes(check: Check, ctx: CheckContext): string[] {
    switch (check.kind) {
      case "status":
        return this.#where(
          this.#status,
          check.service,
          (v) => v === check.expected,
          `${check.service} is ${check.expected}`,
        );
      case "breaker":
        return this.#where(
          this.#breaker,
          check.service,
          (v) => v === check.expected,
          `the breaker of ${check.service} is ${check.expected}`,
        );
      case "heal": {
        const field = check.field;
        if (field === "outcome") {
          return this.#where(
            this.#heal,
            check.service,
            (v) => v.split(":")[0] === check.expected,
            `the heal outcome of ${check.service} is ${check.expected}`,
          );
        }
        if (field === "skipped") {
          return this.#where(
            this.#heal,
            check.service,
            (v) => v.startsWith(`skipped:${check.expected}:`),
            `healing ${check.service} is skipped (${check.expected})`,
          );
        }
        if (field === "refused") {
          const expected = check.expected;
          const holds = (v: string): boolean => {
            const [outcome, , gates = ""] = v.split(":");
            const actual = gates === "" ? [] : gates.split(",");
            if (outcome !== "refused") return false;
            return typeof expected === "string"
              ? actual.includes(expected)
              : actual.length === expected.length && expected.every((g) => actual.includes(g));
          };
          const what = typeof expected === "string" ? expected : `exactly ${expected.join(", ")}`;
          return this.#where(
            this.#heal,
            check.service,
            holds,
            `healing ${check.service} is refused by ${what}`,
          );
        }
        if (field === "attempted" && check.expected) {
          return this.#where(
            this.#heal,
            check.service,
            (v) => v === "healed" || v === "failed",
            `a heal of ${check.service} runs`,
          );
        }
        return [];
      }
      case "alerts": {
        const notes: string[] = [];
        for (const expected of check.expected) {
          const at = this.#alerts
            .filter((a) => alertMatches(expected, a.intent, undefined, ctx))
            .map((a) => a.tick);
          notes.push(
            at.length === 0
              ? `${show(expected)} is never sent in this test`
              : `${show(expected)} is sent at ${ticksPhrase([...new Set(at)])}`,
          );
        }
        return notes;
      }
      default:
        return [];
    }
  }

  #where(values: readonly string[], service: string, holds: (v: string) => boolean, what: string): string[] {
    const index = this.#ids.indexOf(service);
    if (index === -1) return [];
    const ticks: number[] = [];
    for (let t = 0; t * this.#ids.length + index < values.length; t++) {
      if (holds(values[t * this.#ids.length + index] as string)) ticks.push(t + 1);
    }
    return [ticks.length === 0 ? `${what} at no tick of this test` : `${what} at ${ticksPhrase(ticks)}`];
  }
}
