/**
 * Planted secrets (issue 19): a distinct value in every place a rules file can take a secret through
 * `${env:NAME}`, every probe, step and channel failing in its own way (exit codes with the value on
 * stdout/stderr, 4xx/5xx with the request echoed back, timeouts, refused connections), every CLI
 * command driven against those rules, and then every output searched: each command's stdout and stderr,
 * serve's API, every file upkeep wrote (state, outbox, logs and rotated logs, the history database,
 * metrics, the config cache) and every request the stand-in endpoints received except the one a secret
 * is meant for. Expected: no value in any form (raw, URL-encoded, JSON-escaped, base64, 16-char part).
 *
 * A failure lists each leak as `VALUE (handler, parameter) form xN in PLACE: …excerpt…`, the value
 * masked as «VALUE», so the failures are a to-do list. UPKEEP_SECRETS_REPORT=FILE also writes them as
 * JSON. Runs the BUILT CLI: `npm run build` first.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtinHandlers } from "../../src/actions/registry.js";
import { COMMANDS } from "../../src/cli/main.js";
import { findSecrets, type Hit } from "./leak-scan.js";
import { BUILT, REPO, SecretsWorld, type Plant, type Received } from "./secrets-world.js";

const suite = BUILT ? describe : describe.skip;
const SUITE_NAME = BUILT
  ? "planted secrets never leave (built CLI, every command, every output)"
  : "SKIPPED: dist/cli/main.js is missing; build first (`npm run build`, as .ci/run does)";

/** Commands the suite does not drive, each with why no secret can reach its output. */
const EXEMPT_COMMANDS: Readonly<Record<string, string>> = {
  demo: "runs its own bundled rules in a temp dir; reads neither --rules nor ${env:..}",
};

/** Handlers with no parameter that can carry a secret-shaped string (checked below against their schemas). */
const EXEMPT_HANDLERS: Readonly<Record<string, string>> = {
  "channel:log": "its only parameter is a pino level (an enum)",
  "step:wait": "its only parameter is a duration",
  "step:verify": "its parameters are durations (it re-runs the service's probe, which is planted)",
};

const SERVICES = [
  "exec-stderr",
  "exec-stdout",
  "exec-slow",
  "http-500",
  "http-404",
  "http-body",
  "http-slow",
  "http-refused",
  "tcp-dns",
  "file-missing",
  "launchd-probe",
  "systemd-probe",
  "tls-dns",
  "disk-missing",
] as const;

const CHANNELS = [
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
] as const;

