import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Notification } from "../../src/actions/types.js";
import {
  backoffMs,
  entryFor,
  expire,
  freshOutbox,
  loadOutbox,
  MAX_ENTRIES,
  mergeChannel,
  notificationId,
  saveOutbox,
  type OutboxEntry,
  type OutboxState,
} from "../../src/runtime/outbox.js";
import { createRedactor } from "../../src/runtime/redact.js";
import { emptyBreaker } from "../../src/core/state.js";
import { alertEvent, T0 } from "../actions/channels/recorder.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "upkeep-outbox-"));
  dirs.push(dir);
  return dir;
}

function note(channel: string, count = 1, createdAt = T0): Notification & { id: string } {
  const events = [alertEvent({ count })];
  return { id: notificationId(channel, events), createdAt, channel, events, text: events[0]?.message ?? "" };
}

function entry(channel: string, overrides: Partial<OutboxEntry> = {}): OutboxEntry {
  return { ...entryFor(note(channel, overrides.attempts ?? 1, overrides.createdAt ?? T0), T0), ...overrides };
}

describe("outbox policy", () => {
  it("gives a notification an id that is stable across retries and differs per channel and notice", () => {
    const events = [alertEvent()];
    expect(notificationId("discord", events)).toBe(notificationId("discord", [alertEvent()]));
    expect(notificationId("discord", events)).not.toBe(notificationId("slack", events));
    expect(notificationId("discord", events)).not.toBe(notificationId("discord", [alertEvent({ count: 2 })]));
    expect(notificationId("discord", events)).not.toBe(
      notificationId("discord", [alertEvent({ kind: "resolved" })]),
    );
  });

  it("backs off exponentially from 1 min to a 1 h cap, never sooner than Retry-After", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffMs(n) / MIN)).toEqual([1, 2, 4, 8, 16, 32, 60, 60]);
    expect(backoffMs(1, 5 * MIN)).toBe(5 * MIN);
    expect(backoffMs(1, 10 * HOUR)).toBe(HOUR);
  });

  it("drops entries older than 24 h, or whose channel left the rules, with a reason", () => {
    const outbox: OutboxState = {
      ...freshOutbox(),
      entries: [
        entry("discord", { createdAt: T0 - 25 * HOUR, attempts: 5, lastError: "HTTP 502" }),
        entry("gone", { createdAt: T0 }),
        entry("discord", { createdAt: T0 - HOUR }),
      ],
      breakers: { gone: emptyBreaker(), discord: emptyBreaker() },
      delivered: { old: T0 - 25 * HOUR, recent: T0 - HOUR },
    };
    const { outbox: next, dropped } = expire(outbox, new Set(["discord"]), T0);
    expect(dropped.map((d) => d.reason)).toEqual([
      "undelivered for more than 24h after 5 tries (last error: HTTP 502)",
      'channel "gone" is no longer in the rules',
    ]);
    expect(next.entries).toHaveLength(1);
    expect(Object.keys(next.breakers)).toEqual(["discord"]);
    expect(next.delivered).toEqual({ recent: T0 - HOUR });
  });

  it("keeps at most MAX_ENTRIES, dropping the oldest", () => {
    const entries = Array.from({ length: MAX_ENTRIES + 2 }, (_, i) => ({
      ...entry("discord"),
      id: `e${i}`,
      createdAt: T0 + i,
    }));
    const { outbox, dropped } = expire({ ...freshOutbox(), entries }, new Set(["discord"]), T0 + 10);
    expect(outbox.entries).toHaveLength(MAX_ENTRIES);
    expect(dropped.map((d) => d.entry.id)).toEqual(["e0", "e1"]);
  });

  it("merges one channel's turn without touching the others, oldest first", () => {
    const outbox: OutboxState = {
      ...freshOutbox(),
      entries: [entry("slack", { createdAt: T0 + 2 }), entry("discord", { createdAt: T0 })],
    };
    const merged = mergeChannel(outbox, "discord", {
      entries: [entry("discord", { createdAt: T0 + 5, id: "new" })],
      breaker: undefined,
      delivered: { x: T0 },
    });
    expect(merged.entries.map((e) => [e.channel, e.createdAt])).toEqual([
      ["slack", T0 + 2],
      ["discord", T0 + 5],
    ]);
    expect(merged.delivered).toEqual({ x: T0 });
  });
});

describe("outbox persistence", () => {
  it("round-trips through outbox.json (version 1)", async () => {
    const dir = stateDir();
    expect(await loadOutbox(dir)).toEqual(freshOutbox());
    const outbox: OutboxState = {
      ...freshOutbox(),
      entries: [entry("discord", { attempts: 2, lastError: "HTTP 500" })],
      delivered: { a: T0 },
    };
    await saveOutbox(dir, outbox, createRedactor());
    const raw = JSON.parse(readFileSync(join(dir, "outbox.json"), "utf8")) as { version: number };
    expect(raw.version).toBe(1);
    expect(await loadOutbox(dir)).toEqual(outbox);
  });

  it("never writes a secret value, even one that slipped into an error text", async () => {
    const dir = stateDir();
    const secret = "https://discord.com/api/webhooks/42/very-secret-token";
    const outbox: OutboxState = {
      ...freshOutbox(),
      entries: [entry("discord", { lastError: `connect failed to ${secret}` })],
    };
    await saveOutbox(dir, outbox, createRedactor([secret]));
    const text = readFileSync(join(dir, "outbox.json"), "utf8");
    expect(text).not.toContain("very-secret-token");
    expect(text).toContain("[REDACTED]");
  });

  it("reads a corrupt file as an empty outbox and moves it aside (a read-only reader leaves it)", async () => {
    const dir = stateDir();
    writeFileSync(join(dir, "outbox.json"), '{"version":1,"entries":"nope"}');
    expect(await loadOutbox(dir, { readOnly: true })).toEqual(freshOutbox());
    expect(existsSync(join(dir, "outbox.json"))).toBe(true);
    expect(await loadOutbox(dir)).toEqual(freshOutbox());
    expect(readdirSync(dir).some((f) => f.startsWith("outbox.json.corrupt-"))).toBe(true);
  });
});
