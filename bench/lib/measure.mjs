/**
 * Runs one command at a time and measures it: wall time, and CPU time (user + system) from wait4()
 * through bench/lib/measure.py. Without python3 it falls back to Node's spawn: wall time only, and the
 * table says CPU time was not measured.
 */
import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync } from "node:fs";
import { createInterface } from "node:readline";
import { clearTimeout, setTimeout } from "node:timers";
import { fileURLToPath } from "node:url";

const HELPER = fileURLToPath(new URL("./measure.py", import.meta.url));

/** Median of the finite values (NaN when there are none). */
export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The measuring helper: python3's wait4() when there is one, else Node (wall time only). */
export async function startMeasurer() {
  for (const python of ["/usr/bin/python3", "python3"]) {
    if (python.startsWith("/") && !existsSync(python)) continue;
    const measurer = await pythonMeasurer(python);
    if (measurer !== undefined) return measurer;
  }
  return nodeMeasurer();
}

async function pythonMeasurer(python) {
  // Its own process group: a Ctrl-C reaches the bench, which stops the helper (and its child) itself.
  const child = spawn(python, [HELPER], { stdio: ["pipe", "pipe", "inherit"], detached: true });
  const spawned = await new Promise((done) => {
    child.once("spawn", () => done(true));
    child.once("error", () => done(false));
  });
  if (!spawned) return undefined;
  const waiting = [];
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => waiting.shift()?.(JSON.parse(line)));
  child.on("exit", () => {
    for (const done of waiting.splice(0)) done({ error: "the measuring helper exited" });
  });
  let queue = Promise.resolve();
  const measurer = {
    cpu: true,
    how: `wall and CPU time (user + system, from wait4 via ${python})`,
    run(argv, options = {}) {
      const request = {
        argv,
        env: options.env ?? {},
        stdout: options.stdout,
        stderr: options.stderr,
        timeout_ms: options.timeoutMs ?? 120_000,
      };
      const answer = queue.then(
        () =>
          new Promise((done) => {
            waiting.push(done);
            child.stdin.write(`${JSON.stringify(request)}\n`);
          }),
      );
      queue = answer.catch(() => {});
      return answer.then(toResult);
    },
    close() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      // The helper stops at end of input once its child is done; one still measuring a child gets
      // SIGTERM after a second (it kills that child's group), and SIGKILL a second later.
      child.stdin.end();
      const exited = new Promise((done) => child.once("exit", done));
      const term = setTimeout(() => child.kill("SIGTERM"), 1000);
      const kill = setTimeout(() => child.kill("SIGKILL"), 2000);
      return exited.finally(() => {
        clearTimeout(term);
        clearTimeout(kill);
      });
    },
  };
  // A helper that cannot run (an old python without posix_spawn) falls back to Node.
  const check = await measurer.run(["true"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  if (check.status !== 0 || !Number.isFinite(check.cpuMs)) {
    await measurer.close();
    return undefined;
  }
  return measurer;
}

function toResult(answer) {
  return {
    wallMs: answer.wall_ms ?? NaN,
    cpuMs: answer.cpu_ms ?? NaN,
    status: answer.status ?? null,
    signal: answer.signal ?? null,
    timedOut: answer.timed_out === true,
    error: answer.error,
  };
}

function nodeMeasurer() {
  return {
    cpu: false,
    how: "wall time only (no python3 for wait4: CPU time not measured)",
    run(argv, options = {}) {
      return new Promise((done) => {
        const out = openSync(options.stdout ?? "/dev/null", "w");
        const err = openSync(options.stderr ?? "/dev/null", "w");
        const started = process.hrtime.bigint();
        const child = spawn(argv[0], argv.slice(1), {
          env: options.env ?? {},
          stdio: ["ignore", out, err],
          detached: true,
        });
        closeSync(out);
        closeSync(err);
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          killGroup(child.pid);
        }, options.timeoutMs ?? 120_000);
        child.once("error", (error) => {
          clearTimeout(timer);
          done({ wallMs: NaN, cpuMs: NaN, status: null, signal: null, timedOut, error: error.message });
        });
        child.once("exit", (status, signal) => {
          const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
          clearTimeout(timer);
          killGroup(child.pid);
          done({ wallMs, cpuMs: NaN, status, signal, timedOut });
        });
      });
    },
    close() {
      return Promise.resolve();
    },
  };
}

export function killGroup(pid) {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
