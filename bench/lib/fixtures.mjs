/**
 * What the figures run against: loopback servers on ephemeral ports, and rules folders. Every server
 * registers its own closer; run.js calls them all at the end, whatever happened.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";

export const closers = [];

const listen = (server) =>
  new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => done(server.address().port));
  });

/** N tcp servers that accept and close at once: a healthy tcp service each. Returns their ports. */
export async function tcpServers(count) {
  const ports = [];
  for (let i = 0; i < count; i += 1) {
    const server = createServer((socket) => socket.destroy());
    closers.push(() => server.close());
    ports.push(await listen(server));
  }
  return ports;
}

/** An HTTP server that accepts every connection and never answers. */
export async function hangingServer() {
  const sockets = new Set();
  const server = createHttpServer(() => {
    // Never answers.
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  closers.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return listen(server);
}

export const tcpService = (id, port) =>
  `  ${id}:\n    title: ${id}\n    probe: { type: tcp, host: 127.0.0.1, port: ${port} }`;

/**
 * A rules folder: services.yaml with its state and log inside the folder, `runtime` lines added as
 * given (indented under runtime:), nothing else changed from the shipped defaults.
 */
export function writeRules(dir, services, { runtime = [], alerts } = {}) {
  mkdirSync(dir, { recursive: true });
  const text = [
    "version: 1",
    "runtime:",
    `  stateDir: ${JSON.stringify(join(dir, "state"))}`,
    `  logFile: ${JSON.stringify(join(dir, "upkeep.log"))}`,
    ...runtime.map((line) => `  ${line}`),
    "services:",
    ...services,
    "",
  ].join("\n");
  writeFileSync(join(dir, "services.yaml"), text);
  if (alerts !== undefined) writeFileSync(join(dir, "alerts.yaml"), alerts);
  return dir;
}

/**
 * The rules `validate` is measured on (bench/validate.bench.mjs uses them too): tcp and http probes,
 * a recipe with a parameter, every service in a group of ten depending on the first.
 * Returns the YAML and the matching Monit checks (same ports, http where upkeep probes http).
 */
export function validateRules(count) {
  const lines = [
    "version: 1",
    "defaults:",
    "  probe: { timeout: 2s }",
    "  breaker: { failureThreshold: 5, successThreshold: 2, openFor: 60s }",
    "  heal: { cooldown: 5m, budget: { max: 3, per: 1h } }",
    "recipes:",
    "  launchd-restart:",
    "    params:",
    "      label: { required: true }",
    "    steps:",
    "      - action: launchd.unload",
    '        with: { label: "${{ params.label }}" }',
    "      - action: wait",
    "        with: { for: 2s }",
    "      - action: launchd.load",
    '        with: { label: "${{ params.label }}" }',
    "      - action: wait",
    "        with: { for: 3s }",
    "      - action: verify",
    "services:",
  ];
  const checks = [];
  for (let i = 0; i < count; i += 1) {
    const id = `svc-${i}`;
    const port = 1024 + (i % 60000);
    lines.push(`  ${id}:`, `    title: Service ${i}`);
    if (i % 2 === 0) {
      lines.push(`    probe: { type: tcp, host: 127.0.0.1, port: ${port} }`);
      checks.push({ name: id, port });
    } else {
      lines.push(
        `    probe: { type: http, url: "http://127.0.0.1:${port}/health", expect: { status: 200 } }`,
      );
      checks.push({ name: id, port, http: "/health" });
    }
    if (i % 10 !== 0) lines.push(`    dependsOn: [svc-${i - (i % 10)}]`);
    lines.push(`    heal: { recipe: launchd-restart, with: { label: com.example.${id} } }`);
  }
  const alerts = `version: 1
channels:
  log: { type: log }
levels:
  CRITICAL: { threshold: 3, cooldown: 1h, channels: [log] }
  WARNING: { threshold: 5, cooldown: 2h, channels: [log] }
rules:
  down-critical:
    level: CRITICAL
    when: { "==": [{ var: status }, "down"] }
    message: "\${{ service.title }} is down: \${{ detail }}"
  down-warning:
    level: WARNING
    when: { and: [{ "==": [{ var: status }, "down"] }, { ">=": [{ var: consecutiveFailures }, 5] }] }
`;
  return { services: `${lines.join("\n")}\n`, alerts, checks };
}

const pool = [];
/** The first `count` ports of a pool of healthy tcp servers shared by every figure and Node. */
export async function poolPorts(count) {
  if (pool.length < count) pool.push(...(await tcpServers(count - pool.length)));
  return pool.slice(0, count);
}
