import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HealsState } from "../../src/core/state.js";
import { acquireLock } from "../../src/runtime/lock.js";
import { runMain } from "../schedule/helpers.js";
import { healThenRefuse, opsFixture, type OpsFixture } from "./ops-fixture.js";

let f: OpsFixture;
beforeEach(async () => {
  f = await opsFixture();
});
afterEach(async () => {
  await f.close();
});

const heal = (...args: string[]) => runMain(["heal", ...args, "--rules", f.rules]);
const heals = (): HealsState =>
  JSON.parse(readFileSync(join(f.stateDir, "heals.json"), "utf8")) as HealsState;

describe("upkeep heal", () => {
  it("heals a down service through a normal tick and records it like a scheduled heal", async () => {
    f.service.healthy = false;
    const result = await heal("web");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Healed Web "front" (web): it is up.');
    expect(result.stdout).toContain("Summary: 1 healed, 0 failed");
    expect(f.fixes()).toBe(1);
    const web = heals().heals["web"]!;
    expect(web.history).toEqual([{ at: web.lastHealAt, outcome: "healed", forced: false }]);
    expect(web.totals).toEqual({ healed: 1, failed: 0 });
  });

  it("respects the budget without --force: refused, exit 1, nothing run", async () => {
    await healThenRefuse(f);
    f.service.healthy = false;
    const result = await heal("web");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("refused by the heal");
    expect(result.stdout).toContain("--force bypasses it");
    expect(f.fixes()).toBe(1);
  });

  it("--force over the budget heals, counts, and records who forced it", async () => {
    await healThenRefuse(f);
    f.service.healthy = false;
    const result = await heal("web", "--force", "--by", "alice", "--format", "json");
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as {
      services: { id: string; status: string }[];
      heal: Record<string, unknown>;
    };
    expect(doc.services).toContainEqual(expect.objectContaining({ id: "web", status: "up" }));
    expect(doc.heal).toEqual({
      service: "web",
      forced: true,
      by: "alice",
      dryRun: false,
      outcome: "healed",
      reason: expect.any(String) as string,
      status: "up",
    });
    expect(f.fixes()).toBe(2);
    const web = heals().heals["web"]!;
    expect(web.history.map((h) => [h.outcome, h.forced ?? false, h.by])).toEqual([
      ["healed", false, undefined],
      ["healed", true, "alice"],
    ]);
    expect(web.recent).toHaveLength(2);
    expect(web.totals).toEqual({ healed: 2, failed: 0 });
  });

  it("an up service is left alone without --force, and restarted with it (by = OS user by default)", async () => {
    const plain = await heal("web");
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain("it is up, nothing to heal (--force restarts it anyway)");
    expect(f.fixes()).toBe(0);
    const forced = await heal("web", "--force");
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(
      /^Healed Web "front" \(web\), forced by .+ \(cooldown and budget bypassed\): it is up\./,
    );
    expect(f.fixes()).toBe(1);
    const record = heals().heals["web"]!.history[0]!;
    expect(record).toMatchObject({ outcome: "healed", forced: true });
    expect(typeof record.by).toBe("string");
    expect(record.by).not.toBe("");
  });

  it("--force does not bypass an OPEN breaker", async () => {
    expect((await runMain(["breaker", "isolate", "web", "--rules", f.rules])).code).toBe(0);
    f.service.healthy = false;
    const result = await heal("web", "--force", "--by", "bob");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("upkeep breaker reset web");
    expect(f.fixes()).toBe(0);
  });

  it("--dry-run shows the steps and changes nothing", async () => {
    f.service.healthy = false;
    const result = await heal("web", "--dry-run");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Would heal Web "front" (web)');
    expect(result.stdout).toContain('would run: test.fix {"note":"hello"}');
    // The plan once, and no "failed" summary for a heal that was only planned.
    expect(result.stdout.match(/would run: test\.fix/g)).toHaveLength(1);
    expect(result.stdout).not.toMatch(/Summary:|heal failed/);
    expect(f.fixes()).toBe(0);
    expect(() => readFileSync(join(f.stateDir, "heals.json"))).toThrow();
  });

  it("exits 3 while a tick holds the lock, 2 on usage errors", async () => {
    const release = await acquireLock(f.stateDir, { owner: "upkeep run" });
    try {
      expect((await heal("web", "--force")).code).toBe(3);
    } finally {
      await release();
    }
    expect((await heal("webb")).stderr).toContain('did you mean "web"');
    for (const args of [[], ["web", "extra"], ["web", "--by", " "], ["web", "--format", "yaml"]])
      expect((await heal(...args)).code).toBe(2);
    expect(f.fixes()).toBe(0);
  });
});
