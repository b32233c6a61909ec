/**
 * `upkeep explain SERVICE`: the merged rule of one service with where each value came from (file:line,
 * and which layer: built-in default, `defaults:`, a recipe, the service, a pack, an override), then its
 * recent history from the state files and the log. Read-only: no lock, nothing written.
 */
import type { Config, ServiceConfig } from "../../config/model.js";
import { ExitCode } from "../../errors.js";
import { loadSilences, toSilence } from "../../runtime/silences.js";
import { logTail, stateHistory, type History } from "../../explain/history.js";
import { mergedRule, type MergedRule, type Setting } from "../../explain/settings.js";
import { loadRulesFiles, type Origin } from "../../explain/sources.js";
import { loadState } from "../../runtime/state-files.js";
import { chooseFormat, parseFlags } from "../args.js";
import { statusChanges } from "../history.js";
import { loadConfigOrReport, unknownService } from "../load-config.js";

const HELP = `Usage: upkeep explain SERVICE [options]

Shows the merged rule of SERVICE, each value with where it came from:
  default       built into upkeep          defaults      the rules' defaults: block
  recipe NAME   a recipe's steps/params    service       set on the service itself
  pack NAME     a rule pack's file         override      services.yaml overrides: (changes to a pack's rule)
with file:line, then its recent history: last status and since when, breaker, heal history (with who
forced a heal), alert states, and the last log lines about it.

Options:
  --lines N          how many log lines to show (default 20; 0 for none)
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES)
  --state-dir DIR    state directory (env UPKEEP_STATE_DIR)
  --format FORMAT    text (default) or json
  -h, --help         this help

Exit codes: 0, 2 usage, bad rules or unknown service.
`;

const OPTIONS = {
  rules: { type: "string" },
  "state-dir": { type: "string" },
  format: { type: "string" },
  lines: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function usage(message: string): number {
  process.stderr.write(`upkeep explain: ${message}\nRun \`upkeep explain --help\` for its options.\n`);
  return ExitCode.usage;
}

export interface Explanation extends MergedRule {
  readonly service: { readonly id: string; readonly title: string; readonly description?: string };
  readonly history: History;
}

export async function explainService(
  config: Config,
  service: ServiceConfig,
  options: { lines: number; now: number },
): Promise<{ explanation: Explanation; warnings: readonly string[] }> {
  const [files, { state, warnings }, log, adHoc, changes] = await Promise.all([
    loadRulesFiles(config),
    loadState(config.runtime.stateDir, { readOnly: true }),
    logTail(config.runtime.logFile, service.id, options.lines),
    loadSilences(config.runtime.stateDir, { readOnly: true }),
    statusChanges(config),
  ]);
  const silences = [...config.alerts.silences, ...adHoc.silences.map(toSilence)];
  const explanation: Explanation = {
    service: {
      id: service.id,
      title: service.title,
      ...(service.description === undefined ? {} : { description: service.description }),
    },
    ...mergedRule(config, service, files),
    history: { ...stateHistory(config, service, state, options.now, silences, changes), log },
  };
  return { explanation, warnings };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, OPTIONS);
  if (!parsed.ok) return usage(parsed.message);
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(HELP);
    return ExitCode.ok;
  }
  const [id, ...extra] = positionals;
  if (id === undefined) return usage("which service? upkeep explain SERVICE");
  if (extra.length > 0) return usage(`unexpected argument "${extra[0]}"`);
  const lines = values.lines === undefined ? 20 : Number(values.lines);
  if (!Number.isInteger(lines) || lines < 0 || lines > 10_000)
    return usage(`--lines must be a whole number from 0 to 10000, not "${values.lines ?? ""}"`);
  const format = chooseFormat(values.format, ["text", "json"] as const, "text");
  if (!format.ok) return usage(format.message);

  const { config } = await loadConfigOrReport(values, process.env);
  if (config === undefined) return ExitCode.usage;
  const missing = unknownService(config, id);
  if (missing !== undefined) return usage(missing);
  const service = config.services.find((s) => s.id === id) as ServiceConfig;
  const { explanation, warnings } = await explainService(config, service, { lines, now: Date.now() });
  for (const w of warnings) process.stderr.write(`upkeep: ${w}\n`);
  process.stdout.write(
    format.value === "json" ? `${JSON.stringify(explanation, null, 2)}\n` : formatText(explanation),
  );
  return ExitCode.ok;
}