/** The CLI runs, in order (state builds up: ticks first, then the commands that read what they left). */
function cliPlan(rules: string, state: string): { label: string; args: string[] }[] {
  const r = ["--rules", rules, "--state-dir", state];
  const plan: { label: string; args: string[] }[] = [];
  const add = (args: string[], withState = true): void => {
    plan.push({ label: args.join(" "), args: [...args, ...(withState ? r : ["--rules", rules])] });
  };
  add(["validate", "--format", "text", "--require-env"], false);
  for (const format of ["json", "github", "sarif"]) add(["validate", "--format", format], false);
  add(["plan"]);
  add(["run", "--dry-run"]);
  add(["run", "--verbose"]);
  add(["run", "--format", "json"]);
  add(["watch", "--interval", "1s", "--max-ticks", "2"]);
  add(["heal", "exec-stderr", "--verbose"]);
  add(["heal", "exec-stdout", "--force", "--by", "secrets-suite", "--format", "json"]);
  add(["heal", "http-500", "--dry-run"]);
  add(["heal", "http-500", "--force", "--dry-run", "--format", "json"]);
  add(["status"]);
  add(["status", "--format", "json"]);
  // One explain per kind of failure (each reads the rule, the state and the service's log lines).
  for (const id of ["exec-stderr", "http-500", "launchd-probe"]) add(["explain", id, "--format", "json"]);
  for (const id of ["exec-stdout", "file-missing", "systemd-probe", "disk-missing"]) add(["explain", id]);
  // logs reads the log (and, with --since, the rotated ones) that the ticks above wrote.
  add(["logs"]);
  add(["logs", "exec-stderr", "--since", "1h", "--format", "json"]);
  plan.push({ label: "completion bash", args: ["completion", "bash"] });
  add(["doctor", "--scheduler", "none"]);
  add(["doctor", "--scheduler", "none", "--format", "json"]);
  for (const id of CHANNELS) add(["alert", "test", id]);
  add(["alert", "test", "webhook-500", "--resolved", "--format", "json"]);
  add(["alert", "test", "discord", "--level", "WARNING", "--format", "json"]);
  add(["silence", "add", "--service", "exec-stderr", "--for", "1h", "--comment", "planted secrets suite"]);
  add(["silence", "list"]);
  add(["silence", "list", "--format", "json"]);
  add(["breaker", "isolate", "exec-stderr", "--until", "30m"]);
  add(["breaker", "reset", "exec-stderr", "--format", "json"]);
  for (const format of ["text", "json", "csv"]) add(["report", "--format", format]);
  add(["test"], false);
  add(["schema", "services"], false);
  add(["pack", "list"], false);
  add(["launchd", "render"]);
  add(["systemd", "render"]);
  // init reads no rules and resolves no secret: one run into a fresh folder, whose files are searched too.
  plan.push({ label: "init", args: ["init", join(state, "init-rules")] });
  return plan;
}

const SERVE_GETS = [
  "/",
  "/app.js",
  "/api/status",
  "/api/page",
  "/api/report?since=1d",
  "/api/events",
] as const;

interface Leak extends Hit {
  readonly where: string;
  readonly group: string;
}

const world = new SecretsWorld();

function describePlant(name: string): string {
  const plant = world.plants.find((p) => p.name === name);
  return plant === undefined ? name : `${name} (${plant.handler} ${plant.param})`;
}

function formatLeaks(leaks: readonly Leak[]): string[] {
  return leaks.map((l) => `${describePlant(l.secret)} ${l.form} x${l.count} in ${l.where}: …${l.excerpt}…`);
}

function scan(text: string, where: string, group: string, plants: readonly Plant[] = world.plants): Leak[] {
  return findSecrets(text, plants).map((hit) => ({ ...hit, where, group }));
}

function fileGroup(path: string): string {
  if (path.startsWith("logs")) return "log files";
  if (/history\.db/.test(path)) return "history database";
  if (path.endsWith(".prom")) return "metrics file";
  if (path.startsWith("state")) return "state files";
  return "HOME, caches and rules folder";
}

function requestText(r: Received): string {
  // Basic credentials travel base64-encoded: decoded, the endpoint's own password shows as received.
  const basic = /^Basic (\S+)$/.exec(String(r.headers["authorization"]))?.[1];
  return [
    `${r.method} ${r.url}`,
    ...Object.entries(r.headers).map(([k, v]) => `${k}: ${String(v)}`),
    ...(basic === undefined ? [] : [`(basic) ${Buffer.from(basic, "base64").toString("utf8")}`]),
    "",
    r.body,
  ].join("\n");
}

const leaksByGroup = new Map<string, Leak[]>();
const serveLabels: string[] = [];

