#!/usr/bin/env node
/**
 * `upkeep validate` on a generated rules dir of 5,000 services (1 MB of YAML). Aim: the CLI under 1 s of
 * wall time on Node 20, 22 and 24. Needs the build (`npm run build`). Prints, main line first:
 *   - the built CLI, `node bin/upkeep.js validate --format json`: median and best wall time of N runs
 *     (after one unmeasured run), and the median CPU time (user + system) of the child
 *   - the same CLI on the rules with three mistakes (their positions are then looked up), and on rules
 *     the YAML fast path leaves to the full parser (a tab in a comment): what a file outside its subset
 *     costs
 *   - in-process loadRules(): the first (cold) call and the best of N, with and without normalize
 *   - of which parsing the services file: parseYaml (the fast path) against yaml.parseDocument alone
 * Children run with NODE_EXTRA_CA_CERTS, NODE_OPTIONS and the compile-cache variables unset, as launchd,
 * systemd and CI start upkeep (NODE_EXTRA_CA_CERTS alone adds ~90 ms to a Node 20 start).
 *
 *   node bench/validate.bench.mjs [--services 5000] [--runs 5] [--node PATH]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { validateRules } from "./lib/fixtures.mjs";

const { values } = parseArgs({
  options: { services: { type: "string" }, runs: { type: "string" }, node: { type: "string" } },
});
const COUNT = Number(values.services ?? 5000);
const RUNS = Math.max(1, Number(values.runs ?? 5));
const NODE = values.node ?? process.execPath;
const root = fileURLToPath(new URL("..", import.meta.url));
const validateModule = join(root, "dist", "config", "validate.js");
if (!existsSync(validateModule)) {
  console.error("validate bench: dist/ is missing; run `npm run build` first");
  process.exit(2);
}

/** Three mistakes far apart: an unknown key, a port out of range, a misspelt recipe. */
function withMistakes(text) {
  const third = Math.floor(COUNT / 3);
  return text
    .replace("    title: Service 1\n", "    titel: Service 1\n")
    .replace(`port: ${1024 + 2 * third} }`, "port: 70000 }")
    .replace(`recipe: launchd-restart, with: { label: com.example.svc-${COUNT - 1} }`, (m) =>
      m.replace("launchd-restart", "launchd-restrat"),
    );
}

const childEnv = { ...process.env, GITHUB_ACTIONS: "" };
for (const name of [
  "NODE_EXTRA_CA_CERTS",
  "NODE_OPTIONS",
  "NODE_COMPILE_CACHE",
  "NODE_DISABLE_COMPILE_CACHE",
])
  delete childEnv[name];

/** CPU seconds of waited-for children (Linux /proc; undefined elsewhere). */
const ticks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;
function childrenCpuMs() {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / ticks;
  } catch {
    return undefined;
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const ms = (x) => (x === undefined ? "n/a" : `${x.toFixed(0)} ms`);

/** Runs the CLI `RUNS` times after one unmeasured run; exits the bench if the exit code is not `expect`. */
function cli(dir, expect) {
  const wall = [];
  const cpu = [];
  for (let i = 0; i <= RUNS; i++) {
    const cpuBefore = childrenCpuMs();
    const started = performance.now();
    const run = spawnSync(
      NODE,
      [join(root, "bin", "upkeep.js"), "validate", "--rules", dir, "--format", "json"],
      {
        encoding: "utf8",
        env: childEnv,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const elapsed = performance.now() - started;
    const cpuAfter = childrenCpuMs();
    if (run.status !== expect) {
      console.error(`validate bench: the CLI exited ${run.status}, expected ${expect}\n${run.stderr}`);
      process.exit(1);
    }
    if (i === 0) continue;
    wall.push(elapsed);
    if (cpuBefore !== undefined && cpuAfter !== undefined) cpu.push(cpuAfter - cpuBefore);
  }
  return { median: median(wall), best: Math.min(...wall), cpu: cpu.length > 0 ? median(cpu) : undefined };
}

const work = mkdtempSync(join(tmpdir(), "upkeep-validate-bench-"));
try {
  const { services, alerts } = validateRules(COUNT);
  const write = (name, text) => {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "services.yaml"), text);
    writeFileSync(join(dir, "alerts.yaml"), alerts);
    return dir;
  };
  const dir = write("rules", services);
  const mistakes = write("mistakes", withMistakes(services));
  const outside = write("outside", `${services}# a tab\there keeps this file off the fast path\n`);
  const nodeName = `Node ${spawnSync(NODE, ["--version"], { encoding: "utf8" }).stdout.trim()}`;

  const main = cli(dir, 0);
  console.log(
    `validate ${COUNT} services (${(services.length / 1e6).toFixed(1)} MB) via the CLI on ${nodeName}: median ${ms(main.median)} wall (best ${ms(main.best)}), CPU ${ms(main.cpu)}, ${RUNS} runs; aim < 1000 ms`,
  );
  const wrong = cli(mistakes, 1);
  console.log(
    `  with 3 mistakes (positions looked up): median ${ms(wrong.median)} wall, CPU ${ms(wrong.cpu)}`,
  );
  const slow = cli(outside, 0);
  console.log(
    `  a file outside the YAML fast path (full parser): median ${ms(slow.median)} wall, CPU ${ms(slow.cpu)}`,
  );

  const { loadRules } = await import(pathToFileURL(validateModule).href);
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const result = await loadRules(dir, { env: {}, stateDir: join(work, "state") });
    times.push(performance.now() - started);
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    if (errors.length > 0 || result.config === undefined) {
      console.error("validate bench: the generated rules do not validate:", errors.slice(0, 3));
      process.exit(1);
    }
  }
  console.log(
    `loadRules in-process (checks + normalize: what \`upkeep run\` pays): first ${ms(times[0])}, best of ${RUNS} ${ms(Math.min(...times))}`,
  );
  const checkOnly = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await loadRules(dir, { env: {}, normalize: false });
    checkOnly.push(performance.now() - started);
  }
  console.log(`  checks only (what \`upkeep validate\` does): best of ${RUNS} ${ms(Math.min(...checkOnly))}`);

  // The parser's share: the fast path (src/config/yaml-fast.ts via parseYaml) against the full parser.
  const { parseYaml } = await import(pathToFileURL(join(root, "dist", "config", "load.js")).href);
  const { parseDocument, LineCounter } = await import("yaml");
  const best = (fn) => {
    const t = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      fn();
      t.push(performance.now() - started);
    }
    return Math.min(...t);
  };
  const fast = best(() => parseYaml(services, "services.yaml"));
  const full = best(() =>
    parseDocument(services, { lineCounter: new LineCounter(), prettyErrors: false, uniqueKeys: false }),
  );
  console.log(
    `  of which parsing the YAML: parseYaml (fast path) best ${ms(fast)}; yaml.parseDocument alone best ${ms(full)}`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
