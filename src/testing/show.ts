/** Values in test reports, written the way test files write them (YAML flow style). */
import type { AlertIntent } from "../core/alerts.js";
import type { RawAlertExpectation } from "./model.js";

const PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_.:/~*@+-]*( [A-Za-z0-9_.:/~*@+()-]+)*$/;

export function show(value: unknown): string {
  if (typeof value === "string")
    return PLAIN.test(value) && !/^(true|false|null|~)$/.test(value) ? value : JSON.stringify(value);
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => `${show(k)}: ${show(v)}`);
    return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
  }
  return String(value);
}

/** An alert notice the way an `alerts:` item is written. */
export function showIntent(intent: AlertIntent): string {
  return show({
    rule: intent.ruleId,
    service: intent.serviceId,
    level: intent.level,
    kind: intent.kind,
    channels: [...intent.channels],
    count: intent.count,
  });
}

export function showExpectedAlert(alert: RawAlertExpectation): string {
  return show(alert);
}

/** `*` matches any text (including none); everything else literally. */
export function globMatches(pattern: string, text: string): boolean {
  if (!pattern.includes("*")) return pattern === text;
  const parts = pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join("[\\s\\S]*")}$`).test(text);
}

/** `tick 4` or `ticks 1-3, 7` from sorted tick numbers. */
export function ticksPhrase(ticks: readonly number[]): string {
  return `${ticks.length === 1 ? "tick" : "ticks"} ${tickRanges(ticks)}`;
}

/** `1-3, 7, 9-12` from sorted tick numbers (at most `limit` ranges, then `...`). */
export function tickRanges(ticks: readonly number[], limit = 5): string {
  const ranges: string[] = [];
  let i = 0;
  while (i < ticks.length && ranges.length < limit) {
    const first = ticks[i] as number;
    let last = first;
    while (i + 1 < ticks.length && ticks[i + 1] === last + 1) last = ticks[++i] as number;
    ranges.push(first === last ? `${first}` : `${first}-${last}`);
    i++;
  }
  return i < ticks.length ? `${ranges.join(", ")}, ...` : ranges.join(", ");
}
