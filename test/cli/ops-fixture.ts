/**
 * Shared by the heal, explain, status and metrics tests: a rules folder in a temp dir, a real HTTP
 * service on 127.0.0.1 (its /health answers 200 or 503 as `service.healthy` says), a real webhook
 * receiver that answers 503 (so alert notices queue in the outbox), a `test.fix` heal step registered
 * through the registry (it makes the service healthy again), and real ticks run in process.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerHandler } from "../../src/actions/registry.js";
import type { Handler } from "../../src/actions/types.js";
import type { Config } from "../../src/config/model.js";
import { loadRules } from "../../src/config/validate.js";
import { systemClock } from "../../src/runtime/clock.js";
import { createLogger } from "../../src/runtime/logger.js";
import { createRedactor } from "../../src/runtime/redact.js";
import { runSession, type SessionOptions } from "../../src/runtime/session.js";
import type { TickReport } from "../../src/runtime/tick.js";

export interface OpsFixture {
  readonly root: string;
  readonly rules: string;
  readonly stateDir: string;
  readonly logFile: string;
  readonly metricsFile: string;
  /** The probed service: flip `healthy` to take it down or up. */
  readonly service: { healthy: boolean; readonly port: number };
  /** How many times the test.fix step ran. */
  fixes(): number;
  /** Notices the webhook receiver got (it answers 503 to each). */
  hooks(): number;
  loadConfig(): Promise<Config>;
  tick(options?: Partial<SessionOptions>): Promise<TickReport>;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

export async function opsFixture(
  options: { budgetMax?: number; metrics?: boolean } = {},
): Promise<OpsFixture> {
  const root = mkdtempSync(join(tmpdir(), "upkeep-ops-"));
  const rules = join(root, "rules");
  const stateDir = join(root, "state");
  const logFile = join(root, "logs", "upkeep.log");
  const metricsFile = join(root, "metrics", "upkeep.prom");
  mkdirSync(rules, { recursive: true });
  const service = { healthy: true, port: 0 };
  let fixes = 0;
  let hooks = 0;
  const web = createServer((req, res) => {
    res.statusCode = req.url === "/health" && service.healthy ? 200 : 503;
    res.end(service.healthy ? "ok" : "down");
  });
  const hook = createServer((req, res) => {
    hooks += 1;
    req.resume();
    req.on("end", () => {
      res.statusCode = 503;
      res.end("busy");
    });
  });
  service.port = await listen(web);
  const hookPort = await listen(hook);
  const fix: Handler = {
    name: "test.fix",
    kind: "step",
    description: "test step: makes the fixture service healthy",
    schema: { type: "object" },
    sideEffects: "local",
    describe: (params) => `test.fix ${JSON.stringify(params)}`,
    run: () => {
      fixes += 1;
      service.healthy = true;
      return Promise.resolve({ ok: true, detail: "fixed" });
    },
  };
  const unregister = registerHandler(fix);
  writeFileSync(
    join(rules, "services.yaml"),
    [
      "version: 1",
      "runtime:",
      `  stateDir: ${JSON.stringify(stateDir)}`,
      `  logFile: ${JSON.stringify(logFile)}`,
      ...(options.metrics === false ? [] : [`  metrics: { file: ${JSON.stringify(metricsFile)} }`]),
      "defaults:",
      "  probe: { timeout: 1s }",
      "  breaker: { failureThreshold: 5, successThreshold: 2, openFor: 60s }",
      `  heal: { cooldown: 5m, budget: { max: ${options.budgetMax ?? 1}, per: 1h } }`,
      "recipes:",
      "  fix:",
      "    params:",
      "      note: { default: hello }",
      "    steps:",
      "      - action: test.fix",
      '        with: { note: "${{ params.note }}" }',
      "      - action: verify",
      "        timeout: 3s",
      "        with: { interval: 50ms }",
      "services:",
      "  web:",
      "    title: 'Web \"front\"'",
      `    probe: { type: http, url: "http://127.0.0.1:${service.port}/health", expect: { status: 200 } }`,
      "    breaker: { failureThreshold: 3 }",
      "    heal: { recipe: fix }",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(rules, "alerts.yaml"),
    [
      "version: 1",
      "channels:",
      "  log: { type: log }",
      `  hook: { type: webhook, with: { url: "http://127.0.0.1:${hookPort}/hook", timeout: 2s } }`,
      "levels:",
      "  CRITICAL: { threshold: 1, cooldown: 1h, channels: [log, hook] }",
      "rules:",
      "  web-down:",
      "    level: CRITICAL",
      '    when: { "==": [{ var: status }, "down"] }',
      "",
    ].join("\n"),
  );
  const loadConfig = async (): Promise<Config> => {
    const result = await loadRules(rules, { env: {} });
    if (result.config === undefined) throw new Error(JSON.stringify(result.diagnostics, null, 2));
    return result.config;
  };
  return {
    root,
    rules,
    stateDir,
    logFile,
    metricsFile,
    service,
    fixes: () => fixes,
    hooks: () => hooks,
    loadConfig,
    tick: async (opts = {}) => {
      const config = await loadConfig();
      const redactor = createRedactor();
      const logger = await createLogger({ logFile, redactor, bindings: { cmd: "run" } });
      try {
        const { report } = await runSession(
          config,
          { clock: systemClock, logger, env: {}, redactor },
          { dryRun: false, ...opts },
        );
        return report;
      } finally {
        logger.close();
      }
    },
    close: async () => {
      unregister();
      await Promise.all([web, hook].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Two real ticks: the first heals the service (budget used), the second finds it down again and refuses. */
export async function healThenRefuse(f: OpsFixture): Promise<[TickReport, TickReport]> {
  f.service.healthy = false;
  const first = await f.tick();
  f.service.healthy = false;
  const second = await f.tick();
  return [first, second];
}
