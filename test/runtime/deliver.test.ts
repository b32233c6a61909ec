/**
 * Delivery against real HTTP servers on 127.0.0.1 standing in for the webhook endpoints: grouping,
 * retries through the outbox on later ticks, the per-channel breaker, exactly-once delivery after
 * recovery, unusable channels, dry runs, and that no secret reaches a result, the log or the disk.
 */
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getHandler } from "../../src/actions/registry.js";
import type { Config, LevelSpec } from "../../src/config/model.js";
import type { AlertIntent } from "../../src/core/alerts.js";
import type { ServiceFacts } from "../../src/core/facts.js";
import { deliverAlerts, type DeliverDeps, type Delivery } from "../../src/runtime/deliver.js";
import { createLogger, type RuntimeLogger } from "../../src/runtime/logger.js";
import { freshOutbox, MAX_ATTEMPTS, saveOutbox, type OutboxState } from "../../src/runtime/outbox.js";
import { createRedactor, type Redactor } from "../../src/runtime/redact.js";
import { alertEvent, startRecorder, T0, type Recorder } from "../actions/channels/recorder.js";
import { never, settings } from "../actions/helpers.js";
import { baselineConfig, HOUR, MINUTE } from "../core/config-fixture.js";

const TOKEN = "tok-9f8e7d6c5b4a-secret";
const HMAC_KEY = "hmac-key-1a2b3c4d5e";
const source = { file: "alerts.yaml", pointer: "" };

let hook: Recorder;
let other: Recorder;
let now: number;
let outbox: OutboxState;
let dir: string;
let logger: RuntimeLogger;
let redactor: Redactor;
let env: Record<string, string>;

beforeEach(async () => {
  hook = await startRecorder();
  other = await startRecorder();
  now = T0;
  outbox = freshOutbox();
  dir = mkdtempSync(join(tmpdir(), "upkeep-deliver-"));
  redactor = createRedactor();
  logger = await createLogger({ logFile: join(dir, "upkeep.log"), redactor });
  env = { HOOK_URL: `${hook.url}/${TOKEN}`, HOOK_SECRET: HMAC_KEY, OTHER_URL: other.url };
});
afterEach(async () => {
  logger.close();
  await hook.close();
  await other.close();
  rmSync(dir, { recursive: true, force: true });
});

type ChannelDef = { type: string; params: Record<string, unknown> };
const HOOK: ChannelDef = {
  type: "webhook",
  params: { url: "${env:HOOK_URL}", secret: "${env:HOOK_SECRET}", timeout: "300ms" },
};

function config(channels: Record<string, ChannelDef>, levelChannels = Object.keys(channels)): Config {
  const base = baselineConfig();
  const CRITICAL: LevelSpec = {
    id: "CRITICAL",
    threshold: 3,
    cooldownMs: HOUR,
    resolveAfter: 1,
    channels: levelChannels,
    rank: 0,
  };
  return {
    ...base,
    alerts: {
      ...base.alerts,
      channels: Object.fromEntries(Object.entries(channels).map(([id, c]) => [id, { id, ...c, source }])),
      levels: { CRITICAL },
    },
  };
}

function facts(id: string, title: string): ServiceFacts {
  return {
    service: { id, title, tags: [] },
    status: "down",
    detail: "connect ECONNREFUSED",
    latencyMs: 1,
    consecutiveFailures: 3,
    consecutiveSuccesses: 0,
    since: T0 - 10 * MINUTE,
    breaker: "CLOSED",
    gaveUp: false,
    flapping: false,
    outages: 1,
    heal: {
      outcome: "failed",
      reason: "verify failed",
      refusedBy: [],
      forced: false,
      nextAllowedAt: T0 + 5 * MINUTE,
      budgetLeft: 2,
      failedInRow: 1,
      failedSince: T0,
    },
    blockedBy: [],
  };
}
const FACTS = { "boss-api": facts("boss-api", "Boss API"), "mcp-bridge": facts("mcp-bridge", "MCP Bridge") };

function intent(
  serviceId: string,
  count: number,
  channels: readonly string[],
  kind: AlertIntent["kind"] = "firing",
): AlertIntent {
  return {
    kind,
    ruleId: "service-down-critical",
    serviceId,
    level: "CRITICAL",
    channels,
    since: T0,
    count,
    at: now,
  };
}

const deps = (): DeliverDeps => ({
  clock: { now: () => now, sleep: async () => undefined },
  logger,
  settings,
  env,
  redactor,
  getHandler,
});

async function tick(cfg: Config, intents: AlertIntent[], dryRun = false): Promise<Delivery[]> {
  const result = await deliverAlerts(cfg, intents, FACTS, deps(), { dryRun, signal: never(), outbox });
  outbox = result.outbox;
  return result.deliveries;
}

/** Ids the endpoint accepted (answered 2xx), in order. */
function accepted(server: Recorder, okFrom: number): string[] {
  return server.requests.slice(okFrom).map((r) => String(r.headers["x-upkeep-delivery"]));
}

