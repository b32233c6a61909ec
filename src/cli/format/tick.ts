/** Text and JSON renderings of a tick report (run, plan, watch, demo). */
import type { ServiceReport, TickReport } from "../../runtime/tick.js";
import { formatDuration } from "../../duration.js";

function statusWord(s: ServiceReport): string {
  if (s.heal.outcome === "healed") return "UP (healed)";
  return s.status.toUpperCase();
}

export function serviceLine(s: ServiceReport): string {
  let line = `${s.title} (${s.target}): ${statusWord(s)}`;
  if (s.status === "blocked") line += ` - waiting for ${s.blockedBy.join(", ")}`;
  else if (s.status !== "up" || s.heal.outcome === "healed") {
    if (s.status !== "up") line += ` - ${s.detail}`;
  }
  if (s.heal.outcome === "failed") line += `; heal failed: ${s.heal.reason}`;
  if (s.heal.outcome === "refused" || (s.heal.outcome === "skipped" && s.status === "down")) {
    line += `; not healed: ${s.heal.reason}`;
    if (s.heal.nextAllowedAt !== undefined) line += ` (next heal allowed at ${new Date(s.heal.nextAllowedAt).toISOString()})`;
  }
  if (s.breaker !== "CLOSED") line += ` [breaker ${s.breaker}]`;
  return line;
}

export function summaryLine(report: TickReport): string {
  return `Summary: ${report.healed} healed, ${report.failed} failed`;
}

export function formatTickText(report: TickReport): string {
  const lines = report.services.map(serviceLine);
  if (report.dryRun) {
    lines.push("", "Plan (dry run, nothing was changed):");
    for (const s of report.services) {
      if (s.heal.steps.length > 0) {
        lines.push(`  ${s.id}: heal`);
        for (const step of s.heal.steps) {
          lines.push(`    ${step.status === "skipped" ? "skip" : "would run"}: ${step.description}${step.status === "skipped" ? ` (${step.detail})` : ""}`);
        }
      } else if (s.status === "down") {
        lines.push(`  ${s.id}: no heal (${s.heal.reason || "nothing to do"})`);
      }
      lines.push(`    breaker ${s.breaker}, heal budget left ${s.heal.budgetLeft}`);
    }
  }
  for (const d of report.deliveries) {
    lines.push(`${report.dryRun ? "Would alert" : "Alert"} via ${d.channel}: ${d.status}${d.detail ? ` (${d.detail})` : ""}`);
  }
  if (report.timedOut) lines.push(`Tick timed out after ${formatDuration(report.finishedAt - report.startedAt)}`);
  lines.push(summaryLine(report));
  return `${lines.join("\n")}\n`;
}

export function tickJson(report: TickReport): object {
  return {
    startedAt: new Date(report.startedAt).toISOString(),
    finishedAt: new Date(report.finishedAt).toISOString(),
    dryRun: report.dryRun,
    timedOut: report.timedOut,
    healed: report.healed,
    failed: report.failed,
    services: report.services.map((s) => ({
      id: s.id,
      title: s.title,
      status: s.status,
      target: s.target,
      detail: s.detail,
      latencyMs: s.latencyMs,
      breaker: s.breaker,
      heal: s.heal,
      blockedBy: s.blockedBy,
    })),
    alerts: report.alerts,
    deliveries: report.deliveries,
  };
}
