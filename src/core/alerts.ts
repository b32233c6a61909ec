/**
 * The alert policy for one alert (one rule applied to one service), stepped once per tick in which the
 * service was observed.
 *
 * - It fires when the condition held for `level.threshold` (or the rule's `threshold`) consecutive ticks,
 *   then reminds every `level.cooldownMs` (or the rule's `cooldown`) while the condition keeps holding. At
 *   most one notice per step.
 * - A firing alert resolves once the condition failed `level.resolveAfter` consecutive ticks (hysteresis:
 *   a flapping service does not page and resolve every tick); a tick that holds again continues it.
 * - A blocked service (a dependency is down) is not judged: its firing alerts stay firing, muted.
 * - Muting (a silence, or inhibition because a dependency is down) never changes the state machine, only
 *   what is sent: a muted alert still becomes "firing". Reminders that fall due while muted are skipped
 *   (the schedule moves on), not queued. A firing alert nobody was told about is announced with a
 *   "firing" notice at the first unmuted tick it still holds.
 * - Resolved: when a firing alert stops matching, one resolved notice is sent if the rule asks for it and
 *   a firing notice went out for this episode. Inhibition never holds a resolution back. A silence does:
 *   the notice waits for the first tick without the silence; if the alert fires again before then, the
 *   episode simply continues (from the recipients' view it never resolved), so nothing is lost or doubled.
 * - `count` in a notice is the number of notices of the episode including this one.
 */
import type { AlertRule, Config, JsonLogic, LevelSpec, Silence } from "../config/model.js";
import type { ServiceFacts } from "./facts.js";
import { isSilenced } from "./silence.js";
import {
  alertKey,
  own,
  recordFrom,
  sameEntries,
  withEntry,
  type AlertsState,
  type AlertState,
} from "./state.js";

export type AlertIntentKind = "firing" | "reminder" | "resolved";

export interface AlertIntent {
  kind: AlertIntentKind;
  ruleId: string;
  serviceId: string;
  /** Level id. */
  level: string;
  channels: readonly string[];
  /** Epoch ms the episode started firing. */
  since: number;
  count: number;
  /** Epoch ms of the tick that produced the notice. */
  at: number;
}

export interface AlertStepOptions {
  serviceId: string;
  /** A silence covers this service and level now. */
  silenced: boolean;
  /** A dependency of the service is down (the service is blocked). */
  inhibited: boolean;
}

export interface AlertStep {
  state: AlertState;
  intent?: AlertIntent;
  /** A notice was due and a silence (or a down dependency) held it back: which kind. */
  muted?: AlertIntentKind;
}

/** A notice held back this tick, so `run` can say an alert fired but was silenced. */
export interface MutedNotice {
  kind: AlertIntentKind;
  ruleId: string;
  serviceId: string;
  level: string;
  /** `silenced` (a silence covers it) or `inhibited` (a dependency is down). */
  why: "silenced" | "inhibited";
}

/** Same shape as `evaluateLogic` in src/config/logic.ts. */
export type EvaluateLogic = (expr: JsonLogic, data: Record<string, unknown>) => unknown;

export interface AlertEvaluation {
  /** Config silences plus ad-hoc ones. */
  silences: readonly Silence[];
  evaluate: EvaluateLogic;
}

export interface AlertRuleError {
  ruleId: string;
  serviceId: string;
  message: string;
}

export function emptyAlert(): AlertState {
  return {
    status: "inactive",
    streak: 0,
    since: null,
    notified: false,
    sent: 0,
    lastSentAt: null,
    nextReminderAt: null,
    resolvedPending: false,
    totalSent: 0,
    lastResolvedAt: null,
  };
}

export function stepAlert(
  level: LevelSpec,
  rule: AlertRule,
  state: AlertState | undefined,
  matches: boolean,
  now: number,
  opts: AlertStepOptions,
): AlertStep {
  const prev = state ?? emptyAlert();
  const send = (s: AlertState, kind: AlertIntentKind): AlertStep => ({
    state: { ...s, sent: s.sent + 1, totalSent: s.totalSent + 1, lastSentAt: now },
    intent: {
      kind,
      ruleId: rule.id,
      serviceId: opts.serviceId,
      level: level.id,
      channels: level.channels,
      since: s.since ?? now,
      count: s.sent + 1,
      at: now,
    },
  });
  const resolve = (s: AlertState): AlertStep => {
    const sent = send(s, "resolved");
    return { state: endEpisode(sent.state), intent: sent.intent };
  };

  if (!matches) {
    if (prev.status === "firing") {
      // Blocked says nothing about the service itself: the episode goes on, muted, until it is judged again.
      if (opts.inhibited) return { state: prev };
      const clear = (prev.clearStreak ?? 0) + 1;
      if (clear < Math.max(1, level.resolveAfter)) return { state: { ...prev, clearStreak: clear } };
    }
    // Most alerts at most ticks: nothing held and nothing to clear, so the state stays the same object.
    if (
      prev.status === "inactive" &&
      prev.streak === 0 &&
      prev.clearStreak === undefined &&
      !prev.resolvedPending
    )
      return { state: prev };
    const cleared: AlertState = withoutClearStreak({ ...prev, status: "inactive", streak: 0 });
    if (prev.status === "firing") {
      const ended = { ...cleared, lastResolvedAt: now };
      if (!(prev.notified && rule.sendResolved)) return { state: endEpisode(ended) };
      return opts.silenced
        ? { state: { ...ended, resolvedPending: true }, muted: "resolved" }
        : resolve(ended);
    }
    return prev.resolvedPending && !opts.silenced ? resolve(cleared) : { state: cleared };
  }

  const streak = prev.streak + 1;
  const reminderMs = rule.cooldownMs ?? level.cooldownMs;
  if (prev.status === "firing")
    return remind(withoutClearStreak({ ...prev, streak }), reminderMs, now, opts, send);
  if (streak < Math.max(1, rule.threshold ?? level.threshold)) {
    const pending: AlertState = { ...prev, status: "pending", streak };
    if (!prev.resolvedPending || opts.silenced) return { state: pending };
    const sent = resolve(pending);
    return { state: { ...sent.state, status: "pending", streak }, intent: sent.intent };
  }
  if (prev.resolvedPending) {
    // Fired again before its resolution could be announced: the announced episode goes on.
    return remind({ ...prev, status: "firing", streak, resolvedPending: false }, reminderMs, now, opts, send);
  }
  const firing: AlertState = { ...endEpisode(prev), status: "firing", streak, since: now };
  return remind(firing, reminderMs, now, opts, send);
}

