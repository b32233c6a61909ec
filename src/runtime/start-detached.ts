/**
 * Starts a long-running process that outlives the tick (the exec step's `detach: true`).
 *
 * runProcess captures output through pipes that close when upkeep exits; a daemon that inherits them
 * dies of SIGPIPE/EPIPE on its next write after the tick, even under setsid or nohup (nohup only
 * redirects a terminal). So a detached process gets no pipe of ours: stdin is /dev/null, stdout and
 * stderr go to its log file (appended) or /dev/null, and it leads its own session so no process-group
 * kill of ours or of the scheduler reaches it.
 */
import { spawn } from "node:child_process";
import { mkdir, open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

export interface DetachedOptions {
  readonly cwd?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Absolute path of a file that gets the process's stdout and stderr; /dev/null when absent. */
  readonly log?: string;
}

export type DetachedResult =
  { readonly ok: true; readonly pid: number } | { readonly ok: false; readonly error: string };

const LOG_MODE = 0o600;

async function openLog(log: string): Promise<FileHandle> {
  await mkdir(dirname(log), { recursive: true });
  return open(log, "a", LOG_MODE);
}

export async function startDetached(
  argv: readonly string[],
  options: DetachedOptions,
): Promise<DetachedResult> {
  const [file, ...args] = argv;
  if (file === undefined || file === "") return { ok: false, error: "empty command" };
  let handle: FileHandle | undefined;
  try {
    handle = options.log === undefined ? undefined : await openLog(options.log);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { ok: false, error: `cannot open log ${options.log ?? ""} (${code})` };
  }
  try {
    const out = handle?.fd ?? "ignore";
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(options.env)) if (value !== undefined) env[key] = value;
    const child = spawn(file, args, {
      cwd: options.cwd,
      env,
      detached: true,
      stdio: ["ignore", out, out],
    });
    const started = await new Promise<DetachedResult>((resolve) => {
      child.once("spawn", () => resolve({ ok: true, pid: child.pid as number }));
      child.once("error", (error: NodeJS.ErrnoException) => {
        const why =
          error.code === "ENOENT"
            ? `command not found: ${file} (ENOENT)`
            : error.code === "EACCES"
              ? `permission denied: ${file} (EACCES)`
              : error.message;
        resolve({ ok: false, error: why });
      });
    });
    child.unref();
    return started;
  } finally {
    await handle?.close();
  }
}
