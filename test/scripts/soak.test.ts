import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CONCERNS, emptyConcern } from "../../src/core/state.js";
import { isValidConcern } from "../../src/core/state-shape.js";
import { freshOutbox, OUTBOX_SPEC } from "../../src/runtime/outbox.js";
import { distMissing } from "../fixtures/state-children.js";

/**
 * `npm run soak` (scripts/soak.mjs) keeps issue 19's crash, concurrency and fuzz figures as numbers.
 * Its detectors are specified here on made-up evidence, so a detector that stops seeing a problem
 * fails a test, and one quick soak runs end to end so the script cannot rot.
 */

type Checks = Record<string, (raw: Record<string, unknown>) => boolean>;
interface Marks {
  overlaps: number;
  doubles: number;
  unfinished: number;
  total: number;
  starts: Record<string, number>;
}
interface FuzzCase {
  base: string;
  target: string;
  applied: string[];
  files: Record<string, string>;
}
interface SoakModule {
  stateProblems(stateDir: string, checks: Checks, required?: readonly string[]): string[];
  analyseMarks(text: string, exitCodes: Record<string, number | null>): Marks;
  stackLines(text: string): string[];
  fuzzCase(seed: number, index: number): FuzzCase;
}

const script = fileURLToPath(new URL("../../scripts/soak.mjs", import.meta.url));
const soak = (await import(pathToFileURL(script).href)) as SoakModule;

const checks: Checks = {
  ...Object.fromEntries(CONCERNS.map((c) => [c, (raw: unknown) => isValidConcern(c, raw)])),
  outbox: (raw) => OUTBOX_SPEC.validate?.(raw) ?? true,
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "upkeep-soak-test-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeGoodState(): void {
  for (const concern of CONCERNS)
    writeFileSync(join(dir, `${concern}.json`), JSON.stringify(emptyConcern(concern)));
  writeFileSync(join(dir, "outbox.json"), JSON.stringify(freshOutbox()));
}

describe("stateProblems (kill trials)", () => {
  it("finds nothing wrong with state files that parse and have their shape", () => {
    writeGoodState();
    expect(soak.stateProblems(dir, checks, [...CONCERNS, "outbox"])).toEqual([]);
  });

  it("reports a torn file, a wrong shape, a missing required file and a file moved aside as corrupt", () => {
    writeGoodState();
    writeFileSync(join(dir, "heals.json"), '{"version": 1, "heals": {"web": {"lastHe');
    writeFileSync(
      join(dir, "breakers.json"),
      JSON.stringify({ version: 1, breakers: { web: { state: "AJAR" } } }),
    );
    rmSync(join(dir, "alerts.json"));
    writeFileSync(join(dir, "services.json.corrupt-2024-01-01T00-00-00-000Z"), "{");
    const problems = soak.stateProblems(dir, checks, [...CONCERNS, "outbox"]);
    expect(problems).toHaveLength(4);
    expect(problems.join("\n")).toMatch(/heals\.json does not parse/);
    expect(problems.join("\n")).toMatch(/breakers\.json fails its shape check/);
    expect(problems.join("\n")).toMatch(/alerts\.json is missing/);
    expect(problems.join("\n")).toMatch(/moved aside as corrupt/);
  });
});

describe("analyseMarks (concurrent trials)", () => {
  const codes = { "run-1": 0, "run-2": 3, "heal-1": 0, "heal-2": 0 };

  it("accepts heals one after another, one per command that got the lock", () => {
    const marks = ["start 10 run-1", "end 10 run-1", "start 11 heal-1", "end 11 heal-1", ""].join("\n");
    expect(soak.analyseMarks(marks, codes)).toMatchObject({
      overlaps: 0,
      doubles: 0,
      unfinished: 0,
      total: 2,
    });
  });

  it("counts a heal that starts while another runs as overlapping", () => {
    const marks = ["start 10 heal-1", "start 11 heal-2", "end 10 heal-1", "end 11 heal-2"].join("\n");
    expect(soak.analyseMarks(marks, codes)).toMatchObject({ overlaps: 1, doubles: 0 });
  });

  it("counts as double: a second heal by one command, any heal by a command refused with exit 3, a second heal by scheduled runs", () => {
    const twice = ["start 1 heal-1", "end 1 heal-1", "start 2 heal-1", "end 2 heal-1"].join("\n");
    expect(soak.analyseMarks(twice, codes).doubles).toBe(1);
    expect(soak.analyseMarks("start 1 run-2\nend 1 run-2", codes).doubles).toBe(1);
    const runs = ["start 1 run-1", "end 1 run-1", "start 2 run-3", "end 2 run-3"].join("\n");
    expect(soak.analyseMarks(runs, { ...codes, "run-3": 1 }).doubles).toBe(1);
  });

  it("counts a start without an end as unfinished", () => {
    expect(soak.analyseMarks("start 1 heal-1\n", codes).unfinished).toBe(1);
  });
});

describe("stackLines and fuzzCase (fuzz)", () => {
  it("sees an internal error and stack frames, not a diagnostic's code frame", () => {
    const crash = "upkeep: internal error (please report)\nRangeError: x\n    at formatText (a.js:1:1)\n";
    expect(soak.stackLines(crash)).toHaveLength(2);
    expect(soak.stackLines(" 8 |     at: 3\n   |     ^\nrules are invalid (1 error)\n")).toEqual([]);
  });

  it("builds the same file from the same seed and index, and different files otherwise", () => {
    const a = soak.fuzzCase(19, 42);
    expect(soak.fuzzCase(19, 42)).toEqual(a);
    expect(a.applied.length).toBeGreaterThan(0);
    const others = [soak.fuzzCase(19, 43), soak.fuzzCase(20, 42)];
    for (const other of others) expect(other.files).not.toEqual(a.files);
  });
});

const missing = distMissing("index.js", "cli/main.js", "core/state-shape.js", "runtime/outbox.js");

describe("npm run soak --quick", () => {
  it.skipIf(missing !== undefined)(
    `prints every figure with its bad counts at 0 and exits 0${missing ? ` [skipped: ${missing}]` : ""}`,
    async () => {
      const child = spawn(process.execPath, [script, "--quick", "--seed", "1"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      // The script bounds each quick section to 2 minutes and kills its children on exit.
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(stdout).toMatch(
        /^kill trials: 4 \(2 during state write, .*unreadable state: 0, runs that could not continue: 0 /m,
      );
      expect(stdout).toMatch(
        /^concurrent trials: 2 \(12 commands, .*double heals: 0, lost updates: 0, overlapping heals: 0, failed commands: 0, processes left: 0 /m,
      );
      expect(stdout).toMatch(/^library updates: 96 .*lost updates: 0, failed processes: 0 /m);
      expect(stdout).toMatch(
        /^fuzzed rule files: 40 .*crashes: 0, stack traces: 0, unexpected exit codes: 0, hangs: 0, CLI disagreements: 0 /m,
      );
      expect(stdout).toMatch(/^soak: ok in [\d.]+ s \(seed 1\)$/m);
    },
    300_000,
  );
});
