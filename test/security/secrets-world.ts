/**
 * The world of the planted-secrets suite: one rules folder in which every place that can take a secret
 * through `${env:NAME}` gets its own recognisable value, stand-in HTTP endpoints (Discord, Slack,
 * webhooks, the services' health and heal URLs) that fail and echo the whole request back in their
 * error body, a stand-in launchctl/systemctl that prints its arguments and fails, and the BUILT CLI run
 * with a temp HOME, XDG dirs and state dir so nothing touches the real ~/.upkeep or ~/.cache/upkeep.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { SMTPServer } from "smtp-server";
import { freePort, isGone, killTree, waitFor } from "../actions/helpers.js";
import { makeSecret, type Secret } from "./leak-scan.js";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
/** UPKEEP_SECRETS_CLI points the suite at another build (e.g. an older checkout) to compare leaks. */
const OTHER_CLI = process.env.UPKEEP_SECRETS_CLI;
export const BIN = OTHER_CLI !== undefined && OTHER_CLI !== "" ? OTHER_CLI : join(REPO, "bin", "upkeep.js");
export const BUILT = existsSync(join(BIN, "..", "..", "dist", "cli", "main.js"));

/** Characters that URL-encoding and JSON-escaping change, for places that can carry them. */
const ODD = '+/"=';

/** One planted value: where it went, what it is, and which endpoint may legitimately receive it. */
export interface Plant extends Secret {
  /** The environment variable (or env-file key) the rules read. */
  readonly env: string;
  /** What the variable holds: the secret itself, or a URL/path that contains it. */
  readonly envValue: string;
  /** `kind:name` of the handler whose parameter takes it. */
  readonly handler: string;
  /** The parameter, for the report. */
  readonly param: string;
  /** The stand-in path prefix (first segment) that is this secret's own destination, if any. */
  readonly owner?: string;
  /** Set through runtime.envFile instead of the process environment. */
  readonly inEnvFile?: boolean;
}

/** A request a stand-in endpoint received. */
export interface Received {
  readonly owner: string;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Captured output of one CLI invocation. */
export interface Capture {
  readonly label: string;
  readonly command: string;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time, for the report only (never asserted). */
  readonly ms?: number;
}

interface Standins {
  readonly echoPort: number;
  readonly silentPort: number;
  readonly refusedPort: number;
  readonly smtpPort: number;
}

function cleanEnv(world: SecretsWorld): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: world.home,
    XDG_CACHE_HOME: join(world.home, ".cache"),
    XDG_CONFIG_HOME: join(world.home, ".config"),
    XDG_STATE_HOME: join(world.home, ".local", "state"),
    XDG_DATA_HOME: join(world.home, ".local", "share"),
    TZ: "UTC",
    LANG: "C.UTF-8",
    NO_COLOR: "1",
  };
  for (const plant of world.plants) if (plant.inEnvFile !== true) env[plant.env] = plant.envValue;
  return env;
}

export class SecretsWorld {
  readonly root = mkdtempSync(join(tmpdir(), "upkeep-secrets-"));
  readonly rules = join(this.root, "rules");
  readonly state = join(this.root, "state");
  readonly logs = join(this.root, "logs");
  readonly home = join(this.root, "home");
  readonly bin = join(this.root, "bin");
  readonly received: Received[] = [];
  readonly captures: Capture[] = [];
  plants: Plant[] = [];
  private servers: Server[] = [];
  private smtpServers: SMTPServer[] = [];
  private sockets = new Set<Socket>();
  private children = new Set<ChildProcess>();
  private ports: Standins = { echoPort: 0, silentPort: 0, refusedPort: 0, smtpPort: 0 };

  get env(): Record<string, string> {
    return cleanEnv(this);
  }

