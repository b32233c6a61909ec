/**
 * Alert messages: a rule's own template (`${{ service.title }} is down: ${{ detail }}`) or a default
 * per kind. Facts are data; rendering never evaluates anything.
 */
import { renderString } from "../config/template.js";
import type { AlertRule } from "../config/model.js";
import type { ServiceFacts } from "../core/facts.js";
import { formatDuration } from "../duration.js";

export type AlertKind = "firing" | "reminder" | "resolved";

export function alertText(
  kind: AlertKind,
  level: string,
  rule: AlertRule | undefined,
  facts: ServiceFacts | undefined,
  fallback: { serviceId: string; since: number; now: number },
): string {
  const title = facts?.service.title ?? fallback.serviceId;
  const lasted = formatDuration(Math.max(0, fallback.now - fallback.since));
  const template = kind === "resolved" ? rule?.resolvedMessage : rule?.message;
  if (template !== undefined && facts !== undefined) {
    const body = String(
      renderString(template, (ref) => (ref.kind === "expr" ? lookup(facts, ref.path) : undefined)),
    );
    return kind === "resolved" ? `[RESOLVED] ${body}` : `[${level}]${kind === "reminder" ? " (still firing)" : ""} ${body}`;
  }
  switch (kind) {
    case "firing":
      return `[${level}] ${title} is ${facts?.status ?? "down"}: ${facts?.detail ?? ""} (${facts?.consecutiveFailures ?? 0} failed checks)`.trim();
    case "reminder":
      return `[${level}] ${title} is still ${facts?.status ?? "down"} after ${lasted}: ${facts?.detail ?? ""}`.trim();
    case "resolved":
      return `[RESOLVED] ${title} is ${facts?.status ?? "up"} again (${level} alert lasted ${lasted})`;
  }
}

function lookup(facts: ServiceFacts, path: readonly string[]): unknown {
  let value: unknown = facts;
  for (const key of path) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
