import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { commandChannel as impl, type CommandChannelParams } from "../../../src/actions/channels/command.js";
import type { ChannelHandler } from "../../../src/actions/types.js";
import { fixture, isGone, makeContext, never, settings, waitFor } from "../helpers.js";
import { alertEvent, frozenClock, notificationOf } from "./recorder.js";

const command: ChannelHandler<CommandChannelParams> = impl;
const NOTIFIER = fixture("channel-command.mjs");

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function outFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "upkeep-command-channel-"));
  dirs.push(dir);
  return join(dir, "record.json");
}

interface Record {
  pid: number;
  argv: string[];
  stdin: string;
  env: { [k: string]: string };
}
const read = (file: string): Record => JSON.parse(readFileSync(file, "utf8")) as Record;

const events = [
  alertEvent(),
  alertEvent({ kind: "resolved", serviceTitle: "MCP Bridge", message: "[RESOLVED] MCP Bridge is up again" }),
];
const ctx = () => makeContext({ clock: frozenClock(), notification: notificationOf(events, "notify") });

describe("command channel", () => {
  it("runs the argv with the notification JSON on stdin and UPKEEP_* variables", async () => {
    const out = outFile();
    const result = await command.run(ctx(), { command: [process.execPath, NOTIFIER, out, "0"] }, never());
    expect(result).toEqual({ ok: true, detail: `${process.execPath} exited 0: delivered` });
    const record = read(out);
    expect(record.argv).toEqual([out, "0"]);
    const doc = JSON.parse(record.stdin) as {
      id: string;
      channel: string;
      events: { kind: string }[];
      text: string;
    };
    expect(doc).toMatchObject({
      id: "n-1234",
      channel: "notify",
      text: events.map((e) => e.message).join("\n"),
    });
    expect(doc.events.map((e) => e.kind)).toEqual(["firing", "resolved"]);
    expect(record.env).toMatchObject({
      UPKEEP_NOTIFICATION_ID: "n-1234",
      UPKEEP_ALERT_EVENTS: "2",
      UPKEEP_ALERT_TEXT: events.map((e) => e.message).join("\n"),
    });
  });

  it("passes alert text as data: shell characters in an argv element stay literal", async () => {
    const out = outFile();
    await command.run(
      ctx(),
      { command: [process.execPath, NOTIFIER, out, "0", "$(touch /tmp/x); `id` | cat"] },
      never(),
    );
    expect(read(out).argv[2]).toBe("$(touch /tmp/x); `id` | cat");
  });

  it("retries a non-zero exit and a timeout (killing the process); not a command that cannot start", async () => {
    const failing = await command.run(
      ctx(),
      { command: [process.execPath, NOTIFIER, outFile(), "3"] },
      never(),
    );
    expect(failing).toEqual({
      ok: false,
      retryable: true,
      detail: `${process.execPath} exited 3: notifier: upstream down`,
    });

    // Long enough for node to start and record its pid even on a loaded machine (CI runs suites in parallel).
    const out = outFile();
    const slow = await command.run(
      ctx(),
      { command: [process.execPath, NOTIFIER, out, "sleep"], timeout: "3s" },
      never(),
    );
    expect(slow).toEqual({
      ok: false,
      retryable: true,
      detail: `${process.execPath} timed out after 3000 ms`,
    });
    const { pid } = read(out);
    await waitFor(() => isGone(pid), 5000, "the timed-out notifier to be killed");

    const missing = await command.run(ctx(), { command: ["/nonexistent/notify-upkeep"] }, never());
    expect(missing).toMatchObject({ ok: false, retryable: false });
    expect(missing.detail).toMatch(/command not found/);
    expect(
      await command.run(ctx(), { command: [process.execPath, NOTIFIER, outFile(), "127"] }, never()),
    ).toMatchObject({
      ok: false,
      retryable: false,
    });
  });

  it("describes the command line", () => {
    expect(command.describe({ command: ["/usr/local/bin/notify", "--to", "ops team"] }, { settings })).toBe(
      "run /usr/local/bin/notify --to 'ops team' with the notification JSON on stdin",
    );
  });
});
