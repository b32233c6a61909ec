#!/usr/bin/env node
/**
 * npm run soak: the crash, concurrency and fuzz figures of issue 19, kept as numbers so a regression
 * shows as one. Runs the BUILT code (`npm run build` first), copied at start so a rebuild meanwhile
 * cannot mix two builds: the CLI as `node bin/upkeep.js`, the library as dist/index.js.
 *
 *   node scripts/soak.mjs [--quick] [--seed N] [--only kill|concurrent|library|fuzz] [--trial I]
 *
 *   kill        SIGKILL `run` mid-tick (at random times, and on purpose while a state file is being
 *               written) with heals, alerts and an outbox in use; every state file must parse and pass
 *               its shape check, and the next `run` must exit 0 or 1.
 *   concurrent  6 concurrent `run` / `heal --force` / `breaker reset` on one state dir; the heal step
 *               appends start/end marks with pids, so overlapping and doubled heals show, and every
 *               heal and reset must be recorded in the state files and the history.
 *   library     several processes recording outcomes through `CircuitBreaker` on one state file.
 *   fuzz        mutated example rules through `validate`, and `run --dry-run` for the valid ones, in a
 *               worker that calls the CLI's main(); every 100th file also through `bin/upkeep.js`.
 *               A file is a function of (seed, index): `--only fuzz --seed S --trial I` rebuilds one,
 *               runs it and keeps it.
 *
 * One line per figure; exit 1 when a bad count is not 0 or a section hit its time limit, 2 on usage.
 * Every trial has its own temp dir (removed afterwards), at most 2 trials run at once, children lead
 * their own process group and are killed on every exit path.
 */
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  watch,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { clearTimeout, setTimeout } from "node:timers";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SELF = fileURLToPath(import.meta.url);
/** The built package under test: a copy taken at start (see snapshotApp); workers get it by env. */
let APP = process.env.UPKEEP_SOAK_APP ?? ROOT;
let CLI = join(APP, "bin", "upkeep.js");
const dist = (path) => pathToFileURL(join(APP, "dist", path)).href;

const FULL = { kill: 480, killDuringWrite: 150, concurrent: 100, libraryRounds: 24, fuzz: 5500 };
const QUICK = { kill: 4, killDuringWrite: 2, concurrent: 2, libraryRounds: 1, fuzz: 40 };
const LIBRARY_PROCESSES = 4;
const LIBRARY_FIRES = { full: 120, quick: 24 };
/** Hard limits per section (ms): past it the section stops, says so, and the soak fails. */
const LIMITS = {
  full: { kill: 40 * 60_000, concurrent: 20 * 60_000, library: 10 * 60_000, fuzz: 30 * 60_000 },
  quick: { kill: 120_000, concurrent: 120_000, library: 60_000, fuzz: 120_000 },
};
const WIDTH = 2;
const SECTIONS = ["kill", "concurrent", "library", "fuzz"];
const CONCERNS = ["services", "breakers", "heals", "alerts"];
/** A temp file of a state write (atomic-file.ts names them `.<file>.<pid>.<hex>.tmp`). */
const STATE_TEMP = /^\.(services|breakers|heals|alerts|outbox)\.json\.\d+\.[0-9a-f]+\.tmp$/;
const STACK = /internal error|^ {4}at /m;

// ---------------------------------------------------------------------------------------------------
// Seeded randomness: every trial draws from its own stream, so one trial replays from (seed, index).

function streamSeed(...parts) {
  return createHash("sha256").update(parts.join(":")).digest().readUInt32LE(0);
}

export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = (items) => items[int(0, items.length - 1)];
  return { next, int, pick };
}

// ---------------------------------------------------------------------------------------------------
// Children: each leads its own process group; every group still alive is killed on exit.

const live = new Set();

function killGroup(pid) {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    /* already gone */
  }
}

function killAll() {
  for (const pid of live) killGroup(pid);
  live.clear();
}

/** Spawns node with `args` in its own process group; resolves with its outcome, bounded by timeoutMs. */
function start(args, { env, timeoutMs = 60_000, ipc = false } = {}) {
  const child = spawn(process.execPath, args, {
    detached: true,
    env,
    stdio: ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
  });
  live.add(child.pid);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const began = Date.now();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid);
  }, timeoutMs);
  const done = new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      live.delete(child.pid);
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - began });
    });
  });
  return { child, done, kill: () => killGroup(child.pid) };
}

/** Processes still running whose command line mentions `dir` (a step or probe a killed tick left). */
function processesUnder(dir) {
  const found = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes(dir)) found.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

function killUnder(dir) {
  const pids = processesUnder(dir);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  return pids.length;
}

async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs fn(i) for i < count, `width` at a time, starting none after `deadline`; returns how many ran. */
async function pool(count, width, deadline, fn) {
  let next = 0;
  const lane = async () => {
    while (next < count && Date.now() < deadline) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, lane));
  return next;
}

// ---------------------------------------------------------------------------------------------------
// Checks shared by the sections (exported for test/scripts/soak.test.ts).

/**
 * Problems with the state files in `stateDir`: each of `required` must exist, and every concern file
 * present must parse, carry version 1 and pass its shape check; a `.corrupt-` file means a torn write
 * was moved aside.
 */
