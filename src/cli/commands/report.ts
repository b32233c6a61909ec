/**
 * `upkeep report`: uptime, incidents, MTTR, MTBF, heal outcomes, alerts and missed ticks per service,
 * computed from the event history (src/history/report.ts) and never estimated. Reads without the tick
 * lock and changes nothing.
 */
import type { Config } from "../../config/model.js";
import { formatDuration, parseDuration } from "../../duration.js";
import { ExitCode } from "../../errors.js";
import { computeReport, type Report, type ServiceUptime } from "../../history/report.js";
import { historySettings, readHistory } from "../../runtime/history-store.js";
import {
  chooseFormat,
  commandFlags,
  FORMAT_OPTION,
  HELP_OPTION,
  RULES_OPTION,
  STATE_DIR_OPTION,
} from "../args.js";
import { loadConfigOrReport, unknownService } from "../load-config.js";

const HELP = `Usage: upkeep report [options]

Per service, from the history every tick records: uptime (time up over time observed; time no tick
vouched for is unknown, never up), incidents (start, end, duration, cause, how each ended: healed by
upkeep, recovered by itself, fixed by hand), MTTR and MTBF, heals attempted / succeeded / refused by
reason, time from detection to healed, alert notices per level, and the ticks the scheduler missed.

Options:
  --since DURATION   how far back, e.g. 24h, 7d, 30d (default 30d)
  --service ID       only this service (repeatable)
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES)
  --state-dir DIR    state directory (env UPKEEP_STATE_DIR)
  --format FORMAT    text (default), json, or csv (one row per service)
  -h, --help         this help

Exit codes: 0, or 2 on bad rules, a bad flag or an unreadable history.
`;

const OPTIONS = {
  ...RULES_OPTION,
  ...STATE_DIR_OPTION,
  ...FORMAT_OPTION,
  ...HELP_OPTION,
  since: { type: "string" },
  service: { type: "string", multiple: true },
} as const;

export async function run(argv: string[]): Promise<number> {
  const values = commandFlags("report", argv, OPTIONS, () => HELP);
  if (typeof values === "number") return values;
  const format = chooseFormat(values.format, ["text", "json", "csv"] as const, "text");
  const sinceMs = parseDuration(values.since ?? "30d");
  const problem = !format.ok
    ? format.message
    : sinceMs === undefined || sinceMs <= 0
      ? `--since must be a duration such as 24h, 7d or 30d, not "${values.since ?? ""}"`
      : undefined;
  if (problem !== undefined || !format.ok || sinceMs === undefined) {
    process.stderr.write(`upkeep report: ${problem ?? "bad flags"}\n`);
    return ExitCode.usage;
  }
  const { config } = await loadConfigOrReport(values, process.env);
  if (config === undefined) return ExitCode.usage;
  for (const id of values.service ?? []) {
    const unknown = unknownService(config, id);
    if (unknown !== undefined) {
      process.stderr.write(`upkeep report: ${unknown}\n`);
      return ExitCode.usage;
    }
  }
  const until = Date.now();
  const report = await buildReport(config, { since: until - sinceMs, until, only: values.service });
  const out =
    format.value === "json"
      ? `${JSON.stringify(reportJson(report, config), null, 2)}\n`
      : format.value === "csv"
        ? reportCsv(report)
        : reportText(report, config);
  process.stdout.write(out);
  return ExitCode.ok;
}

