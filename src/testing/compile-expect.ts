/**
 * One `expect:` item -> checks placed at its ticks. Ids are checked against the Config here, so a typo
 * in an expectation is a diagnostic with a did-you-mean, not a puzzling failure.
 */
import { didYouMean, escapeSegment } from "../config/diagnostics.js";
import type { Position } from "../config/load.js";
import { servicesById } from "../core/decide.js";
import { suggest } from "../config/suggest.js";
import type { Reporter } from "./compile.js";
import { mapFactIds } from "./ids.js";
import type { Check, PlacedCheck, RawAlertExpectation, RawExpectation, RawHealExpectation } from "./model.js";
import { ticksOf, timeOf } from "./moment.js";

interface Timing {
  readonly ticks: number;
  readonly startMs: number;
  readonly intervalMs: number;
}

const KEYS = ["status", "breaker", "heals", "alerts", "alertTotals", "facts"] as const;

export function compileExpectation(
  e: RawExpectation,
  base: string,
  timing: Timing,
  r: Reporter,
  nextGroup: () => number,
): PlacedCheck[] | undefined {
  let ok = true;
  const when = ticksOf(e.at, timing.intervalMs);
  if (!when.ok) {
    r.error(`${base}/at`, "invalid-value", when.message, when.hint === undefined ? {} : { hint: when.hint });
    return undefined;
  }
  if (when.last > timing.ticks) {
    r.error(
      `${base}/at`,
      "out-of-range",
      `tick ${when.last} is after the last tick of this test (${timing.ticks})`,
      {
        hint: "lengthen a series or set `ticks`",
      },
    );
    ok = false;
  }
  if (!KEYS.some((k) => e[k] !== undefined)) {
    r.error(base, "missing-key", `an expectation needs at least one of ${KEYS.join(", ")} next to \`at\``);
    return undefined;
  }
  const checks: { check: Check; pointer: string }[] = [];
  const add = (check: Check, pointer: string): void => {
    checks.push({ check, pointer });
  };
  /** The Config's id of a service the expectation names, or undefined (reported) when there is none. */
  const service = (written: string, pointer: string): string | undefined => {
    const id = r.ids.service(written);
    if (servicesById(r.config).has(id)) return id;
    const hint = r.hint(
      written,
      r.config.services.map((s) => s.id),
    );
    r.error(pointer, "unknown-service", `the rules have no service ${r.ids.describe(written)}`, {
      atKey: true,
      ...(hint === undefined ? {} : { hint }),
    });
    ok = false;
    return undefined;
  };

  for (const [written, expected] of Object.entries(e.status ?? {})) {
    const p = `${base}/status/${escapeSegment(written)}`;
    const id = service(written, p);
    if (id !== undefined) add({ kind: "status", service: id, expected }, p);
  }
  for (const [written, expected] of Object.entries(e.breaker ?? {})) {
    const p = `${base}/breaker/${escapeSegment(written)}`;
    const id = service(written, p);
    if (id !== undefined) add({ kind: "breaker", service: id, expected }, p);
  }
  for (const [written, expected] of Object.entries(e.heals ?? {})) {
    const p = `${base}/heals/${escapeSegment(written)}`;
    const id = service(written, p);
    if (id === undefined) continue;
    if (typeof expected === "string") add({ kind: "heal", service: id, field: "outcome", expected }, p);
    else if (!healChecks(id, expected, p, timing, r, add)) ok = false;
  }
  if (e.alerts !== undefined) {
    if (!e.alerts.every((a, i) => alertIdsKnown(a, `${base}/alerts/${i}`, r))) ok = false;
    add({ kind: "alerts", expected: e.alerts.map((a) => mapAlertIds(a, r)) }, `${base}/alerts`);
  }
  for (const [level, expected] of Object.entries(e.alertTotals ?? {})) {
    const p = `${base}/alertTotals/${escapeSegment(level)}`;
    if (known(level, Object.keys(r.config.alerts.levels), p, "unknown-level", "level", r)) {
      add({ kind: "alertTotal", level, expected }, p);
    } else ok = false;
  }
  for (const [written, expected] of Object.entries(e.facts ?? {})) {
    const p = `${base}/facts/${escapeSegment(written)}`;
    const id = service(written, p);
    if (id !== undefined) add({ kind: "fact", service: id, expected: mapFactIds(expected, r.ids) }, p);
  }
  if (!ok) return undefined;

  const placed: PlacedCheck[] = [];
  for (const { check, pointer } of checks) {
    // Found when a failure is reported: finding a key walks its YAML map, so finding all of them up
    // front costs the square of an expectation listing every service.
    let position: Position | undefined;
    const at = (): Position => (position ??= r.position(pointer));
    const group = nextGroup();
    for (let tick = when.first; tick <= when.last; tick++)
      placed.push({
        check,
        tick,
        pointer,
        get position() {
          return at();
        },
        group,
      });
  }
  return placed;
}

