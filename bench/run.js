#!/usr/bin/env node
/**
 * npm run bench: cold-start and throughput figures for the built CLI (run `npm run build` first).
 * Everything runs on loopback with ephemeral ports; every server and child is stopped at the end.
 *
 *   1. cold `upkeep run` on 3 healthy services vs `node -e 0` (aim: under 2x); the same with the history
 *      off (a quiet tick may cost at most 1.1x that), a tick that writes SQLite, and a cold `report`
 *   2. one tick over 1,000 tcp services (aim: under 1 s)
 *   3. 100 http services that accept but never answer, 2 s probe timeout (aim: under 3 s)
 *   3b. cold `run` against `node -e 0` in wall and CPU time, with what it loads (bench/cold.bench.mjs)
 *   4. `validate` on 5,000 services (bench/validate.bench.mjs)
 *   5. a thousand simulated days of rule tests (bench/rule-tests.bench.mjs)
 *   6. run, run --dry-run, plan and test over 250 to 5,000 services, per N, to show they grow linearly
 *      (bench/scale.bench.mjs)
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
// Ticks run from launchd/systemd without these; NODE_EXTRA_CA_CERTS alone adds ~90 ms to a Node 20 start.
const UNSET = ["NODE_EXTRA_CA_CERTS", "NODE_OPTIONS", "NODE_COMPILE_CACHE", "NODE_DISABLE_COMPILE_CACHE"];
const childEnv = { ...process.env };
for (const name of UNSET) delete childEnv[name];
console.log(`bench: children run with ${UNSET.join(", ")} unset`);
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
  const result = spawnSync(process.execPath, argv, { encoding: "utf8", env: childEnv });
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

  // 1b. the history's cost: the same healthy tick with the history off (as before it existed), measured
  // interleaved with the default. A quiet tick only extends the pending span; it never loads SQLite.
  const noHistory = rulesDir(
    "cold-no-history",
    ports.map(
      (p, i) => `  svc-${i}:\n    title: Service ${i}\n    probe: { type: tcp, host: 127.0.0.1, port: ${p} }`,
    ),
    "  history: { enabled: false }\n",
  );
  const withHistory = [];
  const withoutHistory = [];
  for (let i = 0; i < runs; i += 1) {
    const on = time([cli, "run", "--rules", small]);
    const off = time([cli, "run", "--rules", noHistory]);
    if (on.status !== 0 || off.status !== 0)
      throw new Error(`history bench run failed: ${on.stderr}${off.stderr}`);
    withHistory.push(on.ms);
    withoutHistory.push(off.ms);
  }
  const historyRatio = median(withHistory) / median(withoutHistory);
  report("  same, history off (median)", median(withoutHistory), "-");
  report(
    "  same, history on (quiet tick: pending span only)",
    median(withHistory),
    "< 1.1x off",
    `   ratio ${historyRatio.toFixed(2)}x`,
  );

  // 1c. a tick with something to record opens SQLite: a heartbeat-file service that changes status at
  // every tick (node:sqlite on Node 22.13+, the WebAssembly build on Node 20).
  const beat = join(work, "heartbeat");
  const flip = rulesDir(
    "flip",
    [`  beat:\n    title: Heartbeat\n    probe: { type: file, path: ${JSON.stringify(beat)}, maxAge: 1h }`],
    "  history: { enabled: true }\n",
  );
  const flipOff = rulesDir(
    "flip-off",
    [`  beat:\n    title: Heartbeat\n    probe: { type: file, path: ${JSON.stringify(beat)}, maxAge: 1h }`],
    "  history: { enabled: false }\n",
  );
  const flipOn = [];
  const flipNo = [];
  for (let i = 0; i < runs; i += 1) {
    for (const [dir, list] of [
      [flip, flipOn],
      [flipOff, flipNo],
    ]) {
      if (i % 2 === 0) writeFileSync(beat, "x");
      else rmSync(beat, { force: true });
      const r = time([cli, "run", "--rules", dir]);
      if (r.status !== 0 && r.status !== 1) throw new Error(`flip run failed (${r.status}): ${r.stderr}`);
      list.push(r.ms);
    }
  }
  report(
    "  a tick that records a status change (SQLite write)",
    median(flipOn),
    "-",
    `   +${(median(flipOn) - median(flipNo)).toFixed(1)} ms over history off`,
  );
  const reportRun = time([cli, "report", "--rules", flip, "--format", "json"]);
  if (reportRun.status !== 0) throw new Error(`report failed (${reportRun.status}): ${reportRun.stderr}`);
  report("  cold `upkeep report` on that history", reportRun.ms, "-");

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

// 4. validate, 5. rule tests, 6. growth with the number of services
for (const script of ["cold.bench.mjs", "validate.bench.mjs", "rule-tests.bench.mjs", "scale.bench.mjs"]) {
  const file = join(root, "bench", script);
  if (!existsSync(file)) continue;
  const r = spawnSync(process.execPath, [file], { stdio: "inherit", env: childEnv });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
