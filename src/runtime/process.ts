/**
 * The one way upkeep runs child processes. Never throws for process failures: a missing command, a
 * non-zero exit, a timeout or an abort are all result values.
 *
 * Why not plain execa: execa 9 signals only the direct child on timeout/cancel and waits until every
 * holder of stdout/stderr closes them (LIBRARY-NOTES). So the child leads its own process group
 * (`detached`), and on timeout/abort the whole group gets SIGTERM, then SIGKILL after a grace period;
 * and once the direct child has exited we wait only a short drain period for grandchildren that keep
 * our pipes open before we stop listening.
 *
 * The child also leads its own session (Node's `detached` calls setsid), so on Linux a "tree" is the
 * process group plus every process still in that session: a job-control shell (`bash -c 'set -m; …'`)
 * moves background jobs to groups of their own, but only setsid leaves the session. Orphans are
 * reparented once the child exits, so the parent links cannot be followed; the session id stays.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { stopwatch } from "./stopwatch.js";

export interface RunProcessOptions {
  readonly cwd?: string;
  /** The complete child environment; when absent the child inherits process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Written to stdin; stdin is closed (ignored) when absent. */
  readonly input?: string;
  /** Bytes kept per stream (default 64 KiB); the rest is read and dropped. */
  readonly outputLimit?: number;
  /** Wait between SIGTERM and SIGKILL of the process group (default 1000 ms). */
  readonly killGraceMs?: number;
  /** How long to wait for stdio to close after the direct child exited (default 200 ms). */
  readonly drainMs?: number;
  /**
   * SIGKILL whatever the command left running once it exits, so that it leaves nothing behind (probes,
   * channels). Off for heal steps: a heal may start a daemon on purpose (README "Heals that start
   * daemons"); there only a timeout or an abort kills the tree.
   */
  readonly killLeftovers?: boolean;
}

export interface ProcessResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  readonly durationMs: number;
  /** True when stdout or stderr was cut at outputLimit. */
  readonly truncated: boolean;
  /** Set when the process could not be started (ENOENT, EACCES...) or failed outside its exit code. */
  readonly error?: string;
}

const DEFAULT_OUTPUT_LIMIT = 64 * 1024;
/** Process groups started and not yet known to be finished; killed if upkeep itself exits. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const pid of liveGroups) signalGroup(pid, "SIGKILL");
  });
}

/** Sends a signal to a whole process group; false when the group no longer exists. */
export function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

class Capture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;
  dropped = 0;
  constructor(private readonly limit: number) {}

  add(chunk: Buffer | string): void {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    const room = this.limit - this.kept;
    if (room >= buf.length) {
      this.chunks.push(buf);
      this.kept += buf.length;
      return;
    }
    if (room > 0) this.chunks.push(buf.subarray(0, room));
    this.kept = this.limit;
    this.truncated = true;
    this.dropped += buf.length - Math.max(room, 0);
  }

  text(): string {
    const text = Buffer.concat(this.chunks).toString("utf8");
    return this.truncated ? `${text}\n…[truncated ${this.dropped} bytes]` : text;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function streamClosed(stream: Readable | null | undefined): Promise<void> {
  if (!stream || stream.destroyed || stream.readableEnded) return Promise.resolve();
  return new Promise((resolve) => stream.once("close", () => resolve()));
}

/**
 * The running (non-zombie) processes in the group or session that `leader` started, or undefined where
 * /proc cannot tell (not Linux). Zombies are left out: where PID 1 never reaps orphans (some containers)
 * dead grandchildren stay zombies, and kill(-pgid, 0) succeeds for them.
 */
function treeMembers(leader: number): number[] | undefined {
  if (process.platform !== "linux") return undefined;
  const id = String(leader);
  const members: number[] = [];
  try {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      } catch {
        continue; // exited meanwhile
      }
      // After "(comm)": state, ppid, pgrp, session, ...
      const [state, , pgrp, session] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if ((pgrp === id || session === id) && state !== "Z") members.push(Number(entry));
    }
    return members;
  } catch {
    return undefined;
  }
}

/** Signals the group and every other member of the tree; false when nothing was left to signal. */
function signalTree(leader: number, signal: NodeJS.Signals): boolean {
  let hit = signalGroup(leader, signal);
  for (const pid of treeMembers(leader) ?? []) {
    try {
      process.kill(pid, signal);
      hit = true;
    } catch {
      // exited meanwhile
    }
  }
  return hit;
}

function treeAlive(leader: number): boolean {
  const members = treeMembers(leader);
  return members === undefined ? signalGroup(leader, 0) : members.length > 0;
}

