/** Text and JSON renderings of a tick report (run, plan, watch, demo). */
import type { ServiceReport, TickReport } from "../../runtime/tick.js";
import { formatDuration } from "../../duration.js";

function statusWord(s: ServiceReport): string {
  if (s.heal.outcome === "healed" && s.status === "up") {
    if (s.detected !== undefined) return `UP (healed; was down: ${s.detected})`;
    // A forced restart of a service that was up: nothing was down, so nothing "failed".
    return s.heal.ran?.forced === true ? "UP (restarted by a forced heal; it was up)" : "UP (healed)";
  }
  return s.status.toUpperCase();
}

/** Every step of a heal succeeded, yet the probe after it still fails: never shown as UP. */
const healDidNotHelp = (s: ServiceReport): boolean => s.heal.outcome === "healed" && s.status !== "up";

export function serviceLine(s: ServiceReport): string {
  let line = `${s.title} (${s.target}): ${statusWord(s)}`;
  if (s.status === "blocked") line += ` - waiting for ${s.blockedBy.join(", ")}`;
  else if (s.status !== "up" || s.heal.outcome === "healed") {
    if (s.status !== "up") line += ` - ${s.detail}`;
  }
  if (s.heal.outcome === "failed") line += `; heal failed: ${s.heal.reason}`;
  if (healDidNotHelp(s)) line += "; heal ran (every step succeeded) but it is still down";
  if (s.heal.reason === "dry run") line += "; would heal (see plan)";
  else if (s.heal.outcome === "refused" || (s.heal.outcome === "skipped" && s.status === "down")) {
    line += `; not healed: ${notHealedWhy(s)}`;
    if (s.heal.nextAllowedAt !== undefined)
      line += ` (next heal allowed at ${new Date(s.heal.nextAllowedAt).toISOString()})`;
  }
  if (s.gaveUp) line += " [upkeep gave up: heals did not help]";
  else if (s.breaker !== "CLOSED") line += ` [breaker ${s.breaker}]`;
  if (s.flapping) line += " [flapping]";
  return line;
}

/** One gate: its name; several: each with when it alone would let a heal through. */
function notHealedWhy(s: ServiceReport): string {
  const gates = s.heal.refusedBy ?? [];
  if (gates.length <= 1) return s.heal.reason;
  return gates
    .map((g) =>
      g.until === null ? `${g.gate} (no end)` : `${g.gate} until ${new Date(g.until).toISOString()}`,
    )
    .join(", ");
}

function planLines(s: ServiceReport): string[] {
  const gate = `breaker ${s.breaker}, heal budget left ${s.heal.budgetLeft}`;
  if (s.status === "up") return [`  ${s.id}: up, nothing to do (${gate})`];
  if (s.status === "blocked")
    return [`  ${s.id}: blocked by ${s.blockedBy.join(", ")}, not healed before it`];
  if (s.heal.steps.length === 0) {
    const until =
      s.heal.nextAllowedAt === undefined ? "" : ` until ${new Date(s.heal.nextAllowedAt).toISOString()}`;
    return [`  ${s.id}: down, no heal: ${s.heal.reason || "no heal steps"}${until} (${gate})`];
  }
  return [
    `  ${s.id}: down, would heal (${gate}):`,
    ...s.heal.steps.map((step) =>
      step.status === "skipped"
        ? `    skip: ${step.description} (${step.detail})`
        : `    would run: ${step.description}`,
    ),
  ];
}

export function summaryLine(report: TickReport): string {
  return `Summary: ${report.healed} healed, ${report.failed} failed`;
}

export interface TickTextOptions {
  /** The dry run's plan section (default: on for a dry run). `heal --dry-run` prints its own. */
  readonly plan?: boolean;
  /** The closing `Summary:` line (default on). */
  readonly summary?: boolean;
}

export function formatTickText(report: TickReport, options: TickTextOptions = {}): string {
  const lines = report.services.map(serviceLine);
  if (report.dryRun && options.plan !== false) {
    lines.push("", "Plan (dry run, nothing was changed):");
    for (const s of report.services) lines.push(...planLines(s));
  }
  for (const d of report.deliveries) {
    const verb = report.dryRun ? "Would alert" : "Alert";
    const outcome = d.status === "sent" || d.status === "planned" ? "" : ` [${d.status}: ${d.detail}]`;
    // A queued notice sent again says so: the reader may have seen (or missed) the first try.
    const retry =
      (d.attempt ?? 1) > 1
        ? ` (retry ${d.attempt} of an earlier notice${d.id === undefined ? "" : ` ${d.id}`})`
        : "";
    for (const text of d.text.split("\n")) lines.push(`${verb} via ${d.channel}${retry}: ${text}${outcome}`);
  }
  // A silence holds a notice back; the operator running the tick still sees that it would have fired.
  for (const m of report.muted ?? []) {
    const why = m.why === "silenced" ? "silenced" : "held back: a dependency is down";
    lines.push(`Alert ${m.kind} ${m.ruleId} (${m.level}) for ${m.serviceId}: not sent, ${why}`);
  }
  if (report.timedOut)
    lines.push(`Tick timed out after ${formatDuration(report.finishedAt - report.startedAt)}`);
  if (options.summary !== false) lines.push(summaryLine(report));
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
      gaveUp: s.gaveUp,
      flapping: s.flapping,
      heal: s.heal,
      blockedBy: s.blockedBy,
    })),
    alerts: report.alerts,
    muted: report.muted ?? [],
    deliveries: report.deliveries,
  };
}
