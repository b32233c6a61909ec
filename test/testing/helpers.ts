/** Shared by the rule-test specs: run the CLI in-process, copy the shipped rules, find positions. */
import { cp, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, vi } from "vitest";
import { main } from "../../src/cli/main.js";

export const SHIPPED_RULES = fileURLToPath(new URL("../../rules/", import.meta.url));

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `upkeep ...argv` in this process, with stdout and stderr captured. */
export async function upkeep(...argv: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** A fresh temp dir holding a copy of the shipped rules (services.yaml, alerts.yaml, tests/). */
export async function copyOfShippedRules(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `upkeep-${prefix}-`));
  const rules = join(dir, "rules");
  await cp(SHIPPED_RULES, rules, { recursive: true });
  return rules;
}

/** 1-based line and column of the first `needle` in `text`. */
export function positionOf(text: string, needle: string): { line: number; column: number } {
  const index = text.indexOf(needle);
  expect(index, `"${needle}" in the text`).toBeGreaterThanOrEqual(0);
  const before = text.slice(0, index).split("\n");
  return { line: before.length, column: (before[before.length - 1] ?? "").length + 1 };
}
