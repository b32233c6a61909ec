#!/usr/bin/env node
/**
 * npm run bench: cold-start and throughput figures for the built CLI (run `npm run build` first).
 * Everything runs on loopback with ephemeral ports; every server and child is stopped at the end.
 *
 *   1. cold `upkeep run` on 3 healthy services vs `node -e 0` (aim: under 2x)
 *   2. one tick over 1,000 tcp services (aim: under 1 s)
 *   3. 100 http services that accept but never answer, 2 s probe timeout (aim: under 3 s)
 *   4. `validate` on 5,000 services (bench/validate.bench.mjs)
 *   5. a thousand simulated days of rule tests (bench/rule-tests.bench.mjs)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "bin", "upkeep.js");
if (!existsSync(join(root, "dist", "cli", "main.js"))) {
  console.error("bench: dist/ is missing; run `npm run build` first");
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), "upkeep-bench-"));
const closers = [];

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

function rulesDir(name, services, runtime = "") {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "services.yaml"),
    `version: 1\nruntime:\n  stateDir: ${JSON.stringify(join(dir, "state"))}\n  logFile: ${JSON.stringify(
      join(dir, "upkeep.log"),
    )}\n${runtime}services:\n${services.join("\n")}\n`,
  );
  return dir;
}

function time(argv) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, argv, { encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, status: result.status, stderr: result.stderr };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function report(name, ms, aim, extra = "") {
  console.log(`${name.padEnd(52)} ${ms.toFixed(1).padStart(8)} ms   aim: ${aim}${extra}`);
}

try {
  // 1. cold start
  const ports = [];
  for (let i = 0; i < 3; i += 1) {
    const server = createServer((socket) => socket.end());
    closers.push(() => server.close());
    ports.push(await listen(server));
  }
  const small = rulesDir(
    "cold",
    ports.map(
      (p, i) => `  svc-${i}:\n    title: Service ${i}\n    probe: { type: tcp, host: 127.0.0.1, port: ${p} }`,
    ),
  );
  const runs = 15;
  const baseline = [];
  const cold = [];
  for (let i = 0; i < runs; i += 1) {
    baseline.push(time(["-e", "0"]).ms);
    const r = time([cli, "run", "--rules", small]);
    if (r.status !== 0) throw new Error(`cold run failed (${r.status}): ${r.stderr}`);
    cold.push(r.ms);
  }
  const ratio = median(cold) / median(baseline);
  report("node -e 0 (median of 15)", median(baseline), "-");
  report(
    "cold `upkeep run`, 3 healthy tcp services (median)",
    median(cold),
    "< 2x node",
    `   ratio ${ratio.toFixed(2)}x`,
  );

  // 2. 1,000 services
  const many = [];
  const server = createServer((socket) => socket.end());
  closers.push(() => server.close());
  const manyServers = [];
  for (let i = 0; i < 1000; i += 1) {
    const s = createServer((socket) => socket.end());
    manyServers.push(s);
    closers.push(() => s.close());
    many.push(await listen(s));
  }
  const big = rulesDir(
    "many",
    many.map(
      (p, i) => `  svc-${i}:\n    title: Service ${i}\n    probe: { type: tcp, host: 127.0.0.1, port: ${p} }`,
    ),
    "  concurrency: 128\n",
  );
  const bigRun = time([cli, "run", "--rules", big]);
  if (bigRun.status !== 0) throw new Error(`1,000-service run failed (${bigRun.status}): ${bigRun.stderr}`);
  report("one tick over 1,000 tcp services (whole process)", bigRun.ms, "< 1000 ms");

  // 3. 100 hanging services
  const hanging = createHttpServer(() => {
    // Accepts and never answers.
  });
  closers.push(() => {
    hanging.closeAllConnections?.();
    hanging.close();
  });
  const hangPort = await listen(hanging);
  const hung = rulesDir(
    "hung",
    Array.from(
      { length: 100 },
      (_, i) =>
        `  hung-${i}:\n    title: Hung ${i}\n    probe: { type: http, url: "http://127.0.0.1:${hangPort}/health", timeout: 2s }`,
    ),
    "  concurrency: 100\n",
  );
  const hungRun = time([cli, "run", "--rules", hung]);
  if (hungRun.status !== 1)
    throw new Error(`hung run should exit 1, got ${hungRun.status}: ${hungRun.stderr}`);
  report("100 services that hang, 2 s probe timeout", hungRun.ms, "< 3000 ms");
} finally {
  for (const close of closers) close();
  rmSync(work, { recursive: true, force: true });
}

// 4. validate, 5. rule tests
for (const script of ["validate.bench.mjs", "rule-tests.bench.mjs"]) {
  const file = join(root, "bench", script);
  if (!existsSync(file)) continue;
  const r = spawnSync(process.execPath, [file], { stdio: "inherit" });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
