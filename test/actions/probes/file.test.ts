import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileProbe as fileProbeImpl, type FileProbeParams } from "../../../src/actions/probes/file.js";
import type { ProbeHandler } from "../../../src/actions/types.js";
import type { Clock } from "../../../src/runtime/clock.js";
import { makeContext, never, settings } from "../helpers.js";

/** Typed through the interface, as the runtime calls it. */
const fileProbe: ProbeHandler<FileProbeParams> = fileProbeImpl;

const NOW = Date.parse("2025-06-01T12:00:00Z");
const clock: Clock = { now: () => NOW, sleep: async () => undefined };

describe("file probe", () => {
  let dir: string;
  let file: string;
  const savedHome = process.env.HOME;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "upkeep-file-"));
    file = join(dir, "heartbeat");
    writeFileSync(file, "beat");
  });
  afterEach(() => {
    process.env.HOME = savedHome;
    rmSync(dir, { recursive: true, force: true });
  });

  const touch = (agoMs: number): void => utimesSync(file, new Date(NOW - agoMs), new Date(NOW - agoMs));

  it("passes while the file is newer than maxAge, judged on the injected clock", async () => {
    touch(5 * 60_000);
    const result = await fileProbe.run(makeContext({ clock }), { path: file, maxAge: "10m" }, never());
    expect(result).toMatchObject({ ok: true, detail: "modified 5m ago", facts: { ageMs: 300_000 } });
  });

  it("fails once the file is older than maxAge", async () => {
    touch(20 * 60_000);
    const result = await fileProbe.run(makeContext({ clock }), { path: file, maxAge: "10m" }, never());
    expect(result).toMatchObject({ ok: false, detail: "modified 20m ago (max 10m)" });
  });

  it("fails when the file is missing", async () => {
    const missing = join(dir, "nope");
    expect(
      (await fileProbe.run(makeContext({ clock }), { path: missing, maxAge: "1m" }, never())).detail,
    ).toBe(`missing: ${missing}`);
  });

  it("expands ~ to the home directory", async () => {
    touch(1000);
    process.env.HOME = dir;
    expect(
      (await fileProbe.run(makeContext({ clock }), { path: "~/heartbeat", maxAge: "1m" }, never())).ok,
    ).toBe(true);
  });

  it("fails clearly on a maxAge that is not a duration", async () => {
    expect(
      (await fileProbe.run(makeContext({ clock }), { path: file, maxAge: "soon" }, never())).detail,
    ).toBe('invalid parameter maxAge: "soon" is not a duration like 2s or 500ms');
  });

  it("describes itself", () => {
    expect(fileProbe.describe({ path: "/tmp/hb", maxAge: "10m" }, { settings })).toBe(
      "file /tmp/hb modified within 10m",
    );
  });
});
