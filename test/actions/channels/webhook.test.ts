import { createHmac, timingSafeEqual } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  describeEndpoint,
  retryAfterMs,
  webhookChannel as impl,
  type WebhookChannelParams,
} from "../../../src/actions/channels/webhook.js";
import type { ChannelHandler } from "../../../src/actions/types.js";
import { freePort, makeContext, never, settings } from "../helpers.js";
import { alertEvent, frozenClock, notificationOf, startRecorder, T0, type Recorder } from "./recorder.js";

const webhook: ChannelHandler<WebhookChannelParams> = impl;
const SECRET = "whsec-test-0123456789";

let server: Recorder;
beforeEach(async () => {
  server = await startRecorder("/upkeep?token=abc");
});
afterEach(async () => {
  await server.close();
});

const ctx = (events = [alertEvent()]) =>
  makeContext({ clock: frozenClock(), notification: notificationOf(events, "hook") });

/** What a receiver does: recompute the HMAC over the exact raw body, compare in constant time. */
function verify(rawBody: string, header: string | undefined, secret: string): boolean {
  if (header === undefined || !header.startsWith("sha256=")) return false;
  const expected = Buffer.from(createHmac("sha256", secret).update(rawBody, "utf8").digest("hex"), "hex");
  const given = Buffer.from(header.slice("sha256=".length), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe("webhook channel", () => {
  it("POSTs the whole notification as JSON, signed so the receiver can verify it", async () => {
    const result = await webhook.run(
      ctx(),
      { url: server.url, secret: SECRET, headers: { "x-team": "ops" } },
      never(),
    );
    expect(result).toEqual({ ok: true, detail: "HTTP 204" });
    const req = server.requests[0];
    expect(req?.method).toBe("POST");
    expect(req?.url).toBe("/upkeep?token=abc");
    expect(req?.headers["x-team"]).toBe("ops");
    expect(req?.headers["x-upkeep-delivery"]).toBe("n-1234");
    expect(req?.headers["x-upkeep-timestamp"]).toBe(String(T0 / 1000));
    const signature = req?.headers["x-upkeep-signature"] as string;
    expect(verify(req?.body ?? "", signature, SECRET)).toBe(true);
    expect(verify(req?.body ?? "", signature, "another secret")).toBe(false);
    expect(verify(`${req?.body ?? ""} `, signature, SECRET)).toBe(false);

    const body = server.json(0);
    expect(body).toMatchObject({
      version: 1,
      source: "upkeep",
      id: "n-1234",
      channel: "hook",
      createdAt: "2025-06-01T12:00:00Z",
      sentAt: T0 / 1000,
      text: alertEvent().message,
    });
    // The timestamp is inside the signed body too, so a replayed request cannot carry a fresh one.
    expect(String(body["sentAt"])).toBe(req?.headers["x-upkeep-timestamp"]);
    const [event] = body["events"] as Record<string, unknown>[];
    expect(event).toMatchObject({
      kind: "firing",
      ruleId: "service-down-critical",
      level: "CRITICAL",
      serviceId: "boss-api",
      serviceTitle: "Boss API",
      since: "2025-06-01T12:00:00Z",
      count: 1,
      facts: { status: "down", consecutiveFailures: 3, heal: { outcome: "failed" } },
    });
  });

  it("sends no signature without a secret, and honours method PUT", async () => {
    await webhook.run(ctx(), { url: server.url, method: "PUT" }, never());
    expect(server.requests[0]?.method).toBe("PUT");
    expect(server.requests[0]?.headers).not.toHaveProperty("x-upkeep-signature");
  });

  it("classifies failures: 5xx, 429, 408 and network errors retryable; other 4xx and bad URLs not", async () => {
    server.reply(
      { status: 503, body: "busy", headers: { "retry-after": "120" } },
      { status: 408 },
      { status: 401, body: "bad signature" },
    );
    expect(await webhook.run(ctx(), { url: server.url }, never())).toEqual({
      ok: false,
      retryable: true,
      retryAfterMs: 120_000,
      detail: "HTTP 503 busy (retry after 120s)",
    });
    expect(await webhook.run(ctx(), { url: server.url }, never())).toMatchObject({
      ok: false,
      retryable: true,
    });
    expect(await webhook.run(ctx(), { url: server.url }, never())).toEqual({
      ok: false,
      retryable: false,
      detail: "HTTP 401 bad signature",
    });
    const refused = await webhook.run(ctx(), { url: `http://127.0.0.1:${await freePort()}/x` }, never());
    expect(refused).toMatchObject({ ok: false, retryable: true });
    expect(refused.detail).toMatch(/ECONNREFUSED/);
    expect(await webhook.run(ctx(), { url: "ftp://example.com/x" }, never())).toMatchObject({
      ok: false,
      retryable: false,
    });
  });

  it("times out on its own deadline (retryable), and is aborted by the runtime's signal", async () => {
    server.reply("hang", "hang");
    expect(await webhook.run(ctx(), { url: server.url, timeout: "150ms" }, never())).toEqual({
      ok: false,
      retryable: true,
      detail: "timed out after 150 ms",
    });
    const controller = new AbortController();
    const pending = webhook.run(ctx(), { url: server.url }, controller.signal);
    controller.abort(new Error("stop"));
    expect(await pending).toMatchObject({ ok: false, retryable: true, detail: "aborted" });
  });

  it("describes the endpoint by scheme and host only", () => {
    expect(
      webhook.describe(
        { url: "https://hooks.example.com/p/a?token=s3cr3t", secret: "${env:S}" },
        { settings },
      ),
    ).toBe("POST notification JSON to https://hooks.example.com/..., signed");
    expect(describeEndpoint("${env:HOOK_URL}")).toBe("${env:HOOK_URL}");
    expect(describeEndpoint("not a url")).toBe("(invalid url)");
  });

  it("reads Retry-After as seconds or an HTTP date, or Discord's retry_after", () => {
    expect(retryAfterMs("2", "", 0)).toBe(2000);
    expect(retryAfterMs(new Date(T0 + 5000).toUTCString(), "", T0)).toBe(5000);
    expect(retryAfterMs(undefined, '{"retry_after":0.25}', 0)).toBe(250);
    expect(retryAfterMs(undefined, "nope", 0)).toBeUndefined();
  });
});
