/**
 * Alert messages. Plain text (log, command, webhook `text`, the grouped summary) comes from a rule's own
 * template (`${{ service.title }} is down: ${{ detail }}`) or a default per kind; the rich channels
 * (discord, slack) add a title, a tone and fields built from the same facts. Facts are data: rendering
 * never evaluates anything.
 */
import type { AlertEvent } from "../actions/types.js";
import { renderString } from "../config/template.js";
import type { AlertRule } from "../config/model.js";
import type { ServiceFacts } from "../core/facts.js";
import { formatDuration } from "../duration.js";

export type AlertKind = "firing" | "reminder" | "resolved";

export interface TextContext {
  readonly serviceId: string;
  /** Epoch ms the alert episode started firing. */
  readonly since: number;
  /** Epoch ms of the tick producing the notice. */
  readonly now: number;
  /** Notices of the episode so far, this one included. */
  readonly count?: number;
}

/** `2025-06-01T12:00:00Z`: second precision is what people read; milliseconds are noise. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function lasted(from: number, to: number): string {
  return formatDuration(Math.max(0, to - from));
}

export function alertText(
  kind: AlertKind,
  level: string,
  rule: AlertRule | undefined,
  facts: ServiceFacts | undefined,
  ctx: TextContext,
): string {
  const template = kind === "resolved" ? rule?.resolvedMessage : rule?.message;
  const tag = kind === "resolved" ? "[RESOLVED]" : `[${level}]`;
  const reminder =
    kind === "reminder" ? ` (reminder${ctx.count === undefined ? "" : ` ${ctx.count - 1}`})` : "";
  if (template !== undefined && facts !== undefined) {
    return `${tag}${reminder} ${renderTemplate(template, facts)}`;
  }
  return `${tag} ${defaultBody(kind, level, facts, ctx)}`;
}

function defaultBody(
  kind: AlertKind,
  level: string,
  facts: ServiceFacts | undefined,
  ctx: TextContext,
): string {
  const title = facts?.service.title ?? ctx.serviceId;
  if (kind === "resolved") {
    return `${title} is ${facts?.status ?? "up"} again (${level} alert lasted ${lasted(ctx.since, ctx.now)}, since ${isoTime(ctx.since)})`;
  }
  const status = facts?.status ?? "down";
  const detail = facts?.detail === undefined || facts.detail === "" ? "" : `: ${facts.detail}`;
  const parts: string[] = [];
  if (facts !== undefined) {
    parts.push(checks(facts.consecutiveFailures), `${status} since ${isoTime(facts.since)}`);
    const heal = healText(facts.heal);
    if (heal !== undefined) parts.push(heal);
  }
  if (kind === "reminder") {
    const down = facts === undefined ? lasted(ctx.since, ctx.now) : lasted(facts.since, ctx.now);
    const n = ctx.count === undefined ? "" : `; reminder ${ctx.count - 1}`;
    return `${title} is still ${status} after ${down}${detail} (${parts.join("; ")}${n})`;
  }
  const blocked = status === "blocked" && facts !== undefined ? ` by ${facts.blockedBy.join(", ")}` : "";
  return `${title} is ${status}${blocked}${detail}${parts.length === 0 ? "" : ` (${parts.join("; ")})`}`;
}

function checks(n: number): string {
  return `${n} failed check${n === 1 ? "" : "s"}`;
}

/** Nothing to say when the service has no heal steps or is disabled: that is how it is configured. */
const QUIET_SKIPS = new Set(["no-steps", "disabled"]);

/** One phrase for the heal outcome of the tick, or undefined when nothing was tried or refused. */
export function healText(heal: ServiceFacts["heal"] | undefined): string | undefined {
  if (heal === undefined) return undefined;
  const reason = heal.reason === "" ? "" : `: ${heal.reason}`;
  switch (heal.outcome) {
    case "healed":
      return "healed this tick";
    case "failed":
      return `heal failed${reason}`;
    case "refused":
      return `not healed${reason}`;
    case "skipped":
      return QUIET_SKIPS.has(heal.reason) ? undefined : `not healed${reason}`;
    default:
      return undefined;
  }
}

/** Facts that hold epoch ms. */
const TIME_FACTS: ReadonlySet<string> = new Set(["since", "heal.nextAllowedAt", "heal.failedSince"]);

