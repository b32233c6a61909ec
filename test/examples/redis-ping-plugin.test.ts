/**
 * The worked example plugin (examples/redis-ping-plugin) end to end: the rules naming it validate,
 * its parameters are checked against its own schema, and a tick probes a real server through it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRules } from "../../src/config/validate.js";
import { systemClock } from "../../src/runtime/clock.js";
import { silentLogger } from "../../src/runtime/logger.js";
import { createRedactor } from "../../src/runtime/redact.js";
import { runSession } from "../../src/runtime/session.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

let dir: string;
let server: Server;
let port: number;
let replies: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "upkeep-plugin-"));
  replies = [];
  // A stand-in Redis: answers the inline PING with +PONG, anything else with an error.
  server = createServer((socket) => {
    socket.on("data", (chunk) => {
      const line = chunk.toString("utf8").trim();
      replies.push(line);
      socket.write(line === "PING" ? "+PONG\r\n" : "-ERR unknown command\r\n");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  port = typeof address === "object" && address !== null ? address.port : 0;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function writeRules(name: string, probe: string): string {
  const rules = join(dir, name);
  mkdirSync(rules);
  // One module per process registers `redis.ping`; every rules dir here names the same file.
  writeFileSync(
    join(rules, "services.yaml"),
    `version: 1
runtime:
  stateDir: ${JSON.stringify(join(rules, "state"))}
  logFile: ${JSON.stringify(join(rules, "upkeep.log"))}
  plugins: [${JSON.stringify(join(EXAMPLES, "redis-ping-plugin", "index.mjs"))}]
services:
  cache:
    title: Redis cache
    probe: ${probe}
`,
  );
  return rules;
}

describe("the example redis.ping plugin", () => {
  it("makes the shipped example rules valid", async () => {
    const result = await loadRules(join(EXAMPLES, "plugin-rules"), { env: {} });
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(result.config?.services[0]?.probe.type).toBe("redis.ping");
  });

  it("has its parameters checked against its own schema, with a position", async () => {
    const rules = writeRules("bad", `{ type: redis.ping, port: 70000 }`);
    const result = await loadRules(rules, { env: {} });
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ pointer: "/services/cache/probe/port", line: 9 });
  });

  it("probes a real server in a tick", async () => {
    const rules = writeRules("good", `{ type: redis.ping, port: ${port} }`);
    const { config } = await loadRules(rules, { env: {} });
    expect(config).toBeDefined();
    const { report } = await runSession(
      config!,
      { clock: systemClock, logger: silentLogger, env: {}, redactor: createRedactor() },
      { dryRun: false },
    );
    expect(report.services[0]).toMatchObject({ id: "cache", status: "up", detail: "PONG" });
    expect(replies).toContain("PING");
  });
});
