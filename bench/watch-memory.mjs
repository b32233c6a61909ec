#!/usr/bin/env node
/**
 * Where `upkeep watch`'s memory goes, and what lowers it: `upkeep watch --interval 1s` on 3 healthy tcp
 * services under Node and V8 options, side by side with the floor for a resident Node process
 * (`node -e "setInterval(() => {}, 1000)"`), for the same window. Prints per variant VmRSS and VmHWM from
 * /proc/PID/status at the end, and the process's own view (process.memoryUsage(): V8 heap, external
 * memory, which holds WebAssembly memories) written by a small preload every second. Medians over --reps
 * windows. Measures only; changes nothing in src/.
 *
 * Variants run --batch at a time (default 6), each batch with the default watch as its control: absolute
 * RSS moves with how busy the machine is, the difference to the control much less.
 *
 *   node bench/watch-memory.mjs [--node PATH ...] [--seconds 15] [--reps 2] [--batch 6] [--only a,b]
 *                               [--services 3]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cleanEnv, describeEnv } from "./lib/env.mjs";
import { closers, tcpServers, tcpService, writeRules } from "./lib/fixtures.mjs";
import { memory, resident } from "./lib/figures-watch.mjs";
import { median } from "./lib/measure.mjs";

const { values } = parseArgs({
  options: {
    node: { type: "string", multiple: true },
    seconds: { type: "string" },
    reps: { type: "string" },
    only: { type: "string" },
    batch: { type: "string" },
    services: { type: "string" },
  },
});
const seconds = Number(values.seconds ?? 15);
const reps = Number(values.reps ?? 2);
const batch = Math.max(2, Number(values.batch ?? 6));
const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "bin", "upkeep.js");
const work = mkdtempSync(join(tmpdir(), "upkeep-watch-memory-"));
const env = cleanEnv();

// The process's own view, written every second to the file named by UPKEEP_BENCH_MEMORY.
const reporter = join(work, "report-memory.mjs");
writeFileSync(
  reporter,
  `import { writeFileSync } from "node:fs";
const mb = (x) => x / 1048576;
setInterval(() => {
  const m = process.memoryUsage();
  writeFileSync(process.env.UPKEEP_BENCH_MEMORY, JSON.stringify({ heap: mb(m.heapTotal), external: mb(m.external) }));
}, 1000).unref();
`,
);
// bin/upkeep.js's first statement, as if it set V8 flags itself before loading anything.
const setFlags = (flags) =>
  `data:text/javascript,${encodeURIComponent(`import v8 from "node:v8"; v8.setFlagsFromString(${JSON.stringify(flags)});`)}`;

const COMBO = ["--max-semi-space-size=1", "--single-threaded", "--optimize-for-size"];
// The same without --single-threaded, which NODE_OPTIONS refuses and which crashes Node 20 when set
// through v8.setFlagsFromString after start.
const SAFE = ["--max-semi-space-size=1", "--v8-pool-size=1", "--optimize-for-size"];
/** name -> { args: node arguments before the script, rules: "on" | "off", env?, floor? } */
const VARIANTS = {
  floor: { floor: true },
  watch: {},
  "history off": { rules: "off" },
  "--max-semi-space-size=1": { args: ["--max-semi-space-size=1"] },
  "semi 1 via NODE_OPTIONS": { env: { NODE_OPTIONS: "--max-semi-space-size=1" } },
  "semi 1 via v8.setFlagsFromString at start": { args: ["--import", setFlags("--max-semi-space-size=1")] },
  "--max-old-space-size=16": { args: ["--max-old-space-size=16"] },
  "--single-threaded": { args: ["--single-threaded"] },
  "--v8-pool-size=1": { args: ["--v8-pool-size=1"] },
  "--optimize-for-size": { args: ["--optimize-for-size"] },
  "--lite-mode": { args: ["--lite-mode"] },
  "--jitless": { args: ["--jitless"] },
  "semi 1 + single-threaded + optimize-for-size": { args: COMBO },
  "the same, history off": { args: COMBO, rules: "off" },
  "the same via NODE_OPTIONS": { env: { NODE_OPTIONS: COMBO.join(" ") } },
  "the same via v8.setFlagsFromString at start": { args: ["--import", setFlags(COMBO.join(" "))] },
  "semi 1 + v8-pool-size 1 + optimize-for-size": { args: SAFE },
  "the same via NODE_OPTIONS ": { env: { NODE_OPTIONS: SAFE.join(" ") } },
  "semi 1 + v8-pool-size 1 via NODE_OPTIONS": {
    env: { NODE_OPTIONS: "--max-semi-space-size=1 --v8-pool-size=1" },
  },
  "jitless + semi 1 + single-threaded + optimize-for-size": { args: ["--jitless", ...COMBO] },
  "semi 1 + optimize-for-size via setFlagsFromString": {
    args: ["--import", setFlags("--max-semi-space-size=1 --optimize-for-size")],
  },
  "MALLOC_ARENA_MAX=2": { env: { MALLOC_ARENA_MAX: "2" } },
  "MALLOC_ARENA_MAX=2 + v8-pool-size 1": { args: ["--v8-pool-size=1"], env: { MALLOC_ARENA_MAX: "2" } },
  "UPKEEP_NO_CACHE=1 (no compile cache)": { env: { UPKEEP_NO_CACHE: "1" } },
};
const names = values.only === undefined ? Object.keys(VARIANTS) : values.only.split(",");
const nodes = [process.execPath, ...(values.node ?? [])];
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "?").padStart(7);
const dFmt = (x) => (Number.isFinite(x) ? `${x >= 0 ? "+" : ""}${x.toFixed(1)}` : "?").padStart(7);

