/**
 * Resident memory of `upkeep watch` on 3 healthy tcp services, against a Monit daemon checking the same
 * services and against the Node floor for a resident process (`node -e "setInterval(...)"`). The three
 * run side by side for the same window, ticking every second, and their VmRSS is read from
 * /proc/PID/status at the end (VmHWM is the peak).
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { daemon, writeMonitRc } from "./monit.mjs";
import { closers, poolPorts, tcpService, writeRules } from "./fixtures.mjs";
import { killGroup } from "./measure.mjs";
import { missingRow } from "./table.mjs";

/**
 * { rss, hwm, anon, file, threads } (MB, and a count) from /proc/PID/status, or undefined once the
 * process is gone. RssFile is mostly the executable's own pages (shared with every process running it).
 */
export function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
    return {
      rss: field("VmRSS") / 1024,
      hwm: field("VmHWM") / 1024,
      anon: field("RssAnon") / 1024,
      file: field("RssFile") / 1024,
      threads: field("Threads"),
    };
  } catch {
    return undefined;
  }
}

/** Starts a resident child in its own process group; stopped (TERM, then KILL after 5 s) on stop(). */
export function resident(argv, env, out) {
  const fd = openSync(out, "w");
  const child = spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", fd, fd], detached: true });
  closeSync(fd);
  const exited = new Promise((done) => child.once("exit", done));
  child.once("error", () => {});
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // gone
    }
    await Promise.race([exited, sleep(5000)]);
    killGroup(child.pid);
  };
  closers.push(() => killGroup(child.pid));
  return { child, stop };
}

const mb = (m) => `${m.rss.toFixed(1)} MB (peak ${m.hwm.toFixed(1)})`;

export async function watch(ctx) {
  const figure = "`upkeep watch` RSS, 3 tcp services, 1 s ticks";
  if (!existsSync("/proc/self/status")) return [missingRow(figure, "no /proc/PID/status to read RSS from")];
  const ports = await poolPorts(3);
  const rules = writeRules(
    join(ctx.work, "watch"),
    ports.map((p, i) => tcpService(`svc-${i}`, p)),
  );
  const seconds = ctx.quick ? 5 : 12;
  const procs = {
    watch: resident(
      [ctx.node.path, ctx.cli, "watch", "--interval", "1s", "--rules", rules],
      ctx.env,
      join(ctx.work, "watch.out"),
    ),
    floor: resident(
      [ctx.node.path, "-e", "setInterval(() => {}, 1000)"],
      ctx.env,
      join(ctx.work, "floor.out"),
    ),
  };
  if (ctx.monit.path !== undefined) {
    const checks = ports.map((port, i) => ({ name: `svc-${i}`, port }));
    const rc = writeMonitRc(join(ctx.work, "watch-monit"), checks, { daemon: 1 });
    procs.monit = resident(daemon(ctx.monit, rc), ctx.env, join(ctx.work, "monit-daemon.out"));
  }
  const last = {};
  try {
    for (let i = 0; i < seconds * 2; i += 1) {
      await sleep(500);
      for (const [key, p] of Object.entries(procs)) {
        const m = memory(p.child.pid);
        if (m === undefined)
          throw new Error(
            `${key} exited early: ${readFileSync(join(ctx.work, `${key === "monit" ? "monit-daemon" : key}.out`), "utf8").slice(-500)}`,
          );
        last[key] = m;
      }
    }
  } finally {
    await Promise.all(Object.values(procs).map((p) => p.stop()));
  }
  const ticks = (readFileSync(join(ctx.work, "watch.out"), "utf8").match(/^Tick \d+/gm) ?? []).length;
  const named = `${figure}, after ${ticks} ticks`;
  const rows = [];
  const add = (label, key, refName, ref, goal) =>
    rows.push({
      figure: label,
      value: key === "rss" ? mb(last.watch) : `${last.watch[key].toFixed(1)} MB`,
      reference: `${refName} ${key === "rss" ? mb(ref) : `${ref[key].toFixed(1)} MB`}`,
      ratio: `${(last.watch[key] / ref[key]).toFixed(1)}x`,
      goal: goal === undefined ? "-" : `<= ${goal}x`,
      met: goal === undefined ? undefined : last.watch[key] / ref[key] <= goal,
    });
  if (last.monit === undefined) rows.push(missingRow(named, ctx.monit.why));
  else add(named, "rss", "Monit daemon", last.monit, 3);
  add("  the same, against the Node floor", "rss", "node setInterval", last.floor);
  // RSS counts the executable's own pages (most of a Node process's, shared with every other Node
  // running); anonymous memory is what the process itself allocated.
  if (last.monit !== undefined)
    add("  anonymous memory only (RssAnon), against Monit's", "anon", "Monit daemon", last.monit);
  add("  anonymous memory only, against the Node floor's", "anon", "node setInterval", last.floor);
  return rows;
}
