/**
 * Prometheus text-format metrics (node_exporter textfile collector convention). `renderMetrics` is pure:
 * config + state after a tick -> the file's text. `writeMetrics` replaces the file atomically (a temp
 * file in the same directory, renamed over it; the temp name does not end in `.prom`, so the collector
 * never reads a half-written file). A metrics file that cannot be written never fails the tick.
 *
 * Counters come from state, never from the tick alone: heals_total reads HealState.totals, which every
 * recorded heal bumps (files written before totals existed count from 0).
 */
import { redactText } from "./redact.js";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { Config } from "../config/model.js";
import { canAttempt } from "../core/breaker.js";
import { alertKey, emptyBreaker, own, type UpkeepState } from "../core/state.js";
import { writeFileAtomic } from "./atomic-file.js";
import type { RuntimeLogger } from "./logger.js";

/** Readable by node_exporter, which often runs as another user. */
export const METRICS_FILE_MODE = 0o644;

const BREAKER_STATES = ["CLOSED", "OPEN", "HALF_OPEN"] as const;
const HEAL_OUTCOMES = ["healed", "failed"] as const;

export interface TickTiming {
  readonly startedAt: number;
  readonly finishedAt: number;
}

type Labels = Readonly<Record<string, string>>;
interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: "gauge" | "counter";
  readonly samples: { labels: Labels; value: number }[];
}

/** Label values escape backslash, double quote and newline (exposition format). */
export function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function renderFamily(f: Family): string[] {
  const lines = [`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`];
  for (const s of f.samples) {
    const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    lines.push(`${f.name}${labels.length === 0 ? "" : `{${labels.join(",")}}`} ${formatValue(s.value)}`);
  }
  return lines;
}

export function renderMetrics(config: Config, state: UpkeepState, tick: TickTiming): string {
  const now = tick.finishedAt;
  const services = config.services.filter((s) => s.enabled);
  const family = (name: string, type: Family["type"], help: string): Family => ({
    name,
    help,
    type,
    samples: [],
  });
  const up = family("upkeep_service_up", "gauge", "1 when the service's last probe passed, else 0.");
  const latency = family("upkeep_probe_latency_seconds", "gauge", "Latency of the service's last probe.");
  const breaker = family(
    "upkeep_breaker_state",
    "gauge",
    "Circuit breaker state: 1 for the current state, 0 for the others.",
  );
  const heals = family("upkeep_heals_total", "counter", "Heals run, by outcome.");
  const alerts = family(
    "upkeep_alerts_firing",
    "gauge",
    "1 while the alert rule fires for the service, else 0.",
  );
  for (const service of services) {
    const id = service.id;
    const record = own(state.services.services, id);
    if (record !== undefined) {
      up.samples.push({
        labels: { service: id, title: service.title },
        value: record.lastStatus === "up" ? 1 : 0,
      });
      latency.samples.push({ labels: { service: id }, value: record.lastLatencyMs / 1000 });
    }
    const current = canAttempt(
      service.breaker,
      own(state.breakers.breakers, id) ?? emptyBreaker(),
      now,
    ).state;
    for (const name of BREAKER_STATES)
      breaker.samples.push({ labels: { service: id, state: name }, value: name === current ? 1 : 0 });
    const totals = own(state.heals.heals, id)?.totals;
    for (const outcome of HEAL_OUTCOMES)
      heals.samples.push({ labels: { service: id, outcome }, value: totals?.[outcome] ?? 0 });
    for (const rule of config.alerts.rules) {
      if (rule.services.length > 0 && !rule.services.includes(id)) continue;
      const firing = own(state.alerts.alerts, alertKey(rule.id, id))?.status === "firing";
      alerts.samples.push({
        labels: { service: id, rule: rule.id, level: rule.level },
        value: firing ? 1 : 0,
      });
    }
  }
  const last = family(
    "upkeep_last_tick_timestamp_seconds",
    "gauge",
    "When the last tick finished (Unix time).",
  );
  last.samples.push({ labels: {}, value: tick.finishedAt / 1000 });
  const duration = family("upkeep_tick_duration_seconds", "gauge", "How long the last tick took.");
  duration.samples.push({ labels: {}, value: (tick.finishedAt - tick.startedAt) / 1000 });
  const families = [up, latency, breaker, heals, alerts, last, duration];
  return `${families.flatMap(renderFamily).join("\n")}\n`;
}

/** Writes the metrics file when `runtime.metrics` is configured; a failure is logged, never thrown. */
export async function writeMetrics(
  config: Config,
  state: UpkeepState,
  tick: TickTiming,
  logger: RuntimeLogger,
): Promise<void> {
  const file = config.runtime.metricsFile;
  if (file === undefined) return;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, redactText(renderMetrics(config, state, tick)), METRICS_FILE_MODE);
  } catch (error) {
    logger.warn({ file, err: String(error) }, "could not write the metrics file");
  }
}
