/** `upkeep status` on state produced by real ticks (a real HTTP service, a real webhook receiver). */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runMain } from "../schedule/helpers.js";
import { healThenRefuse, opsFixture, type OpsFixture } from "./ops-fixture.js";

let f: OpsFixture;
beforeEach(async () => {
  f = await opsFixture();
});
afterEach(async () => {
  await f.close();
});

const status = (...args: string[]) => runMain(["status", ...args, "--rules", f.rules]);

interface StatusDoc {
  tickRunning: boolean;
  services: {
    id: string;
    status: string;
    since: string | null;
    consecutiveFailures: number;
    breaker: { state: string };
    heals: {
      inWindow: number;
      budgetLeft: number;
      max: number;
      nextAllowedAt: string | null;
      last: string | null;
    };
    firingAlerts: { rule: string; level: string; sent: number }[];
  }[];
  outbox: {
    channel: string;
    queued: number;
    nextAttemptAt: string | null;
    lastError: string;
    breaker: string;
  }[];
  silences: { id: string; state: string; services: string[]; comment: string; pauseHealing: boolean }[];
}

describe("upkeep status after real ticks", () => {
  it("--format json: status, budget used, next heal, firing alert, queued notices, silences", async () => {
    const [first, second] = await healThenRefuse(f);
    expect(first.healed).toBe(1);
    expect(second.services[0]).toMatchObject({ status: "down", heal: { outcome: "refused" } });
    const added = await runMain([
      "silence",
      "add",
      "--service",
      "web",
      "--for",
      "1h",
      "--comment",
      "deploy",
      "--rules",
      f.rules,
    ]);
    expect(added.code).toBe(0);

    const result = await status("--format", "json");
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as StatusDoc;
    expect(doc.tickRunning).toBe(false);
    const web = doc.services.find((s) => s.id === "web")!;
    expect(web).toMatchObject({
      status: "down",
      consecutiveFailures: 1,
      breaker: { state: "CLOSED" },
      heals: { inWindow: 1, budgetLeft: 0, max: 1 },
      firingAlerts: [{ rule: "web-down", level: "CRITICAL", sent: 1 }],
    });
    expect(Date.parse(web.since!)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(web.heals.nextAllowedAt!)).toBeGreaterThan(Date.now());
    // The receiver answered 503: the notice waits in the outbox for the hook channel only.
    expect(f.hooks()).toBe(1);
    expect(doc.outbox).toEqual([
      expect.objectContaining({
        channel: "hook",
        queued: 1,
        breaker: "CLOSED",
        lastError: expect.stringContaining("503"),
      }),
    ]);
    expect(doc.silences).toEqual([
      expect.objectContaining({ state: "active", services: ["web"], comment: "deploy", pauseHealing: false }),
    ]);
  });

  it("text: one block per service, then the outbox and the silences", async () => {
    await healThenRefuse(f);
    await runMain([
      "silence",
      "add",
      "--for",
      "30m",
      "--comment",
      "window",
      "--pause-healing",
      "--rules",
      f.rules,
    ]);
    const result = await status();
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Web "front" \(web\): DOWN since /m);
    // Every gate that holds healing back, the ad-hoc maintenance window included, and the true next heal.
    expect(result.stdout).toMatch(
      /heals: 0 of 1 left \(1 used in the window\); held back by paused until \S+, budget until (\S+), cooldown until \S+; next heal allowed at \1\n/,
    );
    expect(result.stdout).toContain("alert firing: CRITICAL web-down");
    expect(result.stdout).toMatch(
      /Outbox \(notifications waiting for a retry\):\n {2}hook: 1 queued, next try at /,
    );
    expect(result.stdout).toMatch(
      /Silences \(ad hoc\):\n {2}sil-[0-9a-f]+: active until .*: all services, healing paused by .* - window/,
    );
  });

  it("healthy and fresh: no outbox or silence section", async () => {
    await f.tick();
    const result = await status();
    expect(result.stdout).toMatch(/^Web "front" \(web\): UP since /m);
    expect(result.stdout).not.toContain("Outbox");
    expect(result.stdout).not.toContain("Silences");
    const doc = JSON.parse((await status("--format", "json")).stdout) as StatusDoc;
    expect(doc.outbox).toEqual([]);
    expect(doc.silences).toEqual([]);
  });
});
