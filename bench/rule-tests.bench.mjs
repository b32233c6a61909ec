#!/usr/bin/env node
/**
 * Rule tests (`upkeep test`): how fast simulated time runs, on the built code (run `npm run build` first).
 *
 *   1. a thousand simulated days at the baseline 5 minute schedule (288,000 ticks), the shipped rules,
 *      in-process through runTestText: one service down an hour a day, then all three flapping
 *   2. a cold `upkeep test` of the shipped rules/tests, as CI runs it
 *
 *   node bench/rule-tests.bench.mjs [--runs N]
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
if (!existsSync(join(dist, "testing", "runner.js"))) {
  console.error("bench: dist/testing is missing; run `npm run build` first");
  process.exit(2);
}
const runsFlag = process.argv.indexOf("--runs");
const runs = runsFlag === -1 ? 3 : Math.max(1, Number(process.argv[runsFlag + 1]) || 3);

const { loadRules } = await import(join(dist, "config", "validate.js"));
const { runTestText } = await import(join(dist, "testing", "runner.js"));
const { config } = await loadRules(join(root, "rules"), { env: {} });
if (config === undefined) {
  console.error("bench: the shipped rules do not load");
  process.exit(2);
}

const scenario = (services) => `version: 1
interval: 5m
tests:
  thousand-days:
    ticks: 288000
    services:
${Object.entries(services)
  .map(([id, series]) => `      ${id}: "${series}"`)
  .join("\n")}
    expect:
      - at: 288000
        breaker: { health-proxy: CLOSED }
`;

const SCENARIOS = {
  "one service down an hour a day": scenario({ "health-proxy": "(down x12, up x276) x1000" }),
  "all three flapping": scenario({
    "health-proxy": "(down x12, up x276) x1000",
    "mcp-bridge": "(up x100, down x3, up x40, down x1) x2000",
    "boss-api": "(down, up x20, down x30, up x237) x1000",
  }),
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

console.log(`rule tests: a thousand simulated days (288,000 ticks at 5m), shipped rules, median of ${runs}`);
for (const [name, text] of Object.entries(SCENARIOS)) {
  const times = [];
  let counts;
  for (let i = 0; i < runs; i++) {
    const began = performance.now();
    const run = await runTestText(text, "bench.test.yaml", config);
    times.push(performance.now() - began);
    if (run.exitCode !== 0) {
      console.error(`bench: "${name}" did not pass:`, JSON.stringify(run.files[0], null, 2).slice(0, 2000));
      process.exit(1);
    }
    counts = run.files[0].tests[0].counts;
  }
  const ms = median(times);
  console.log(
    `  ${name.padEnd(32)} ${(ms / 1000).toFixed(2)} s  (${Math.round(288_000 / (ms / 1000)).toLocaleString("en-US")} ticks/s; ` +
      `${counts.heals.attempted} heals, ${counts.alerts.firing + counts.alerts.reminder + counts.alerts.resolved} alerts)`,
  );
}

const cli = join(root, "bin", "upkeep.js");
const cold = [];
for (let i = 0; i < runs; i++) {
  const began = performance.now();
  const result = spawnSync(process.execPath, [cli, "test"], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
  });
  cold.push(performance.now() - began);
  if (result.status !== 0) {
    console.error(`bench: upkeep test exited ${result.status}\n${result.stdout}${result.stderr}`);
    process.exit(1);
  }
}
console.log(`  cold \`upkeep test\` (shipped rules/tests) ${Math.round(median(cold))} ms`);
