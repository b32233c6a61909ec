import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiagnosticCode } from "../../src/config/diagnostics.js";
import { loadRules } from "../../src/config/validate.js";

/**
 * `upkeep validate` reports every problem in one run: N services, each with its own independent
 * mistake, give exactly N diagnostics, each on the line of its mistake. Grouping ajv's errors by schema
 * location alone once merged two services' mistakes into one message that fitted neither.
 */

/** A correct service; every mistake below changes or adds exactly one line of it. */
function serviceLines(id: string): string[] {
  return [
    `  ${id}:`,
    `    title: Service ${id}`,
    "    probe:",
    "      type: tcp",
    "      port: 1000",
    "      timeout: 2s",
    "    breaker:",
    "      mode: consecutive",
    "      failureThreshold: 5",
    "    heal:",
    "      steps:",
    `        - action: exec`,
    `          with: { command: ["echo", "\${{ service.title }}"] }`,
    "        - action: verify",
  ];
}

interface Mistake {
  readonly code: DiagnosticCode;
  /** Changes the lines; returns the index of the line the diagnostic must be on. */
  readonly apply: (lines: string[]) => number;
}

const replace =
  (index: number, line: string) =>
  (lines: string[]): number => {
    lines[index] = line;
    return index;
  };
const insert =
  (index: number, line: string) =>
  (lines: string[]): number => {
    lines.splice(index, 0, line);
    return index;
  };

/** A catalogue of single mistakes, one of each kind `validate` knows how to explain. */
const MISTAKES: Readonly<Record<string, Mistake>> = {
  "unknown key": { code: "unknown-key", apply: replace(1, "    titel: A title") },
  "unknown nested key": { code: "unknown-key", apply: insert(5, "      prot: 1000") },
  "wrong type": { code: "invalid-type", apply: replace(4, '      port: "6379x"') },
  "port out of range": { code: "port-range", apply: replace(4, "      port: 70000") },
  "number out of range": { code: "out-of-range", apply: replace(8, "      failureThreshold: 0") },
  "bad enum": { code: "invalid-value", apply: replace(7, "      mode: sideways") },
  "bad duration": { code: "invalid-duration", apply: replace(5, "      timeout: 2x") },
  "duration without a unit": { code: "invalid-duration", apply: replace(5, "      timeout: 30") },
  "unknown probe type": { code: "unknown-probe", apply: replace(3, "      type: tpc") },
  "list expected": { code: "invalid-type", apply: insert(2, "    tags: web") },
  "boolean expected": { code: "invalid-type", apply: insert(2, '    enabled: "yes"') },
  "duplicate key": { code: "duplicate-key", apply: insert(2, "    title: Again") },
  "unknown service": { code: "unknown-service", apply: insert(2, "    dependsOn: [nope]") },
  "unknown action": { code: "unknown-action", apply: replace(11, "        - action: exce") },
  "missing required": {
    code: "missing-key",
    apply: (lines) => {
      lines.splice(4, 1);
      return 2; // reported at `probe:`, the mapping that lacks `port`
    },
  },
  "template typo": {
    code: "unknown-template-root",
    apply: replace(12, '          with: { command: ["echo", "${{ servce.title }}"] }'),
  },
  "nested template typo": {
    code: "unknown-template-root",
    apply: replace(12, '          with: { command: ["echo", "${{ service.tittle }}"] }'),
  },
};

interface Built {
  readonly text: string;
  readonly expected: { line: number; code: DiagnosticCode; id: string }[];
}

function build(plan: readonly (string | null)[]): Built {
  const lines = ["version: 1", "services:"];
  const expected: Built["expected"] = [];
  plan.forEach((name, i) => {
    const id = `svc-${i}`;
    const block = serviceLines(id);
    if (name !== null) {
      const mistake = MISTAKES[name] as Mistake;
      const at = mistake.apply(block);
      expected.push({ line: lines.length + at + 1, code: mistake.code, id });
    }
    lines.push(...block);
  });
  return { text: `${lines.join("\n")}\n`, expected };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "upkeep-fuzz-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function diagnose(text: string) {
  await writeFile(join(dir, "services.yaml"), text);
  const { diagnostics } = await loadRules(dir, { env: {}, normalize: false });
  return diagnostics;
}

describe("validate: every mistake, once, at its line", () => {
  it("the base service is valid (so every diagnostic below comes from a mistake)", async () => {
    expect(await diagnose(build([null, null]).text)).toEqual([]);
  });

  it.each(Object.keys(MISTAKES))("%s: one diagnostic at the changed line", async (name) => {
    const { text, expected } = build([null, name, null]);
    const got = await diagnose(text);
    expect(got.map((d) => ({ line: d.line, code: d.code }))).toEqual(
      expected.map(({ line, code }) => ({ line, code })),
    );
  });

  it("N services with independent mistakes give exactly those N diagnostics", async () => {
    const plan = fc.array(fc.option(fc.constantFrom(...Object.keys(MISTAKES)), { freq: 4 }), {
      minLength: 1,
      maxLength: 8,
    });
    await fc.assert(
      fc.asyncProperty(plan, async (p) => {
        const { text, expected } = build(p);
        const got = await diagnose(text);
        expect(got.map((d) => `${d.line} ${d.code} ${d.pointer.split("/")[2] ?? ""}`)).toEqual(
          expected.map((e) => `${e.line} ${e.code} ${e.id}`),
        );
      }),
      { numRuns: 60 },
    );
  });

  it("N services with independent indentation mistakes give one yaml-syntax diagnostic each, at its line", async () => {
    // Each changes the `port:` line (index 4) of a service; the parser alone reports 1-4 errors for each.
    const shifts: Readonly<Record<string, string>> = {
      "between two levels": "     port: 1000",
      "too deep": "        port: 1000",
      "a tab": "\tport: 1000",
    };
    const plan = fc.array(fc.option(fc.constantFrom(...Object.keys(shifts)), { freq: 3 }), {
      minLength: 1,
      maxLength: 6,
    });
    await fc.assert(
      fc.asyncProperty(plan, async (p) => {
        const lines = ["version: 1", "services:"];
        const expected: number[] = [];
        p.forEach((name, i) => {
          const block = serviceLines(`svc-${i}`);
          if (name !== null) {
            block[4] = shifts[name] as string;
            expected.push(lines.length + 5);
          }
          lines.push(...block);
        });
        const got = await diagnose(`${lines.join("\n")}\n`);
        expect(got.map((d) => `${d.line} ${d.code}`)).toEqual(expected.map((line) => `${line} yaml-syntax`));
      }),
      { numRuns: 40 },
    );
  });
});
