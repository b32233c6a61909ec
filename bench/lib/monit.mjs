/**
 * Monit, the reference the issue compares upkeep with: found on PATH, or installed from Debian when the
 * bench runs as root with apt-get (the package may also enable Monit's own system service, which the
 * bench never uses: every rc file here has its own pid, id, state and log files).
 *
 * Monit 5.33 has no one-shot mode through `-I` alone: without `set daemon` it refuses to start ("Poll
 * time is invalid"). `monit -c RC validate` is the one-shot: it checks every service once and exits
 * (exit 1 even when every check passed, so success is read from its verbose output, not its status).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function which(name) {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8", timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** { path, version, note } or { why } when there is no Monit to compare with. */
export function ensureMonit({ install }) {
  let path = which("monit");
  let note = "found on PATH";
  if (path === undefined) {
    if (!install) return { why: "monit is not on PATH (--no-install-monit)" };
    if (process.getuid?.() !== 0)
      return { why: "monit is not on PATH and the bench is not root (apt-get install monit)" };
    if (which("apt-get") === undefined)
      return { why: "monit is not on PATH and there is no apt-get to install it" };
    process.stderr.write("bench: installing monit (apt-get install -y monit)...\n");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const apt = (args) => spawnSync("apt-get", args, { encoding: "utf8", env, timeout: 600_000 });
    let r = apt(["install", "-y", "-qq", "monit"]);
    if (r.status !== 0) {
      apt(["update", "-qq"]);
      r = apt(["install", "-y", "-qq", "monit"]);
    }
    path = which("monit");
    if (path === undefined) {
      const why = (r.stderr || r.error?.message || `exit ${r.status}`)
        .trim()
        .split("\n")
        .slice(-2)
        .join(" / ");
      return { why: `apt-get install monit failed: ${why}` };
    }
    note = "installed with apt-get";
  }
  const version = /version ([\d.]+)/.exec(
    spawnSync(path, ["-V"], { encoding: "utf8", timeout: 10_000 }).stdout,
  );
  return { path, version: version?.[1] ?? "?", note };
}

/**
 * A monitrc in DIR (mode 0600, or Monit refuses it) checking each service once per cycle:
 * checks: [{ name, port, http?: "/path" }]. `daemon` (seconds) makes it a daemon's rc.
 */
export function writeMonitRc(dir, checks, { daemon } = {}) {
  mkdirSync(dir, { recursive: true });
  const lines = [
    ...(daemon === undefined ? [] : [`set daemon ${daemon}`]),
    `set logfile ${join(dir, "monit.log")}`,
    `set pidfile ${join(dir, "monit.pid")}`,
    `set idfile ${join(dir, "monit.id")}`,
    `set statefile ${join(dir, "monit.state")}`,
  ];
  for (const c of checks) {
    const protocol = c.http === undefined ? "" : ` protocol http request "${c.http}"`;
    lines.push(
      `check host ${c.name} with address 127.0.0.1`,
      `  if failed port ${c.port}${protocol} then alert`,
    );
  }
  const file = join(dir, "monitrc");
  writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

export const oneShot = (monit, rc) => [monit.path, "-c", rc, "validate"];
export const syntaxCheck = (monit, rc) => [monit.path, "-c", rc, "-t"];
export const daemon = (monit, rc) => [monit.path, "-c", rc, "-I"];

/** How many checks a verbose one-shot's output says passed. */
export const passedChecks = (verboseOutput) =>
  (verboseOutput.match(/' connection succeeded to /g) ?? []).length;

/** Runs the one-shot once, verbose, and throws unless all `count` checks passed (so it measures what upkeep does). */
export async function verifyMonit(ctx, rc, count) {
  const out = join(ctx.work, "monit-verify.out");
  const r = await ctx.measurer.run([ctx.monit.path, "-c", rc, "-v", "validate"], {
    env: ctx.env,
    stdout: out,
    stderr: out,
    timeoutMs: 300_000,
  });
  const passed = passedChecks(readFileSync(out, "utf8"));
  if (r.timedOut || passed !== count)
    throw new Error(`monit one-shot passed ${passed} of ${count} checks${r.timedOut ? " (timed out)" : ""}`);
}
