/**
 * A real systemd user manager for a throwaway user, from shared/tools/systemd-user-manager (see its
 * header), and running commands as that user. Where the tool cannot work it prints one line starting
 * with "unavailable:"; `startUserManager` returns that line so the suite skips with it.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** $UPKEEP_SYSTEMD_USER_MANAGER, else shared/tools beside the clone (where CI and developers have it). */
export function toolPath(): string {
  return (
    process.env["UPKEEP_SYSTEMD_USER_MANAGER"] ??
    join(dirname(REPO.replace(/\/$/, "")), "shared", "tools", "systemd-user-manager")
  );
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command with a deadline; never rejects (a failure is a result). */
export function run(
  argv: readonly string[],
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  const [file, ...args] = argv;
  return new Promise((resolve) => {
    execFile(
      file as string,
      args,
      { timeout: options.timeoutMs ?? 60_000, cwd: options.cwd ?? "/", maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr: error !== null && stderr === "" ? String(error.message) : stderr });
      },
    );
  });
}

export interface UserManager {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  /** The environment lines the tool printed (HOME, XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS...). */
  readonly env: readonly string[];
  /** Runs argv as the user, with only the user's environment (as a login session would have it). */
  as(argv: readonly string[], timeoutMs?: number): Promise<RunResult>;
  /** `systemctl --user ...` as the user. */
  systemctl(...args: string[]): Promise<RunResult>;
  /** `systemctl --user show UNIT -p ...` as a record. */
  show(unit: string, ...props: string[]): Promise<Record<string, string>>;
}

export type Started =
  { readonly ok: true; readonly manager: UserManager } | { readonly ok: false; readonly reason: string };

export async function startUserManager(name: string): Promise<Started> {
  const tool = toolPath();
  if (!existsSync(tool))
    return { ok: false, reason: `unavailable: ${tool} not found (set UPKEEP_SYSTEMD_USER_MANAGER)` };
  const started = await run(["bash", tool, "start", name], { timeoutMs: 60_000 });
  if (started.code !== 0) {
    const line = started.stdout.split("\n").find((l) => l.startsWith("unavailable:"));
    return {
      ok: false,
      reason: line ?? `unavailable: ${tool} start exited ${started.code}: ${started.stderr.trim()}`,
    };
  }
  const env = started.stdout.split("\n").filter((l) => /^[A-Z_]+=/.test(l));
  const ids = await run(["id", "-u", name]).then(async (u) => [
    u.stdout.trim(),
    (await run(["id", "-g", name])).stdout.trim(),
  ]);
  const [uid, gid] = ids.map(Number) as [number, number];
  const home = (env.find((l) => l.startsWith("HOME=")) ?? "").slice(5);
  const as = (argv: readonly string[], timeoutMs = 60_000): Promise<RunResult> =>
    run(["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--init-groups", "env", "-i", ...env, ...argv], {
      timeoutMs,
      cwd: home,
    });
  const systemctl = (...args: string[]): Promise<RunResult> => as(["systemctl", "--user", ...args]);
  const show = async (unit: string, ...props: string[]): Promise<Record<string, string>> => {
    const r = await systemctl("show", unit, `--property=${props.join(",")}`);
    return Object.fromEntries(
      r.stdout
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
  };
  return { ok: true, manager: { name, uid, gid, home, env, as, systemctl, show } };
}

export async function stopUserManager(name: string): Promise<void> {
  const tool = toolPath();
  if (existsSync(tool)) await run(["bash", tool, "stop", name], { timeoutMs: 60_000 });
}

/**
 * A copy of the built package the user can read, as a user's own install would be: the clone may sit
 * in a folder only root can enter (/root). Returns the CLI path and a node the user can run.
 */
export async function stagePackage(
  m: UserManager,
): Promise<{ cli: string; node: string } | { reason: string }> {
  if (!existsSync(join(REPO, "dist", "bundle", "main.js")))
    return { reason: "unavailable: dist/ is not built (run npm run build first)" };
  const root = join(m.home, "upkeep");
  mkdirSync(root, { recursive: true, mode: 0o755 });
  for (const part of [
    "bin",
    "dist",
    "launchd",
    "schemas",
    "generated",
    "web",
    "node_modules",
    "package.json",
  ])
    cpSync(join(REPO, part), join(root, part), { recursive: true, verbatimSymlinks: true });
  cpSync(join(REPO, "test", "fixtures", "schedule-daemon.mjs"), join(root, "schedule-daemon.mjs"));
  let node = process.execPath;
  if ((await m.as([node, "--version"])).code !== 0) {
    node = join(root, "node", "bin", "node");
    mkdirSync(dirname(node), { recursive: true });
    cpSync(process.execPath, node);
  }
  return { cli: join(root, "bin", "upkeep.js"), node };
}

/** Polls until `check` gives a value, at most `timeoutMs` (every loop in a test is bounded). */
export async function until<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
