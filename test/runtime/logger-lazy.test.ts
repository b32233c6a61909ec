/**
 * The logger loads pino on the first line it writes: a healthy tick, which logs nothing, never pays for
 * it, and a tick that does log loses nothing and writes the same lines as before.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/runtime/logger.js";
import { createRedactor } from "../../src/runtime/redact.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(REPO, "bin", "upkeep.js");
const built = existsSync(join(REPO, "dist", "cli", "main.js")) ? describe : describe.skip;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "upkeep-logger-lazy-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("lazy logger", () => {
  it("creates the log file (and its folder) up front, even when nothing is written", async () => {
    const file = join(dir, "logs", "upkeep.log");
    const logger = await createLogger({ logFile: file, redactor: createRedactor() });
    logger.close();
    expect(readFileSync(file, "utf8")).toBe("");
  });

  it("fails when created, not at its first line, when the log file cannot be opened", async () => {
    const notADir = join(dir, "file");
    writeFileSync(notADir, "x");
    await expect(
      createLogger({ logFile: join(notADir, "upkeep.log"), redactor: createRedactor() }),
    ).rejects.toThrow();
  });

  it("writes pino JSON lines at and above its level, with the bindings, and drops the rest", async () => {
    const file = join(dir, "upkeep.log");
    const logger = await createLogger({
      logFile: file,
      redactor: createRedactor(),
      bindings: { cmd: "run" },
    });
    logger.debug({ a: 1 }, "not at info");
    logger.info({ service: "api" }, "first");
    logger.error({ err: "boom" }, "second");
    logger.close();
    const written = lines(file);
    expect(written.map((l) => [l.level, l.msg, l.cmd])).toEqual([
      ["info", "first", "run"],
      ["error", "second", "run"],
    ]);
    expect(written[0]).toMatchObject({ service: "api", pid: process.pid });
    expect(typeof written[0]?.time).toBe("number");
  });
});

built("a cold tick and pino (built CLI)", () => {
  let server: Server;
  let port: number;
  beforeEach(async () => {
    server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /**
   * Runs one tick with a preload that reports, at exit, whether pino was loaded: pino is CommonJS, so
   * loading it (through import()) puts its files in the CommonJS module cache. (Node 22+ loads
   * worker_threads for its own reasons, so that built-in says nothing about pino there.)
   */
  function tick(services: string): { code: number | null; pinoLoaded: boolean; log: string } {
    const rules = join(dir, "rules");
    mkdirSync(rules, { recursive: true });
    const log = join(dir, "upkeep.log");
    writeFileSync(
      join(rules, "services.yaml"),
      `version: 1\nruntime:\n  stateDir: ${JSON.stringify(join(dir, "state"))}\n  logFile: ${JSON.stringify(log)}\nservices:\n${services}`,
    );
    const probe = join(dir, "probe.mjs");
    writeFileSync(
      probe,
      'import { createRequire } from "node:module";\n' +
        "const cache = createRequire(import.meta.url).cache;\n" +
        'process.on("exit", () => process.stderr.write(`\\nPINO_LOADED ${Object.keys(cache).some((f) => /[\\\\/]node_modules[\\\\/]pino[\\\\/]/.test(f))}\\n`));\n',
    );
    const result = spawnSync(process.execPath, ["--import", probe, BIN, "run", "--rules", rules], {
      encoding: "utf8",
      timeout: 20_000,
      env: { ...process.env, XDG_CACHE_HOME: join(dir, "cache") },
    });
    return {
      code: result.status,
      pinoLoaded: result.stderr.includes("PINO_LOADED true"),
      log: existsSync(log) ? readFileSync(log, "utf8") : "",
    };
  }

  it("a healthy tick writes no log line and never loads pino", () => {
    const up = `  api:\n    title: API\n    probe: { type: tcp, host: 127.0.0.1, port: ${port} }\n`;
    const result = tick(up);
    expect(result.code).toBe(0);
    expect(result.log).toBe("");
    expect(result.pinoLoaded).toBe(false);
  });

  it("a tick that logs loads pino then and writes its lines", () => {
    // A service that is down is healed (a wait step: no process), and every heal is logged.
    const down =
      `  gone:\n    title: Gone\n    probe: { type: file, path: ${JSON.stringify(join(dir, "missing"))}, maxAge: 1h }\n` +
      "    heal:\n      steps:\n        - action: wait\n          with: { for: 10ms }\n";
    const result = tick(down);
    expect(result.code).toBe(1);
    expect(result.pinoLoaded).toBe(true);
    expect(result.log).toContain('"msg":"healing gone"');
  });
});
