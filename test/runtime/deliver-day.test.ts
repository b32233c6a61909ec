/**
 * A simulated day of ticks every 5 minutes on a fake clock, through the real runTick (a scripted test
 * probe registered as a plugin) and real delivery to a local HTTP endpoint; then the same wiring through
 * runSession, with the outbox and ad-hoc silences read from and written to real state files.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getHandler, registerHandler } from "../../src/actions/registry.js";
import type { ProbeHandler } from "../../src/actions/types.js";
import { evaluateLogic } from "../../src/config/logic.js";
import type { Config, Silence } from "../../src/config/model.js";
import { emptyState, type UpkeepState } from "../../src/core/state.js";
import { createLogger, type RuntimeLogger } from "../../src/runtime/logger.js";
import { freshOutbox, loadOutbox, type OutboxState } from "../../src/runtime/outbox.js";
import { createRedactor, type Redactor } from "../../src/runtime/redact.js";
import { runSession } from "../../src/runtime/session.js";
import { newSilenceId, updateSilences } from "../../src/runtime/silences.js";
import { runTick, type TickDeps } from "../../src/runtime/tick.js";
import { startRecorder, type Recorder } from "../actions/channels/recorder.js";
import { settings } from "../actions/helpers.js";
import { HOUR, MINUTE, makeConfig, rule, service, roundTrip } from "../core/config-fixture.js";

const DAY = Date.parse("2025-06-02T00:00:00Z");
const at = (hhmm: string): number => DAY + Number(hhmm.slice(0, 2)) * HOUR + Number(hhmm.slice(3)) * MINUTE;
const TOKEN = "day-token-5e4d3c2b1a0f";

/** The scripted world: when the service is down. */
let downs: [number, number][] = [];
let now = DAY;
const probe: ProbeHandler = {
  name: "test.day",
  kind: "probe",
  description: "scripted by the test",
  schema: { type: "object" },
  sideEffects: "none",
  describe: () => "scripted",
  run: async () => {
    const down = downs.some(([from, to]) => now >= from && now < to);
    return { ok: !down, latencyMs: 1, detail: down ? "connect ECONNREFUSED 127.0.0.1:4000" : "port open" };
  },
};
let unregister: () => void;
beforeAll(() => {
  unregister = registerHandler(probe);
});
afterAll(() => unregister());

let hook: Recorder;
let dir: string;
let logger: RuntimeLogger;
let redactor: Redactor;
const env = (): Record<string, string> => ({ HOOK_URL: `${hook.url}/${TOKEN}` });

beforeEach(async () => {
  hook = await startRecorder();
  dir = mkdtempSync(join(tmpdir(), "upkeep-day-"));
  redactor = createRedactor();
  logger = await createLogger({ logFile: join(dir, "upkeep.log"), redactor });
  now = DAY;
});
afterEach(async () => {
  logger.close();
  await hook.close();
  rmSync(dir, { recursive: true, force: true });
});

function dayConfig(stateDir = "/unused"): Config {
  const svc = service("boss-api", { title: "Boss API", heal: { steps: [] } });
  const base = makeConfig({
    services: [{ ...svc, probe: { ...svc.probe, type: "test.day", params: {} } }],
    levels: {
      CRITICAL: {
        id: "CRITICAL",
        threshold: 3,
        cooldownMs: HOUR,
        resolveAfter: 1,
        channels: ["hook", "log"],
        rank: 0,
      },
    },
    rules: [rule("service-down-critical", "CRITICAL")],
  });
  const source = { file: "alerts.yaml", pointer: "" };
  return {
    ...base,
    runtime: { ...base.runtime, stateDir, logFile: join(dir, "upkeep.log") },
    alerts: {
      ...base.alerts,
      channels: {
        hook: { id: "hook", type: "webhook", params: { url: "${env:HOOK_URL}", timeout: "2s" }, source },
        log: { id: "log", type: "log", params: {}, source },
      },
    },
  };
}

/** What the endpoint received: [time of the tick, kind] per request. */
function received(): [string, string][] {
  return hook.requests.map((r) => {
    const body = JSON.parse(r.body) as { createdAt: string; events: { kind: string }[] };
    return [body.createdAt.slice(11, 16), body.events.map((e) => e.kind).join("+")];
  });
}

