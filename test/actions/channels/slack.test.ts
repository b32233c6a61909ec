import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  slackChannel as impl,
  SLACK_LIMITS,
  type SlackChannelParams,
} from "../../../src/actions/channels/slack.js";
import type { ChannelHandler } from "../../../src/actions/types.js";
import { makeContext, never, settings } from "../helpers.js";
import { alertEvent, frozenClock, notificationOf, startRecorder, T0, type Recorder } from "./recorder.js";

const slack: ChannelHandler<SlackChannelParams> = impl;

type Block = {
  type: string;
  text?: { type: string; text: string };
  fields?: { type: string; text: string }[];
  elements?: { type: string; text: string }[];
};

let server: Recorder;
beforeEach(async () => {
  server = await startRecorder("/services/T000/B000/XXXXSECRET");
  server.fallback = { status: 200, body: "ok" };
});
afterEach(async () => {
  await server.close();
});

const ctx = (events = [alertEvent()]) =>
  makeContext({ clock: frozenClock(), notification: notificationOf(events, "slack") });

describe("slack channel", () => {
  it("posts `text` as the fallback plus header, section and context blocks (Block Kit)", async () => {
    const result = await slack.run(ctx(), { url: server.url, channel: "#ops" }, never());
    expect(result).toEqual({ ok: true, detail: "HTTP 200 ok" });
    const body = server.json(0);
    expect(body["text"]).toBe(alertEvent().message);
    expect(body["channel"]).toBe("#ops");
    const blocks = body["blocks"] as Block[];
    expect(blocks.map((b) => b.type)).toEqual(["header", "section", "context"]);
    expect(blocks[0]?.text).toEqual({
      type: "plain_text",
      text: ":red_circle: CRITICAL: Boss API is down",
      emoji: true,
    });
    expect(blocks[1]?.text?.type).toBe("mrkdwn");
    expect(blocks[1]?.text?.text).toBe(
      "*CRITICAL: Boss API is down*\nBoss API is down: connect ECONNREFUSED 127.0.0.1:4000 (3 failed checks)",
    );
    expect(blocks[1]?.fields).toContainEqual({ type: "mrkdwn", text: "*Failed checks*\n3" });
    expect(blocks[2]?.elements?.[0]?.text).toBe(
      `upkeep · <!date^${T0 / 1000}^{date_short_pretty} {time}|2025-06-01T12:00:00Z>`,
    );
  });

  it("lists several services in one message, separated by dividers, headed by the worst tone", async () => {
    const events = [
      alertEvent({
        kind: "resolved",
        serviceTitle: "Health Proxy",
        message: "[RESOLVED] Health Proxy is up again",
        facts: { status: "up" },
      }),
      alertEvent({ level: "WARNING", serviceTitle: "MCP Bridge", message: "[WARNING] MCP Bridge is down" }),
      alertEvent(),
    ];
    await slack.run(ctx(events), { url: server.url }, never());
    const body = server.json(0);
    const blocks = body["blocks"] as Block[];
    expect(blocks.map((b) => b.type)).toEqual([
      "header",
      "section",
      "divider",
      "section",
      "divider",
      "section",
      "context",
    ]);
    expect(blocks[0]?.text?.text).toBe(
      ":red_circle: 3 alerts: 1 resolved, 1 WARNING firing, 1 CRITICAL firing",
    );
    expect(String(body["text"]).split("\n")).toHaveLength(4);
  });

  it("escapes mrkdwn control characters and keeps Slack's limits", async () => {
    const events = Array.from({ length: 30 }, (_, i) =>
      alertEvent({ serviceTitle: `S${i}`, message: `[CRITICAL] S${i} <!channel> & ${"y".repeat(4000)}` }),
    );
    await slack.run(ctx(events), { url: server.url }, never());
    const blocks = server.json(0)["blocks"] as Block[];
    expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    const last = blocks[blocks.length - 2];
    expect(last?.text?.text).toMatch(/^\*…and 7 more\*/);
    for (const b of blocks) {
      if (b.text !== undefined)
        expect(b.text.text.length).toBeLessThanOrEqual(b.type === "header" ? 150 : 3000);
      expect(b.text?.text ?? "").not.toContain("<!channel>");
    }
    expect(blocks[1]?.text?.text).toContain("&lt;!channel&gt; &amp; ");
  });

  it("honours Retry-After on 429; 5xx retryable; 4xx (invalid_payload) not", async () => {
    server.reply(
      { status: 429, body: "rate_limited", headers: { "retry-after": "30" } },
      { status: 500, body: "oops" },
      { status: 400, body: "invalid_payload" },
    );
    expect(await slack.run(ctx(), { url: server.url }, never())).toEqual({
      ok: false,
      retryable: true,
      retryAfterMs: 30_000,
      detail: "HTTP 429 rate_limited (retry after 30s)",
    });
    expect(await slack.run(ctx(), { url: server.url }, never())).toMatchObject({
      ok: false,
      retryable: true,
    });
    expect(await slack.run(ctx(), { url: server.url }, never())).toEqual({
      ok: false,
      retryable: false,
      detail: "HTTP 400 invalid_payload",
    });
  });

  it("describes where it posts without the secret path", () => {
    expect(
      slack.describe(
        { url: "https://hooks.slack.com/services/T000/B000/XXXX", channel: "#ops" },
        { settings },
      ),
    ).toBe("POST slack webhook https://hooks.slack.com/... to #ops");
  });
});
