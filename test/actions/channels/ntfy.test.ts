import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ntfyChannel as impl, type NtfyChannelParams } from "../../../src/actions/channels/ntfy.js";
import type { ChannelHandler } from "../../../src/actions/types.js";
import { run as alertCli } from "../../../src/cli/commands/alert.js";
import { makeContext, never, settings } from "../helpers.js";
import { alertEvent, frozenClock, notificationOf, startRecorder, type Recorder } from "./recorder.js";

const ntfy: ChannelHandler<NtfyChannelParams> = impl;
const TOPIC = "upkeep-alerts-7f3a9c2e41";
const TOKEN = "tk_ntfytesttoken0123456789ab";

let server: Recorder;
beforeEach(async () => {
  // The stand-in answers like ntfy: 200 with the published message as JSON.
  server = await startRecorder("/");
  server.fallback = { status: 200, body: '{"id":"abc","event":"message"}' };
});
afterEach(async () => {
  await server.close();
});

const topicUrl = (): string => `http://127.0.0.1:${server.port}/${TOPIC}`;
const ctx = (events = [alertEvent()]) =>
  makeContext({ clock: frozenClock(), notification: notificationOf(events, "ntfy") });

describe("ntfy channel", () => {
  it("publishes JSON to the server root: topic, headline title, plain message, urgent priority, tone tag", async () => {
    const result = await ntfy.run(ctx(), { url: topicUrl(), token: TOKEN }, never());
    expect(result).toEqual({ ok: true, detail: 'HTTP 200 {"id":"abc","event":"message"}' });
    const req = server.requests[0];
    expect(req?.method).toBe("POST");
    expect(req?.url).toBe("/");
    expect(req?.headers["content-type"]).toBe("application/json");
    expect(req?.headers["authorization"]).toBe(`Bearer ${TOKEN}`);
    expect(server.json(0)).toEqual({
      topic: TOPIC,
      title: "CRITICAL: Boss API is down",
      message: alertEvent().message,
      priority: 5,
      tags: ["rotating_light"],
    });
  });

  it("keeps a self-hosted base path, and sends username/password as Basic auth", async () => {
    await ntfy.run(
      ctx(),
      { url: `http://127.0.0.1:${server.port}/ntfy/${TOPIC}`, username: "upkeep", password: "s3cret-pass" },
      never(),
    );
    expect(server.requests[0]?.url).toBe("/ntfy/");
    expect(server.requests[0]?.headers["authorization"]).toBe(
      `Basic ${Buffer.from("upkeep:s3cret-pass").toString("base64")}`,
    );
    expect(server.json(0)["topic"]).toBe(TOPIC);
  });

  it("maps a group to the highest priority, one tag per tone (worst first) plus fixed tags", async () => {
    const events = [
      alertEvent({
        kind: "resolved",
        serviceTitle: "Health Proxy",
        message: "[RESOLVED] Health Proxy is up again",
      }),
      alertEvent({ level: "WARNING", serviceTitle: "MCP Bridge", message: "[WARNING] MCP Bridge is down" }),
    ];
    await ntfy.run(ctx(events), { url: topicUrl(), tags: ["upkeep", "warning"] }, never());
    const body = server.json(0);
    expect(body["priority"]).toBe(4);
    expect(body["tags"]).toEqual(["warning", "white_check_mark", "upkeep"]);
    expect(body["title"]).toBe("2 alerts: 1 resolved, 1 WARNING firing");
    expect(body["message"]).toBe("[RESOLVED] Health Proxy is up again\n[WARNING] MCP Bridge is down");
    expect(server.requests[0]?.headers["authorization"]).toBeUndefined();
  });

  it("takes the priority per level from the map (numbers or names); resolved notices stay default", async () => {
    await ntfy.run(ctx(), { url: topicUrl(), priority: { CRITICAL: "high" } }, never());
    await ntfy.run(ctx([alertEvent({ level: "INFO" })]), { url: topicUrl(), priority: { info: 1 } }, never());
    await ntfy.run(ctx([alertEvent({ kind: "resolved" })]), { url: topicUrl() }, never());
    expect([0, 1, 2].map((i) => server.json(i)["priority"])).toEqual([4, 1, 3]);
    expect(server.json(2)["tags"]).toEqual(["white_check_mark"]);
  });

  it("retries 5xx and 429 (honouring Retry-After) but not 4xx like a wrong token", async () => {
    server.reply(
      { status: 429, body: '{"code":42901,"error":"limit reached"}', headers: { "retry-after": "20" } },
      { status: 502, body: "bad gateway" },
      { status: 401, body: '{"code":40101,"http":401,"error":"unauthorized"}' },
    );
    expect(await ntfy.run(ctx(), { url: topicUrl() }, never())).toEqual({
      ok: false,
      retryable: true,
      retryAfterMs: 20_000,
      detail: 'HTTP 429 {"code":42901,"error":"limit reached"} (retry after 20s)',
    });
    expect(await ntfy.run(ctx(), { url: topicUrl() }, never())).toMatchObject({ ok: false, retryable: true });
    expect(await ntfy.run(ctx(), { url: topicUrl() }, never())).toMatchObject({
      ok: false,
      retryable: false,
      detail: expect.stringContaining("HTTP 401"),
    });
  });

  it("refuses a URL without a topic, and token plus password, without sending", async () => {
    expect(await ntfy.run(ctx(), { url: `http://127.0.0.1:${server.port}/` }, never())).toEqual({
      ok: false,
      retryable: false,
      detail: "invalid parameter url: names no topic (e.g. https://ntfy.sh/mytopic)",
    });
    expect(
      await ntfy.run(ctx(), { url: topicUrl(), token: TOKEN, username: "u", password: "p" }, never()),
    ).toMatchObject({ ok: false, retryable: false });
    expect(server.requests).toHaveLength(0);
  });

  it("describes where it posts without the topic", () => {
    expect(ntfy.describe({ url: `https://ntfy.sh/${TOPIC}` }, { settings })).toBe(
      "POST ntfy https://ntfy.sh/...",
    );
  });
});