suite(SUITE_NAME, () => {
  beforeAll(async () => {
    await world.start();
    let silenceId: string | undefined;
    for (const step of cliPlan(world.rules, world.state)) {
      const capture = await world.cli(step.args, step.label);
      if (step.label.startsWith("silence add")) silenceId = /\bsil-[0-9a-z]+/.exec(capture.stdout)?.[0];
      if (step.label === "silence list --format json") {
        await world.cli(
          [
            "silence",
            "remove",
            silenceId ?? "sil-missing",
            "--rules",
            world.rules,
            "--state-dir",
            world.state,
          ],
          "silence remove ID",
        );
      }
    }
    const serve = await world.serve([
      "--rules",
      world.rules,
      "--state-dir",
      world.state,
      "--listen",
      "127.0.0.1:0",
      "--actions",
    ]);
    try {
      for (const path of SERVE_GETS) {
        const label = `serve GET ${path}`;
        serveLabels.push(label);
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), 1500);
        let body = "";
        try {
          const res = await fetch(new URL(path, serve.url), { signal: controller.signal });
          // /api/events never ends: read what arrives before the abort.
          const reader = res.body?.getReader();
          for (let i = 0; reader !== undefined && i < 50; i++) {
            const chunk = await reader.read();
            if (chunk.done) break;
            body += Buffer.from(chunk.value).toString("utf8");
            if (path === "/api/events" && body.length > 0) break;
          }
          await reader?.cancel().catch(() => undefined);
        } catch (error) {
          body += `(fetch ended: ${String(error)})`;
        } finally {
          clearTimeout(timer);
        }
        world.captures.push({ label, command: "serve", code: 0, stdout: body, stderr: "" });
      }
      const token = readFileSync(join(world.state, "serve.token"), "utf8").trim();
      const label = "serve POST /api/actions/heal";
      serveLabels.push(label);
      const res = await fetch(new URL("/api/actions/heal", serve.url), {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          origin: new URL(serve.url).origin,
        },
        body: JSON.stringify({ service: "exec-stderr", force: true }),
        signal: AbortSignal.timeout(20_000),
      });
      world.captures.push({
        label,
        command: "serve",
        code: res.status,
        stdout: await res.text(),
        stderr: "",
      });
    } finally {
      await serve.stop();
    }

    const add = (leaks: Leak[]): void => {
      for (const leak of leaks) leaksByGroup.set(leak.group, [...(leaksByGroup.get(leak.group) ?? []), leak]);
    };
    for (const c of world.captures) {
      add(scan(c.stdout, `\`upkeep ${c.label}\` stdout`, `output: ${c.label}`));
      add(scan(c.stderr, `\`upkeep ${c.label}\` stderr`, `output: ${c.label}`));
    }
    for (const file of world.writtenFiles()) add(scan(file.text, `file ${file.path}`, fileGroup(file.path)));
    for (const r of world.received) {
      const others = world.plants.filter((p) => p.owner !== r.owner);
      add(
        scan(
          requestText(r),
          `request to stand-in /${r.owner} (${r.method} ${r.url.split("?")[0] ?? ""})`,
          "requests to stand-in endpoints",
          others,
        ),
      );
    }
    const report = process.env.UPKEEP_SECRETS_REPORT;
    if (report !== undefined && report !== "") {
      const all = [...leaksByGroup.values()].flat().map((l) => ({ ...l, place: describePlant(l.secret) }));
      writeFileSync(
        report,
        `${JSON.stringify({ leaks: all, captures: world.captures.map((c) => ({ label: c.label, code: c.code, ms: c.ms })) }, null, 2)}\n`,
      );
    }
  }, 180_000);

  afterAll(async () => {
    if (process.env.UPKEEP_SECRETS_KEEP === "1") return;
    await world.close();
  });

  it("reaches every stand-in endpoint with its own secret (so the search below searches something)", () => {
    const missing = world.plants
      // A refused connection receives nothing, and an HMAC key only ever shows as a signature.
      .filter((p) => p.owner !== undefined && !p.owner.endsWith("refused") && !p.param.includes("HMAC"))
      .filter((p) => !world.received.some((r) => r.owner === p.owner && requestText(r).includes(p.value)))
      .map((p) => describePlant(p.name));
    expect(missing).toEqual([]);
  });

  it("made every planted service fail (each failure mode was exercised)", () => {
    const status = world.captures.find((c) => c.label === "status --format json");
    const doc = JSON.parse(status?.stdout ?? "{}") as { services?: { id: string; status: string }[] };
    const notDown = SERVICES.filter((id) => doc.services?.find((s) => s.id === id)?.status !== "down");
    expect(notDown).toEqual([]);
  });

  it("ran every planned command to completion (no command hung until killed)", () => {
    const killed = world.captures.filter((c) => c.code === null).map((c) => c.label);
    expect(killed).toEqual([]);
  });

  const outputLabels = [
    ...cliPlan("RULES", "STATE").map((s) => s.label),
    "silence remove ID",
    ...SERVE_GETS.map((p) => `serve GET ${p}`),
    "serve POST /api/actions/heal",
    "serve (process output)",
  ];
  it.each(outputLabels)("prints no secret: upkeep %s", (label) => {
    expect(world.captures.some((c) => c.label === label)).toBe(true);
    expect(formatLeaks(leaksByGroup.get(`output: ${label}`) ?? [])).toEqual([]);
  });

  it.each(["state files", "log files", "history database", "metrics file", "HOME, caches and rules folder"])(
    "writes no secret: %s",
    (group) => {
      expect(formatLeaks(leaksByGroup.get(group) ?? [])).toEqual([]);
    },
  );

  it("sends no secret to an endpoint other than its own", () => {
    expect(formatLeaks(leaksByGroup.get("requests to stand-in endpoints") ?? [])).toEqual([]);
  });

  it("wrote the files it is searched for (state, log, history, metrics)", () => {
    const groups = new Set(world.writtenFiles().map((f) => fileGroup(f.path)));
    expect([...groups].sort()).toEqual(
      expect.arrayContaining(["history database", "log files", "metrics file", "state files"]),
    );
  });
});

