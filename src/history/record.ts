/**
 * The history events of one tick, from its report and the state it started from (pure). Written by the
 * session with the state files; plan and dry runs record nothing.
 */
import { own, type UpkeepState } from "../core/state.js";
import type { TickReport } from "../runtime/tick.js";
import type { HistoryEvent, Observed, TickTrigger } from "./events.js";

export function tickEvents(
  report: TickReport,
  before: UpkeepState,
  tick: {
    readonly trigger: TickTrigger;
    readonly intervalMs: number;
    /** Who asked for a manual heal (`upkeep heal --by`, the status page), or forced one. */
    readonly by?: string;
    /** The service a manual `upkeep heal` was for. */
    readonly healOf?: { readonly service: string; readonly forced: boolean };
  },
): HistoryEvent[] {
  const { trigger, by } = tick;
  const at = report.startedAt;
  const events: HistoryEvent[] = [];
  const observed: Record<string, Observed> = {};
  for (const s of report.services) {
    const ran = s.heal.ran;
    const previous = own(before.services.services, s.id)?.lastStatus ?? null;
    // What the tick's first probe saw; a heal (or a dependency's) may have changed it by the end.
    const first = s.detected === undefined ? "up" : s.status === "blocked" ? "blocked" : "down";
    const backAt = ran?.finishedAt ?? report.finishedAt;
    observed[s.id] = first === s.status ? { s: s.status } : { s: s.status, f: first, up: backAt };
    if (first !== previous)
      events.push({
        kind: "status",
        at,
        service: s.id,
        from: previous,
        to: first,
        detail: s.detected ?? s.detail,
      });
    if (s.status !== first)
      events.push({ kind: "status", at: backAt, service: s.id, from: first, to: s.status, detail: s.detail });
    if (ran !== undefined && (s.heal.outcome === "healed" || s.heal.outcome === "failed")) {
      events.push({
        kind: "heal",
        at,
        service: s.id,
        outcome: s.heal.outcome,
        reason: s.heal.reason,
        trial: ran.trial,
        forced: ran.forced,
        ...((ran.forced || trigger === "heal") && by !== undefined ? { by } : {}),
        startedAt: ran.startedAt,
        finishedAt: ran.finishedAt,
        steps: s.heal.steps.map((step) => ({
          action: step.action,
          status: step.status,
          durationMs: step.durationMs,
        })),
      });
    } else if (s.heal.outcome === "refused" || (s.heal.outcome === "skipped" && s.status === "down")) {
      events.push({
        kind: "refusal",
        at,
        service: s.id,
        outcome: s.heal.outcome,
        reason: s.heal.reason,
        refusedBy: (s.heal.refusedBy ?? []).map((r) => r.gate),
        nextAllowedAt: s.heal.nextAllowedAt ?? null,
      });
    }
  }
  events.unshift({
    kind: "tick",
    at,
    finishedAt: report.finishedAt,
    trigger,
    interval: tick.intervalMs,
    observed,
    ...(report.timedOut ? { timedOut: true } : {}),
  });
  if (tick.healOf !== undefined && by !== undefined) {
    const target = report.services.find((s) => s.id === tick.healOf?.service);
    events.push({
      kind: "command",
      at,
      command: tick.healOf.forced ? "heal --force" : "heal",
      service: tick.healOf.service,
      by,
      detail: target === undefined ? "" : `${target.heal.outcome}: ${target.heal.reason}`,
    });
  }
  for (const [service, decisions] of Object.entries(report.breakerDecisions)) {
    for (const { type, ...detail } of decisions)
      events.push({ kind: "breaker", at, service, decision: type, detail });
  }
  for (const a of report.alerts) {
    events.push({
      kind: "alert",
      at,
      service: a.serviceId,
      rule: a.ruleId,
      level: a.level,
      notice: a.kind,
      count: a.count,
    });
  }
  for (const d of report.deliveries) {
    events.push({
      kind: "delivery",
      at,
      channel: d.channel,
      status: d.status,
      id: d.id ?? "",
      detail: d.detail,
    });
  }
  return events;
}
