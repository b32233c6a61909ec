import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  discordChannel as impl,
  DISCORD_COLORS,
  DISCORD_LIMITS,
  type DiscordChannelParams,
} from "../../../src/actions/channels/discord.js";
import type { ChannelHandler } from "../../../src/actions/types.js";
import { makeContext, never, settings } from "../helpers.js";
import { alertEvent, frozenClock, notificationOf, startRecorder, type Recorder } from "./recorder.js";

const discord: ChannelHandler<DiscordChannelParams> = impl;

interface Embed {
  title: string;
  description: string;
  color: number;
  fields: { name: string; value: string }[];
}

let server: Recorder;
beforeEach(async () => {
  server = await startRecorder("/api/webhooks/123/secret-token");
});
afterEach(async () => {
  await server.close();
});

const ctx = (events = [alertEvent()]) =>
  makeContext({ clock: frozenClock(), notification: notificationOf(events, "discord") });

describe("discord channel", () => {
  it("posts content plus one embed per alert, coloured by level, as Discord's execute-webhook documents", async () => {
    const events = [
      alertEvent(),
      alertEvent({
        level: "WARNING",
        serviceId: "mcp",
        serviceTitle: "MCP Bridge",
        message: "[WARNING] MCP Bridge is down",
      }),
      alertEvent({ level: "INFO", serviceId: "x", serviceTitle: "X", message: "[INFO] X is down" }),
      alertEvent({
        kind: "resolved",
        serviceTitle: "Health Proxy",
        message: "[RESOLVED] Health Proxy is up again",
        facts: { status: "up" },
      }),
    ];
    const result = await discord.run(
      ctx(events),
      { url: server.url, username: "upkeep", avatarUrl: "https://x/a.png" },
      never(),
    );
    expect(result).toEqual({ ok: true, detail: "HTTP 204" });
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0];
    expect(req?.method).toBe("POST");
    expect(req?.url).toBe("/api/webhooks/123/secret-token");
    expect(req?.headers["content-type"]).toBe("application/json");
    const body = server.json(0);
    expect(body["username"]).toBe("upkeep");
    expect(body["avatar_url"]).toBe("https://x/a.png");
    expect(body["allowed_mentions"]).toEqual({ parse: [] });
    expect(String(body["content"])).toMatch(
      /^\*\*4 alerts: 1 CRITICAL firing, 1 WARNING firing, 1 INFO firing, 1 resolved\*\*/,
    );
    const embeds = body["embeds"] as Embed[];
    expect(embeds.map((e) => e.color)).toEqual([
      DISCORD_COLORS.critical,
      DISCORD_COLORS.warning,
      DISCORD_COLORS.info,
      DISCORD_COLORS.resolved,
    ]);
    expect(DISCORD_COLORS).toEqual({
      critical: 0xed4245,
      warning: 0xfaa61a,
      info: 0x3498db,
      resolved: 0x57f287,
    });
    expect(embeds[0]?.title).toBe("CRITICAL: Boss API is down");
    expect(embeds[0]?.description).toBe(
      "Boss API is down: connect ECONNREFUSED 127.0.0.1:4000 (3 failed checks)",
    );
    expect(embeds[0]?.fields).toEqual(
      expect.arrayContaining([
        { name: "Status", value: "down for 10m", inline: true },
        { name: "Since", value: "2025-06-01T11:50:00Z", inline: true },
        { name: "Failed checks", value: "3", inline: true },
        { name: "Heal", value: "heal failed: verify failed", inline: true },
      ]),
    );
    expect(embeds[3]?.title).toBe("Resolved: Health Proxy is up again");
  });

  it("sends a single alert's plain message as content", async () => {
    await discord.run(ctx(), { url: server.url }, never());
    const body = server.json(0);
    expect(body["content"]).toBe(alertEvent().message);
    expect(body).not.toHaveProperty("username");
    expect((body["embeds"] as Embed[])[0]?.color).toBe(0xed4245);
  });

  it("keeps Discord's limits: content, 10 embeds (the last lists the rest), description and total size", async () => {
    const long = "x".repeat(5000);
    const events = Array.from({ length: 14 }, (_, i) =>
      alertEvent({
        serviceId: `s${i}`,
        serviceTitle: `Service ${i}`,
        message: `[CRITICAL] Service ${i} is down: ${long}`,
      }),
    );
    await discord.run(ctx(events), { url: server.url }, never());
    const body = server.json(0);
    expect(String(body["content"]).length).toBeLessThanOrEqual(DISCORD_LIMITS.content);
    const embeds = body["embeds"] as Embed[];
    expect(embeds).toHaveLength(10);
    expect(embeds[9]?.title).toBe("…and 5 more");
    let total = 0;
    for (const e of embeds) {
      expect(e.description.length).toBeLessThanOrEqual(DISCORD_LIMITS.description);
      expect(e.title.length).toBeLessThanOrEqual(DISCORD_LIMITS.title);
      total += e.title.length + e.description.length + "upkeep".length;
      for (const f of e.fields) total += f.name.length + f.value.length;
    }
    expect(total).toBeLessThanOrEqual(DISCORD_LIMITS.total);

    await discord.run(ctx([alertEvent({ message: long })]), { url: server.url }, never());
    const single = server.json(1);
    expect(String(single["content"])).toHaveLength(DISCORD_LIMITS.content);
    expect(String(single["content"]).endsWith("…")).toBe(true);
  });

  it("reports 429 with Discord's retry_after as retryable, 5xx retryable, 4xx not", async () => {
    server.reply(
      {
        status: 429,
        body: JSON.stringify({ message: "You are being rate limited.", retry_after: 1.5, global: false }),
        headers: { "content-type": "application/json" },
      },
      { status: 502, body: "bad gateway" },
      { status: 404, body: JSON.stringify({ message: "Unknown Webhook", code: 10015 }) },
    );
    const limited = await discord.run(ctx(), { url: server.url }, never());
    expect(limited).toMatchObject({ ok: false, retryable: true, retryAfterMs: 1500 });
    expect(limited.detail).toMatch(/^HTTP 429 .*\(retry after 2s\)$/);
    expect(await discord.run(ctx(), { url: server.url }, never())).toMatchObject({
      ok: false,
      retryable: true,
      detail: "HTTP 502 bad gateway",
    });
    const gone = await discord.run(ctx(), { url: server.url }, never());
    expect(gone).toMatchObject({ ok: false, retryable: false });
    expect(gone.detail).toMatch(/^HTTP 404 .*Unknown Webhook/);
  });

  it("times out on its own deadline (retryable)", async () => {
    server.reply("hang");
    const result = await discord.run(ctx(), { url: server.url, timeout: "200ms" }, never());
    expect(result).toMatchObject({ ok: false, retryable: true, detail: "timed out after 200 ms" });
  });

  it("describes where it posts without the webhook's secret path", () => {
    expect(discord.describe({ url: "https://discord.com/api/webhooks/123/secret-token" }, { settings })).toBe(
      "POST discord webhook https://discord.com/...",
    );
    expect(discord.describe({ url: "${env:DISCORD_WEBHOOK_URL}" }, { settings })).toBe(
      "POST discord webhook ${env:DISCORD_WEBHOOK_URL}",
    );
  });

  it("fails without a url or notification, not retryable", async () => {
    expect(await discord.run(ctx(), { url: "" }, never())).toMatchObject({ ok: false, retryable: false });
    expect((await discord.run(makeContext(), { url: server.url }, never())).ok).toBe(false);
    expect(server.requests).toHaveLength(0);
  });
});
