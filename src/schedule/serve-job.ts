/**
 * `install --serve`: the status page (`upkeep serve`) as a second job next to the tick, kept running by
 * launchd (KeepAlive) or systemd (Restart=on-failure). What both schedulers share: the page's arguments,
 * the checks of --listen, and whether its address answers.
 */
import { connect } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import type { RunnerSpec } from "./runner.js";

/** `upkeep serve`'s own default; --listen is only written into the job when it was given. */
export const DEFAULT_LISTEN = "127.0.0.1:8787";

export interface ServeJob {
  /** --listen HOST:PORT as given; undefined: serve's default. */
  readonly listen?: string;
  readonly actions: boolean;
}

export interface Address {
  readonly host: string;
  readonly port: number;
}

/** What the job runs after the CLI: `serve --rules DIR [--state-dir DIR] [--listen HOST:PORT] [--actions]`. */
export function serveArgs(spec: RunnerSpec, job: ServeJob): string[] {
  return [
    "serve",
    "--rules",
    spec.rulesDir,
    ...spec.extraArgs,
    ...(job.listen === undefined ? [] : ["--listen", job.listen]),
    ...(job.actions ? ["--actions"] : []),
  ];
}

/** `http://127.0.0.1:8787/`; HOST:PORT is already URL syntax (an IPv6 host comes in brackets). */
export function serveUrl(listen: string | undefined): string {
  return `http://${listen ?? DEFAULT_LISTEN}/`;
}

/** The --listen value in an installed job's arguments (undefined: serve's default). */
export function listenFromArgs(args: readonly string[]): string | undefined {
  const at = args.indexOf("--listen");
  return at >= 0 ? args[at + 1] : undefined;
}

/**
 * --listen for a job: what `upkeep serve` accepts, on loopback (a job does not pass --allow-remote, so
 * serve would refuse anything else at every start), and a fixed port (0 would move at every restart).
 */
export async function checkListen(listen: string): Promise<Address | string> {
  const { isLoopback, parseListen } = await import("../cli/commands/serve.js");
  const parsed = parseListen(listen);
  if (typeof parsed === "string") return parsed;
  if (!isLoopback(parsed.host))
    return `--serve listens on loopback only (127.0.0.1, ::1 or localhost), not ${parsed.host}: run \`upkeep serve --allow-remote\` yourself for that`;
  if (parsed.port === 0)
    return "--listen needs a fixed port with --serve (port 0 would pick another one at every restart)";
  return { host: parsed.host, port: parsed.port };
}

/** Whether something accepts a TCP connection at the address now. */
export function answers(address: Address, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address.host, port: address.port });
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs);
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
    socket.once("timeout", () => finish(false));
  });
}

/** Polls until the address answers, at most `timeoutMs`; resolves whether it did. */
export async function waitForAnswer(address: Address, timeoutMs: number, everyMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await answers(address)) return true;
    if (Date.now() >= deadline) return false;
    await delay(everyMs);
  }
}