export function stateProblems(stateDir, checks, required = []) {
  const problems = [];
  const names = existsSync(stateDir) ? readdirSync(stateDir) : [];
  for (const name of names)
    if (name.includes(".corrupt-")) problems.push(`${name}: a state file was moved aside as corrupt`);
  for (const concern of [...CONCERNS, "outbox"]) {
    const file = join(stateDir, `${concern}.json`);
    if (!existsSync(file)) {
      if (required.includes(concern)) problems.push(`${concern}.json is missing`);
      continue;
    }
    let raw;
    try {
      raw = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      problems.push(`${concern}.json does not parse: ${error.message}`);
      continue;
    }
    if (raw === null || typeof raw !== "object" || raw.version !== 1)
      problems.push(`${concern}.json has no version 1`);
    else if (!checks[concern](raw)) problems.push(`${concern}.json fails its shape check`);
  }
  const pending = join(stateDir, "history.db.pending.json");
  if (existsSync(pending)) {
    try {
      JSON.parse(readFileSync(pending, "utf8"));
    } catch (error) {
      problems.push(`history.db.pending.json does not parse: ${error.message}`);
    }
  }
  return problems;
}

/**
 * Reads heal marks (`start PID WHO` / `end PID WHO`, one line each) and judges them against what each
 * command (WHO) reported: `overlaps` = heals that started while another was running; `doubles` = heals
 * beyond what was allowed (one per command that got the lock, none for one refused with exit 3, and at
 * most one heal by scheduled `run`s, whose cooldown is 1 h); `unfinished` = starts without an end.
 */
export function analyseMarks(text, exitCodes) {
  const running = new Set();
  const starts = new Map();
  let overlaps = 0;
  let unfinished = 0;
  for (const line of text.split("\n")) {
    const [kind, pid, who] = line.trim().split(" ");
    if (kind === "start") {
      if (running.size > 0) overlaps++;
      running.add(pid);
      starts.set(who, (starts.get(who) ?? 0) + 1);
    } else if (kind === "end") {
      running.delete(pid);
    }
  }
  unfinished = running.size;
  let doubles = 0;
  let byRuns = 0;
  for (const [who, count] of starts) {
    const allowed = exitCodes[who] === 3 || exitCodes[who] === undefined ? 0 : 1;
    doubles += Math.max(0, count - allowed);
    if (who.startsWith("run-")) byRuns += Math.min(count, allowed);
  }
  doubles += Math.max(0, byRuns - 1);
  const total = [...starts.values()].reduce((a, b) => a + b, 0);
  return { overlaps, doubles, unfinished, starts: Object.fromEntries(starts), total };
}

/** The text lines of a run's output that look like a crash. */
export function stackLines(text) {
  return text.split("\n").filter((line) => STACK.test(line));
}

// ---------------------------------------------------------------------------------------------------
// Rules for the kill and concurrent sections: `web` is down until its heal step creates `up`; `gone`
// is always down; alerts go to the log and to a webhook that refuses connections (so the outbox fills).

function writeTickRules(dir, { deadPort, hookPort, cooldown, budget }) {
  const rules = join(dir, "rules");
  mkdirSync(rules, { recursive: true });
  mkdirSync(join(dir, "state"), { recursive: true });
  const q = JSON.stringify;
  const mark = [
    "sh",
    "-c",
    'echo "start $$ $SOAK_WHO" >> "$1"; sleep 0.1; touch "$2"; echo "end $$ $SOAK_WHO" >> "$1"',
    "heal",
    join(dir, "marks"),
    join(dir, "up"),
  ];
  writeFileSync(
    join(rules, "services.yaml"),
    [
      "version: 1",
      "runtime:",
      `  stateDir: ${q(join(dir, "state"))}`,
      `  logFile: ${q(join(dir, "logs", "upkeep.log"))}`,
      "  tickTimeout: 30s",
      "defaults:",
      "  probe: { timeout: 2s }",
      "  breaker: { failureThreshold: 1000, successThreshold: 1, openFor: 60s }",
      `  heal: { cooldown: ${cooldown}, budget: { max: ${budget}, per: 1h } }`,
      "services:",
      "  web:",
      "    title: Web",
      `    probe: { type: exec, command: ["test", "-f", ${q(join(dir, "up"))}] }`,
      "    heal:",
      "      steps:",
      "        - action: exec",
      `          with: { command: ${q(mark)} }`,
      "        - action: verify",
      "          timeout: 5s",
      "          with: { interval: 50ms }",
      "  gone:",
      "    title: Gone",
      `    probe: { type: tcp, host: 127.0.0.1, port: ${deadPort} }`,
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(rules, "alerts.yaml"),
    [
      "version: 1",
      "channels:",
      "  log: { type: log }",
      `  hook: { type: webhook, with: { url: "http://127.0.0.1:${hookPort}/hook", timeout: 1s } }`,
      "levels:",
      "  CRITICAL: { threshold: 1, cooldown: 1h, channels: [log, hook] }",
      "rules:",
      "  down:",
      "    level: CRITICAL",
      '    when: { "==": [{ var: status }, "down"] }',
      "  healed:",
      "    level: CRITICAL",
      '    when: { "==": [{ var: heal.outcome }, "healed"] }',
      "",
    ].join("\n"),
  );
  return rules;
}

function childEnv(home, extra = {}) {
  const env = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, "cache"), UPKEEP_NO_CACHE: "1" };
  delete env.UPKEEP_RULES;
  delete env.UPKEEP_STATE_DIR;
  return { ...env, ...extra };
}

async function stateChecks() {
  const [{ isValidConcern }, { OUTBOX_SPEC }] = await Promise.all([
    import(dist("core/state-shape.js")),
    import(dist("runtime/outbox.js")),
  ]);
  return {
    ...Object.fromEntries(CONCERNS.map((c) => [c, (raw) => isValidConcern(c, raw)])),
    outbox: (raw) => OUTBOX_SPEC.validate(raw),
  };
}

// ---------------------------------------------------------------------------------------------------
// kill

