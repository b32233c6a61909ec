#!/usr/bin/env node
/**
 * How the commands grow with the number of services (run `npm run build` first). For each N it writes
 * rules with N tcp services (sharing a handful of listening sockets on 127.0.0.1: ports are not what is
 * measured), in groups of ten where nine depend on the first, two alert rules over every service, and a
 * rule test file giving every service a timeline. Then it times, as whole processes:
 *
 *   run        one real tick, all healthy: a first tick on no state with rules not cached yet (it also
 *              records every service's first status in the history), then one on the state it left
 *   dry-run    `run --dry-run` with every group's head down (10% down, the other 90% blocked), first
 *              on these rules: it loads and validates them
 *   plan       `plan`, the same, on the rules the dry run cached
 *   test       `upkeep test` of that file: 20 ticks, every head down at ticks 3-5 (heals fail twice,
 *              then hold, and their dependents are re-probed), status and breaker expectations on every
 *              service
 *   monit      the yardstick, when /usr/bin/monit (or --monit PATH) exists: Monit checking the same N
 *              ports once (a control file without `set daemon` runs its checks once and exits), timed
 *              the same way (CPU time from /usr/bin/time when present)
 *
 * Wall time depends on whatever else the machine runs; the child's CPU time is printed too, and
 * linear means its per-service column stays flat as N grows.
 *
 *   node bench/scale.bench.mjs [--sizes 250,500,1000] [--only run,test,monit] [--runs 1] [--cli bin/upkeep.js]
 *                              [--prof DIR]   (node --cpu-prof into DIR, one profile per command and N)
 *                              [--monit PATH]
 */
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { clearTimeout, setTimeout } from "node:timers";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const flag = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const sizes = flag("sizes", "250,500,1000,2000,5000").split(",").map(Number);
const only = new Set(flag("only", "run,dry-run,plan,test,monit").split(","));
const monit = flag("monit", "/usr/bin/monit");
const runs = Math.max(1, Number(flag("runs", "1")) || 1);
const cli = resolve(flag("cli", join(root, "bin", "upkeep.js")));
const prof = flag("prof", undefined);
if (!existsSync(cli)) {
  console.error(`bench: ${cli} is missing; run \`npm run build\` first`);
  process.exit(2);
}

const SOCKETS = 8;
const GROUP = 10;
const TICKS = 20;

const work = mkdtempSync(join(tmpdir(), "upkeep-scale-"));
const servers = [];
// NODE_EXTRA_CA_CERTS costs ~90 ms at every Node 20 start: not upkeep's time.
// The rules cache goes into the bench's own directory, never the user's ~/.cache.
const env = { ...process.env, XDG_CACHE_HOME: join(work, "cache") };
delete env.NODE_EXTRA_CA_CERTS;
delete env.UPKEEP_NO_CACHE;

const listen = (server) =>
  new Promise((done) => server.listen(0, "127.0.0.1", () => done(server.address().port)));

/** A port nothing listens on: connections are refused at once. */
async function closedPort() {
  const s = createServer();
  const port = await listen(s);
  await new Promise((done) => s.close(done));
  return port;
}

