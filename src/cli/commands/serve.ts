/**
 * `upkeep serve`: the local status page and JSON API (src/serve/). Loopback only unless told otherwise;
 * actions only when asked for, with a token from a mode-600 file.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { isIP } from "node:net";
import { dirname, join } from "node:path";
import { ExitCode } from "../../errors.js";
import { cliRunner } from "../../serve/actions.js";
import { serveHandler } from "../../serve/server.js";
import { commandFlags } from "../args.js";
import { expandPath, loadConfigOrReport } from "../load-config.js";

const HELP = `Usage: upkeep serve [options]

Serves a status page and a JSON API that read the same state files and history as \`upkeep status\`
and \`upkeep report\`; the page refreshes by itself when a tick changes them. Stops on SIGINT/SIGTERM.

  GET /              the page
  GET /api/status    what \`upkeep status --format json\` prints
  GET /api/report    what \`upkeep report --format json\` prints (?since=7d&service=ID)
  GET /api/events    server-sent events: "change" when a tick or command changed the state
  POST /api/actions/(heal|breaker-reset|breaker-isolate|silence-add|silence-remove)
                     with --actions only; JSON body, Authorization: Bearer <token>

Options:
  --listen HOST:PORT  where to listen (default 127.0.0.1:8787; port 0 picks a free one)
  --actions           allow actions (heal, breaker reset/isolate, silence add/remove) with the token
  --token-file PATH   the token (mode 600); created with a random token when missing
                      (default <stateDir>/serve.token)
  --allow-remote      allow a non-loopback --listen address; every request then needs the token
  --rules DIR         rules directory (default ./rules, env UPKEEP_RULES)
  --state-dir DIR     state directory (env UPKEEP_STATE_DIR)
  -h, --help          this help

Exit codes: 0 stopped by a signal, 2 usage, bad rules, a bad token file or an address in use.
`;

const OPTIONS = {
  listen: { type: "string" },
  actions: { type: "boolean" },
  "token-file": { type: "string" },
  "allow-remote": { type: "boolean" },
  rules: { type: "string" },
  "state-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function usage(message: string): number {
  process.stderr.write(`upkeep serve: ${message}\n`);
  return ExitCode.usage;
}

export function parseListen(text: string): { host: string; port: number } | string {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port > 65_535)
    return `--listen must be HOST:PORT (e.g. 127.0.0.1:8787 or [::1]:8787), not "${text}"`;
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return isIP(host) === 6 && (host === "::1" || host === "0:0:0:0:0:0:0:1");
}

/** Reads the token, creating the file (mode 600) with a random one when it does not exist. */
async function loadToken(path: string): Promise<{ token: string; created: boolean } | string> {
  try {
    const info = await stat(path);
    if ((info.mode & 0o077) !== 0)
      return `token file ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}): run chmod 600 ${path}`;
    const token = (await readFile(path, "utf8")).trim();
    if (token.length < 16)
      return `token file ${path} holds fewer than 16 characters: put a long random token in it`;
    return { token, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      return `cannot read token file ${path}: ${(error as Error).message}`;
  }
  const token = randomBytes(32).toString("base64url");
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${token}\n`, { mode: 0o600, flag: "wx" });
  await chmod(path, 0o600);
  return { token, created: true };
}

export async function run(argv: string[]): Promise<number> {
  const values = commandFlags("serve", argv, OPTIONS, () => HELP);
  if (typeof values === "number") return values;
  const listen = parseListen(values.listen ?? "127.0.0.1:8787");
  if (typeof listen === "string") return usage(listen);
  const loopback = isLoopback(listen.host);
  if (!loopback && values["allow-remote"] !== true)
    return usage(
      `${listen.host} is not a loopback address: the page shows your services to anyone who can reach it. ` +
        "Add --allow-remote (every request then needs the token), or listen on 127.0.0.1",
    );
  const { config } = await loadConfigOrReport(values, process.env);
  if (config === undefined) return ExitCode.usage;
  const actions = values.actions === true;
  let token: string | undefined;
  if (actions || !loopback) {
    const path = expandPath(values["token-file"] ?? join(config.runtime.stateDir, "serve.token"));
    const loaded = await loadToken(path);
    if (typeof loaded === "string") return usage(loaded);
    token = loaded.token;
    process.stderr.write(`upkeep serve: token in ${path}${loaded.created ? " (created, mode 600)" : ""}\n`);
  }

  const server = createServer();
  let port = listen.port;
  const handler = serveHandler({
    config,
    host: listen.host,
    port: () => port,
    loopback,
    actions,
    ...(token === undefined ? {} : { token }),
    runAction: cliRunner(config.runtime.tickTimeoutMs + 30_000),
  });
  server.on("request", handler.handle);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listen.port, listen.host, () => resolve());
    });
  } catch (error) {
    return usage(`cannot listen on ${values.listen ?? "127.0.0.1:8787"}: ${(error as Error).message}`);
  }
  const address = server.address();
  if (address !== null && typeof address === "object") port = address.port;
  const shown = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  process.stdout.write(`http://${shown}:${port}/\n`);
  process.stderr.write(
    `upkeep serve: listening on http://${shown}:${port}/ (actions ${actions ? "on" : "off"}); Ctrl-C stops it\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      handler.close();
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return ExitCode.ok;
}