/**
 * Renders a rule template against the facts. Times (`since`, `heal.nextAllowedAt`, `heal.failedSince`)
 * read as ISO times, or `never` when absent, because a message is for people (conditions still see the
 * epoch number).
 */
export function renderTemplate(template: string, facts: ServiceFacts): string {
  return String(
    renderString(template, (ref) => {
      if (ref.kind !== "expr") return undefined;
      const value = lookup(facts, ref.path);
      if (TIME_FACTS.has(ref.path.join("."))) return typeof value === "number" ? isoTime(value) : "never";
      return value;
    }),
  );
}

function lookup(facts: ServiceFacts, path: readonly string[]): unknown {
  let value: unknown = facts;
  for (const key of path) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

// ---- rich formats (discord, slack) ----

export type Tone = "critical" | "warning" | "info" | "resolved";

/** Levels are user-named; the usual names map to the usual colours. */
export function toneOf(event: Pick<AlertEvent, "kind" | "level">): Tone {
  if (event.kind === "resolved") return "resolved";
  const level = event.level.toLowerCase();
  if (/crit|fatal|emerg|page|error/.test(level)) return "critical";
  if (/warn/.test(level)) return "warning";
  return "info";
}

export interface Field {
  readonly name: string;
  readonly value: string;
}

export interface EventView {
  readonly tone: Tone;
  /** e.g. `CRITICAL: Boss API is down`, `Resolved: Boss API is up again`. */
  readonly title: string;
  /** The plain message without its `[LEVEL]` tag. */
  readonly body: string;
  readonly fields: readonly Field[];
}

/** The message without its leading `[LEVEL]` / `(reminder N)` tags. */
export function stripTag(message: string): string {
  return message.replace(/^\[[^\]]*\]\s*(\(reminder[^)]*\)\s*)?/, "");
}

function factsOf(event: AlertEvent): Partial<ServiceFacts> {
  return event.facts as Partial<ServiceFacts>;
}

export function eventView(event: AlertEvent, now: number): EventView {
  const f = factsOf(event);
  const tone = toneOf(event);
  const name = event.serviceTitle;
  const fields: Field[] = [];
  if (event.kind === "resolved") {
    fields.push({ name: "Status", value: f.status ?? "up" });
    fields.push({
      name: "Alert lasted",
      value: `${lasted(event.since, now)} (since ${isoTime(event.since)})`,
    });
  } else {
    const since = typeof f.since === "number" ? f.since : event.since;
    fields.push({ name: "Status", value: `${f.status ?? "down"} for ${lasted(since, now)}` });
    fields.push({ name: "Since", value: isoTime(since) });
    if (typeof f.consecutiveFailures === "number") {
      fields.push({ name: "Failed checks", value: String(f.consecutiveFailures) });
    }
    const heal = healText(f.heal);
    if (heal !== undefined) fields.push({ name: "Heal", value: heal });
    if (f.breaker !== undefined && f.breaker !== "CLOSED") fields.push({ name: "Breaker", value: f.breaker });
    if (f.blockedBy !== undefined && f.blockedBy.length > 0) {
      fields.push({ name: "Waiting for", value: f.blockedBy.join(", ") });
    }
  }
  fields.push({ name: "Notice", value: `${event.kind} #${event.count} (${event.ruleId})` });
  const verb =
    event.kind === "resolved"
      ? `${name} is ${f.status ?? "up"} again`
      : `${name} is ${event.kind === "reminder" ? "still " : ""}${f.status ?? "down"}`;
  const title = event.kind === "resolved" ? `Resolved: ${verb}` : `${event.level}: ${verb}`;
  return { tone, title, body: stripTag(event.message), fields };
}

/** One line for a whole notification: the event's title, or a count by kind for a group. */
export function headline(events: readonly AlertEvent[], now: number): string {
  const [only] = events;
  if (events.length === 1 && only !== undefined) return eventView(only, now).title;
  const counts = new Map<string, number>();
  for (const e of events) {
    const key = e.kind === "resolved" ? "resolved" : `${e.level} ${e.kind}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const parts = [...counts].map(([key, n]) => `${n} ${key}`);
  return `${events.length} alerts: ${parts.join(", ")}`;
}

/** Cuts text to `max` characters (code units), marking the cut with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
