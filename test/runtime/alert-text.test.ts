import { describe, expect, it } from "vitest";
import type { ServiceFacts } from "../../src/core/facts.js";
import {
  alertText,
  eventView,
  headline,
  renderTemplate,
  stripTag,
  toneOf,
} from "../../src/runtime/alert-text.js";
import { alertEvent, T0 } from "../actions/channels/recorder.js";
import { MINUTE, HOUR, rule } from "../core/config-fixture.js";

const facts: ServiceFacts = {
  service: { id: "boss-api", title: "Boss API", tags: [] },
  status: "down",
  detail: "connect ECONNREFUSED 127.0.0.1:4000",
  latencyMs: 2,
  consecutiveFailures: 3,
  consecutiveSuccesses: 0,
  since: T0 - 10 * MINUTE,
  breaker: "OPEN",
  gaveUp: true,
  flapping: false,
  outages: 1,
  heal: {
    outcome: "refused",
    // Both hold it back; the cooldown ends later, so it is the reason.
    reason: "cooldown",
    refusedBy: ["breaker-open", "cooldown"],
    forced: false,
    nextAllowedAt: T0 + 5 * MINUTE,
    budgetLeft: 1,
    failedInRow: 5,
    failedSince: T0 - 30 * MINUTE,
  },
  blockedBy: [],
};
const noHeal: ServiceFacts["heal"] = {
  outcome: "none",
  reason: "",
  refusedBy: [],
  forced: false,
  nextAllowedAt: T0,
  budgetLeft: 3,
  failedInRow: 0,
  failedSince: null,
};
const ctx = { serviceId: "boss-api", since: T0, now: T0, count: 1 };

describe("alert messages", () => {
  it("has defaults for firing, reminder and resolved with the alert's facts", () => {
    expect(alertText("firing", "CRITICAL", undefined, facts, ctx)).toBe(
      "[CRITICAL] Boss API is down: connect ECONNREFUSED 127.0.0.1:4000 " +
        "(3 failed checks; down since 2025-06-01T11:50:00Z; not healed: cooldown)",
    );
    expect(
      alertText(
        "reminder",
        "CRITICAL",
        undefined,
        { ...facts, consecutiveFailures: 15 },
        { ...ctx, now: T0 + HOUR, count: 2 },
      ),
    ).toBe(
      "[CRITICAL] Boss API is still down after 1h10m: connect ECONNREFUSED 127.0.0.1:4000 " +
        "(15 failed checks; down since 2025-06-01T11:50:00Z; not healed: cooldown; reminder 1)",
    );
    const up: ServiceFacts = { ...facts, status: "up", heal: noHeal };
    expect(alertText("resolved", "CRITICAL", undefined, up, { ...ctx, now: T0 + 3 * HOUR })).toBe(
      "[RESOLVED] Boss API is up again (CRITICAL alert lasted 3h, since 2025-06-01T12:00:00Z)",
    );
    expect(
      alertText(
        "firing",
        "WARNING",
        undefined,
        { ...facts, status: "blocked", blockedBy: ["health-proxy"], heal: up.heal, detail: "" },
        ctx,
      ),
    ).toBe(
      "[WARNING] Boss API is blocked by health-proxy (3 failed checks; blocked since 2025-06-01T11:50:00Z)",
    );
  });

  it("says nothing about healing a monitor-only service, and counts checks in the singular too", () => {
    const monitored: ServiceFacts = {
      ...facts,
      consecutiveFailures: 1,
      heal: { ...noHeal, outcome: "skipped", reason: "no-steps", nextAllowedAt: null, budgetLeft: 0 },
    };
    expect(alertText("firing", "CRITICAL", undefined, monitored, ctx)).toBe(
      "[CRITICAL] Boss API is down: connect ECONNREFUSED 127.0.0.1:4000 (1 failed check; down since 2025-06-01T11:50:00Z)",
    );
  });

  it("renders a rule's templates from the facts (since as an ISO time), tagged by kind", () => {
    const r = rule("down", "CRITICAL", {
      message: "${{ service.title }} down since ${{ since }}: ${{ detail }} (heal ${{ heal.outcome }})",
      resolvedMessage: "${{ service.title }} recovered",
    });
    expect(alertText("firing", "CRITICAL", r, facts, ctx)).toBe(
      "[CRITICAL] Boss API down since 2025-06-01T11:50:00Z: connect ECONNREFUSED 127.0.0.1:4000 (heal refused)",
    );
    expect(alertText("reminder", "CRITICAL", r, facts, { ...ctx, count: 3 })).toMatch(
      /^\[CRITICAL\] \(reminder 2\) Boss API down/,
    );
    expect(alertText("resolved", "CRITICAL", r, facts, ctx)).toBe("[RESOLVED] Boss API recovered");
    expect(renderTemplate("${{ nope.x }} ${{ consecutiveFailures }}", facts)).toBe("${{ nope.x }} 3");
  });

  it("renders heal.nextAllowedAt and heal.failedSince as ISO times, and never when no end is known", () => {
    const gaveUp = rule("healing-gave-up", "CRITICAL", {
      message:
        "gave up on ${{ service.title }}: ${{ heal.failedInRow }} heals failed since ${{ heal.failedSince }}; " +
        "tries again at ${{ heal.nextAllowedAt }}",
    });
    expect(alertText("firing", "CRITICAL", gaveUp, facts, ctx)).toBe(
      "[CRITICAL] gave up on Boss API: 5 heals failed since 2025-06-01T11:30:00Z; " +
        "tries again at 2025-06-01T12:05:00Z",
    );
    const isolated: ServiceFacts = {
      ...facts,
      heal: { ...facts.heal, nextAllowedAt: null, failedSince: null },
    };
    expect(renderTemplate("${{ heal.nextAllowedAt }} ${{ heal.failedSince }}", isolated)).toBe("never never");
    expect(renderTemplate("${{ outages }} outages, flapping: ${{ flapping }}", facts)).toBe(
      "1 outages, flapping: false",
    );
  });

  it("builds rich views: tone by level, title, body without the tag, facts as fields", () => {
    expect(
      ["CRITICAL", "WARNING", "INFO", "page", "warn"].map((level) => toneOf({ kind: "firing", level })),
    ).toEqual(["critical", "warning", "info", "critical", "warning"]);
    expect(toneOf({ kind: "resolved", level: "CRITICAL" })).toBe("resolved");
    const view = eventView(alertEvent(), T0);
    expect(view.title).toBe("CRITICAL: Boss API is down");
    expect(view.body).toBe(stripTag(alertEvent().message));
    expect(view.fields.map((f) => f.name)).toEqual(["Status", "Since", "Failed checks", "Heal", "Notice"]);
    expect(stripTag("[CRITICAL] (reminder 2) X is down")).toBe("X is down");
    expect(headline([alertEvent(), alertEvent({ kind: "resolved" })], T0)).toBe(
      "2 alerts: 1 CRITICAL firing, 1 resolved",
    );
  });
});
