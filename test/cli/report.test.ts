/**
 * The history end to end: the BUILT CLI runs real ticks against a real stub service (killed, then
 * healed by an exec step that starts it again), and `report`, `status` and `explain` read the incident
 * back from the SQLite history.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readHistory } from "../../src/runtime/history-store.js";
import { BUILT, ServeWorld } from "../serve/helpers.js";

describe.skipIf(!BUILT)("upkeep report, status and explain read the history of real ticks", () => {
  let world: ServeWorld;
  let rules: string;
  let root: string;
  const cli = (args: string[]) => world.cli(args);

  beforeEach(async () => {
    world = new ServeWorld();
    await world.start();
    rules = world.rules;
    root = world.root;
  });

  afterEach(async () => {
    await world.close();
  });

  it("a killed stub healed by upkeep: one incident with its cause, healed by upkeep, MTTR = its duration", async () => {
    expect((await cli(["run", "--rules", rules])).code).toBe(0);
    await world.killStub();
    const healing = await cli(["run", "--rules", rules]);
    expect(healing.stdout).toContain("1 healed");
    expect(healing.code).toBe(0);
    expect((await cli(["run", "--rules", rules])).code).toBe(0);
    // A dry run records nothing.
    const stateDir = join(root, "state");
    const settings = {
      file: join(stateDir, "history.db"),
      retentionMs: 90 * 86_400_000,
      intervalMs: 300_000,
    };
    const before = await readHistory(settings);
    expect((await cli(["plan", "--rules", rules])).code).toBe(0);
    expect(await readHistory(settings)).toEqual(before);

    const report = await cli(["report", "--rules", rules, "--format", "json"]);
    expect(report.stderr).toBe("");
    expect(report.code).toBe(0);
    const doc = JSON.parse(report.stdout) as {
      ticks: { count: number; scheduled: number; missed: number };
      services: {
        id: string;
        uptime: number;
        downMs: number;
        mttrMs: number;
        heals: { attempted: number; healed: number };
        alerts: Record<string, number>;
        incidents: {
          start: string;
          end: string;
          durationMs: number;
          cause: string;
          ended: string;
          heals: number;
        }[];
      }[];
    };
    expect(doc.ticks).toEqual({ count: 3, scheduled: 3, missed: 0 });
    const api = doc.services[0];
    expect(api?.id).toBe("api");
    expect(api?.incidents).toHaveLength(1);
    const incident = api?.incidents[0];
    expect(incident).toMatchObject({
      ended: "healed",
      heals: 1,
      cause: expect.stringContaining("ECONNREFUSED"),
    });
    // The outage lasted from the tick that saw it down until the heal finished: what the events say.
    const events = await readHistory(settings);
    const down = events.find((e) => e.kind === "status" && e.to === "down");
    const heal = events.find((e) => e.kind === "heal");
    expect(down && heal && heal.kind === "heal").toBeTruthy();
    if (heal?.kind !== "heal" || down === undefined) return;
    expect(incident?.start).toBe(new Date(down.at).toISOString());
    expect(incident?.end).toBe(new Date(heal.finishedAt).toISOString());
    expect(incident?.durationMs).toBe(heal.finishedAt - down.at);
    expect(api?.mttrMs).toBe(heal.finishedAt - down.at);
    expect(api?.downMs).toBe(heal.finishedAt - down.at);
    expect(api?.heals).toMatchObject({ attempted: 1, healed: 1 });
    // Healed within the tick that saw it down: the alert rules judge the tick's end, so nothing paged.
    expect(api?.alerts).toEqual({});
    expect(api?.uptime).toBeGreaterThan(0);
    expect(api?.uptime).toBeLessThan(1);
    expect(heal.steps.map((s) => [s.action, s.status])).toEqual([
      ["exec", "ok"],
      ["verify", "ok"],
    ]);

    const text = await cli(["report", "--rules", rules]);
    expect(text.stdout).toMatch(/API \(api\): uptime \d+\.\d{3}% of /);
    expect(text.stdout).toMatch(/ECONNREFUSED.*; healed by upkeep \(1 heal\)/);
    const csv = await cli(["report", "--rules", rules, "--format", "csv", "--since", "1h"]);
    const [header, row] = csv.stdout.trim().split("\n");
    expect(header?.split(",").slice(0, 3)).toEqual(["id", "title", "uptime_percent"]);
    expect(row?.split(",").slice(0, 2)).toEqual(["api", "API"]);
    expect(row?.split(",")[8]).toBe("1");

    // status: up since the heal finished (not since the first tick), with the last outage.
    const status = JSON.parse((await cli(["status", "--rules", rules, "--format", "json"])).stdout) as {
      services: { since: string; lastOutage: { start: string; end: string; cause: string } }[];
    };
    expect(status.services[0]?.since).toBe(new Date(heal.finishedAt).toISOString());
    expect(status.services[0]?.lastOutage).toMatchObject({
      start: new Date(down.at).toISOString(),
      end: new Date(heal.finishedAt).toISOString(),
    });
    const explain = await cli(["explain", "api", "--rules", rules]);
    expect(explain.stdout).toContain(`status: up since ${new Date(heal.finishedAt).toISOString()}`);
    expect(explain.stdout).toContain(`last outage: ${new Date(down.at).toISOString()} to `);
  });

  it("records manual commands with who ran them; bad flags are usage errors", async () => {
    expect((await cli(["run", "--rules", rules])).code).toBe(0);
    expect((await cli(["breaker", "isolate", "api", "--until", "1h", "--rules", rules])).code).toBe(0);
    expect((await cli(["breaker", "reset", "api", "--rules", rules])).code).toBe(0);
    const settings = {
      file: join(root, "state", "history.db"),
      retentionMs: 90 * 86_400_000,
      intervalMs: 300_000,
    };
    const commands = (await readHistory(settings, { kinds: ["command"] })).map((e) =>
      e.kind === "command" ? [e.command, e.service, e.detail, typeof e.by] : [],
    );
    expect(commands).toEqual([
      ["breaker isolate", "api", "for 1h", "string"],
      ["breaker reset", "api", "", "string"],
    ]);
    const unknown = await cli(["report", "--rules", rules, "--service", "apii"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown service "apii" (did you mean "api"?)');
    const since = await cli(["report", "--rules", rules, "--since", "soon"]);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain("--since must be a duration");
    const format = await cli(["report", "--rules", rules, "--format", "cvs"]);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('did you mean "csv"');
    expect(readdirSync(join(root, "state"))).toContain("history.db");
  });
});
