/** runtime.envFile: where scheduled runs (which start without the shell's environment) find secrets. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEnvText, readEnvFile, withEnvFile } from "../../src/config/env-file.js";
import { loadRules } from "../../src/config/validate.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "upkeep-envfile-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function secretsFile(text: string, mode: number): string {
  const file = join(dir, "secrets.env");
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

describe("env files", () => {
  it("parse KEY=VALUE lines, comments, export and quotes", () => {
    expect(
      parseEnvText('# webhooks\nexport HOOK="https://x/y?a=1"\nTOKEN=abc=def\n  SPACED = v \nnot a line\n'),
    ).toEqual({ HOOK: "https://x/y?a=1", TOKEN: "abc=def", SPACED: "v" });
  });

  it("are refused when other users can read them", () => {
    const file = secretsFile("HOOK=https://secret\n", 0o644);
    const result = readEnvFile(file);
    expect(result.values).toEqual({});
    expect(result.problem).toMatch(/readable by other users \(mode 644\); run chmod 600/);
  });

  it("fill in what the real environment lacks, and the real environment wins", () => {
    const file = secretsFile("HOOK=from-file\nOTHER=file-only\n", 0o600);
    const { env, problem } = withEnvFile({ HOOK: "from-env" }, file);
    expect(problem).toBeUndefined();
    expect(env).toMatchObject({ HOOK: "from-env", OTHER: "file-only" });
  });

  it("count as set for validate, so --require-env passes on the host that has the file", async () => {
    secretsFile("UPKEEP_TEST_HOOK=https://hooks.example/abc\n", 0o600);
    writeFileSync(
      join(dir, "services.yaml"),
      "version: 1\nruntime: { envFile: ./secrets.env }\nservices:\n  api: { probe: { type: tcp, port: 1 } }\n",
    );
    writeFileSync(
      join(dir, "alerts.yaml"),
      'version: 1\nchannels:\n  hook: { type: webhook, with: { url: "${env:UPKEEP_TEST_HOOK}" } }\n',
    );
    const strict = await loadRules(dir, { env: {}, requireEnv: true });
    expect(strict.diagnostics).toEqual([]);
    expect(strict.config?.runtime.envFile).toBe(join(dir, "secrets.env"));
  });
});