/** A firing alert that still holds: first notice if none went out yet, else a reminder when due. */
function remind(
  s: AlertState,
  reminderMs: number,
  now: number,
  opts: AlertStepOptions,
  send: (s: AlertState, kind: AlertIntentKind) => AlertStep,
): AlertStep {
  const muted = opts.silenced || opts.inhibited;
  const cooldown = Math.max(0, reminderMs);
  if (!s.notified) {
    if (muted) return { state: s, muted: "firing" };
    return send({ ...s, notified: true, nextReminderAt: now + cooldown }, "firing");
  }
  // A clock that went backwards must not postpone reminders by more than one interval.
  const due = Math.min(s.nextReminderAt ?? now, now + cooldown);
  if (now < due) return { state: due === s.nextReminderAt ? s : { ...s, nextReminderAt: due } };
  if (!muted) return send({ ...s, nextReminderAt: now + cooldown }, "reminder");
  const skipped = cooldown === 0 ? now : due + (Math.floor((now - due) / cooldown) + 1) * cooldown;
  return { state: { ...s, nextReminderAt: skipped }, muted: "reminder" };
}

function withoutClearStreak(s: AlertState): AlertState {
  if (s.clearStreak === undefined) return s;
  const { clearStreak: _cleared, ...rest } = s;
  return rest;
}

function endEpisode(s: AlertState): AlertState {
  return { ...s, since: null, notified: false, sent: 0, nextReminderAt: null, resolvedPending: false };
}

/**
 * Steps every alert (rule x service, `rule.services` empty = all) of the services that have facts this
 * tick; alerts of services without facts stay as they were. Alerts whose rule, level or service left the
 * config are dropped. A condition that throws is reported and leaves its alert as it was.
 */
export function evaluateAlerts(
  config: Config,
  previous: AlertsState,
  facts: Readonly<Record<string, ServiceFacts>>,
  now: number,
  opts: AlertEvaluation,
): { state: AlertsState; intents: AlertIntent[]; muted: MutedNotice[]; errors: AlertRuleError[] } {
  const alerts = new Map<string, AlertState>();
  const intents: AlertIntent[] = [];
  const muted: MutedNotice[] = [];
  const errors: AlertRuleError[] = [];
  let totals = { ...previous.totals };
  const allIds = config.services.map((s) => s.id);
  for (const rule of config.alerts.rules) {
    const level = own(config.alerts.levels, rule.level);
    if (level === undefined) continue;
    const targets = rule.services.length === 0 ? allIds : allIds.filter((id) => rule.services.includes(id));
    for (const serviceId of targets) {
      const key = alertKey(rule.id, serviceId);
      let next = own(previous.alerts, key);
      const serviceFacts = own(facts, serviceId);
      if (serviceFacts !== undefined) {
        try {
          const matches = truthy(opts.evaluate(rule.when, { ...serviceFacts }));
          const silenced = isSilenced(opts.silences, serviceId, level.id, now);
          const inhibited = serviceFacts.status === "blocked";
          const step = stepAlert(level, rule, next, matches, now, { serviceId, silenced, inhibited });
          next = step.state;
          if (step.intent !== undefined) {
            intents.push(step.intent);
            totals = withEntry(totals, level.id, (own(totals, level.id) ?? 0) + 1);
          }
          if (step.muted !== undefined)
            muted.push({
              kind: step.muted,
              ruleId: rule.id,
              serviceId,
              level: level.id,
              why: silenced ? "silenced" : "inhibited",
            });
        } catch (error) {
          errors.push({
            ruleId: rule.id,
            serviceId,
            message: error instanceof Error ? error.message : String(error),
          });
        }
      }
      if (next !== undefined) alerts.set(key, next);
    }
  }
  // No notice and every alert as it was (most ticks): the same object, so its file is left alone.
  const same = intents.length === 0 && sameEntries(previous.alerts, alerts);
  return {
    state: same ? previous : { version: 1, alerts: recordFrom(alerts), totals },
    intents,
    muted,
    errors,
  };
}

/** json-logic truthiness: an empty array is false. */
function truthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}