function healChecks(
  id: string,
  h: RawHealExpectation,
  base: string,
  timing: Timing,
  r: Reporter,
  add: (check: Check, pointer: string) => void,
): boolean {
  const p = (key: string): string => `${base}/${key}`;
  if (h.attempted !== undefined)
    add({ kind: "heal", service: id, field: "attempted", expected: h.attempted }, p("attempted"));
  if (h.outcome !== undefined)
    add({ kind: "heal", service: id, field: "outcome", expected: h.outcome }, p("outcome"));
  if (h.refused !== undefined)
    add({ kind: "heal", service: id, field: "refused", expected: h.refused }, p("refused"));
  if (h.skipped !== undefined)
    add({ kind: "heal", service: id, field: "skipped", expected: h.skipped }, p("skipped"));
  if (h.trial !== undefined)
    add({ kind: "heal", service: id, field: "trial", expected: h.trial }, p("trial"));
  if (h.steps !== undefined)
    add({ kind: "heal", service: id, field: "steps", expected: h.steps }, p("steps"));
  if (h.budgetLeft !== undefined)
    add({ kind: "heal", service: id, field: "budgetLeft", expected: h.budgetLeft }, p("budgetLeft"));
  if (h.nextAllowed !== undefined) {
    const at = timeOf(h.nextAllowed, timing.startMs, timing.intervalMs);
    if (at === undefined) {
      r.error(
        p("nextAllowed"),
        "invalid-value",
        "nextAllowed is one tick number or a time since tick 1 like 60m, not a range",
      );
      return false;
    }
    add({ kind: "heal", service: id, field: "nextAllowed", expected: at }, p("nextAllowed"));
  }
  return true;
}

function mapAlertIds(a: RawAlertExpectation, r: Reporter): RawAlertExpectation {
  return {
    ...a,
    ...(a.rule === undefined ? {} : { rule: r.ids.rule(a.rule) }),
    ...(a.service === undefined ? {} : { service: r.ids.service(a.service) }),
  };
}

function alertIdsKnown(a: RawAlertExpectation, base: string, r: Reporter): boolean {
  const alerts = r.config.alerts;
  const results = [
    a.rule === undefined ||
      known(
        a.rule,
        alerts.rules.map((x) => x.id),
        `${base}/rule`,
        "invalid-value",
        "alert rule",
        r,
        r.ids.rule,
      ),
    a.service === undefined ||
      known(
        a.service,
        r.config.services.map((s) => s.id),
        `${base}/service`,
        "unknown-service",
        "service",
        r,
        r.ids.service,
      ),
    a.level === undefined ||
      known(a.level, Object.keys(alerts.levels), `${base}/level`, "unknown-level", "level", r),
    (a.channels ?? []).every((c, i) =>
      known(c, Object.keys(alerts.channels), `${base}/channels/${i}`, "unknown-channel", "channel", r),
    ),
  ];
  return results.every(Boolean);
}

function known(
  value: string,
  ids: readonly string[],
  pointer: string,
  code: "invalid-value" | "unknown-service" | "unknown-level" | "unknown-channel",
  what: string,
  r: Reporter,
  /** Service and rule ids map (ids.ts); levels and channels are always the consumer's own. */
  map?: (written: string) => string,
): boolean {
  if (ids.includes(map === undefined ? value : map(value))) return true;
  const hint = map === undefined ? didYouMean(suggest(value, ids)) : r.hint(value, ids);
  const shown = map === undefined ? `"${value}"` : r.ids.describe(value);
  r.error(pointer, code, `the rules have no ${what} ${shown}`, hint === undefined ? {} : { hint });
  return false;
}
