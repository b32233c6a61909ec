/**
 * State files with the right version but the wrong shape are moved aside like corrupt ones, so one
 * bad file costs one concern's history, never every future tick.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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

describe("saveState", () => {
  const inode = (concern: string): number => statSync(join(dir, `${concern}.json`)).ino;

  it("leaves alone the files whose state is still the object loadState read from them", async () => {
    await saveState(dir, emptyState());
    const before = Object.fromEntries(["services", "breakers", "heals", "alerts"].map((c) => [c, inode(c)]));
    const { state } = await loadState(dir);
    // A tick that changed only the services (what the core hands back for a quiet tick).
    const next = { ...state, services: { version: 1 as const, services: {} } };
    await saveState(dir, next);
    // An atomic write replaces the file with a new one (a rename): the untouched ones keep theirs.
    expect(inode("services")).not.toBe(before.services);
    expect(inode("breakers")).toBe(before.breakers);
    expect(inode("heals")).toBe(before.heals);
    expect(inode("alerts")).toBe(before.alerts);
  });

  it("writes files that were missing, corrupt or fresh, even when their state did not change", async () => {
    writeFileSync(join(dir, "heals.json"), "not json");
    const { state } = await loadState(dir);
    await saveState(dir, state);
    for (const concern of ["services", "breakers", "heals", "alerts"])
      expect(JSON.parse(readFileSync(join(dir, `${concern}.json`), "utf8"))).toEqual(
        emptyState()[concern as keyof ReturnType<typeof emptyState>],
      );
  });

  it("writes a loaded state that was changed, as a new object, whatever else is the same", async () => {
    await saveState(dir, emptyState());
    const { state } = await loadState(dir);
    const alerts = { ...state.alerts, totals: { CRITICAL: 1 } };
    await saveState(dir, { ...state, alerts });
    expect(JSON.parse(readFileSync(join(dir, "alerts.json"), "utf8"))).toEqual(alerts);
  });
});