describe("a simulated day", () => {
  it("one firing alert, reminders at the cooldown, one resolved notice; silenced periods send nothing yet still resolve", async () => {
    downs = [
      [at("08:00"), at("11:00")], // 3 hours down
      [at("14:30"), at("15:30")], // entirely inside a silence
      [at("17:00"), at("18:00")], // announced, then silenced: the resolution waits for the silence to end
    ];
    const silences: Silence[] = [
      {
        id: "deploy",
        services: ["boss-api"],
        levels: [],
        startsAt: at("14:00"),
        endsAt: at("16:00"),
        pauseHealing: false,
      },
      {
        id: "ack",
        services: [],
        levels: ["CRITICAL"],
        startsAt: at("17:30"),
        endsAt: at("19:00"),
        pauseHealing: false,
      },
    ];
    const config = dayConfig();
    const deps: TickDeps = {
      clock: { now: () => now, sleep: async () => undefined },
      logger,
      env: env(),
      redactor,
      settings,
      getHandler,
      evaluate: evaluateLogic,
    };
    let state: UpkeepState = emptyState();
    let outbox: OutboxState = freshOutbox();
    const kinds: string[] = [];
    for (let tick = 0; tick <= 24 * 12; tick++) {
      now = DAY + tick * 5 * MINUTE;
      const result = await runTick(config, state, deps, { dryRun: false, outbox, extraSilences: silences });
      // As between two runs of `upkeep run`: everything goes through JSON.
      state = roundTrip(result.state);
      outbox = roundTrip(result.outbox);
      kinds.push(
        ...result.report.alerts.map((a) => `${new Date(now).toISOString().slice(11, 16)} ${a.kind}`),
      );
      expect(result.report.deliveries.every((d) => d.status === "sent")).toBe(true);
    }
    expect(received()).toEqual([
      ["08:10", "firing"],
      ["09:10", "reminder"],
      ["10:10", "reminder"],
      ["11:00", "resolved"],
      ["17:10", "firing"],
      ["19:00", "resolved"],
    ]);
    expect(kinds).toEqual(received().map(([t, k]) => `${t} ${k}`));
    expect(outbox.entries).toEqual([]);
    expect(state.alerts.alerts["service-down-critical/boss-api"]?.status).toBe("inactive");

    logger.close();
    const log = readFileSync(join(dir, "upkeep.log"), "utf8");
    expect(log).toContain("alert sent via hook");
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain(env()["HOOK_URL"]);
  });

  it("runSession keeps the outbox in state across runs and honours silences added to state", async () => {
    const stateDir = join(dir, "state");
    const config = dayConfig(stateDir);
    const session = () =>
      runSession(
        config,
        { clock: { now: () => now, sleep: async () => undefined }, logger, env: env(), redactor },
        { dryRun: false },
      );
    downs = [[at("00:00"), at("01:00")]];
    hook.reply({ status: 502, body: "bad gateway" });
    for (const t of ["00:00", "00:05", "00:10"]) {
      now = at(t);
      await session();
    }
    // The firing notice of 00:10 failed: it waits in outbox.json.
    const queued = await loadOutbox(stateDir);
    expect(queued.entries.map((e) => [e.channel, e.attempts, e.lastError])).toEqual([
      ["hook", 1, "HTTP 502 bad gateway"],
    ]);
    expect(readFileSync(join(stateDir, "outbox.json"), "utf8")).not.toContain(TOKEN);

    now = at("00:15");
    const { report } = await session();
    expect(report.deliveries.map((d) => [d.channel, d.status, d.attempt])).toEqual([["hook", "sent", 2]]);
    expect((await loadOutbox(stateDir)).entries).toEqual([]);
    expect(received().map(([, kind]) => kind)).toEqual(["firing", "firing"]);

    // A silence added the way `upkeep silence add` does: the recovery notice waits until it ends.
    await updateSilences(stateDir, now, (s) => ({
      state: {
        ...s,
        silences: [
          {
            id: newSilenceId(),
            services: ["boss-api"],
            levels: [],
            startsAt: at("00:15"),
            endsAt: at("02:00"),
            pauseHealing: true,
            comment: "maintenance",
            createdAt: now,
            createdBy: "test",
          },
        ],
      },
      result: undefined,
    }));
    for (const t of ["01:05", "01:30", "01:55"]) {
      now = at(t);
      await session();
    }
    expect(hook.requests).toHaveLength(2);
    now = at("02:00");
    await session();
    expect(received().map(([, kind]) => kind)).toEqual(["firing", "firing", "resolved"]);
  });
});
