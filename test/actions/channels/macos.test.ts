import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createMacosChannel, macosChannel, osascriptArgs } from "../../../src/actions/channels/macos.js";
import { fixture, makeContext, never, settings } from "../helpers.js";
import { alertEvent, frozenClock, notificationOf } from "./recorder.js";

const STANDIN = [process.execPath, fixture("channel-osascript.mjs")];
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function logFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "upkeep-osascript-"));
  dirs.push(dir);
  return join(dir, "argv.json");
}

const tricky = 'Boss "API" \\ down; do shell script "rm -rf ~"';
const event = alertEvent({ serviceTitle: "Boss API", message: `[CRITICAL] ${tricky}` });

describe("macos channel", () => {
  it("is skipped with a clear, non-retryable reason on other systems", async () => {
    const linux = createMacosChannel({ platform: "linux", osascript: STANDIN });
    const result = await linux.run(makeContext({ notification: notificationOf([event]) }), {}, never());
    expect(result).toEqual({
      ok: false,
      retryable: false,
      detail: "skipped: macOS only (this host is linux)",
    });
    expect(linux.describe({}, { settings })).toBe("show a macOS notification (skipped: macOS only)");
    if (process.platform !== "darwin")
      expect((await macosChannel.run(makeContext(), {}, never())).detail).toMatch(/^skipped: macOS only/);
  });

  it("runs osascript with a constant script and the texts as separate argv elements (never spliced into code)", async () => {
    const log = logFile();
    const mac = createMacosChannel({ platform: "darwin", osascript: STANDIN });
    const ctx = makeContext({
      clock: frozenClock(),
      env: { ...process.env, OSASCRIPT_LOG: log },
      notification: notificationOf([event]),
    });
    const result = await mac.run(ctx, { sound: "Basso" }, never());
    expect(result).toEqual({ ok: true, detail: "notification shown" });
    const argv = JSON.parse(readFileSync(log, "utf8")) as string[];
    expect(argv).toEqual([
      "-e",
      "on run argv",
      "-e",
      "display notification (item 2 of argv) with title (item 3 of argv) subtitle (item 4 of argv) sound name (item 5 of argv)",
      "-e",
      "end run",
      "upkeep",
      tricky,
      "upkeep: CRITICAL: Boss API is down",
      "Boss API",
      "Basso",
    ]);
    // The script text is the same whatever the alert says.
    expect(osascriptArgs("a", '"; evil', "b", undefined).slice(0, 6)).toEqual(
      osascriptArgs("x", "y", "z", undefined).slice(0, 6),
    );
  });

  it("reports an osascript failure", async () => {
    const mac = createMacosChannel({ platform: "darwin", osascript: STANDIN });
    const ctx = makeContext({
      env: { ...process.env, OSASCRIPT_LOG: logFile(), OSASCRIPT_EXIT: "1" },
      notification: notificationOf([event]),
    });
    expect(await mac.run(ctx, { title: "Ops" }, never())).toEqual({
      ok: false,
      retryable: false,
      detail: "osascript exited 1: execution error: Notifications are not allowed (-1743)",
    });
  });
});