function rules(dir, n, ports, downPort) {
  mkdirSync(join(dir, "tests"), { recursive: true });
  const services = [];
  for (let i = 0; i < n; i++) {
    const head = i - (i % GROUP);
    const down = downPort !== undefined && i % GROUP === 0;
    services.push(
      `  svc-${i}:\n    title: Service ${i}\n` +
        `    probe: { type: tcp, host: 127.0.0.1, port: ${down ? downPort : ports[i % ports.length]} }\n` +
        (i === head ? "" : `    dependsOn: [svc-${head}]\n`) +
        `    heal: { recipe: restart }`,
    );
  }
  writeFileSync(
    join(dir, "services.yaml"),
    `version: 1
runtime:
  stateDir: ${JSON.stringify(join(dir, "state"))}
  logFile: ${JSON.stringify(join(dir, "upkeep.log"))}
  concurrency: 128
  tickTimeout: 5m
recipes:
  restart:
    steps:
      - action: wait
        with: { for: 1s }
      - action: verify
services:
${services.join("\n")}
`,
  );
  writeFileSync(
    join(dir, "alerts.yaml"),
    `version: 1
channels:
  log: { type: log }
levels:
  CRITICAL: { threshold: 3, cooldown: 1h, channels: [log] }
  WARNING: { threshold: 5, cooldown: 2h, channels: [log] }
rules:
  down:
    level: CRITICAL
    when: { "==": [{ var: status }, "down"] }
  gave-up:
    level: WARNING
    threshold: 1
    when: { var: gaveUp }
`,
  );
  // Every head goes down for 3 ticks (its dependents are blocked, then re-probed after its heal).
  const series = [];
  const status = [];
  const breaker = [];
  for (let i = 0; i < n; i++) {
    const head = i % GROUP === 0;
    series.push(`      svc-${i}: "${head ? "up x2, down x3, up" : "up"}"`);
    status.push(`svc-${i}: up`);
    breaker.push(`svc-${i}: CLOSED`);
  }
  writeFileSync(
    join(dir, "tests", "scale.test.yaml"),
    `version: 1
tests:
  many-services:
    ticks: ${TICKS}
    services:
${series.join("\n")}
    expect:
      - at: 1
        status: { ${status.join(", ")} }
      - at: ${TICKS}
        status: { ${status.join(", ")} }
        breaker: { ${breaker.join(", ")} }
`,
  );
}

/**
 * The child's own CPU time (user + system), written to fd 3 as it exits: on a machine shared with other
 * work, wall time says little and CPU time is what grows with N.
 */
const CPU_REPORTER = `data:text/javascript,${encodeURIComponent(
  'import { writeSync } from "node:fs"; process.on("exit", () => { const u = process.cpuUsage(); try { writeSync(3, String(u.user + u.system)); } catch {} });',
)}`;

