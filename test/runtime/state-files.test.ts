/**
 * State files with the right version but the wrong shape are moved aside like corrupt ones, so one
 * bad file costs one concern's history, never every future tick.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { emptyState } from "../../src/core/state.js";
import { loadState, saveState } from "../../src/runtime/state-files.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "upkeep-state-files-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("loadState", () => {
  it("reads back what saveState wrote", async () => {
    const state = emptyState();
    state.services.services["api"] = {
      lastStatus: "down",
      since: 1,
      consecutiveFailures: 2,
      consecutiveSuccesses: 0,
      lastProbeAt: 3,
      lastDetail: "refused",
      lastLatencyMs: 4,
    };
    await saveState(dir, state);
    const { state: loaded, warnings } = await loadState(dir);
    expect(warnings).toEqual([]);
    expect(loaded).toEqual(state);
  });

  it.each([
    ["heals", { version: 1 }],
    ["breakers", { version: 1, breakers: { api: { state: "OPEN" } } }],
    ["alerts", { version: 1, alerts: { "r/api": { status: "firing" } }, totals: {} }],
    ["services", { version: 1, services: { api: { lastStatus: "sideways" } } }],
  ])("moves a %s file with a valid version but a wrong shape aside", async (concern, content) => {
    writeFileSync(join(dir, `${concern}.json`), JSON.stringify(content));
    const { state, warnings } = await loadState(dir);
    expect(state[concern as keyof typeof state]).toEqual(emptyState()[concern as keyof typeof state]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/unexpected shape; moved it to .*corrupt-/);
    expect(existsSync(join(dir, `${concern}.json`))).toBe(false);
    expect(readdirSync(dir).some((f) => f.startsWith(`${concern}.json.corrupt-`))).toBe(true);
  });

  it("only reports a bad file when reading without the lock, and leaves it in place", async () => {
    writeFileSync(join(dir, "heals.json"), JSON.stringify({ version: 1 }));
    const { warnings } = await loadState(dir, { readOnly: true });
    expect(warnings[0]).toMatch(/left in place/);
    expect(existsSync(join(dir, "heals.json"))).toBe(true);
  });
});
