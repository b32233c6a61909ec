/**
 * The disk probe against the real filesystem of a temp dir: thresholds come from that filesystem's own
 * statfs (free space changes while other processes write, so "below" and "above" keep a wide margin),
 * and the free space it reports is compared with what `df` says.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diskProbe } from "../../../src/actions/probes/disk.js";
import { loadRules } from "../../../src/config/validate.js";
import { runMain } from "../../schedule/helpers.js";
import { makeContext, never } from "../helpers.js";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "upkeep-disk-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const now = (): { free: number; total: number; ffree: number; files: number } => {
  const fs = statfsSync(dir);
  return { free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize, ffree: fs.ffree, files: fs.files };
};

describe("disk probe (the real filesystem of a temp dir)", () => {
  it("passes when the free space is above minFree and reports what df reports", async () => {
    const { free, total } = now();
    const result = await diskProbe.run(makeContext(), { path: dir, minFree: Math.floor(free / 2) }, never());
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(
      new RegExp(`^[\\d.]+ [KMGTP]?B free of [\\d.]+ [KMGTP]?B \\([\\d.]+%\\) at ${dir}$`),
    );
    const facts = result.facts as Record<string, number>;
    expect(facts["totalBytes"]).toBe(total);
    let dfAvail: number | undefined;
    try {
      dfAvail = Number(
        execFileSync("df", ["-B1", "--output=avail", dir], { encoding: "utf8" }).split("\n")[1],
      );
    } catch {
      dfAvail = undefined; // no GNU df: the statfs comparison above stands alone
    }
    // Another process may write meanwhile: equal within 1% of the filesystem.
    if (dfAvail !== undefined)
      expect(Math.abs((facts["freeBytes"] ?? 0) - dfAvail)).toBeLessThan(total / 100);
    expect(facts["freePercent"]).toBeCloseTo((free / total) * 100, 0);
  });

  it("fails when minFree is far above the free space, saying by how much it falls short", async () => {
    const { free } = now();
    const minFree = `${Math.ceil((free * 2) / 1e9) + 1000}GB`;
    const result = await diskProbe.run(makeContext(), { path: dir, minFree }, never());
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/free of .* at .*: below [\d.]+ TB$/);
  });

  it("takes percentages of the filesystem for space and inodes", async () => {
    const { free, total, ffree, files } = now();
    const freePct = (free / total) * 100;
    const below = `${Math.max(0, Math.floor(freePct / 2))}%`;
    const pass = await diskProbe.run(
      makeContext(),
      { path: dir, minFree: below, minFreeInodes: "0%" },
      never(),
    );
    expect(pass.ok).toBe(true);
    if (freePct < 99) {
      const fail = await diskProbe.run(makeContext(), { path: dir, minFree: "100%" }, never());
      expect(fail).toMatchObject({ ok: false });
      expect(fail.detail).toMatch(/: below 100%$/);
    }
    if (files > 0) {
      expect(pass.detail).toMatch(/, \d+ inodes free \([\d.]+%\) at /);
      const inodes = await diskProbe.run(
        makeContext(),
        { path: dir, minFree: 0, minFreeInodes: ffree * 2 + 1000 },
        never(),
      );
      expect(inodes).toMatchObject({ ok: false, facts: { totalInodes: files } });
      expect(inodes.detail).toMatch(new RegExp(`: inodes below ${ffree * 2 + 1000}$`));
    }
  });

  it("fails on a missing path and on thresholds it cannot read, without touching the disk", async () => {
    const missing = await diskProbe.run(makeContext(), { path: join(dir, "nope"), minFree: "1GB" }, never());
    expect(missing).toMatchObject({ ok: false, detail: `missing: ${join(dir, "nope")}` });
    for (const [minFree, message] of [
      [
        "5 parsecs",
        'invalid parameter minFree: "5 parsecs" is not a size like 5GB, 500MiB or a percentage like 10%',
      ],
      ["150%", 'invalid parameter minFree: "150%" is over 100%'],
    ] as const) {
      const result = await diskProbe.run(makeContext(), { path: dir, minFree }, never());
      expect(result).toMatchObject({ ok: false, latencyMs: 0, detail: message });
    }
  });

  it("describes the check for plan and dry-run", () => {
    expect(diskProbe.describe({ path: "/var", minFree: "10%", minFreeInodes: "5%" })).toBe(
      "disk free at /var >= 10%, inodes >= 5%",
    );
  });
});

describe("disk probe in the rules and the CLI", () => {
  const rules = (probe: string): string => {
    const root = mkdtempSync(join(dir, "rules-"));
    writeFileSync(
      join(root, "services.yaml"),
      [
        "version: 1",
        "runtime:",
        `  stateDir: ${join(root, "state")}`,
        `  logFile: ${join(root, "upkeep.log")}`,
        "services:",
        "  data-disk:",
        "    title: Data disk",
        `    probe: ${probe}`,
        "",
      ].join("\n"),
    );
    return root;
  };

  it("validate points at a bad threshold with its line and column", async () => {
    const probe = `{ type: disk, path: ${dir}, minFree: 5 parsecs }`;
    const root = rules(probe);
    const { diagnostics } = await loadRules(root, { env: {} });
    const column = "    probe: ".length + probe.indexOf("5 parsecs") + 1;
    expect(diagnostics.map((d) => [d.severity, d.line, d.column, d.pointer])).toEqual([
      ["error", 8, column, "/services/data-disk/probe/minFree"],
    ]);
    expect(diagnostics[0]?.message).toContain('"5 parsecs"');
  });

  it("run fails the service, and status and explain show the probe's detail", async () => {
    const root = rules(`{ type: disk, path: ${dir}, minFree: "1000000GB" }`);
    const state = join(root, "state");
    const run = await runMain(["run", "--rules", root, "--state-dir", state]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/Data disk \(disk .*\): DOWN/);
    const status = await runMain(["status", "--rules", root, "--state-dir", state, "--format", "json"]);
    expect(status.stdout).toMatch(/free of .* at .*: below 1\.0 PB/);
    const explain = await runMain(["explain", "data-disk", "--rules", root, "--state-dir", state]);
    expect(explain.stdout).toMatch(/below 1\.0 PB/);
  });
});