export function originText(o: Origin): string {
  const what = o.name === undefined ? o.kind : `${o.kind} ${o.name}`;
  const where = o.file === undefined ? "" : ` ${o.file}${o.line === undefined ? "" : `:${o.line}`}`;
  return `${what}${where}${o.note === undefined ? "" : ` (${o.note})`}`;
}

const show = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

function settingLine(s: Setting, width: number): string {
  return `  ${s.key.padEnd(width)}  ${show(s.value)}  <- ${originText(s.source)}`;
}

function formatText(e: Explanation): string {
  const out: string[] = [`${e.service.title} (${e.service.id})`];
  if (e.service.description !== undefined) out.push(`  ${e.service.description}`);
  const width = Math.max(...e.settings.map((s) => s.key.length));
  out.push("", "Settings (value <- where it came from):", ...e.settings.map((s) => settingLine(s, width)));
  out.push("", e.steps.length === 0 ? "Heal steps: none (monitor only)" : "Heal steps:");
  for (const st of e.steps) {
    const args = Object.keys(st.with).length === 0 ? "" : ` ${JSON.stringify(st.with)}`;
    out.push(
      `  ${st.index + 1}. ${st.action}${st.name === st.action ? "" : ` "${st.name}"`}${args}  <- ${originText(st.source)}`,
    );
  }
  out.push("", e.alerts.length === 0 ? "Alert rules: none apply" : "Alert rules:");
  for (const a of e.alerts) {
    out.push(`  ${a.rule} (${a.level})  <- ${originText(a.source)}`);
    for (const l of a.levelSettings) out.push(`    ${l.key} ${show(l.value)}  <- ${originText(l.source)}`);
    for (const c of a.channels) out.push(`    channel ${c.id} (${c.type})  <- ${originText(c.source)}`);
  }
  const h = e.history;
  out.push("", "History:");
  out.push(`  status: ${h.status}${h.since === null ? "" : ` since ${h.since}`}`);
  if (h.lastOutage !== null)
    out.push(
      `  last outage: ${h.lastOutage.start ?? "?"} to ${h.lastOutage.end ?? "now"}: ${h.lastOutage.cause}`,
    );
  if (h.lastProbeAt !== null)
    out.push(
      `  last probe: ${h.lastProbeAt}${h.lastDetail === "" ? "" : ` - ${h.lastDetail}`}${h.lastLatencyMs === null ? "" : ` (${h.lastLatencyMs} ms)`}`,
    );
  const gaveUp = h.breaker.gaveUp ? `; upkeep gave up (since ${h.breaker.failedSince ?? "?"})` : "";
  out.push(
    `  breaker: ${h.breaker.state}${h.breaker.isolated ? " (isolated)" : ""}${h.breaker.retryAt === null ? "" : ` until ${h.breaker.retryAt}`}, failed heals in a row: ${h.breaker.failures}${gaveUp}`,
  );
  const held = h.heals.refusedBy.map((r) =>
    r.until === null ? `${r.gate} (no end)` : `${r.gate} until ${r.until}`,
  );
  out.push(
    `  heals: ${h.heals.totals.healed} healed, ${h.heals.totals.failed} failed in all; budget left ${h.heals.budgetLeft}` +
      (held.length === 0 ? "" : `; held back by ${held.join(", ")}`) +
      (h.heals.nextAllowedAt === null ? "" : `; next heal allowed at ${h.heals.nextAllowedAt}`),
  );
  for (const r of h.heals.history)
    out.push(
      `    ${r.at ?? "?"} ${r.outcome}${r.forced ? ` (forced${r.by === null ? "" : ` by ${r.by}`})` : ""}`,
    );
  for (const a of h.alerts)
    out.push(
      `  alert ${a.rule} (${a.level}): ${a.status}${a.since === null ? "" : ` since ${a.since}`}, ${a.sent} sent`,
    );
  out.push(h.log.length === 0 ? "  log: no lines about it" : "  log:");
  for (const l of h.log) {
    const fields = Object.keys(l.fields).length === 0 ? "" : ` ${JSON.stringify(l.fields)}`;
    out.push(`    ${l.time ?? "?"} ${l.level} ${l.msg}${fields}`);
  }
  return `${out.join("\n")}\n`;
}
