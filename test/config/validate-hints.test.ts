import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Diagnostic } from "../../src/config/diagnostics.js";
import { loadRules } from "../../src/config/validate.js";

/** The likely first-hour mistakes each get one diagnostic, at their line, with the fix as a hint. */

let work: string;
let count = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "upkeep-hints-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function rulesDir(files: Record<string, string>): Promise<string> {
  const dir = join(work, `rules-${count++}`);
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const brief = (d: Diagnostic): unknown[] => [d.line, d.column, d.code, d.message, d.hint];

async function diagnose(services: string): Promise<unknown[][]> {
  const { diagnostics } = await loadRules(await rulesDir({ "services.yaml": services }), {
    env: {},
    normalize: false,
  });
  return diagnostics.map(brief);
}

const RECIPE = `version: 1
recipes:
  start-server:
    params:
      start: { required: true }
    steps:
      - action: exec
        with: { command: "\${{ params.start }}", detach: true }
      - action: verify
services:
  web:
    probe: { type: tcp, port: 8080 }
    heal:
      recipe: start-server
`;

describe("validate: hints for likely mistakes", () => {
  it("a whole ${{ params.X }} keeps the type of the value passed (a list for an argv)", async () => {
    expect(
      await diagnose(`${RECIPE}      with: { start: ["python3", "-m", "http.server", "8080"] }\n`),
    ).toEqual([]);
    // The value is checked where it is passed, with the argv hint.
    expect(await diagnose(`${RECIPE}      with: { start: "python3 -m http.server 8080" }\n`)).toEqual([
      [
        15,
        22,
        "invalid-type",
        expect.stringMatching(/^expected a list, got "python3 -m http.server 8080"/),
        'write an argv list: ["python3", "-m", "http.server", "8080"]',
      ],
    ]);
  });

  it("interval: 30 says to add a unit", async () => {
    const text = `version: 1
runtime:
  interval: 30
services:
  web:
    probe: { type: tcp, port: 8080, timeout: 2 }
    heal:
      steps:
        - { action: wait, with: { for: 1.5 } }
        - action: verify
`;
    expect(await diagnose(text)).toEqual([
      [3, 13, "invalid-duration", "expected a duration like 2s, 5m or 1h, got 30", 'add a unit: "30s"'],
      [6, 46, "invalid-duration", "expected a duration like 2s, 5m or 1h, got 2", 'add a unit: "2s"'],
      [9, 40, "invalid-duration", expect.stringMatching(/got 1\.5$/), 'add a unit: "1.5s"'],
    ]);
  });

  it('command: "redis-cli ping" says to write an argv list (and sh -c for shell syntax)', async () => {
    const text = `version: 1
services:
  cache:
    probe: { type: exec, command: "redis-cli ping" }
    heal:
      steps:
        - action: exec
          with: { command: "redis-cli shutdown && redis-server --daemonize yes" }
        - action: verify
`;
    expect(await diagnose(text)).toEqual([
      [
        4,
        35,
        "invalid-type",
        'expected a list, got "redis-cli ping"',
        'write an argv list: ["redis-cli", "ping"]',
      ],
      [
        8,
        28,
        "invalid-type",
        expect.stringMatching(/^expected a list/),
        'write an argv list; for shell syntax: ["sh", "-c", "redis-cli shutdown && redis-server --daemonize yes"]',
      ],
    ]);
  });

  it("cmd: one diagnostic, did you mean command (not the missing-key error beside it)", async () => {
    const text = `version: 1
services:
  cache:
    probe: { type: tcp, port: 6379 }
    heal:
      steps:
        - action: exec
          with: { cmd: ["redis-server"] }
        - action: verify
`;
    expect(await diagnose(text)).toEqual([
      [8, 19, "unknown-key", 'unknown key "cmd"', 'did you mean "command"?'],
    ]);
  });

  it("a services.yml beside no services.yaml: did you mean services.yaml", async () => {
    const dir = await rulesDir({ "services.yml": "version: 1\nservices: {}\n" });
    const { diagnostics } = await loadRules(dir, { env: {} });
    expect(diagnostics).toEqual([
      expect.objectContaining({
        code: "rules-not-found",
        message: `"${join(dir, "services.yaml")}" does not exist`,
        hint: 'found "services.yml": upkeep reads services.yaml (and alerts.yaml); rename it',
      }),
    ]);
  });

  it("--rules naming a file: use the folder that holds it", async () => {
    const dir = await rulesDir({ "services.yaml": "version: 1\nservices: {}\n" });
    const file = join(dir, "services.yaml");
    const { diagnostics } = await loadRules(file, { env: {} });
    expect(diagnostics).toEqual([
      expect.objectContaining({
        code: "rules-not-found",
        file,
        message: `"${file}" is a file, not a rules directory`,
        hint: `pass the folder that holds services.yaml: --rules ${dir}`,
      }),
    ]);
  });
});
