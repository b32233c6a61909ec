/**
 * The alertmanager channel against a REAL Prometheus Alertmanager (Debian's `prometheus-alertmanager`,
 * installed by .ci/run), started on a free loopback port with a temp storage path and a webhook receiver
 * served by this test. upkeep runs as the built CLI (`node bin/upkeep.js run`), real ticks against a
 * service that is down (a loopback port nobody listens on) and then up (a server this test starts).
 *
 * Asserted through Alertmanager's API (GET /api/v2/alerts, /api/v2/alerts/groups) and what its webhook
 * receiver is sent: firing with upkeep's labels, annotations and episode start; refreshed at every tick;
 * two upkeep instances (two rules folders and state dirs, different `instance`) in one group; resolve;
 * an Alertmanager silence suppressing the notification; `upkeep alert test`. Alertmanager is killed at the
 * end and checked gone.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, isGone, waitFor } from "../helpers.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(REPO, "bin", "upkeep.js");
const AM_BIN = ["/usr/bin/prometheus-alertmanager", "/usr/local/bin/alertmanager"].find((p) => existsSync(p));
const BUILT = existsSync(join(REPO, "dist", "cli", "main.js"));
const suite = AM_BIN !== undefined && BUILT ? describe : describe.skip;
const SUITE_NAME =
  AM_BIN === undefined
    ? "SKIPPED: no Alertmanager binary (/usr/bin/prometheus-alertmanager; `apt-get install prometheus-alertmanager`, as .ci/run does)"
    : !BUILT
      ? "SKIPPED: dist/cli/main.js is missing; build first (`npm run build`)"
      : "alertmanager channel against a real Alertmanager (built CLI, real ticks)";

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  status: { state: string; silencedBy: string[] };
}
interface AmGroup {
  labels: Record<string, string>;
  receiver: { name: string };
  alerts: AmAlert[];
}
interface HookAlert {
  status: string;
  labels: Record<string, string>;
}
interface HookPayload {
  status: string;
  groupLabels: Record<string, string>;
  alerts: HookAlert[];
}

let root: string;
let am: ChildProcess | undefined;
let amUrl: string;
let hook: Server;
const received: HookPayload[] = [];

async function amGet<T>(path: string): Promise<T> {
  const response = await fetch(`${amUrl}${path}`);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

const filter = (alertname: string): string => `?filter=${encodeURIComponent(`alertname="${alertname}"`)}`;
const alertsNamed = (alertname: string): Promise<AmAlert[]> =>
  amGet<AmAlert[]>(`/api/v2/alerts${filter(alertname)}`);

/** One upkeep instance: its own rules folder, state dir and `instance` label. */
function upkeep(
  name: string,
  servicePort: number,
  rules: string,
  extraChannelParams = "",
): { rules: string; state: string } {
  const dir = join(root, name);
  const rulesDir = join(dir, "rules");
  const state = join(dir, "state");
  mkdirSync(rulesDir, { recursive: true });
  mkdirSync(state, { recursive: true });
  writeFileSync(
    join(rulesDir, "services.yaml"),
    `version: 1
runtime: { interval: 30s }
services:
  db:
    title: Database
    tags: ["tier=db", "prod"]
    probe: { type: tcp, host: 127.0.0.1, port: ${servicePort}, timeout: 1s }
`,
  );
  writeFileSync(
    join(rulesDir, "alerts.yaml"),
    `version: 1
channels:
  am:
    type: alertmanager
    with:
      urls: ["${amUrl}"]
      instance: ${name}
      labels: { env: test }
      timeout: 5s${extraChannelParams}
levels:
  CRITICAL: { threshold: 1, cooldown: 1h, channels: [am] }
rules:
${rules}`,
  );
  return { rules: rulesDir, state };
}