/** CPU time (user + system) of a live process in ms, from /proc/PID/stat (10 ms steps). */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}
const ticksIn = (file) => (readFileSync(file, "utf8").match(/^Tick \d+/gm) ?? []).length;

/** Starts one variant; returns what to read from it later. */
function start(node, dir, name, i, services) {
  const v = VARIANTS[name];
  // Each its own state folder: one variant's ticks must not wait for another's lock.
  const rules = writeRules(join(dir, `v${i}`), services, {
    runtime: v.rules === "off" ? ["history: { enabled: false }"] : [],
  });
  const report = join(dir, `v${i}.memory.json`);
  const out = join(dir, `v${i}.out`);
  const argv = v.floor
    ? [node, "--import", reporter, "-e", "setInterval(() => {}, 1000)"]
    : [node, "--import", reporter, ...(v.args ?? []), cli, "watch", "--interval", "1s", "--rules", rules];
  const childEnv = { ...env.base, XDG_CACHE_HOME: join(dir, "cache"), UPKEEP_BENCH_MEMORY: report, ...v.env };
  return { name, report, out, log: join(rules, "upkeep.log"), proc: resident(argv, childEnv, out) };
}

function read(p, mark) {
  const m = memory(p.proc.child.pid);
  let own = {};
  try {
    own = JSON.parse(readFileSync(p.report, "utf8"));
  } catch {
    // not written yet, or the process died
  }
  let log = "";
  try {
    log = readFileSync(p.log, "utf8");
  } catch {
    // no log line written
  }
  const ticks = ticksIn(p.out);
  const cpu = cpuMs(p.proc.child.pid);
  return {
    ...m,
    heap: own.heap,
    external: own.external,
    ticks,
    // CPU per tick over the second part of the window, after start-up.
    cpuPerTick: (cpu - mark.cpu) / (ticks - mark.ticks),
    died: m === undefined ? readFileSync(p.out, "utf8").trim().split("\n").slice(-2).join(" / ") : undefined,
    // A variant that breaks the history (no WebAssembly under --jitless on Node 20) must say so.
    historyError: /could not (open|write|record)[^"]*history|history[^"]*(could not|failed)/i.exec(log)?.[0],
  };
}

try {
  const ports = await tcpServers(Number(values.services ?? 3));
  const services = ports.map((p, i) => tcpService(`svc-${i}`, p));
  console.log(
    `upkeep watch --interval 1s, ${ports.length} healthy tcp services; memory after ${seconds} s; ${batch} processes at a ` +
      `time, each batch with its own default watch as control; medians of ${reps}; ${describeEnv(env)}`,
  );
  console.log(
    "RSS, peak (VmHWM), anon (RssAnon), file (RssFile) from /proc; heap and extern(al) from process.memoryUsage();" +
      " vs watch: RSS minus the same batch's default watch; cpu/tick: ms per tick after the first third",
  );
  console.log(
    `${"node".padEnd(9)} ${"variant".padEnd(50)} ${"RSS MB".padStart(7)} ${"vs wat".padStart(7)} ${"peak".padStart(7)} ` +
      `${"anon".padStart(7)} ${"file".padStart(7)} ${"heap".padStart(7)} ${"extern".padStart(7)} thr ${"cpu/tick".padStart(8)}`,
  );
  const others = names.filter((n) => n !== "watch");
  for (const node of nodes) {
    const version = readVersion(node);
    const results = Object.fromEntries(names.map((n) => [n, []]));
    for (let rep = 0; rep < reps; rep += 1) {
      for (let b = 0; b < Math.max(1, others.length); b += batch - 1) {
        const group = ["watch", ...others.slice(b, b + batch - 1)];
        const dir = join(work, `${version}-${rep}-${b}`);
        mkdirSync(dir, { recursive: true });
        const procs = group.map((name, i) => start(node, dir, name, i, services));
        await sleep((seconds * 1000) / 3);
        const marks = procs.map((p) => ({ cpu: cpuMs(p.proc.child.pid), ticks: ticksIn(p.out) }));
        await sleep((seconds * 2000) / 3);
        const got = procs.map((p, i) => read(p, marks[i]));
        await Promise.all(procs.map((p) => p.proc.stop()));
        const control = got[0].rss;
        got.forEach((r, i) => results[group[i]].push({ ...r, delta: r.rss - control }));
      }
    }
    for (const name of names) {
      const list = results[name];
      const med = (key) => median(list.map((r) => r[key]));
      const died = list.find((r) => r.died !== undefined)?.died;
      const historyError = list.find((r) => r.historyError !== undefined)?.historyError;
      const notes = [
        ...(died === undefined ? [] : [`exited: ${died.slice(0, 110)}`]),
        ...(historyError === undefined ? [] : [`history broken: ${historyError.slice(0, 60)}`]),
      ];
      console.log(
        `${version.padEnd(9)} ${name.padEnd(50)} ${fmt(med("rss"))} ${name === "watch" ? "      -" : dFmt(med("delta"))} ` +
          `${fmt(med("hwm"))} ${fmt(med("anon"))} ${fmt(med("file"))} ${fmt(med("heap"))} ${fmt(med("external"))} ` +
          `${String(med("threads")).padStart(3)} ${VARIANTS[name].floor ? "       -" : fmt(med("cpuPerTick"), 0).padStart(8)}` +
          `${notes.length === 0 ? "" : `  ${notes.join("; ")}`}`,
      );
    }
  }
} finally {
  for (const close of closers.splice(0)) close();
  rmSync(work, { recursive: true, force: true });
}

function readVersion(node) {
  return spawnSync(node, ["--version"], { encoding: "utf8", timeout: 30_000 }).stdout?.trim() || "?";
}
