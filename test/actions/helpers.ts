/** Shared test helpers for handler and process tests: process liveness, polling, contexts, servers. */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HandlerContext, HandlerSettings, Logger, ProbeResult } from "../../src/actions/types.js";
import { systemClock } from "../../src/runtime/clock.js";

export const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));
/** The stand-in launchctl and stub service ship in demo/ (upkeep demo uses them too). */
export const DEMO = fileURLToPath(new URL("../../demo/", import.meta.url));
export const LAUNCHCTL_STANDIN = `${DEMO}launchctl.mjs`;
export const STUB_SERVICE = `${DEMO}stub-service.mjs`;
export const fixture = (name: string): string => join(FIXTURES, name);

/** Gone = no such process, or a zombie nobody reaps (PID 1 in some containers never reaps orphans). */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Polls `check` every 25 ms until it returns a truthy value or `timeoutMs` passes (bounded). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 5000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function killTree(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export interface LogLine {
  readonly level: string;
  readonly obj: object;
  readonly msg?: string;
}

export function memoryLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export const settings: HandlerSettings = { launchctlPath: "launchctl", systemctlPath: "systemctl", uid: 501 };

export function makeContext(overrides: Partial<HandlerContext> = {}): HandlerContext {
  return { clock: systemClock, logger: memoryLogger(), settings, env: process.env, ...overrides };
}

export function never(): AbortSignal {
  return new AbortController().signal;
}

/** A TCP server that accepts connections and never writes a byte. */
export async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bind an ephemeral port, then release it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Kills every job the launchctl stand-in started in `dir` and waits until each is gone. */
export async function killStandinJobs(dir: string): Promise<void> {
  const jobs = join(dir, "jobs");
  if (!existsSync(jobs)) return;
  for (const file of readdirSync(jobs)) {
    const job = JSON.parse(readFileSync(join(jobs, file), "utf8")) as { pid?: number };
    if (typeof job.pid === "number") {
      const pid = job.pid;
      killTree(pid);
      await waitFor(() => isGone(pid), 5000, `stand-in job ${pid} to exit`);
    }
  }
}

/** The argv arrays the stand-in received, in order. */
export function standinCalls(dir: string): string[][] {
  const log = join(dir, "calls.log");
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => (JSON.parse(line) as { argv: string[] }).argv);
}

export function probeOf(results: ProbeResult[]): (signal: AbortSignal) => Promise<ProbeResult> {
  let i = 0;
  return async () => results[Math.min(i++, results.length - 1)] as ProbeResult;
}

export interface Standin {
  readonly dir: string;
  /** A context whose launchctl is the stand-in. */
  readonly ctx: HandlerContext;
  /** Writes a JSON "plist" that runs stub-service on `port`; returns its path. */
  plist(label: string, port: number): string;
  calls(): string[][];
  cleanup(): Promise<void>;
}

export function makeStandin(extraEnv: Record<string, string> = {}): Standin {
  const dir = mkdtempSync(join(tmpdir(), "upkeep-launchctl-"));
  const env = { ...process.env, LAUNCHCTL_STANDIN_DIR: dir, ...extraEnv };
  const ctx = makeContext({
    env,
    settings: { ...settings, launchctlPath: LAUNCHCTL_STANDIN },
  });
  return {
    dir,
    ctx,
    plist(label, port) {
      const path = join(dir, `${label}.plist`);
      const program = ["node", STUB_SERVICE, "--port", String(port), "--name", label];
      writeFileSync(path, JSON.stringify({ Label: label, ProgramArguments: program }));
      return path;
    },
    calls: () => standinCalls(dir),
    async cleanup() {
      await killStandinJobs(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when a TCP connection to the port opens. */
export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