/** SIGTERM the tree, wait up to the grace period for it to disappear, then SIGKILL what is left. */
async function killGroup(pid: number, graceMs: number): Promise<void> {
  if (!signalTree(pid, "SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(Math.min(25, graceMs));
    if (!treeAlive(pid)) return;
  }
  killLeftoversOf(pid);
}

/**
 * SIGKILLs the tree until nothing of it runs. Bounded in rounds: a member may fork between our reading
 * /proc and the kill, and each round catches what the last one missed.
 */
function killLeftoversOf(pid: number): void {
  for (let round = 0; round < 5; round += 1) {
    if (!signalTree(pid, "SIGKILL") || !treeAlive(pid)) return;
  }
}

function describeSpawnError(file: string, code: string | undefined, message: string): string {
  if (code === "ENOENT") return `command not found: ${file} (ENOENT)`;
  if (code === "EACCES") return `permission denied: ${file} (EACCES)`;
  return message.split("\n")[0] ?? message;
}

export async function runProcess(
  argv: readonly string[],
  options: RunProcessOptions,
): Promise<ProcessResult> {
  const elapsed = stopwatch();
  const [file, ...args] = argv;
  const base = { exitCode: null, signal: null, stdout: "", stderr: "", truncated: false };
  if (file === undefined || file === "") {
    return { ...base, timedOut: false, aborted: false, durationMs: 0, error: "empty command" };
  }
  const limit = options.outputLimit ?? DEFAULT_OUTPUT_LIMIT;
  const { execa } = await import("execa");
  // Checked after the import: an abort during it would otherwise never be heard.
  if (options.signal?.aborted) {
    return { ...base, timedOut: false, aborted: true, durationMs: 0, error: "aborted before start" };
  }
  const subprocess = execa(file, args, {
    cwd: options.cwd,
    env: options.env ? definedEnv(options.env) : process.env,
    extendEnv: false,
    detached: true,
    cleanup: false,
    reject: false,
    buffer: false,
    stripFinalNewline: false,
    windowsHide: true,
    ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }),
  });
  const out = new Capture(limit);
  const err = new Capture(limit);
  subprocess.stdout?.on("data", (chunk: Buffer | string) => out.add(chunk));
  subprocess.stderr?.on("data", (chunk: Buffer | string) => err.add(chunk));

  const pid = subprocess.pid;
  if (pid !== undefined) {
    liveGroups.add(pid);
    installExitHook();
  }
  let timedOut = false;
  let aborted = false;
  let killing: Promise<void> | undefined;
  const stop = (): void => {
    if (pid !== undefined && !killing) killing = killGroup(pid, options.killGraceMs ?? 1000);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, options.timeoutMs);
  const onAbort = (): void => {
    aborted = true;
    stop();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });

  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    subprocess.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let settled = false;
  const done = subprocess.then((r) => {
    settled = true;
    return r;
  });
  const first = await Promise.race([done.then(() => undefined), exited]);
  if (first) {
    // The direct child is gone: a deadline firing now would only hit what it left behind.
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    // Killing what it left also closes the pipes those processes held, so the drain below ends at once.
    if (options.killLeftovers && pid !== undefined) killLeftoversOf(pid);
  }
  if (first && !settled) {
    // Give the pipes a short drain, then stop waiting on grandchildren that keep them open.
    await Promise.race([
      Promise.all([streamClosed(subprocess.stdout), streamClosed(subprocess.stderr)]),
      sleep(options.drainMs ?? 200),
    ]);
    subprocess.stdout?.destroy();
    subprocess.stderr?.destroy();
  }
  // Bounded: once the streams are destroyed execa settles at once; never hang on it regardless.
  const result = first ? await Promise.race([done, sleep(1000).then(() => undefined)]) : await done;
  clearTimeout(timer);
  options.signal?.removeEventListener("abort", onAbort);
  if (killing) await killing;
  if (pid !== undefined) liveGroups.delete(pid);

  const exit = first ?? { code: result?.exitCode ?? null, signal: result?.signal ?? null };
  // A spawn failure (ENOENT, EACCES...) has no exit event, no exit code and no signal.
  const spawnFailed =
    first === undefined &&
    result !== undefined &&
    result.failed &&
    result.exitCode === undefined &&
    !result.signal;
  return {
    exitCode: exit.code,
    signal: exit.signal,
    stdout: out.text(),
    stderr: err.text(),
    truncated: out.truncated || err.truncated,
    timedOut,
    aborted,
    durationMs: elapsed(),
    ...(spawnFailed && result
      ? { error: describeSpawnError(file, result.code, result.message ?? "failed to start") }
      : {}),
  };
}

function definedEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

/** Formats argv for display: words with shell-special characters are single-quoted (display only). */
export function formatCommandLine(argv: readonly string[]): string {
  return argv
    .map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`))
    .join(" ");
}
