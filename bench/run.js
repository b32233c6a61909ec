#!/usr/bin/env node
/**
 * npm run bench: the figures of issue 18 as one table, per Node (the running one, then 22 and 24), each
 * as a ratio to a reference measured in the same loop. Run `npm run build` first.
 *
 *   cold      cold `upkeep run` on 3 healthy tcp services against `node -e 0` and Monit's one-shot;
 *             the same with the Config cache off and with an empty cache folder
 *   history   a quiet healthy tick with the history on against off
 *   exec      what an exec probe (or an exec heal step) adds to a tick, against spawning a process
 *   scale     one tick over 1,000 and 5,000 healthy tcp services against Monit's one-shot; linear?
 *   watch     `upkeep watch` resident memory against a Monit daemon and the Node floor
 *   hung      100 services that accept and never answer, 2 s probe timeout, shipped settings
 *   validate  `validate` of 5,000 services against `monit -t` of 5,000 checks
 *
 *   node bench/run.js [--quick] [--only cold,scale,...] [--runs N] [--node PATH ...] [--no-fetch]
 *                     [--no-install-monit] [--details]
 *
 * --quick      fewer rounds and smaller N (scale: 200 and 1,000; watch: 5 s)
 * --runs N     rounds of the start-up loops (cold, history, exec; default 21, --quick 5)
 * --node PATH  measure these Nodes besides the running one instead of fetching node-<os>-<arch>@22/@24
 *              into ~/.cache/upkeep-bench/nodes (how .ci/run gets them); --no-fetch: the running one only
 * --details    afterwards, the detailed benches on the running Node: cold.bench.mjs (what a tick loads),
 *              validate.bench.mjs (in-process), rule-tests.bench.mjs, scale.bench.mjs (250-5,000)
 *
 * On their own: bench/watch-memory.mjs (where watch's memory goes, under Node and V8 options).
 *
 * Every measured process gets only PATH, HOME and the bench's own XDG_CACHE_HOME (NODE_EXTRA_CA_CERTS,
 * NODE_OPTIONS and the like are unset, and the bench names the ones it dropped). Monit is installed with
 * apt-get when missing and the bench is root; otherwise its column says why it is empty. Every server and
 * child is stopped at the end, and every wait is bounded.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cleanEnv, describeEnv } from "./lib/env.mjs";
import { closers } from "./lib/fixtures.mjs";
import { cold, exec, history } from "./lib/figures-start.mjs";
import { hung, scale, validate } from "./lib/figures-scale.mjs";
import { watch } from "./lib/figures-watch.mjs";
import { startMeasurer } from "./lib/measure.mjs";
import { ensureMonit } from "./lib/monit.mjs";
import { resolveNodes } from "./lib/nodes.mjs";
import { missingRow, renderTable } from "./lib/table.mjs";

const FIGURES = { cold, history, exec, scale, watch, hung, validate };
const USES_MONIT = new Set(["cold", "scale", "watch", "validate"]);

const { values } = parseArgs({
  options: {
    quick: { type: "boolean" },
    only: { type: "string" },
    runs: { type: "string" },
    node: { type: "string", multiple: true },
    "no-fetch": { type: "boolean" },
    "no-install-monit": { type: "boolean" },
    details: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help === true) {
  const doc = /\/\*\*\n([\s\S]*?)\*\//.exec(readFileSync(fileURLToPath(import.meta.url), "utf8"))?.[1] ?? "";
  process.stdout.write(doc.replace(/^ \* ?/gm, ""));
  process.exit(0);
}
const selected =
  values.only === undefined ? Object.keys(FIGURES) : values.only.split(",").map((s) => s.trim());
const unknown = selected.filter((name) => !(name in FIGURES));
if (unknown.length > 0) {
  console.error(`bench: unknown figure ${unknown.join(", ")}; known: ${Object.keys(FIGURES).join(", ")}`);
  process.exit(2);
}
const quick = values.quick === true;
const rounds = Number(values.runs ?? (quick ? 5 : 21));
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error("bench: --runs takes a positive whole number");
  process.exit(2);
}

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "bin", "upkeep.js");
if (!existsSync(join(root, "dist", "cli", "main.js"))) {
  console.error("bench: dist/ is missing; run `npm run build` first");
  process.exit(2);
}

const progress = (line) => process.stderr.write(`bench: ${line}\n`);
const work = mkdtempSync(join(tmpdir(), "upkeep-bench-"));
let measurer;
let cleaned = false;
let interrupted = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const close of closers.splice(0)) {
    try {
      close();
    } catch {
      // Best effort: the rest still close.
    }
  }
  await measurer?.close();
  rmSync(work, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    interrupted = true;
    progress(`${signal}: stopping every server and child`);
    void cleanup().finally(() => process.exit(130));
  });
}

let failed = false;
let measured = [];
try {
  const env = cleanEnv();
  const monit = selected.some((name) => USES_MONIT.has(name))
    ? ensureMonit({ install: values["no-install-monit"] !== true })
    : { why: "not used by the figures selected" };
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  const { nodes, notes } = resolveNodes({
    given: values.node,
    fetch: values["no-fetch"] !== true,
    majors: [20, 22, 24],
    cacheDir: join(cacheHome, "upkeep-bench", "nodes"),
    env: env.base,
  });
  measured = nodes;
  measurer = await startMeasurer();

  const sections = [];
  for (const node of nodes) {
    const nodeWork = join(work, `node${node.major}`);
    mkdirSync(nodeWork, { recursive: true });
    const ctx = {
      node,
      cli,
      measurer,
      monit,
      quick,
      rounds,
      work: nodeWork,
      env: { ...env.base, XDG_CACHE_HOME: join(nodeWork, "cache") },
    };
    const rows = [];
    for (const name of selected) {
      if (interrupted) break;
      const started = Date.now();
      progress(`${node.version} ${name}...`);
      try {
        rows.push(...(await FIGURES[name](ctx)));
      } catch (error) {
        failed = true;
        if (interrupted) break;
        progress(`${node.version} ${name} failed: ${error?.stack ?? error}`);
        const why = String(error?.message ?? error).split("\n")[0];
        rows.push(
          missingRow(`${name}: could not be measured`, why.length > 100 ? `${why.slice(0, 97)}...` : why),
        );
      }
      progress(`${node.version} ${name} done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    sections.push({ title: `Node ${node.version} (${node.note})`, rows });
  }

  if (interrupted) throw new Error("interrupted: no table");
  console.log(`upkeep bench${quick ? " --quick" : ""}: ${selected.join(", ")}`);
  console.log(`- ${describeEnv(env)}`);
  console.log(
    `- measured: ${measurer.how}; medians of interleaved rounds: ${rounds} (cold, history, exec), ` +
      `${quick ? "2 (scale, validate), 1 (hung)" : "5 (scale, validate), 3 (hung)"}, after one warm-up round`,
  );
  console.log(
    `- Monit: ${monit.path === undefined ? `none, ${monit.why}` : `${monit.version} (${monit.note}); one-shot = \`monit -c RC validate\``}`,
  );
  for (const note of notes) console.log(`- ${note}`);
  console.log("");
  console.log(renderTable(sections));
  console.log(`
figure     what is measured; indented rows are variants of, or context for, the row above them
value      wall / CPU time in ms (CPU: user + system of the process and the children it waited for),
           medians; "+" values are what the figure adds to the same tick without it; memory rows are
           VmRSS (peak: VmHWM) or RssAnon in MB, read from /proc at the end of the window
reference  what the value is compared with, measured in the same loop (interleaved) or window
ratio      value / reference (wall / CPU)
goal       issue 18's goal for the figure
result     met or NOT MET, judged on wall time (or on the one value); "(cpu: ...)" when CPU time gives
           the other verdict (the CPUs here are shared: wall time includes waiting); "-" context rows`);
} catch (error) {
  failed = true;
  if (!interrupted) console.error(`bench: ${error?.stack ?? error}`);
} finally {
  await cleanup();
}

if (values.details === true) {
  const env = { ...cleanEnv().base };
  for (const [script, args] of [
    ["cold.bench.mjs", measured.flatMap((n) => ["--node", n.path])],
    ["validate.bench.mjs", []],
    ["rule-tests.bench.mjs", []],
    ["scale.bench.mjs", []],
  ]) {
    console.log(`\n== bench/${script}`);
    const r = spawnSync(process.execPath, [join(root, "bench", script), ...args], {
      stdio: "inherit",
      env,
      timeout: 1_800_000,
    });
    if (r.status !== 0) failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