describe("upkeep alert test with an ntfy channel", () => {
  let root: string;
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("sends a sample through ntfy, and never prints the token or the topic", async () => {
    root = mkdtempSync(join(tmpdir(), "upkeep-ntfy-cli-"));
    const rules = join(root, "rules");
    mkdirSync(rules);
    writeFileSync(
      join(rules, "services.yaml"),
      "version: 1\nservices:\n  api:\n    probe: { type: tcp, port: 8080 }\n",
    );
    writeFileSync(
      join(rules, "alerts.yaml"),
      [
        "version: 1",
        "channels:",
        '  phone: { type: ntfy, with: { url: "${env:NTFY_URL}", token: "${env:NTFY_TOKEN}", timeout: 2s } }',
        "levels:",
        "  CRITICAL: { threshold: 1, cooldown: 1h, channels: [phone] }",
        "rules:",
        "  down: { level: CRITICAL, when: { '==': [{ var: status }, down] } }",
        "",
      ].join("\n"),
    );
    // An endpoint that echoes what it got must not leak it either.
    server.reply({ status: 400, body: `bad topic ${TOPIC} for ${TOKEN}` });
    const out: string[] = [];
    const o = vi.spyOn(process.stdout, "write").mockImplementation((c) => out.push(String(c)) > 0);
    const e = vi.spyOn(process.stderr, "write").mockImplementation((c) => out.push(String(c)) > 0);
    let codes: number[];
    try {
      const env = { NTFY_URL: topicUrl(), NTFY_TOKEN: TOKEN };
      const argv = ["test", "phone", "--rules", rules, "--state-dir", join(root, "state")];
      codes = [await alertCli(argv, env), await alertCli(argv, env)];
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
    expect(codes).toEqual([1, 0]);
    const text = out.join("");
    expect(text).toContain(
      `Sent a sample CRITICAL alert via phone (ntfy): POST ntfy http://127.0.0.1:${server.port}/...`,
    );
    expect(text).toContain("[REDACTED]");
    expect(text).not.toContain(TOPIC);
    expect(text).not.toContain(TOKEN);
    expect(server.requests[1]?.headers["authorization"]).toBe(`Bearer ${TOKEN}`);
    expect(server.json(1)).toMatchObject({ topic: TOPIC, priority: 5, tags: ["rotating_light"] });
  });
});