async function killSection(ctx) {
  const { counts, work, seed, deadline, report } = ctx;
  const checks = await stateChecks();
  const ports = { deadPort: await closedPort(), hookPort: await closedPort(), cooldown: "0s", budget: 1000 };
  const env = childEnv(join(work, "home"), { SOAK_WHO: "run" });

  // A template state (two ticks: one creates the files, one overwrites them) that every trial starts
  // from, and how long a tick takes here, for the random kill times.
  const template = join(work, "kill-template");
  const templateRules = writeTickRules(template, ports);
  let tickMs = 0;
  for (let i = 0; i < 2; i++) {
    rmSync(join(template, "up"), { force: true });
    const r = await start([CLI, "run", "--rules", templateRules], { env }).done;
    if (r.code !== 0 && r.code !== 1)
      throw new Error(`template tick exited ${r.code}: ${r.stderr.slice(0, 500)}`);
    tickMs = Math.max(tickMs, r.ms);
  }
  const templateFiles = readdirSync(join(template, "state")).filter((n) => !n.endsWith(".lock"));

  const writeTrials = new Set();
  for (let i = 0; i < counts.kill; i++)
    if (
      Math.floor(((i + 1) * counts.killDuringWrite) / counts.kill) >
      Math.floor((i * counts.killDuringWrite) / counts.kill)
    )
      writeTrials.add(i);

  const fig = { trials: 0, duringWrite: 0, tempLeft: 0, unreadable: 0, cannotContinue: 0, late: 0 };
  const ran = await pool(counts.kill, WIDTH, deadline, async (i) => {
    const rng = prng(streamSeed(seed, "kill", i));
    const dir = mkdtempSync(join(work, `kill-${i}-`));
    try {
      const rules = writeTickRules(dir, ports);
      const stateDir = join(dir, "state");
      for (const name of templateFiles) copyFileSync(join(template, "state", name), join(stateDir, name));
      const duringWrite = writeTrials.has(i);
      // A kill that came after the tick ended is no trial: try again (bounded) with an earlier time.
      let landed = false;
      let limitMs = tickMs * 1.1;
      for (let attempt = 0; attempt < 6 && !landed; attempt++) {
        rmSync(join(dir, "up"), { force: true });
        const target = attempt < 3 ? rng.int(1, 5) : 1;
        let seen = 0;
        let watcher;
        const run = start([CLI, "run", "--rules", rules], { env });
        let killedOnWrite = false;
        let timer;
        if (duringWrite) {
          watcher = watch(stateDir, (_event, name) => {
            if (name === null || !STATE_TEMP.test(name) || ++seen !== target) return;
            killedOnWrite = true;
            run.kill();
          });
        } else {
          timer = setTimeout(run.kill, rng.next() * limitMs);
        }
        const result = await run.done;
        clearTimeout(timer);
        watcher?.close();
        landed = result.signal === "SIGKILL" && !result.timedOut && (!duringWrite || killedOnWrite);
        if (!landed) {
          fig.late++;
          limitMs = Math.max(50, Math.min(limitMs, result.ms) * 0.9);
        }
      }
      if (!landed) {
        report.detail(`kill trial ${i}: no kill landed mid-tick in 6 attempts`);
        fig.cannotContinue++;
        return;
      }
      fig.trials++;
      if (duringWrite) fig.duringWrite++;
      if (readdirSync(stateDir).some((n) => STATE_TEMP.test(n))) fig.tempLeft++;
      // A heal step the killed tick started runs on in its own session: end it before the next run.
      killUnder(dir);
      const problems = stateProblems(stateDir, checks, [...CONCERNS, "outbox"]);
      if (problems.length > 0) {
        fig.unreadable++;
        report.detail(`kill trial ${i} (seed ${seed}): ${problems.join("; ")}`);
      }
      rmSync(join(dir, "up"), { force: true });
      const next = await start([CLI, "run", "--rules", rules], { env, timeoutMs: 60_000 }).done;
      const after = stateProblems(stateDir, checks, [...CONCERNS, "outbox"]);
      const crash = stackLines(next.stderr + next.stdout);
      if ((next.code !== 0 && next.code !== 1) || crash.length > 0 || after.length > 0) {
        fig.cannotContinue++;
        report.detail(
          `kill trial ${i} (seed ${seed}): the next run exited ${next.code}${next.timedOut ? " (timed out)" : ""}: ${[...after, ...crash, next.stderr.trim().slice(0, 300)].join("; ")}`,
        );
      }
    } finally {
      killUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return {
    line: `kill trials: ${fig.trials} (${fig.duringWrite} during state write, ${fig.tempLeft} left a temp file; ${fig.late} kills came after the tick and were retried; tick ~${tickMs} ms), unreadable state: ${fig.unreadable}, runs that could not continue: ${fig.cannotContinue}`,
    bad: fig.unreadable + fig.cannotContinue,
    complete: ran === counts.kill,
    ran,
  };
}

// ---------------------------------------------------------------------------------------------------
// concurrent

const HISTORY_DAY_MS = 24 * 3_600_000;

async function concurrentSection(ctx) {
  const { counts, work, seed, deadline, report } = ctx;
  const checks = await stateChecks();
  const { readHistory } = await import(dist("runtime/history-store.js"));
  const ports = { deadPort: await closedPort(), hookPort: await closedPort(), cooldown: "1h", budget: 1 };
  const home = join(work, "home");
  const fig = {
    trials: 0,
    commands: 0,
    locked: 0,
    heals: 0,
    doubles: 0,
    lost: 0,
    overlaps: 0,
    failed: 0,
    left: 0,
  };
  const kinds = [
    { who: "run-1", args: ["run"] },
    { who: "run-2", args: ["run"] },
    { who: "heal-1", args: ["heal", "web", "--force", "--by", "soak-heal-1"] },
    { who: "heal-2", args: ["heal", "web", "--force", "--by", "soak-heal-2"] },
    { who: "reset-1", args: ["breaker", "reset", "web", "--by", "soak-reset-1"] },
    { who: "reset-2", args: ["breaker", "reset", "web", "--by", "soak-reset-2"] },
  ];
  // One trial at a time: each already runs 6 processes on a 2-core machine.
  const ran = await pool(counts.concurrent, 1, deadline, async (i) => {
    const rng = prng(streamSeed(seed, "concurrent", i));
    const dir = mkdtempSync(join(work, `concurrent-${i}-`));
    try {
      const rules = writeTickRules(dir, ports);
      const stateDir = join(dir, "state");
      const order = [...kinds];
      for (let j = order.length - 1; j > 0; j--) {
        const k = rng.int(0, j);
        [order[j], order[k]] = [order[k], order[j]];
      }
      // Some trials start all six at once (most lose the lock race), others spread the starts over
      // about one tick, so the lock also passes from one command to the next.
      const spread = rng.pick([20, 20, 400, 1500]);
      const runs = [];
      for (const kind of order) {
        const env = childEnv(home, { SOAK_WHO: kind.who });
        runs.push({ kind, run: start([CLI, ...kind.args, "--rules", rules], { env, timeoutMs: 90_000 }) });
        await sleep(rng.int(0, spread));
      }
      const results = await Promise.all(runs.map(async ({ kind, run }) => ({ kind, r: await run.done })));
      fig.trials++;
      const codes = {};
      const problems = [];
      for (const { kind, r } of results) {
        fig.commands++;
        codes[kind.who] = r.code;
        if (r.code === 3) fig.locked++;
        const allowed = kind.who.startsWith("reset") ? [0, 3] : [0, 1, 3];
        const crash = stackLines(r.stderr + r.stdout);
        if (!allowed.includes(r.code) || crash.length > 0) {
          fig.failed++;
          problems.push(
            `${kind.args.join(" ")} exited ${r.code}${r.timedOut ? " (timed out)" : ""}: ${r.stderr.trim().slice(0, 300)}`,
          );
        }
      }
      const leftovers = processesUnder(dir).length;
      if (leftovers > 0) {
        fig.left += leftovers;
        problems.push(`${leftovers} processes left running`);
      }
      const marks = existsSync(join(dir, "marks")) ? readFileSync(join(dir, "marks"), "utf8") : "";
      const m = analyseMarks(marks, codes);
      fig.heals += m.total;
      fig.overlaps += m.overlaps;
      fig.doubles += m.doubles;
      if (m.overlaps + m.doubles + m.unfinished > 0)
        problems.push(`heal marks: ${JSON.stringify(m)}; exits ${JSON.stringify(codes)}`);

      // Lost updates: every heal that ran and every command that reported success is on record.
      let lost = m.unfinished;
      const state = stateProblems(stateDir, checks, m.total > 0 ? ["heals"] : []);
      if (state.length > 0) {
        lost += state.length;
        problems.push(...state);
      }
      const heals = existsSync(join(stateDir, "heals.json"))
        ? (JSON.parse(readFileSync(join(stateDir, "heals.json"), "utf8")).heals?.web ?? undefined)
        : undefined;
      const recorded = heals === undefined ? 0 : (heals.totals?.healed ?? 0) + (heals.totals?.failed ?? 0);
      if (recorded !== m.total) {
        lost += Math.abs(m.total - recorded);
        problems.push(`heals.json records ${recorded} heals, the step ran ${m.total} times`);
      }
      const history = await readHistory(
        { file: join(stateDir, "history.db"), retentionMs: 90 * HISTORY_DAY_MS, intervalMs: 300_000 },
        { kinds: ["tick", "heal", "command"] },
      );
      const healEvents = history.filter((e) => e.kind === "heal" && e.service === "web");
      if (healEvents.length !== m.total) {
        lost += Math.abs(m.total - healEvents.length);
        problems.push(`the history has ${healEvents.length} heal events, the step ran ${m.total} times`);
      }
      const ticks = history.filter((e) => e.kind === "tick").length;
      const tickCommands = results.filter(
        ({ kind, r }) => !kind.who.startsWith("reset") && (r.code === 0 || r.code === 1),
      ).length;
      if (ticks !== tickCommands) {
        lost += Math.abs(ticks - tickCommands);
        problems.push(`the history has ${ticks} ticks, ${tickCommands} commands ran one`);
      }
      for (const { kind, r } of results) {
        if (r.code !== 0 && r.code !== 1) continue;
        const by = kind.args[kind.args.indexOf("--by") + 1];
        if (kind.who.startsWith("reset")) {
          if (!history.some((e) => e.kind === "command" && e.command === "breaker reset" && e.by === by)) {
            lost++;
            problems.push(`breaker reset by ${by} exited 0 but is not in the history`);
          }
        } else if (kind.who.startsWith("heal")) {
          const inState = heals?.history?.some((h) => h.forced === true && h.by === by) ?? false;
          const inHistory = healEvents.some((e) => e.forced && e.by === by);
          if (!inState || !inHistory || (m.starts[kind.who] ?? 0) !== 1) {
            lost++;
            problems.push(
              `heal --force by ${by} exited ${r.code}: step ran ${m.starts[kind.who] ?? 0} times, in heals.json ${inState}, in the history ${inHistory}`,
            );
          }
        }
      }
      fig.lost += lost;
      if (problems.length > 0) report.detail(`concurrent trial ${i} (seed ${seed}): ${problems.join("; ")}`);
    } finally {
      killUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return {
    line: `concurrent trials: ${fig.trials} (${fig.commands} commands, ${fig.locked} refused with exit 3, ${fig.heals} heals), double heals: ${fig.doubles}, lost updates: ${fig.lost}, overlapping heals: ${fig.overlaps}, failed commands: ${fig.failed}, processes left: ${fig.left}`,
    bad: fig.doubles + fig.lost + fig.overlaps + fig.failed + fig.left,
    complete: ran === counts.concurrent,
    ran,
  };
}

// ---------------------------------------------------------------------------------------------------
// library: each process fires failures on a shared breaker and on its own, in two concurrent loops;
// with a huge failureThreshold every failure is one recorded update.

const LIBRARY_OPTIONS = { failureThreshold: 1_000_000_000 };

async function libraryWorker([stateFile, index, count]) {
  const { CircuitBreaker } = await import(dist("index.js"));
  const fail = async (name) => {
    const breaker = new CircuitBreaker(name, { ...LIBRARY_OPTIONS, stateFile });
    for (let i = 0; i < Number(count); i++) {
      await breaker
        .fire(() => Promise.reject(new Error("soak: service down")))
        .catch((error) => {
          if (error.message !== "soak: service down") throw error;
        });
    }
  };
  await Promise.all([fail("shared"), fail(`own-${index}`)]);
  process.stdout.write(`${JSON.stringify({ done: true })}\n`);
}

async function librarySection(ctx) {
  const { counts, work, seed, deadline, report, quick } = ctx;
  const fires = quick ? LIBRARY_FIRES.quick : LIBRARY_FIRES.full;
  const perLoop = fires / 2;
  const env = childEnv(join(work, "home"));
  const { CircuitBreaker } = await import(dist("index.js"));
  const fig = { updates: 0, lost: 0, failed: 0 };
  const ran = await pool(counts.libraryRounds, 1, deadline, async (round) => {
    const dir = mkdtempSync(join(work, `library-${round}-`));
    try {
      const stateFile = join(dir, "breakers.json");
      const runs = Array.from({ length: LIBRARY_PROCESSES }, (_, p) =>
        start([SELF, "--worker", "library", stateFile, String(p), String(perLoop)], {
          env,
          timeoutMs: 300_000,
        }),
      );
      const results = await Promise.all(runs.map((r) => r.done));
      const problems = [];
      for (const [p, r] of results.entries()) {
        if (r.code !== 0 || !r.stdout.includes('"done":true')) {
          fig.failed++;
          problems.push(
            `process ${p} exited ${r.code}${r.timedOut ? " (timed out)" : ""}: ${r.stderr.trim().slice(0, 300)}`,
          );
        }
      }
      const failures = (name) =>
        new CircuitBreaker(name, { ...LIBRARY_OPTIONS, stateFile }).getState().failures;
      const expected = [["shared", perLoop * LIBRARY_PROCESSES]];
      for (let p = 0; p < LIBRARY_PROCESSES; p++) expected.push([`own-${p}`, perLoop]);
      for (const [name, want] of expected) {
        const got = failures(name);
        fig.updates += want;
        if (got !== want) {
          fig.lost += Math.max(0, want - got);
          problems.push(`${name}: ${got} failures recorded, ${want} fired`);
        }
      }
      if (problems.length > 0) report.detail(`library round ${round} (seed ${seed}): ${problems.join("; ")}`);
    } finally {
      killUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return {
    line: `library updates: ${fig.updates} (${ran} rounds x ${LIBRARY_PROCESSES} processes x ${fires}), lost updates: ${fig.lost}, failed processes: ${fig.failed}`,
    bad: fig.lost + fig.failed,
    complete: ran === counts.libraryRounds,
    ran,
  };
}

// ---------------------------------------------------------------------------------------------------
// fuzz: mutations work on a latin1 string, so random bytes and invalid UTF-8 survive as bytes.

const SEEDS = [
  { name: "shipped", files: { "services.yaml": "rules/services.yaml", "alerts.yaml": "rules/alerts.yaml" } },
  {
    name: "packs",
    files: {
      "services.yaml": "examples/packs-rules/services.yaml",
      "alerts.yaml": "examples/packs-rules/alerts.yaml",
    },
  },
];

function seedTexts() {
  return SEEDS.map((s) => ({
    name: s.name,
    files: Object.fromEntries(
      Object.entries(s.files).map(([name, path]) => {
        const text = readFileSync(join(ROOT, path), "latin1");
        // The pack paths are relative to the example's folder; the fuzzed copy lives elsewhere.
        return [name, text.replaceAll("../../packs/", `${join(APP, "packs")}/`)];
      }),
    ),
  }));
}

const utf8AsLatin1 = (text) => Buffer.from(text, "utf8").toString("latin1");
const VALUE_LINE = /^(\s*(?:- )?[\w"'-]+:\s+)(\S.*)$/;
const SCALARS = [
  "123",
  "-1",
  "0",
  "1.5",
  '"text"',
  "true",
  "null",
  "~",
  '""',
  "[1, 2]",
  "{ a: 1 }",
  "0x1F",
  "1e3",
  ".nan",
  ".inf",
  "-.inf",
  "2s",
  "yes",
  "[]",
  "{}",
  "!!binary aGVsbG8=",
  "!!str 5",
  "2024-01-01",
];
const HUGE = [
  "1e308",
  "1.7976931348623157e309",
  "99999999999999999999999",
  "-99999999999",
  "4294967296",
  "9007199254740993",
  "99999999999999d",
  "99999999999999999999ms",
  "0.0000000000000000001",
  "1e-400",
];

function mutateLines(text, rng, edit) {
  const lines = text.split("\n");
  edit(lines, rng.int(0, Math.max(0, lines.length - 1)));
  return lines.join("\n");
}

function withValue(text, rng, replacement) {
  const lines = text.split("\n");
  const candidates = lines.flatMap((line, i) =>
    VALUE_LINE.test(line) && !line.trim().startsWith("#") ? [i] : [],
  );
  if (candidates.length === 0) return text;
  const i = rng.pick(candidates);
  lines[i] = lines[i].replace(VALUE_LINE, (_all, key) => `${key}${replacement(rng)}`);
  return lines.join("\n");
}

function deep(rng) {
  const depth = rng.pick([50, 500, 5_000, 50_000]);
  return rng.next() < 0.5
    ? `${"[".repeat(depth)}1${"]".repeat(depth)}`
    : `${"{a: ".repeat(depth)}1${"}".repeat(depth)}`;
}

const MUTATIONS = {
  "delete line": (t, rng) => mutateLines(t, rng, (l, i) => l.splice(i, 1)),
  "duplicate line": (t, rng) => mutateLines(t, rng, (l, i) => l.splice(i, 0, l[i] ?? "")),
  "swap lines": (t, rng) =>
    mutateLines(t, rng, (l, i) => {
      const j = rng.int(0, l.length - 1);
      [l[i], l[j]] = [l[j], l[i]];
    }),
  indentation: (t, rng) =>
    mutateLines(t, rng, (l, i) => {
      const body = (l[i] ?? "").trimStart();
      const spaces = (l[i] ?? "").length - body.length;
      l[i] =
        rng.next() < 0.2
          ? `\t${body}`
          : `${" ".repeat(Math.max(0, spaces + rng.pick([-4, -2, -1, 1, 2, 3, 8])))}${body}`;
    }),
  "swap type": (t, rng) => withValue(t, rng, (r) => r.pick(SCALARS)),
  "huge number": (t, rng) =>
    rng.next() < 0.5 && /\d+/.test(t)
      ? t.replace(new RegExp(`(?<=\\D)\\d+(?=\\D)`, "g"), (n) => (rng.next() < 0.3 ? rng.pick(HUGE) : n))
      : withValue(t, rng, (r) => r.pick(HUGE)),
  "random bytes": (t, rng) => {
    const at = rng.int(0, t.length);
    const bytes = Array.from({ length: rng.int(1, 16) }, () => String.fromCharCode(rng.int(0, 255))).join("");
    return t.slice(0, at) + bytes + t.slice(at);
  },
  "odd characters": (t, rng) => {
    const at = rng.int(0, t.length);
    const odd = utf8AsLatin1(
      rng.pick([
        "\u0000",
        "\uFEFF",
        "\u202E",
        "\u{1F525}",
        "\r",
        "\r\n",
        "\u2028",
        "\t",
        "\\",
        "'",
        '"',
        "${{",
        "}}",
        "${env:",
        "#",
        "&",
        "*",
        "!",
        "%",
        "@",
        "`",
        "|",
        ">",
        "{",
        "[",
        ": ",
      ]),
    );
    return t.slice(0, at) + odd + t.slice(at);
  },
  truncation: (t, rng) => t.slice(0, rng.int(0, t.length)),
  "deep nesting": (t, rng) =>
    rng.next() < 0.7
      ? withValue(t, rng, deep)
      : `${t}\n${Array.from({ length: rng.pick([100, 1000]) }, (_, d) => `${" ".repeat(d)}k:`).join("\n")} 1\n`,
  aliases: (t, rng) => {
    const kind = rng.int(0, 4);
    if (kind === 0) {
      // A billion laughs: 10^9 nodes through 9 levels of aliases.
      const levels = Array.from({ length: 9 }, (_, n) =>
        n === 0
          ? "lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"
          : `lol${n}: &l${n} [${Array(10)
              .fill(`*l${n - 1}`)
              .join(", ")}]`,
      );
      return t.replace(/^version: 1$/m, `version: 1\n${levels.join("\n")}`);
    }
    if (kind === 1) return withValue(t, rng, () => "*nowhere");
    if (kind === 2) return withValue(t, rng, () => "&self [*self]");
    if (kind === 3) {
      // Anchor one value and reuse it elsewhere (valid YAML, maybe valid rules).
      const anchored = withValue(t, rng, (r) => `&shared ${r.pick(SCALARS)}`);
      return withValue(anchored, rng, () => "*shared");
    }
    return withValue(t, rng, () => "{ <<: *nowhere, a: 1 }");
  },
  "long string": (t, rng) => withValue(t, rng, (r) => `"${"x".repeat(r.pick([1_000, 100_000, 2_000_000]))}"`),
  "crlf and bom": (t, rng) =>
    rng.next() < 0.5 ? t.replaceAll("\n", "\r\n") : `${utf8AsLatin1("\uFEFF")}${t}`,
  "duplicate block": (t, rng) => {
    const lines = t.split("\n");
    const from = rng.int(0, lines.length - 1);
    const block = lines.slice(from, from + rng.int(2, 12));
    lines.splice(rng.int(0, lines.length), 0, ...block);
    return lines.join("\n");
  },
};
const MUTATION_NAMES = Object.keys(MUTATIONS);

/** The fuzz case `index` of `seed`: which seed rules, which file, which mutations, and the files. */
export function fuzzCase(seed, index, seeds = seedTexts()) {
  const rng = prng(streamSeed(seed, "fuzz", index));
  const base = rng.pick(seeds);
  const target = rng.next() < 0.7 ? "services.yaml" : "alerts.yaml";
  const applied = Array.from({ length: rng.int(1, 3) }, () => rng.pick(MUTATION_NAMES));
  let text = base.files[target];
  for (const name of applied) text = MUTATIONS[name](text, rng);
  return { base: base.name, target, applied, files: { ...base.files, [target]: text } };
}

/** The fuzz worker: calls the CLI's main() in this process for each request, capturing its output. */
async function fuzzWorker() {
  const bundled = join(APP, "dist", "bundle", "main.js");
  const { main } = await import(existsSync(bundled) ? pathToFileURL(bundled).href : dist("cli/main.js"));
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.on("message", async ({ id, argv }) => {
    let stdout = "";
    let stderr = "";
    process.stdout.write = (chunk, ...rest) => {
      stdout += String(chunk);
      rest.find((a) => typeof a === "function")?.();
      return true;
    };
    process.stderr.write = (chunk, ...rest) => {
      stderr += String(chunk);
      rest.find((a) => typeof a === "function")?.();
      return true;
    };
    let code;
    let threw;
    try {
      code = await main(argv);
    } catch (error) {
      threw = String(error?.stack ?? error);
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
      process.exitCode = 0;
    }
    // Judged here on the whole output (it can be megabytes); only the verdict crosses the IPC channel.
    const stack = stackLines(`${stdout}\n${stderr}`).slice(0, 5);
    process.send({ id, code, threw, stack, stdout: stdout.slice(0, 2_000), stderr: stderr.slice(0, 2_000) });
  });
  process.send({ ready: true });
}

/** A worker process with a request queue; a request that outlives its time kills and replaces it. */
function fuzzLane(env) {
  let worker;
  let ready;
  let nextId = 0;
  const waiting = new Map();
  const boot = () => {
    worker = start([SELF, "--worker", "fuzz"], { env, ipc: true, timeoutMs: 4 * 3_600_000 });
    ready = new Promise((resolve) => {
      worker.child.on("message", (message) => {
        if (message.ready) return resolve();
        waiting.get(message.id)?.(message);
        waiting.delete(message.id);
      });
    });
    void worker.done.then((r) => {
      for (const [id, resolve] of waiting)
        resolve({ id, died: `worker exited ${r.code ?? r.signal}: ${r.stderr.slice(-500)}` });
      waiting.clear();
    });
  };
  boot();
  return {
    async call(argv, timeoutMs) {
      await ready;
      const id = nextId++;
      const answer = new Promise((resolve) => waiting.set(id, resolve));
      worker.child.send({ id, argv });
      let timer;
      const timeout = new Promise(
        (resolve) => (timer = setTimeout(() => resolve({ id, hung: true }), timeoutMs)),
      );
      const result = await Promise.race([answer, timeout]);
      clearTimeout(timer);
      if (result.hung || result.died) {
        waiting.delete(id);
        worker.kill();
        await worker.done;
        boot();
      }
      return result;
    },
    async close() {
      worker.kill();
      await worker.done;
    },
  };
}

async function fuzzSection(ctx) {
  const { counts, work, seed, deadline, report, trial } = ctx;
  const home = join(work, "home");
  const env = childEnv(home);
  const seeds = seedTexts();
  const lanes = Array.from({ length: WIDTH }, () => fuzzLane(env));
  const fig = {
    files: 0,
    valid: 0,
    dryRuns: 0,
    viaCli: 0,
    crashes: 0,
    stacks: 0,
    codes: 0,
    hangs: 0,
    disagree: 0,
  };
  const indices = trial === undefined ? undefined : [trial];
  const total = indices?.length ?? counts.fuzz;
  let lane = 0;
  const ran = await pool(total, WIDTH, deadline, async (n) => {
    const index = indices?.[n] ?? n;
    const worker = lanes[lane++ % WIDTH];
    const c = fuzzCase(seed, index, seeds);
    const dir = mkdtempSync(join(work, `fuzz-${index}-`));
    const rules = join(dir, "rules");
    mkdirSync(rules);
    for (const [name, text] of Object.entries(c.files))
      writeFileSync(join(rules, name), Buffer.from(text, "latin1"));
    const label = `fuzz file ${index} (seed ${seed}, ${c.base} ${c.target}: ${c.applied.join(", ")}; rebuild with --only fuzz --seed ${seed} --trial ${index})`;
    const problems = [];
    const judge = (what, r, allowed) => {
      if (r.hung) {
        fig.hangs++;
        problems.push(`${what} did not finish`);
      } else if (r.died || r.threw !== undefined) {
        fig.crashes++;
        problems.push(`${what} crashed: ${(r.died ?? r.threw).slice(0, 500)}`);
      } else {
        const stack = r.stack ?? stackLines(`${r.stdout}\n${r.stderr}`);
        if (stack.length > 0) {
          fig.stacks++;
          problems.push(`${what} printed a stack trace: ${stack.slice(0, 3).join(" | ")}`);
        }
        if (!allowed.includes(r.code)) {
          fig.codes++;
          problems.push(`${what} exited ${r.code}`);
        }
      }
    };
    try {
      fig.files++;
      const validate = await worker.call(["validate", "--rules", rules], 60_000);
      judge("validate", validate, [0, 1, 2]);
      if (index % 100 === 0 || trial !== undefined) {
        fig.viaCli++;
        const cli = await start([CLI, "validate", "--rules", rules], { env, timeoutMs: 60_000 }).done;
        judge("bin/upkeep.js validate", { ...cli, hung: cli.timedOut }, [0, 1, 2]);
        if (!cli.timedOut && !validate.hung && cli.code !== validate.code) {
          fig.disagree++;
          problems.push(`bin/upkeep.js validate exited ${cli.code}, main() returned ${validate.code}`);
        }
      }
      if (validate.code === 0) {
        fig.valid++;
        fig.dryRuns++;
        const dry = await worker.call(
          ["run", "--dry-run", "--rules", rules, "--state-dir", join(dir, "state")],
          180_000,
        );
        judge("run --dry-run", dry, [0, 1, 2]);
      }
      if (problems.length > 0) report.detail(`${label}: ${problems.join("; ")}`);
      if (trial !== undefined) {
        process.stdout.write(
          `fuzz file ${index}: ${rules} (kept)\nvalidate exited ${validate.code}\n${validate.stdout}${validate.stderr}`,
        );
      }
    } finally {
      killUnder(dir);
      if (trial === undefined) rmSync(dir, { recursive: true, force: true });
    }
  });
  await Promise.all(lanes.map((l) => l.close()));
  return {
    line: `fuzzed rule files: ${fig.files} (${fig.valid} valid, each also through run --dry-run; ${fig.viaCli} also through bin/upkeep.js), crashes: ${fig.crashes}, stack traces: ${fig.stacks}, unexpected exit codes: ${fig.codes}, hangs: ${fig.hangs}, CLI disagreements: ${fig.disagree}`,
    bad: fig.crashes + fig.stacks + fig.codes + fig.hangs + fig.disagree,
    complete: ran === total,
    ran,
  };
}

// ---------------------------------------------------------------------------------------------------

/**
 * Copies the package as published (package.json `files`) into the soak's folder, so a rebuild in the
 * checkout while the soak runs (dist/bundle chunk names change) cannot break its ticks half way.
 */
function snapshotApp(work) {
  const app = join(work, "app");
  const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  mkdirSync(app);
  for (const entry of [...(manifest.files ?? []), "package.json"])
    if (existsSync(join(ROOT, entry))) cpSync(join(ROOT, entry), join(app, entry), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(app, "node_modules"), "dir");
  return app;
}

const RUNNERS = {
  kill: killSection,
  concurrent: concurrentSection,
  library: librarySection,
  fuzz: fuzzSection,
};

function usage(message) {
  process.stderr.write(
    `soak: ${message}\nUsage: node scripts/soak.mjs [--quick] [--seed N] [--only ${SECTIONS.join("|")}] [--trial I]\n`,
  );
  return 2;
}

async function soak(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        quick: { type: "boolean" },
        seed: { type: "string" },
        only: { type: "string", multiple: true },
        trial: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    return usage(error.message);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(
      "Usage: node scripts/soak.mjs [--quick] [--seed N] [--only kill|concurrent|library|fuzz] [--trial I]\n",
    );
    return 0;
  }
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0)
    return usage(`--seed must be a whole number >= 0, not "${values.seed}"`);
  const only = (values.only ?? SECTIONS).flatMap((s) => s.split(","));
  const unknown = only.find((s) => !SECTIONS.includes(s));
  if (unknown !== undefined) return usage(`unknown section "${unknown}"`);
  const trial = values.trial === undefined ? undefined : Number(values.trial);
  if (trial !== undefined && (!Number.isSafeInteger(trial) || trial < 0 || only.join() !== "fuzz"))
    return usage("--trial I goes with --only fuzz (I a whole number >= 0)");
  for (const file of ["index.js", "cli/main.js", "core/state-shape.js", "runtime/outbox.js"])
    if (!existsSync(join(ROOT, "dist", file))) {
      process.stderr.write(`soak: dist/${file} is missing: run \`npm run build\` first\n`);
      return 2;
    }

  const quick = values.quick === true;
  const counts = quick ? QUICK : FULL;
  const limits = quick ? LIMITS.quick : LIMITS.full;
  const work = mkdtempSync(join(tmpdir(), "upkeep-soak-"));
  mkdirSync(join(work, "home"));
  APP = snapshotApp(work);
  CLI = join(APP, "bin", "upkeep.js");
  process.env.UPKEEP_SOAK_APP = APP;
  const cleanup = () => {
    killAll();
    if (trial === undefined) rmSync(work, { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  for (const signal of ["SIGINT", "SIGTERM"])
    process.on(signal, () => {
      cleanup();
      process.exit(130);
    });

  const began = Date.now();
  process.stdout.write(`soak: seed ${seed}${quick ? " (quick)" : ""}\n`);
  let failed = false;
  for (const section of only) {
    const details = [];
    const report = {
      detail: (text) => {
        if (details.length < 20) process.stderr.write(`  ${text}\n`);
        details.push(text);
      },
    };
    const sectionBegan = Date.now();
    let result;
    try {
      result = await RUNNERS[section]({
        counts,
        work,
        seed,
        quick,
        trial,
        report,
        deadline: sectionBegan + limits[section],
      });
    } catch (error) {
      result = { line: `${section}: could not run: ${error?.stack ?? error}`, bad: 1, complete: false };
    }
    const seconds = ((Date.now() - sectionBegan) / 1000).toFixed(1);
    const incomplete = result.complete
      ? ""
      : ` [INCOMPLETE: stopped at the ${limits[section] / 60_000} min limit]`;
    process.stdout.write(`${result.line}${incomplete} in ${seconds} s\n`);
    if (result.bad > 0 || !result.complete) failed = true;
  }
  const total = ((Date.now() - began) / 1000).toFixed(1);
  process.stdout.write(`soak: ${failed ? "FAILED" : "ok"} in ${total} s (seed ${seed})\n`);
  return failed ? 1 : 0;
}

async function worker([kind, ...args]) {
  if (kind === "library") return libraryWorker(args);
  if (kind === "fuzz") return fuzzWorker();
  throw new Error(`unknown worker ${kind}`);
}

if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const argv = process.argv.slice(2);
  if (argv[0] === "--worker") {
    // Workers end on their own: a library worker when done, a fuzz worker when its parent goes away.
    process.on("disconnect", () => process.exit(0));
    await worker(argv.slice(1));
  } else {
    process.exitCode = await soak(argv);
  }
}
