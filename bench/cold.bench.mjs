#!/usr/bin/env node
/**
 * Cold `upkeep run` on 3 healthy tcp services (rules cached) against `node -e 0`, interleaved, on every
 * Node binary given (default: this one). Children get PATH and HOME only, as upkeep's systemd unit runs
 * ticks (NODE_EXTRA_CA_CERTS, NODE_OPTIONS, NODE_COMPILE_CACHE... unset: bench/lib/env.mjs); the Config
 * cache and the compile cache live in a temporary XDG_CACHE_HOME (warmed by one run first).
 *
 * Two figures per run, both as medians and as a ratio to the floor measured in the same loop: wall time,
 * and CPU time (user + system, read by the child at exit). On a shared, busy machine wall time mostly
 * measures the queue for a CPU; CPU time is the steadier figure. Also what a tick loads: built-in
 * modules (process.moduleLoadList) and, with strace installed, the JS/JSON/wasm files opened and their size.
 *
 *   node bench/cold.bench.mjs [--runs 21] [--node /path/to/node ...] [--cli other/bin/upkeep.js ...]
 *     [--no-cache] [--exec]
 *
 * Several --cli (e.g. a copy of the previous build) are measured interleaved in the same loop.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cleanEnv, describeEnv } from "./lib/env.mjs";

const { values } = parseArgs({
  options: {
    runs: { type: "string" },
    node: { type: "string", multiple: true },
    cli: { type: "string", multiple: true },
    "no-cache": { type: "boolean" },
    exec: { type: "boolean" },
  },
});
const RUNS = Number(values.runs ?? 21);
const nodes = values.node ?? [process.execPath];
const root = fileURLToPath(new URL("..", import.meta.url));
const clis = values.cli ?? [join(root, "bin", "upkeep.js")];
const work = mkdtempSync(join(tmpdir(), "upkeep-cold-"));
const clean = cleanEnv();
const env = { ...clean.base, XDG_CACHE_HOME: join(work, "cache") };
if (values["no-cache"] === true) env.UPKEEP_NO_CACHE = "1";

// Preloaded into every measured process, the floor included: CPU time and built-ins at exit.
const probe = join(work, "probe.mjs");
writeFileSync(
  probe,
  `process.on("exit", () => {
  const c = process.cpuUsage();
  const builtins = process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).length;
  process.stderr.write("\\nPROBE " + (c.user + c.system) / 1000 + " " + builtins + "\\n");
});\n`,
);

const servers = [];
function listen() {
  const server = createServer((socket) => socket.end());
  servers.push(server);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(node, argv) {
  const started = process.hrtime.bigint();
  const r = spawnSync(node, ["--import", probe, ...argv], { encoding: "utf8", env });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const m = /PROBE ([\d.]+) (\d+)/.exec(r.stderr);
  return {
    ms,
    cpu: Number(m?.[1] ?? NaN),
    builtins: Number(m?.[2] ?? NaN),
    status: r.status,
    stderr: r.stderr,
  };
}

/** JS/JSON/wasm files the process opens and their bytes (strace), or "?" without strace. */
function filesRead(node, argv) {
  const trace = join(work, "trace");
  const r = spawnSync("strace", ["-f", "-e", "trace=openat", "-o", trace, node, ...argv], {
    encoding: "utf8",
    env,
  });
  if (r.error !== undefined) return { files: "?", kb: "?" };
  const seen = new Set();
  for (const line of readFileSync(trace, "utf8").split("\n")) {
    // Threadpool opens show as "<unfinished ...>": take the path, keep the files that exist.
    const m = /openat\([^"]*"([^"]+\.(?:m?js|cjs|json|wasm))"/.exec(line);
    // Code only: the tick's own state, cache and lock files are not start-up.
    if (m !== null && !m[1].startsWith(work) && existsSync(m[1])) seen.add(m[1]);
  }
  let bytes = 0;
  for (const f of seen) bytes += statSync(f).size;
  return { files: seen.size, kb: (bytes / 1024).toFixed(0) };
}

const fmt = (x) => x.toFixed(1).padStart(6);

try {
  const ports = [await listen(), await listen(), await listen()];
  const rules = join(work, "rules");
  mkdirSync(rules);
  writeFileSync(
    join(rules, "services.yaml"),
    [
      "version: 1",
      "runtime:",
      `  stateDir: ${JSON.stringify(join(work, "state"))}`,
      `  logFile: ${JSON.stringify(join(work, "upkeep.log"))}`,
      "services:",
      ...ports.map(
        (p, i) =>
          `  svc-${i}:\n    title: Service ${i}\n    probe: { type: tcp, host: 127.0.0.1, port: ${p} }`,
      ),
      ...(values.exec === true
        ? ["  exec-0:\n    title: Exec\n    probe: { type: exec, command: [/bin/true] }"]
        : []),
      "",
    ].join("\n"),
  );
  console.log(
    `cold \`upkeep run\`, 3 healthy tcp services${values.exec === true ? " + 1 exec probe" : ""}, ` +
      `median of ${RUNS}, interleaved with node -e 0; Config cache ${values["no-cache"] === true ? "off" : "warm"}`,
  );
  console.log(describeEnv(clean));
  for (const node of nodes) {
    const version = spawnSync(node, ["--version"], { encoding: "utf8", env }).stdout.trim();
    for (const cli of clis) {
      const warm = measure(node, [cli, "run", "--rules", rules]);
      if (warm.status !== 0) throw new Error(`run failed (${warm.status}): ${warm.stderr}`);
    }
    const floor = [];
    const runs = clis.map(() => []);
    for (let i = 0; i < RUNS; i += 1) {
      floor.push(measure(node, ["-e", "0"]));
      clis.forEach((cli, c) => {
        const r = measure(node, [cli, "run", "--rules", rules]);
        if (r.status !== 0) throw new Error(`run failed (${r.status}): ${r.stderr}`);
        runs[c].push(r);
      });
    }
    const floorMs = median(floor.map((r) => r.ms));
    const floorCpu = median(floor.map((r) => r.cpu));
    console.log(
      `${version.padEnd(9)} node -e 0  wall ${fmt(floorMs)} ms  cpu ${fmt(floorCpu)} ms  built-ins ${floor[0].builtins}`,
    );
    clis.forEach((cli, c) => {
      const ms = median(runs[c].map((r) => r.ms));
      const cpu = median(runs[c].map((r) => r.cpu));
      const read = filesRead(node, [cli, "run", "--rules", rules]);
      console.log(
        `          run        wall ${fmt(ms)} ms (${(ms / floorMs).toFixed(2)}x)  cpu ${fmt(cpu)} ms (${(
          cpu / floorCpu
        ).toFixed(2)}x)  built-ins ${runs[c][0].builtins}, files ${read.files} (${read.kb} KB)${
          clis.length > 1 ? `  ${cli}` : ""
        }`,
      );
    });
  }
} finally {
  for (const s of servers) s.close();
  rmSync(work, { recursive: true, force: true });
}
