/**
 * The command channel leaves nothing running either (issue 19): a notifier delivers and exits; what it
 * puts in the background is killed with it, as for an exec probe. Only heal steps may leave processes.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { commandChannel as impl, type CommandChannelParams } from "../../../src/actions/channels/command.js";
import type { ChannelHandler } from "../../../src/actions/types.js";
import { isGone, killTree, makeContext, never, waitFor } from "../helpers.js";
import { alertEvent, frozenClock, notificationOf } from "./recorder.js";

const command: ChannelHandler<CommandChannelParams> = impl;
const dirs: string[] = [];
const started: number[] = [];

afterEach(() => {
  for (const pid of started.splice(0)) killTree(pid);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("command channel: leaves nothing running", () => {
  it("kills a background process its command started once the command exits", async () => {
    const dir = mkdtempSync(join(tmpdir(), "upkeep-channel-tree-"));
    dirs.push(dir);
    const pidFile = join(dir, "pid");
    const ctx = makeContext({ clock: frozenClock(), notification: notificationOf([alertEvent()], "notify") });
    const result = await command.run(
      ctx,
      { command: ["sh", "-c", `sleep 300 </dev/null >/dev/null 2>&1 & echo $! > '${pidFile}'`] },
      never(),
    );
    expect(result.ok).toBe(true);
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    started.push(pid);
    await expect(waitFor(() => isGone(pid), 5000, `pid ${pid} to be gone`)).resolves.toBe(true);
  });
});
