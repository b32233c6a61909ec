/** What happened over a whole simulated run: the totals a long run is checked and benchmarked by. */
import type { TickHeal } from "../core/decide.js";
import type { TickFlowResult } from "../core/tick-flow.js";
import type { SimulatedHeal } from "./heal-sim.js";

export interface SimulationCounts {
  ticks: number;
  heals: { attempted: number; healed: number; failed: number };
  /** Refused and skipped heals by reason (cooldown, budget, breaker-open, blocked, ...). */
  notHealed: Record<string, number>;
  alerts: { firing: number; reminder: number; resolved: number };
  breakerOpened: number;
}

export function emptyCounts(): SimulationCounts {
  return {
    ticks: 0,
    heals: { attempted: 0, healed: 0, failed: 0 },
    notHealed: {},
    alerts: { firing: 0, reminder: 0, resolved: 0 },
    breakerOpened: 0,
  };
}

export function count(
  counts: SimulationCounts,
  heals: ReadonlyMap<string, SimulatedHeal>,
  outcomes: Readonly<Record<string, TickHeal>>,
  result: Pick<TickFlowResult, "alerts" | "breakerDecisions">,
): void {
  counts.ticks++;
  for (const heal of heals.values()) {
    counts.heals.attempted++;
    if (heal.ok) counts.heals.healed++;
    else counts.heals.failed++;
  }
  for (const o of Object.values(outcomes)) {
    if (o.outcome === "refused" || o.outcome === "skipped")
      counts.notHealed[o.reason] = (counts.notHealed[o.reason] ?? 0) + 1;
  }
  for (const alert of result.alerts) counts.alerts[alert.kind]++;
  for (const decisions of Object.values(result.breakerDecisions)) {
    for (const d of decisions) if (d.type === "opened") counts.breakerOpened++;
  }
}