describe("deliverAlerts", () => {
  it("sends one message per channel for all of a tick's alerts, signed with the resolved secret", async () => {
    const cfg = config({ hook: HOOK, log: { type: "log", params: {} } });
    const deliveries = await tick(cfg, [
      intent("boss-api", 1, ["hook", "log"]),
      intent("mcp-bridge", 1, ["hook", "log"]),
    ]);
    expect(deliveries.map((d) => [d.channel, d.status, d.events])).toEqual([
      ["hook", "sent", 2],
      ["log", "sent", 2],
    ]);
    expect(hook.requests).toHaveLength(1);
    const req = hook.requests[0];
    expect(req?.url).toBe(`/hook/${TOKEN}`);
    const expected = `sha256=${createHmac("sha256", HMAC_KEY)
      .update(req?.body ?? "")
      .digest("hex")}`;
    expect(req?.headers["x-upkeep-signature"]).toBe(expected);
    const body = hook.json(0) as { events: { serviceTitle: string }[]; text: string };
    expect(body.events.map((e) => e.serviceTitle)).toEqual(["Boss API", "MCP Bridge"]);
    expect(body.text.split("\n")).toHaveLength(2);
    expect(outbox.entries).toEqual([]);
  });

  it("queues a 500 and retries it on the next tick; the recovered endpoint gets it exactly once", async () => {
    const cfg = config({ hook: HOOK });
    hook.reply({ status: 500, body: "internal error" });
    const [first] = await tick(cfg, [intent("boss-api", 1, ["hook"])]);
    expect(first).toMatchObject({ status: "queued", attempt: 1 });
    expect(first?.detail).toMatch(/^HTTP 500 internal error; queued, retry 2\/8 at 2025-06-01T12:01:00Z$/);
    expect(outbox.entries).toHaveLength(1);

    now += 5 * MINUTE;
    const [retry] = await tick(cfg, []);
    expect(retry).toMatchObject({ status: "sent", attempt: 2, id: first?.id });
    expect(outbox.entries).toEqual([]);
    for (let i = 0; i < 3; i++) {
      now += 5 * MINUTE;
      expect(await tick(cfg, [])).toEqual([]);
    }
    expect(hook.requests).toHaveLength(2);
    expect(accepted(hook, 1)).toEqual([first?.id]);
    expect(hook.requests[0]?.body).toContain('"Boss API"');
    expect(JSON.parse(hook.requests[1]?.body ?? "{}")).toMatchObject({
      id: first?.id,
      createdAt: "2025-06-01T12:00:00Z",
    });
  });

  it("queues a timed-out send and retries it next tick with the same delivery id", async () => {
    const cfg = config({ hook: HOOK });
    hook.reply("hang");
    const [first] = await tick(cfg, [intent("boss-api", 1, ["hook"])]);
    expect(first).toMatchObject({ status: "queued" });
    expect(first?.detail).toMatch(/^timed out after 300 ms; queued/);
    now += 5 * MINUTE;
    const [retry] = await tick(cfg, []);
    expect(retry).toMatchObject({ status: "sent", id: first?.id });
    // The receiver may have seen the first try: the shared id lets it drop the duplicate.
    expect(hook.requests.map((r) => r.headers["x-upkeep-delivery"])).toEqual([first?.id, first?.id]);
  });

  it("holds off a dead endpoint with the channel breaker, then delivers every queued alert once, in order", async () => {
    const cfg = config({ hook: HOOK });
    hook.fallback = { status: 503, body: "down" };
    const a = await tick(cfg, [intent("boss-api", 1, ["hook"])]); // try 1 of A
    now += 5 * MINUTE;
    const b = await tick(cfg, [intent("boss-api", 2, ["hook"], "reminder")]); // A try 2 fails, B waits
    expect(b.map((d) => d.status)).toEqual(["queued", "queued"]);
    expect(b[1]?.detail).toBe("an earlier send failed this tick; will retry");
    now += 5 * MINUTE;
    const c = await tick(cfg, [intent("mcp-bridge", 1, ["hook"])]); // A try 3 fails: breaker opens
    expect(hook.requests).toHaveLength(3);
    expect(outbox.breakers["hook"]?.state).toBe("OPEN");

    now += 1 * MINUTE;
    const held = await tick(cfg, [intent("mcp-bridge", 2, ["hook"], "reminder")]);
    expect(hook.requests).toHaveLength(3); // not attempted while held off
    expect(
      held.every(
        (d) => d.status === "queued" && d.detail.startsWith("channel held off by its breaker until"),
      ),
    ).toBe(true);
    expect(outbox.entries).toHaveLength(4);

    hook.fallback = { status: 204 };
    now += 5 * MINUTE; // past the open period: one trial, it works, the rest follows
    const recovered = await tick(cfg, []);
    expect(recovered.map((d) => d.status)).toEqual(["sent", "sent", "sent", "sent"]);
    expect(outbox.entries).toEqual([]);
    expect(outbox.breakers["hook"]?.state).toBe("CLOSED");
    const ids = [a[0]?.id, b[1]?.id, c[c.length - 1]?.id, held[held.length - 1]?.id];
    expect(accepted(hook, 3)).toEqual(ids);
    now += 5 * MINUTE;
    await tick(cfg, []);
    expect(hook.requests).toHaveLength(7);
  });

  it("reports a 4xx without retrying, and drops a notification after MAX_ATTEMPTS tries with a logged reason", async () => {
    const cfg = config({ hook: HOOK });
    hook.reply({ status: 404, body: "no such hook" });
    const [gone] = await tick(cfg, [intent("boss-api", 1, ["hook"])]);
    expect(gone).toMatchObject({ status: "failed", detail: "HTTP 404 no such hook (not retried)" });
    expect(outbox.entries).toEqual([]);

    hook.fallback = { status: 500 };
    let last: Delivery[] = await tick(cfg, [intent("boss-api", 2, ["hook"], "reminder")]);
    for (let i = 1; i < MAX_ATTEMPTS && last[0]?.status === "queued"; i++) {
      now += 2 * HOUR; // longer than any backoff or breaker open period
      last = await tick(cfg, []);
    }
    expect(last[0]).toMatchObject({ status: "dropped", attempt: MAX_ATTEMPTS });
    expect(last[0]?.detail).toBe(`HTTP 500; dropped after ${MAX_ATTEMPTS} tries`);
    expect(hook.requests).toHaveLength(1 + MAX_ATTEMPTS);
    expect(outbox.entries).toEqual([]);
    logger.close();
    const log = readFileSync(join(dir, "upkeep.log"), "utf8");
    expect(log).toMatch(/"reason":"HTTP 500; dropped after 8 tries".*"msg":"alert dropped from the outbox"/);
  });

  it("reports a channel with an unset variable as unusable; the alert still reaches the level's other channels", async () => {
    const cfg = config({
      discord: { type: "discord", params: { url: "${env:DISCORD_WEBHOOK_URL}" } },
      hook: HOOK,
    });
    const deliveries = await tick(cfg, [intent("boss-api", 1, ["discord", "hook"])]);
    expect(deliveries.map((d) => [d.channel, d.status, d.detail])).toEqual([
      ["discord", "unusable", "environment variable(s) not set: DISCORD_WEBHOOK_URL"],
      ["hook", "sent", "HTTP 204"],
    ]);
    expect(outbox.entries).toEqual([]);
  });

  it("lets a hanging channel time out without holding back the others", async () => {
    const cfg = config({
      slow: { type: "webhook", params: { url: "${env:OTHER_URL}", timeout: "300ms" } },
      hook: HOOK,
    });
    other.fallback = "hang";
    const deliveries = await tick(cfg, [intent("boss-api", 1, ["slow", "hook"])]);
    expect(deliveries.map((d) => [d.channel, d.status])).toEqual([
      ["slow", "queued"],
      ["hook", "sent"],
    ]);
    expect(outbox.entries.map((e) => e.channel)).toEqual(["slow"]);
  });

  it("plans in a dry run: describes the target without secrets, sends nothing, keeps the outbox", async () => {
    const cfg = config({ hook: HOOK });
    outbox = { ...freshOutbox(), entries: [] };
    const before = outbox;
    const [planned] = await tick(cfg, [intent("boss-api", 1, ["hook"])], true);
    expect(planned).toMatchObject({
      status: "planned",
      detail: `would send 1 alert(s): POST notification JSON to http://127.0.0.1:${hook.port}/..., signed`,
    });
    expect(hook.requests).toHaveLength(0);
    expect(outbox).toBe(before);
  });

  it("never lets a secret into a result, the log file or the outbox file", async () => {
    const cfg = config({
      hook: HOOK,
      cmd: { type: "command", params: { command: ["/nonexistent/${env:HOOK_SECRET}"] } },
    });
    hook.reply({ status: 500, body: `cannot route /hook/${TOKEN} signed with ${HMAC_KEY}` });
    const planned = await tick(cfg, [intent("boss-api", 1, ["hook", "cmd"])], true);
    const deliveries = await tick(cfg, [intent("boss-api", 1, ["hook", "cmd"])]);
    expect(deliveries.map((d) => d.status)).toEqual(["queued", "failed"]);
    await saveOutbox(dir, outbox, redactor);
    logger.close();
    const outputs = [
      JSON.stringify(planned),
      JSON.stringify(deliveries),
      readFileSync(join(dir, "upkeep.log"), "utf8"),
      readFileSync(join(dir, "outbox.json"), "utf8"),
    ];
    for (const text of outputs) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(HMAC_KEY);
    }
    expect(outputs[1]).toContain("[REDACTED]");
    expect(alertEvent().message).not.toContain(TOKEN);
  });
});