export async function buildReport(
  config: Config,
  options: { since: number; until: number; only?: readonly string[] | undefined },
): Promise<Report> {
  const intervalMs = config.runtime.intervalMs;
  const events = await readHistory(historySettings(config));
  const services = config.services
    .filter((s) => options.only === undefined || options.only.includes(s.id))
    .map((s) => ({ id: s.id, title: s.title }));
  return computeReport(events, { since: options.since, until: options.until, intervalMs, services });
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const pct = (u: number | null): string =>
  u === null ? "n/a" : `${(Math.floor(u * 100_000) / 1000).toFixed(3)}%`;
const dur = (ms: number | null): string => (ms === null ? "n/a" : formatDuration(ms));

const ENDED: Readonly<Record<string, string>> = {
  healed: "healed by upkeep",
  recovered: "recovered by itself",
  "by-hand": "fixed by hand",
  ongoing: "still down",
};

export function reportJson(report: Report, config: Config): object {
  return {
    since: iso(report.since),
    until: iso(report.until),
    intervalMs: report.intervalMs,
    historyFile: config.runtime.history.file,
    ticks: report.ticks,
    gaps: report.gaps.map((g) => ({ from: iso(g.from), to: iso(g.to), missed: g.missed })),
    services: report.services.map((s) => ({
      ...s,
      incidents: s.incidents.map((i) => ({ ...i, start: iso(i.start), end: iso(i.end) })),
    })),
  };
}

function serviceText(s: ServiceUptime): string[] {
  const refused = Object.entries(s.heals.notHealed)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(", ");
  const alerts = Object.entries(s.alerts)
    .map(([level, n]) => `${level} ${n}`)
    .join(", ");
  const lines = [
    `${s.title} (${s.id}): uptime ${pct(s.uptime)} of ${dur(s.observedMs)} observed` +
      ` (down ${dur(s.downMs)}, blocked ${dur(s.blockedMs)}, unknown ${dur(s.unknownMs)})`,
    `  incidents: ${s.incidents.length}${endings(s)}, MTTR ${dur(s.mttrMs)}, MTBF ${dur(s.mtbfMs)}, detection to healed ${dur(s.detectToHealedMs)}`,
    `  heals: ${s.heals.attempted} attempted, ${s.heals.healed} succeeded, ${s.heals.failed} failed` +
      `${s.heals.forced > 0 ? ` (${s.heals.forced} forced)` : ""}; not healed: ${refused === "" ? "none" : refused}`,
    `  alerts sent: ${alerts === "" ? "none" : alerts}`,
  ];
  for (const i of s.incidents)
    lines.push(
      `  - ${iso(i.start) ?? "?"} ${i.end === null ? "ongoing" : `for ${dur(i.durationMs)}`}: ${i.cause}; ` +
        `${ENDED[i.ended] ?? i.ended}${i.heals > 0 ? ` (${i.heals} heal${i.heals === 1 ? "" : "s"})` : ""}`,
    );
  return lines;
}

function endings(s: ServiceUptime): string {
  const parts = (["healed", "recovered", "by-hand", "ongoing"] as const)
    .filter((k) => s.ended[k] > 0)
    .map((k) => `${s.ended[k]} ${ENDED[k] ?? k}`);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

export function reportText(report: Report, config: Config): string {
  const missed =
    report.ticks.missed === 0
      ? "none missed"
      : `${report.ticks.missed} missed in ${report.gaps.length} gap${report.gaps.length === 1 ? "" : "s"}`;
  const lines = [
    `Report ${iso(report.since) ?? ""} to ${iso(report.until) ?? ""} (history: ${config.runtime.history.file})`,
    `Ticks: ${report.ticks.count} (${report.ticks.scheduled} scheduled, ${missed}; interval ${formatDuration(report.intervalMs)})`,
  ];
  for (const g of report.gaps.slice(-5))
    lines.push(`  no tick from ${iso(g.from) ?? "?"} to ${iso(g.to) ?? "?"} (${g.missed} missed)`);
  if (!config.runtime.history.enabled)
    lines.push("History is off (runtime.history.enabled: false): nothing new is recorded.");
  for (const s of report.services) lines.push("", ...serviceText(s));
  return `${lines.join("\n")}\n`;
}

const CSV_COLUMNS = [
  "id",
  "title",
  "uptime_percent",
  "observed_s",
  "up_s",
  "down_s",
  "blocked_s",
  "unknown_s",
  "incidents",
  "healed_by_upkeep",
  "recovered_by_itself",
  "fixed_by_hand",
  "mttr_s",
  "mtbf_s",
  "heals_attempted",
  "heals_succeeded",
  "heals_failed",
  "heals_forced",
  "heals_refused",
  "detect_to_healed_s",
  "alerts_sent",
] as const;

export function reportCsv(report: Report): string {
  const seconds = (ms: number | null): string => (ms === null ? "" : String(Math.round(ms / 1000)));
  const rows = report.services.map((s) => [
    s.id,
    s.title,
    s.uptime === null ? "" : (s.uptime * 100).toFixed(3),
    seconds(s.observedMs),
    seconds(s.upMs),
    seconds(s.downMs),
    seconds(s.blockedMs),
    seconds(s.unknownMs),
    String(s.incidents.length),
    String(s.ended.healed),
    String(s.ended.recovered),
    String(s.ended["by-hand"]),
    seconds(s.mttrMs),
    seconds(s.mtbfMs),
    String(s.heals.attempted),
    String(s.heals.healed),
    String(s.heals.failed),
    String(s.heals.forced),
    String(Object.values(s.heals.notHealed).reduce((a, b) => a + b, 0)),
    seconds(s.detectToHealedMs),
    String(Object.values(s.alerts).reduce((a, b) => a + b, 0)),
  ]);
  return [CSV_COLUMNS, ...rows].map((row) => row.map(csvField).join(",")).join("\n") + "\n";
}

function csvField(value: string): string {
  // RFC 4180 quoting; a leading =, +, - or @ is prefixed so a spreadsheet never runs a title as a formula.
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