const DOWN_RULE = `  db-down:
    level: CRITICAL
    when: { "==": [{ var: status }, "down"] }
    message: "\${{ service.title }} is down: \${{ detail }}"
`;

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith("UPKEEP_")) env[k] = v;
  const result = spawnSync(process.execPath, [BIN, ...args], { env, encoding: "utf8", timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tick(instance: { rules: string; state: string }): number | null {
  const result = cli(["run", "--rules", instance.rules, "--state-dir", instance.state, "--format", "json"]);
  // A run exits 0 (all up) or 1 (still down); anything else is a broken test setup.
  if (result.code !== 0 && result.code !== 1)
    throw new Error(`upkeep run exited ${result.code}: ${result.stderr}`);
  return result.code;
}

function episodeStart(state: string, key: string): number {
  const alerts = JSON.parse(readFileSync(join(state, "alerts.json"), "utf8")) as {
    alerts: Record<string, { since: number | null }>;
  };
  const since = alerts.alerts[key]?.since;
  if (typeof since !== "number") throw new Error(`no episode start for ${key}`);
  return since;
}

async function listenTcp(port: number): Promise<TcpServer> {
  const server = createTcpServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

suite(SUITE_NAME, () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "upkeep-am-"));
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as HookPayload);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
    const hookPort = (hook.address() as { port: number }).port;
    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    const storage = join(root, "am-data");
    mkdirSync(storage);
    writeFileSync(
      join(root, "am.yml"),
      `route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 4h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:${hookPort}/am
        send_resolved: true
`,
    );
    const log = openSync(join(root, "am.log"), "a");
    am = spawn(
      AM_BIN as string,
      [
        `--web.listen-address=127.0.0.1:${port}`,
        "--cluster.listen-address=",
        `--storage.path=${storage}`,
        `--config.file=${join(root, "am.yml")}`,
      ],
      { stdio: ["ignore", log, log] },
    );
    await waitFor(
      async () => {
        if (am?.exitCode !== null)
          throw new Error(`alertmanager exited: ${readFileSync(join(root, "am.log"), "utf8")}`);
        try {
          return (await fetch(`${amUrl}/-/ready`)).status === 200;
        } catch {
          return false;
        }
      },
      20_000,
      "Alertmanager /-/ready",
    );
  });

  afterAll(async () => {
    const pid = am?.pid;
    if (am !== undefined && pid !== undefined && am.exitCode === null) {
      const exited = new Promise<void>((resolve) => am?.once("exit", () => resolve()));
      am.kill("SIGTERM");
      const late = setTimeout(() => am?.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(late);
    }
    await new Promise<void>((resolve) => hook.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
    if (pid !== undefined) expect(isGone(pid)).toBe(true);
  });

  it("fires with upkeep's labels, refreshes every tick, groups two hosts, and resolves", async () => {
    const dbPort = await freePort();
    const a = upkeep("host-a", dbPort, DOWN_RULE);
    const b = upkeep("host-b", dbPort, DOWN_RULE);

    expect(tick(a)).toBe(1);
    const [first] = await alertsNamed("db-down");
    expect(first?.labels).toEqual({
      alertname: "db-down",
      service: "db",
      severity: "critical",
      instance: "host-a",
      env: "test",
      tier: "db",
      tags: "prod,tier=db",
    });
    expect(first?.annotations["summary"]).toBe("CRITICAL: Database is down");
    expect(first?.annotations["description"]).toMatch(/^Database is down: /);
    expect(Date.parse(first?.startsAt ?? "")).toBe(
      Math.floor(episodeStart(a.state, "db-down/db") / 1000) * 1000,
    );
    expect(Date.parse(first?.endsAt ?? "")).toBeGreaterThanOrEqual(
      Date.parse(first?.startsAt ?? "") + 5 * 60_000,
    );

    // No notice is due (1h cooldown), yet Alertmanager hears of the alert again: it must not time out.
    expect(tick(a)).toBe(1);
    const [again] = await alertsNamed("db-down");
    expect(Date.parse(again?.updatedAt ?? "")).toBeGreaterThan(Date.parse(first?.updatedAt ?? ""));
    expect(again?.startsAt).toBe(first?.startsAt);

    expect(tick(b)).toBe(1);
    const groups = await amGet<AmGroup[]>("/api/v2/alerts/groups");
    const group = groups.filter((g) => g.labels["alertname"] === "db-down");
    expect(group).toHaveLength(1);
    expect(group[0]?.receiver.name).toBe("hook");
    expect(group[0]?.alerts.map((x) => x.labels["instance"]).sort()).toEqual(["host-a", "host-b"]);
    const both = await waitFor(
      () =>
        received.find(
          (p) =>
            p.groupLabels["alertname"] === "db-down" &&
            p.alerts.filter((x) => x.status === "firing").length === 2,
        ),
      15_000,
      "one notification of the group with both hosts firing",
    );
    expect(both?.status).toBe("firing");

    const db = await listenTcp(dbPort);
    try {
      expect(tick(a)).toBe(0);
      const left = await alertsNamed("db-down");
      expect(left.map((x) => x.labels["instance"])).toEqual(["host-b"]);
      const resolved = await waitFor(
        () =>
          received.find((p) =>
            p.alerts.some(
              (x) =>
                x.labels["instance"] === "host-a" &&
                x.labels["alertname"] === "db-down" &&
                x.status === "resolved",
            ),
          ),
        15_000,
        "host-a's resolution at the receiver",
      );
      expect(resolved?.groupLabels).toEqual({ alertname: "db-down" });
      expect(tick(b)).toBe(0);
      expect(await alertsNamed("db-down")).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => db.close(() => resolve()));
    }
  });

  it("an Alertmanager silence suppresses the notification, not the alert", async () => {
    const now = Date.now();
    const response = await fetch(`${amUrl}/api/v2/silences`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        matchers: [{ name: "alertname", value: "cache-down", isRegex: false, isEqual: true }],
        startsAt: new Date(now - 60_000).toISOString(),
        endsAt: new Date(now + 3_600_000).toISOString(),
        createdBy: "upkeep tests",
        comment: "maintenance",
      }),
    });
    expect(response.status).toBe(200);
    const { silenceID } = (await response.json()) as { silenceID: string };

    // Two rules on the same down service, sent in one request: the unsilenced one is the barrier that
    // shows Alertmanager has notified what it was going to.
    const rules = `${DOWN_RULE.replace("db-down", "cache-down")}${DOWN_RULE.replace("db-down", "control-down")}`;
    const c = upkeep("host-c", await freePort(), rules);
    expect(tick(c)).toBe(1);
    const [silenced] = await alertsNamed("cache-down");
    expect(silenced?.status.state).toBe("suppressed");
    expect(silenced?.status.silencedBy).toEqual([silenceID]);
    await waitFor(
      () => received.some((p) => p.groupLabels["alertname"] === "control-down"),
      15_000,
      "the unsilenced alert's notification",
    );
    expect(received.filter((p) => p.alerts.some((x) => x.labels["alertname"] === "cache-down"))).toEqual([]);
  });

  it("`upkeep alert test` reaches Alertmanager, and --resolved ends the sample alert", async () => {
    const d = upkeep("host-d", await freePort(), DOWN_RULE);
    const sent = cli(["alert", "test", "am", "--rules", d.rules]);
    expect(sent.code, sent.stderr).toBe(0);
    const [sample] = await alertsNamed("upkeep-alert-test");
    expect(sample?.labels).toMatchObject({ alertname: "upkeep-alert-test", instance: "host-d", env: "test" });
    const resolved = cli(["alert", "test", "am", "--resolved", "--rules", d.rules]);
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(await alertsNamed("upkeep-alert-test")).toEqual([]);
  });
});