/** Not spawnSync: the listening sockets live in this process and must keep accepting meanwhile. */
function spawnTimed(argv) {
  return new Promise((done, fail) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ["--import", CPU_REPORTER, ...argv], {
      env,
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    const out = [];
    const err = [];
    const cpu = [];
    child.stdout.on("data", (c) => out.push(c));
    child.stderr.on("data", (c) => err.push(c));
    child.stdio[3].on("data", (c) => cpu.push(c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 600_000);
    child.on("error", fail);
    child.on("close", (status) => {
      clearTimeout(timer);
      done({
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        cpuMs: Number(Buffer.concat(cpu).toString("utf8")) / 1000,
        status,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
}

/**
 * Monit's one-shot check of the same ports: its own pid, state and id files in the bench's folder, and
 * its CPU time from /usr/bin/time (no --import hook in a C program). Null when Monit is not installed.
 */
async function timeMonit(n, ports) {
  if (!existsSync(monit)) return null;
  const dir = join(work, `monit-${n}`);
  mkdirSync(dir, { recursive: true });
  const rc = join(dir, "monitrc");
  const checks = Array.from(
    { length: n },
    (_, i) =>
      `check host svc${i} with address 127.0.0.1\n  if failed port ${ports[i % ports.length]} then alert`,
  );
  const files = ["pidfile", "statefile", "idfile"].map((f) => `set ${f} ${join(dir, f)}`);
  // Monit refuses a control file others can read.
  writeFileSync(rc, `${[...files, ...checks].join("\n")}\n`, { mode: 0o600 });
  const timeBin = "/usr/bin/time";
  const usage = join(dir, "usage");
  const times = [];
  const cpus = [];
  for (let r = 0; r < runs; r++) {
    const argv = [monit, "-c", rc];
    const started = process.hrtime.bigint();
    const status = await new Promise((done, fail) => {
      const child = existsSync(timeBin)
        ? spawn(timeBin, ["-f", "%U %S", "-o", usage, ...argv], { stdio: "ignore" })
        : spawn(argv[0], argv.slice(1), { stdio: "ignore" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 600_000);
      child.on("error", fail);
      child.on("close", (code) => {
        clearTimeout(timer);
        done(code);
      });
    });
    if (status !== 0) throw new Error(`monit at N=${n} exited ${status}`);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (existsSync(usage)) {
      const [user, sys] = readFileSync(usage, "utf8").trim().split(/\s+/).slice(-2).map(Number);
      cpus.push(((user ?? Number.NaN) + (sys ?? Number.NaN)) * 1000);
    } else cpus.push(Number.NaN);
  }
  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return { ms: median(times), cpuMs: median(cpus) };
}

/** `reset` runs before each run (e.g. to make every run of a "first tick" a first tick). */
async function time(label, n, argv, okCodes, reset = () => {}) {
  const times = [];
  const cpus = [];
  for (let r = 0; r < runs; r++) {
    const node =
      prof === undefined
        ? []
        : ["--cpu-prof", "--cpu-prof-dir", prof, "--cpu-prof-name", `${label}-${n}-${r}.cpuprofile`];
    reset();
    const result = await spawnTimed([...node, cli, ...argv]);
    times.push(result.ms);
    cpus.push(result.cpuMs);
    if (!okCodes.includes(result.status)) {
      let down = "";
      try {
        down = JSON.parse(result.stdout)
          .services.filter((s) => s.status !== "up")
          .slice(0, 5)
          .map((s) => `${s.id}: ${s.detail}`)
          .join("; ");
      } catch {
        // not a JSON report
      }
      throw new Error(`${label} at N=${n} exited ${result.status}: ${down}${result.stderr.slice(0, 2000)}`);
    }
  }
  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return { ms: median(times), cpuMs: median(cpus) };
}

try {
  const ports = [];
  for (let i = 0; i < SOCKETS; i++) {
    const server = createServer((socket) => socket.destroy());
    servers.push(server);
    ports.push(await listen(server));
  }
  const downPort = await closedPort();
  if (prof !== undefined) mkdirSync(prof, { recursive: true });
  console.log(
    `scale: whole process per command, median of ${runs}; linear when the per-service columns stay flat`,
  );
  console.log(
    `  ${"command".padEnd(30)} ${"N".padStart(6)} ${"wall ms".padStart(9)} ${"cpu ms".padStart(9)} ` +
      `${"cpu ms/svc".padStart(11)}`,
  );
  const line = (name, n, { ms, cpuMs }) =>
    console.log(
      `  ${name.padEnd(30)} ${String(n).padStart(6)} ${ms.toFixed(0).padStart(9)} ` +
        `${cpuMs.toFixed(0).padStart(9)} ${(cpuMs / n).toFixed(3).padStart(11)}`,
    );
  for (const n of sizes) {
    const healthy = join(work, `healthy-${n}`);
    const some = join(work, `down-${n}`);
    rules(healthy, n, ports, undefined);
    rules(some, n, ports, downPort);
    if (only.has("run")) {
      const cold = () => {
        rmSync(join(healthy, "state"), { recursive: true, force: true });
        rmSync(join(work, "cache"), { recursive: true, force: true });
      };
      line(
        "run, healthy (first, cold)",
        n,
        await time("run-first", n, ["run", "--format", "json", "--rules", healthy], [0], cold),
      );
      line(
        "run, healthy (next tick)",
        n,
        await time("run", n, ["run", "--format", "json", "--rules", healthy], [0]),
      );
    }
    if (only.has("monit")) {
      const measured = await timeMonit(n, ports);
      if (measured !== null) line("monit, one-shot check", n, measured);
    }
    if (only.has("dry-run"))
      line(
        "dry-run, 10% down (cold rules)",
        n,
        await time("dry-run", n, ["run", "--dry-run", "--rules", some], [0, 1], () =>
          rmSync(join(work, "cache"), { recursive: true, force: true }),
        ),
      );
    if (only.has("plan"))
      line("plan, 10% down (cached rules)", n, await time("plan", n, ["plan", "--rules", some], [0, 1]));
    if (only.has("test"))
      line(
        `test (${TICKS} ticks)`,
        n,
        await time("test", n, ["test", "--rules", some, join(some, "tests")], [0]),
      );
  }
} finally {
  for (const s of servers) s.close();
  rmSync(work, { recursive: true, force: true });
}