  async start(): Promise<void> {
    for (const dir of [this.rules, this.state, this.logs, this.home, this.bin])
      mkdirSync(dir, { recursive: true });
    const echo = await this.listen(true);
    const silent = await this.listen(false);
    this.ports = {
      echoPort: echo,
      silentPort: silent,
      refusedPort: await freePort(),
      smtpPort: await this.listenSmtp(),
    };
    this.plants = this.makePlants();
    this.writeStandinTools();
    this.writeRules();
  }

  /** An HTTP stand-in on 127.0.0.1. `answers`: reply with the status in the path and the request echoed; else never reply. */
  private async listen(answers: boolean): Promise<number> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const url = req.url ?? "/";
        const received: Received = {
          owner: url.split("/")[1] ?? "",
          method: req.method ?? "",
          url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        };
        this.received.push(received);
        if (!answers) return;
        const status = Number(url.split("/")[2]?.split("?")[0]) || 500;
        const echo = { method: received.method, url, headers: req.headers, body: received.body };
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: `stand-in answered ${status}`, message: `rejected ${url}`, echo }));
      });
    });
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.servers.push(server);
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    return address.port;
  }

  /**
   * An SMTP stand-in (owner `ch-email`): records each AUTH exchange as a request (the password decoded),
   * then refuses it with a 535 that quotes the password back, like the echoing HTTP stand-ins.
   */
  private async listenSmtp(): Promise<number> {
    const server = new SMTPServer({
      logger: false,
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      closeTimeout: 1000,
      onAuth: (auth, _session, callback) => {
        this.received.push({
          owner: "ch-email",
          method: "AUTH",
          url: `smtp AUTH ${auth.method}`,
          headers: {},
          body: `username: ${auth.username ?? ""}\npassword: ${auth.password ?? ""}`,
        });
        callback(new Error(`authentication failed for ${auth.username ?? ""} with ${auth.password ?? ""}`));
      },
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => {
        const address = server.server.address();
        resolve(address === null || typeof address === "string" ? 0 : address.port);
      }),
    );
    this.smtpServers.push(server);
    return port;
  }

  private makePlants(): Plant[] {
    const { echoPort, silentPort, refusedPort } = this.ports;
    const echo = `http://127.0.0.1:${echoPort}`;
    const silent = `http://127.0.0.1:${silentPort}`;
    const refused = `http://127.0.0.1:${refusedPort}`;
    const plants: Plant[] = [];
    const add = (
      p: Omit<Plant, "value" | "envValue"> & { tag: string; odd?: boolean; wrap?: (s: string) => string },
    ): void => {
      const value = makeSecret(p.tag, p.odd === true ? ODD : "");
      const { tag: _tag, odd: _odd, wrap, ...rest } = p;
      plants.push({ ...rest, value, envValue: wrap === undefined ? value : wrap(value) });
    };
    // Probes. Owners are the first path segment of the stand-in URL the place is sent to.
    add({
      name: "EXEC_PROBE_ENV",
      env: "EXEC_PROBE_ENV",
      tag: "XPENV",
      odd: true,
      handler: "probe:exec",
      param: "env (child prints it to stderr, exit 1)",
    });
    add({
      name: "EXEC_PROBE_OUT",
      env: "EXEC_PROBE_OUT",
      tag: "XPOUT",
      odd: true,
      handler: "probe:exec",
      param: "env (child prints it to stdout, exit 2)",
    });
    add({
      name: "EXEC_PROBE_ARG",
      env: "EXEC_PROBE_ARG",
      tag: "XPARG",
      odd: true,
      handler: "probe:exec",
      param: "command argv element",
    });
    add({
      name: "EXEC_PROBE_SLOW",
      env: "EXEC_PROBE_SLOW",
      tag: "XPSLOW",
      odd: true,
      handler: "probe:exec",
      param: "env (printed, then timeout)",
    });
    for (const [svc, tag, base, status] of [
      ["http-500", "HP500", echo, "500"],
      ["http-404", "HP404", echo, "404"],
      ["http-body", "HPBODY", echo, "200"],
      ["http-slow", "HPSLOW", silent, "200"],
      ["http-refused", "HPREF", refused, "200"],
    ] as const) {
      const owner = `probe-${svc}`;
      add({
        name: `${tag}_QUERY`,
        env: `${tag}_QUERY`,
        tag: `${tag}Q`,
        handler: "probe:http",
        param: `${svc} url query`,
        owner,
        wrap: (s) => `${base}/${owner}/${status}/health?token=${s}`,
      });
      add({
        name: `${tag}_HEADER`,
        env: `${tag}_HEADER`,
        tag: `${tag}H`,
        odd: true,
        handler: "probe:http",
        param: `${svc} headers.Authorization`,
        owner,
      });
    }
    add({
      name: "HP500_BODY",
      env: "HP500_BODY",
      tag: "HP500B",
      odd: true,
      handler: "probe:http",
      param: "http-500 body",
      owner: "probe-http-500",
    });
    add({
      name: "TCP_HOST",
      env: "TCP_HOST",
      tag: "TCPHOST",
      handler: "probe:tcp",
      param: "host (does not resolve)",
      wrap: (s) => `${s}.invalid`,
    });
    add({
      name: "FILE_PATH",
      env: "FILE_PATH",
      tag: "FILEPTH",
      handler: "probe:file",
      param: "path (missing file)",
      wrap: (s) => join(this.root, "missing", s),
    });
    add({
      name: "LAUNCHD_PROBE_LABEL",
      env: "LAUNCHD_PROBE_LABEL",
      tag: "LDPROBE",
      handler: "probe:launchd",
      param: "label (launchctl prints it, exit 113)",
    });
    add({
      name: "SYSTEMD_PROBE_UNIT",
      env: "SYSTEMD_PROBE_UNIT",
      tag: "SDPROBE",
      handler: "probe:systemd",
      param: "unit (systemctl prints it, exit 5)",
    });
    add({
      name: "TLS_HOST",
      env: "TLS_HOST",
      tag: "TLSHOST",
      handler: "probe:tls",
      param: "host (does not resolve)",
      wrap: (s) => `${s}.invalid`,
    });
    add({
      name: "DISK_PATH",
      env: "DISK_PATH",
      tag: "DISKPTH",
      handler: "probe:disk",
      param: "path (missing)",
      wrap: (s) => join(this.root, "missing", s),
    });
    // Steps.
    add({
      name: "EXEC_STEP_ENV",
      env: "EXEC_STEP_ENV",
      tag: "XSENV",
      odd: true,
      handler: "step:exec",
      param: "env (printed to stdout and stderr, exit 4)",
    });
    add({
      name: "EXEC_STEP_ARG",
      env: "EXEC_STEP_ARG",
      tag: "XSARG",
      odd: true,
      handler: "step:exec",
      param: "command argv element",
    });
    add({
      name: "EXEC_STEP_SLOW",
      env: "EXEC_STEP_SLOW",
      tag: "XSSLOW",
      odd: true,
      handler: "step:exec",
      param: "env (printed, then timeout)",
    });
    add({
      name: "RECIPE_PARAM",
      env: "RECIPE_PARAM",
      tag: "RECIPE",
      odd: true,
      handler: "step:exec",
      param: "recipe param (heal.with) into an exec argv",
    });
    add({
      name: "HTTP_STEP_QUERY",
      env: "HTTP_STEP_QUERY",
      tag: "HS500Q",
      handler: "step:http",
      param: "url query (500 echo)",
      owner: "step-http-500",
      wrap: (s) => `${echo}/step-http-500/500/restart?token=${s}`,
    });
    add({
      name: "HTTP_STEP_HEADER",
      env: "HTTP_STEP_HEADER",
      tag: "HS500H",
      odd: true,
      handler: "step:http",
      param: "headers.X-Api-Key (500 echo)",
      owner: "step-http-500",
    });
    add({
      name: "HTTP_STEP_BODY",
      env: "HTTP_STEP_BODY",
      tag: "HS500B",
      odd: true,
      handler: "step:http",
      param: "body (500 echo)",
      owner: "step-http-500",
    });
    add({
      name: "HTTP_STEP_SLOW",
      env: "HTTP_STEP_SLOW",
      tag: "HSSLOW",
      handler: "step:http",
      param: "url query (timeout)",
      owner: "step-http-slow",
      wrap: (s) => `${silent}/step-http-slow/200/restart?token=${s}`,
    });
    add({
      name: "HTTP_STEP_REFUSED",
      env: "HTTP_STEP_REFUSED",
      tag: "HSREF",
      handler: "step:http",
      param: "url query (refused)",
      owner: "step-http-refused",
      wrap: (s) => `${refused}/step-http-refused/200/restart?token=${s}`,
    });
    for (const [step, tag] of [
      ["launchd.unload", "LDUNLOAD"],
      ["launchd.load", "LDLOAD"],
      ["launchd.kickstart", "LDKICK"],
      ["launchd.bootout", "LDBOUT"],
      ["launchd.bootstrap", "LDBSTRAP"],
    ] as const) {
      add({
        name: `${tag}_LABEL`,
        env: `${tag}_LABEL`,
        tag,
        handler: `step:${step}`,
        param: "label (launchctl prints it, exit 5)",
      });
    }
    add({
      name: "SYSTEMD_UNIT",
      env: "SYSTEMD_UNIT",
      tag: "SDUNIT",
      handler: "step:systemd.restart",
      param: "unit (systemctl prints it, exit 5)",
    });
    // Channels.
    for (const [ch, tag, base, status] of [
      ["webhook-500", "WH500", echo, "500"],
      ["webhook-404", "WH404", echo, "404"],
      ["webhook-slow", "WHSLOW", silent, "200"],
      ["webhook-refused", "WHREF", refused, "200"],
    ] as const) {
      const owner = `ch-${ch}`;
      add({
        name: `${tag}_URL`,
        env: `${tag}_URL`,
        tag: `${tag}U`,
        handler: "channel:webhook",
        param: `${ch} url query`,
        owner,
        wrap: (s) => `${base}/${owner}/${status}/hook?key=${s}`,
      });
      // The env file's own quoting rules are not under test: its value stays plain.
      add({
        name: `${tag}_HEADER`,
        env: `${tag}_HEADER`,
        tag: `${tag}H`,
        odd: ch !== "webhook-404",
        handler: "channel:webhook",
        param: `${ch} headers.X-Api-Key`,
        owner,
        inEnvFile: ch === "webhook-404",
      });
      add({
        name: `${tag}_HMAC`,
        env: `${tag}_HMAC`,
        tag: `${tag}K`,
        odd: true,
        handler: "channel:webhook",
        param: `${ch} secret (HMAC key)`,
        owner,
      });
    }
    add({
      name: "DISCORD_URL",
      env: "DISCORD_URL",
      tag: "DISCORD",
      handler: "channel:discord",
      param: "url (token in path, 400 echo)",
      owner: "ch-discord",
      wrap: (s) => `${echo}/ch-discord/400/api/webhooks/1234567890/${s}`,
    });
    add({
      name: "SLACK_URL",
      env: "SLACK_URL",
      tag: "SLACK",
      handler: "channel:slack",
      param: "url (token in path, 500 echo)",
      owner: "ch-slack",
      wrap: (s) => `${echo}/ch-slack/500/services/T000/B000/${s}`,
    });
    // Basic credentials travel base64-encoded; the 401 echo sends them back in that form.
    add({
      name: "AM_PASSWORD",
      env: "AM_PASSWORD",
      tag: "AMPASS",
      odd: true,
      handler: "channel:alertmanager",
      param: "password (Basic auth, 401 echo)",
      owner: "ch-alertmanager",
    });
    add({
      name: "AM_TOKEN",
      env: "AM_TOKEN",
      tag: "AMTOK",
      handler: "channel:alertmanager",
      param: "bearerToken (500 echo)",
      owner: "ch-alertmanager",
    });
    add({
      name: "NTFY_URL",
      env: "NTFY_URL",
      tag: "NTFYTOP",
      handler: "channel:ntfy",
      param: "url (the topic is the password; 401 echo)",
      owner: "ch-ntfy",
      wrap: (s) => `${echo}/ch-ntfy/401/${s}`,
    });
    add({
      name: "NTFY_TOKEN",
      env: "NTFY_TOKEN",
      tag: "NTFYTOK",
      odd: true,
      handler: "channel:ntfy",
      param: "token (Bearer)",
      owner: "ch-ntfy",
    });
    add({
      name: "SMTP_PASSWORD",
      env: "SMTP_PASSWORD",
      tag: "SMTPPASS",
      odd: true,
      handler: "channel:email",
      param: "password (SMTP AUTH, 535 echo)",
      owner: "ch-email",
    });
    add({
      name: "HEARTBEAT_URL",
      env: "HEARTBEAT_URL",
      tag: "HBEAT",
      handler: "runtime:heartbeat",
      param: "runtime.heartbeat.url (token in path, POST, 500 echo)",
      owner: "heartbeat",
      wrap: (s) => `${echo}/heartbeat/500/ping/${s}`,
    });
    add({
      name: "COMMAND_ARG",
      env: "COMMAND_ARG",
      tag: "CMDARG",
      odd: true,
      handler: "channel:command",
      param: "command argv element (printed with every planted value the command inherits, exit 1)",
    });
    add({
      name: "COMMAND_SLOW",
      env: "COMMAND_SLOW",
      tag: "CMDSLOW",
      odd: true,
      handler: "channel:command",
      param: "command argv element (printed, then timeout; exec-stdout's probe prints it as inherited env)",
    });
    add({
      name: "MACOS_TITLE",
      env: "MACOS_TITLE",
      tag: "MACTITLE",
      odd: true,
      handler: "channel:macos",
      param: "title",
    });
    add({
      name: "MACOS_SOUND",
      env: "MACOS_SOUND",
      tag: "MACSOUND",
      handler: "channel:macos",
      param: "sound",
    });
    return plants;
  }

  /** launchctl and systemctl stand-ins: print every argument to stdout and stderr, then fail. */
  private writeStandinTools(): void {
    for (const [name, code] of [
      ["launchctl", 113],
      ["systemctl", 5],
    ] as const) {
      const file = join(this.bin, name);
      writeFileSync(
        file,
        `#!/bin/sh\necho "${name}: no such job: $*"\necho "${name} failed for: $*" >&2\nexit ${code}\n`,
      );
      chmodSync(file, 0o755);
    }
  }

  private writeRules(): void {
    const env = (name: string): string => JSON.stringify(`\${env:${name}}`);
    const sh = (script: string, ...args: string[]): string =>
      JSON.stringify(["sh", "-c", script, "sh", ...args.map((a) => `\${env:${a}}`)]);
    const httpProbe = (svc: string, tag: string, extra = "", timeout = "1s"): string =>
      `{ type: http, url: ${env(`${tag}_QUERY`)}, timeout: ${timeout}, headers: { Authorization: ${JSON.stringify(`Bearer \${env:${tag}_HEADER}`)} }${extra} }`;
    const c = (continueOnError = true, timeout = "1s"): string =>
      `, timeout: ${timeout}, continueOnError: ${continueOnError}`;
    const services = `version: 1
runtime:
  stateDir: ${JSON.stringify(this.state)}
  logFile: ${JSON.stringify(join(this.logs, "upkeep.log"))}
  logRotate: { maxSize: 16KB, keep: 3 }
  envFile: ./secrets.env
  launchctl: ${JSON.stringify(join(this.bin, "launchctl"))}
  systemctl: ${JSON.stringify(join(this.bin, "systemctl"))}
  tickTimeout: 20s
  interval: 2s
  metrics: { file: ${JSON.stringify(join(this.state, "metrics", "upkeep.prom"))} }
  heartbeat: { url: ${env("HEARTBEAT_URL")}, method: POST, timeout: 1s }
defaults:
  probe: { timeout: 1s }
  breaker: { failureThreshold: 50, successThreshold: 1, openFor: 1s }
  heal: { after: 1, cooldown: 1s, budget: { max: 1000, per: 1h } }
recipes:
  echo-token:
    params: { token: { description: "a token the step prints" } }
    steps:
      - { action: exec, with: { command: ["sh", "-c", "echo \\"recipe token $1\\"; echo \\"recipe failed $1\\" >&2; exit 6", "sh", "\${{ params.token }}"] }${c(false)} }
services:
  exec-stderr:
    probe: { type: exec, command: ${sh('echo "probe failed for $PT" >&2; exit 1')}, env: { PT: ${env("EXEC_PROBE_ENV")} } }
    heal:
      steps:
        - { action: exec, with: { command: ${sh('echo "step says $ST $1"; echo "step failed for $ST $1" >&2; exit 4', "EXEC_STEP_ARG")}, env: { ST: ${env("EXEC_STEP_ENV")} } }${c()} }
        - { action: exec, with: { command: ${sh('echo "slow step $SS"; echo "slow step err $SS" >&2; exec sleep 5')}, env: { SS: ${env("EXEC_STEP_SLOW")} } }${c(false, "500ms")} }
  exec-stdout:
    probe: { type: exec, command: ${sh('echo "token is $PO $1 inherited $COMMAND_SLOW"; exit 2', "EXEC_PROBE_ARG")}, env: { PO: ${env("EXEC_PROBE_OUT")} } }
    heal: { recipe: echo-token, with: { token: ${env("RECIPE_PARAM")} } }
  exec-slow:
    probe: { type: exec, timeout: 500ms, command: ${sh('echo "slow probe $PS"; echo "slow probe err $PS" >&2; exec sleep 5')}, env: { PS: ${env("EXEC_PROBE_SLOW")} } }
    heal:
      steps:
        - { action: launchd.unload, with: { label: ${env("LDUNLOAD_LABEL")} }${c()} }
        - { action: launchd.load, with: { label: ${env("LDLOAD_LABEL")} }${c()} }
        - { action: launchd.kickstart, with: { label: ${env("LDKICK_LABEL")} }${c()} }
        - { action: launchd.bootout, with: { label: ${env("LDBOUT_LABEL")} }${c()} }
        - { action: launchd.bootstrap, with: { label: ${env("LDBSTRAP_LABEL")} }${c(false)} }
  http-500:
    probe: ${httpProbe("http-500", "HP500", `, method: POST, body: ${env("HP500_BODY")}, expect: { status: 200 }`)}
    heal:
      steps:
        - { action: http, with: { url: ${env("HTTP_STEP_QUERY")}, headers: { X-Api-Key: ${env("HTTP_STEP_HEADER")} }, body: ${env("HTTP_STEP_BODY")} }${c(false)} }
  http-404:
    probe: ${httpProbe("http-404", "HP404", ", expect: { status: 200 }")}
    heal:
      steps:
        - { action: http, with: { url: ${env("HTTP_STEP_SLOW")} }${c(true, "500ms")} }
        - { action: http, with: { url: ${env("HTTP_STEP_REFUSED")} }${c(false)} }
  http-body:
    probe: ${httpProbe("http-body", "HPBODY", ', expect: { status: 200, bodyMatches: "^healthy$" }')}
    heal:
      steps:
        - { action: systemd.restart, with: { unit: ${env("SYSTEMD_UNIT")} }${c(false)} }
  http-slow:
    probe: ${httpProbe("http-slow", "HPSLOW", "", "500ms")}
    heal:
      steps:
        - { action: wait, with: { for: 10ms } }
        - { action: verify, timeout: 700ms, with: { interval: 100ms } }
  http-refused:
    probe: ${httpProbe("http-refused", "HPREF")}
  tcp-dns:
    probe: { type: tcp, host: ${env("TCP_HOST")}, port: 9 }
  file-missing:
    probe: { type: file, path: ${env("FILE_PATH")}, maxAge: 1h }
  launchd-probe:
    probe: { type: launchd, label: ${env("LAUNCHD_PROBE_LABEL")} }
  systemd-probe:
    probe: { type: systemd, unit: ${env("SYSTEMD_PROBE_UNIT")} }
  tls-dns:
    probe: { type: tls, host: ${env("TLS_HOST")}, port: 443 }
  disk-missing:
    probe: { type: disk, path: ${env("DISK_PATH")}, minFree: 1% }
`;
    const webhook = (ch: string, tag: string): string =>
      `  ${ch}: { type: webhook, with: { url: ${env(`${tag}_URL`)}, headers: { X-Api-Key: ${env(`${tag}_HEADER`)} }, secret: ${env(`${tag}_HMAC`)}, timeout: 600ms } }`;
    const channels = [
      webhook("webhook-500", "WH500"),
      webhook("webhook-404", "WH404"),
      webhook("webhook-slow", "WHSLOW"),
      webhook("webhook-refused", "WHREF"),
      `  discord: { type: discord, with: { url: ${env("DISCORD_URL")}, username: upkeep, timeout: 1s } }`,
      `  slack: { type: slack, with: { url: ${env("SLACK_URL")}, channel: "#ops", timeout: 1s } }`,
      `  command: { type: command, with: { command: ${sh('cat >/dev/null; echo "notify says $1"; echo "notify failed for $1; inherited: $(env | grep S3cr3t | tr "\\n" " ")" >&2; exit 1', "COMMAND_ARG")}, timeout: 1s } }`,
      `  command-slow: { type: command, with: { command: ${sh('cat >/dev/null; echo "slow notify $1"; echo "slow notify err $1" >&2; exec sleep 5', "COMMAND_SLOW")}, timeout: 500ms } }`,
      `  macos: { type: macos, with: { title: ${env("MACOS_TITLE")}, sound: ${env("MACOS_SOUND")} } }`,
      `  ntfy: { type: ntfy, with: { url: ${env("NTFY_URL")}, token: ${env("NTFY_TOKEN")}, timeout: 1s } }`,
      `  alertmanager: { type: alertmanager, with: { urls: ["http://127.0.0.1:${this.ports.echoPort}/ch-alertmanager/401", "http://127.0.0.1:${this.ports.refusedPort}"], username: upkeep, password: ${env("AM_PASSWORD")}, timeout: 1s } }`,
      `  alertmanager-bearer: { type: alertmanager, with: { urls: ["http://127.0.0.1:${this.ports.echoPort}/ch-alertmanager/500"], bearerToken: ${env("AM_TOKEN")}, timeout: 1s } }`,
      `  email: { type: email, with: { host: 127.0.0.1, port: ${this.ports.smtpPort}, requireTLS: false, username: upkeep, password: ${env("SMTP_PASSWORD")}, from: upkeep@example.test, to: ops@example.test, timeout: 1s } }`,
      `  log: { type: log }`,
    ];
    const ids = [
      "webhook-500",
      "webhook-404",
      "webhook-slow",
      "webhook-refused",
      "discord",
      "slack",
      "command",
      "command-slow",
      "macos",
      "ntfy",
      "alertmanager",
      "alertmanager-bearer",
      "email",
      "log",
    ];
    const alerts = `version: 1
channels:
${channels.join("\n")}
levels:
  CRITICAL: { threshold: 1, cooldown: 1s, channels: [${ids.join(", ")}] }
  WARNING: { threshold: 2, cooldown: 1s, channels: [webhook-500, discord, slack, command, log] }
rules:
  down:
    level: CRITICAL
    when: { "==": [{ var: status }, "down"] }
    message: "\${{ service.title }} is down: \${{ detail }} (heal: \${{ heal.outcome }} \${{ heal.reason }})"
  still-down:
    level: WARNING
    when: { "==": [{ var: status }, "down"] }
`;
    writeFileSync(join(this.rules, "services.yaml"), services);
    writeFileSync(join(this.rules, "alerts.yaml"), alerts);
    const envFile = this.plants
      .filter((p) => p.inEnvFile === true)
      .map((p) => `${p.env}=${p.envValue}`)
      .join("\n");
    writeFileSync(join(this.rules, "secrets.env"), `${envFile}\n`, { mode: 0o600 });
    chmodSync(join(this.rules, "secrets.env"), 0o600);
  }

  /** Runs the built CLI once (bounded), records its output under `label`. */
  cli(args: string[], label = args.join(" "), timeoutMs = 30_000): Promise<Capture> {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: this.root,
      env: this.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.pid !== undefined && killTree(child.pid), timeoutMs);
    const started = Date.now();
    return new Promise((resolve) =>
      child.on("close", (code) => {
        clearTimeout(timer);
        this.children.delete(child);
        const capture: Capture = {
          label,
          command: args[0] ?? "",
          code,
          stdout,
          stderr,
          ms: Date.now() - started,
        };
        this.captures.push(capture);
        resolve(capture);
      }),
    );
  }

  /** Starts `upkeep serve` (bounded) and resolves with its URL and a stop function that records its output. */
  async serve(args: string[]): Promise<{ url: string; stop: () => Promise<Capture> }> {
    const child = spawn(process.execPath, [BIN, "serve", ...args], {
      cwd: this.root,
      env: this.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.children.add(child);
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 15_000);
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
        const line = /^(http:\/\/\S+)\n/m.exec(stdout)?.[1];
        if (line !== undefined) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      void closed.then((code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited ${String(code)}: ${stderr}`));
      });
    });
    const stop = async (): Promise<Capture> => {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.pid !== undefined && killTree(child.pid), 5000);
      const code = await closed;
      clearTimeout(timer);
      this.children.delete(child);
      const capture: Capture = { label: "serve (process output)", command: "serve", code, stdout, stderr };
      this.captures.push(capture);
      return capture;
    };
    return { url, stop };
  }

  /** Every file under the dirs upkeep may write (state, logs, temp HOME with its cache), with its raw bytes as text. */
  writtenFiles(): { path: string; text: string }[] {
    const out: { path: string; text: string }[] = [];
    const walk = (dir: string, depth: number): void => {
      if (depth > 8 || !existsSync(dir)) return;
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        const st = statSync(path, { throwIfNoEntry: false });
        if (st === undefined) continue;
        if (st.isDirectory()) walk(path, depth + 1);
        else if (st.isFile()) {
          // latin1 maps each byte to one char, so text inside binary files (SQLite pages) stays searchable.
          out.push({ path: relative(this.root, path), text: readFileSync(path).toString("latin1") });
        }
      }
    };
    for (const dir of [this.state, this.logs, this.home, this.bin]) walk(dir, 0);
    // The rules folder is ours except what upkeep may add to it (a lockfile, a cache).
    for (const name of readdirSync(this.rules)) {
      if (["services.yaml", "alerts.yaml", "secrets.env"].includes(name)) continue;
      const path = join(this.rules, name);
      if (statSync(path).isFile())
        out.push({ path: relative(this.root, path), text: readFileSync(path).toString("latin1") });
      else walk(path, 1);
    }
    return out;
  }

  async close(): Promise<void> {
    for (const child of this.children) if (child.pid !== undefined) killTree(child.pid);
    const pids = [...this.children].map((c) => c.pid ?? 0).filter((p) => p > 0);
    await waitFor(() => pids.every((p) => isGone(p)), 5000, "CLI children to exit").catch(() => undefined);
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    await Promise.all(this.smtpServers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    rmSync(this.root, { recursive: true, force: true });
  }
}