describe("planted-secrets guard: a new command or handler cannot skip the search", () => {
  const world0 = { rules: "RULES", state: "STATE" };
  it("drives every CLI command in the registry (src/cli/main.ts), or says why not", () => {
    const driven = new Set([
      ...cliPlan(world0.rules, world0.state).map((s) => s.args[0]),
      "serve",
      "silence",
    ]);
    const missing = Object.keys(COMMANDS).filter(
      (name) => !driven.has(name) && !Object.hasOwn(EXEMPT_COMMANDS, name),
    );
    expect(missing).toEqual([]);
    expect(Object.keys(EXEMPT_COMMANDS).filter((name) => !Object.hasOwn(COMMANDS, name))).toEqual([]);
  });

  it("plants a secret for every probe, step and channel in the registry (src/actions/registry.ts), or says why not", async () => {
    const probe = new SecretsWorld();
    try {
      await probe.start();
      const planted = new Set(probe.plants.map((p) => p.handler));
      const all = Object.entries(builtinHandlers).flatMap(([kind, map]) =>
        Object.keys(map).map((name) => `${kind}:${name}`),
      );
      expect(all.filter((h) => !planted.has(h) && !Object.hasOwn(EXEMPT_HANDLERS, h))).toEqual([]);
      expect(Object.keys(EXEMPT_HANDLERS).filter((h) => !all.includes(h))).toEqual([]);
    } finally {
      await probe.close();
    }
  });

  it("exempts only handlers whose parameters cannot hold free text (every string has an enum or a pattern)", () => {
    for (const handler of Object.keys(EXEMPT_HANDLERS)) {
      const [kind, name] = handler.split(":") as [string, string];
      const schema = JSON.parse(
        readFileSync(join(REPO, "schemas", "handlers", kind, `${name}.schema.json`), "utf8"),
      ) as {
        properties?: Record<
          string,
          { type?: string | string[]; enum?: unknown[]; pattern?: string; $ref?: string }
        >;
      };
      const free = Object.entries(schema.properties ?? {}).filter(([, p]) => {
        const types = Array.isArray(p.type) ? p.type : [p.type];
        return types.includes("string") && p.enum === undefined && p.pattern === undefined;
      });
      expect(free.map(([key]) => `${handler}.${key}`)).toEqual([]);
    }
  });
});
