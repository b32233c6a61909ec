#!/usr/bin/env node
/**
 * `validate` on a generated rules dir of 5,000 services (aim: well under 1 s). Needs the build
 * (`npm run build`). Prints:
 *   - in-process loadRules(): the first (cold) call and the best of N
 *   - the built CLI, `node bin/upkeep.js validate --format json`: best of N wall-clock runs
 *
 *   node bench/validate.bench.mjs [--services 5000] [--runs 5]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

const { values } = parseArgs({ options: { services: { type: "string" }, runs: { type: "string" } } });
const COUNT = Number(values.services ?? 5000);
const RUNS = Number(values.runs ?? 5);
const root = fileURLToPath(new URL("..", import.meta.url));
const validateModule = join(root, "dist", "config", "validate.js");
if (!existsSync(validateModule)) {
  console.error("validate bench: dist/ is missing; run `npm run build` first");
  process.exit(2);
}

/** Services like real ones: tcp and http probes, a recipe with a param, some dependencies. */
function servicesYaml(count) {
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
  for (let i = 0; i < count; i++) {
    const id = `svc-${i}`;
    lines.push(`  ${id}:`, `    title: Service ${i}`);
    if (i % 2 === 0) lines.push(`    probe: { type: tcp, host: 127.0.0.1, port: ${1024 + (i % 60000)} }`);
    else
      lines.push(
        `    probe: { type: http, url: "http://127.0.0.1:${1024 + (i % 60000)}/health", expect: { status: 200 } }`,
      );
    if (i % 10 !== 0) lines.push(`    dependsOn: [svc-${i - (i % 10)}]`);
    lines.push(`    heal: { recipe: launchd-restart, with: { label: com.example.${id} } }`);
  }
  return `${lines.join("\n")}\n`;
}

const ALERTS = `version: 1
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

const work = mkdtempSync(join(tmpdir(), "upkeep-validate-bench-"));
try {
  const dir = join(work, "rules");
  mkdirSync(dir);
  writeFileSync(join(dir, "services.yaml"), servicesYaml(COUNT));
  writeFileSync(join(dir, "alerts.yaml"), ALERTS);

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
  const first = times[0];
  const best = Math.min(...times);
  console.log(
    `loadRules on ${COUNT} services in-process (checks + normalize: what \`upkeep run\` pays): first ${first.toFixed(0)} ms, best of ${RUNS} ${best.toFixed(0)} ms`,
  );
  const checkOnly = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await loadRules(dir, { env: {}, normalize: false });
    checkOnly.push(performance.now() - started);
  }
  console.log(
    `  checks only (what \`upkeep validate\` does): best of ${RUNS} ${Math.min(...checkOnly).toFixed(0)} ms`,
  );

  // Context: the YAML parser's share (parseDocument alone, same options as src/config/load.ts).
  const { parseDocument, LineCounter } = await import("yaml");
  const text = readFileSync(join(dir, "services.yaml"), "utf8");
  const parse = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    parseDocument(text, { lineCounter: new LineCounter(), prettyErrors: false, uniqueKeys: false });
    parse.push(performance.now() - started);
  }
  console.log(
    `  of which parsing the ${(text.length / 1e6).toFixed(1)} MB of YAML (yaml.parseDocument): best ${Math.min(...parse).toFixed(0)} ms`,
  );

  const cli = join(root, "bin", "upkeep.js");
  const wall = [];
  for (let i = 0; i < Math.max(1, Math.min(RUNS, 3)); i++) {
    const started = performance.now();
    const run = spawnSync(process.execPath, [cli, "validate", "--rules", dir, "--format", "json"], {
      encoding: "utf8",
      env: { ...process.env, GITHUB_ACTIONS: "" },
      maxBuffer: 64 * 1024 * 1024,
    });
    wall.push(performance.now() - started);
    if (run.status !== 0) {
      console.error(`validate bench: the CLI exited ${run.status}\n${run.stderr}`);
      process.exit(1);
    }
  }
  console.log(
    `validate ${COUNT} services via the CLI (node bin/upkeep.js validate): best of ${wall.length} ${Math.min(...wall).toFixed(0)} ms`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
