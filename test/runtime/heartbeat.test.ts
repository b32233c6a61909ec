/**
 * runtime.heartbeat end to end in process: `upkeep run` against a real TCP service (up) and a closed
 * port (down), with a real HTTP server on 127.0.0.1 standing in for healthchecks.io, and `upkeep doctor`
 * reading what the tick recorded.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { run } from "../../src/cli/commands/run.js";
import { runDoctor } from "../../src/schedule/doctor.js";
import { defaultFailUrl } from "../../src/runtime/heartbeat.js";
import { startRecorder, type Recorder } from "../actions/channels/recorder.js";
import { freePort, silentServer } from "../actions/helpers.js";

const SECRET = "hb-token-5c1e0a77d2b94f3e";

let root: string;
let rules: string;
let stateDir: string;
let monitor: Recorder;
let up: { port: number; close: () => Promise<void> };
let downPort: number;
const outputs: string[] = [];

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "upkeep-heartbeat-"));
  rules = join(root, "rules");
  stateDir = join(root, "state");
  mkdirSync(rules);
  monitor = await startRecorder(`/ping/${SECRET}`);
  monitor.fallback = { status: 200, body: "OK" };
  up = await silentServer();
  downPort = await freePort();
  vi.stubEnv("HB_URL", monitor.url);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await monitor.close();
  await up.close();
  // Whatever a test printed, logged or stored: the token never appears.
  const stored = existsSync(stateDir) ? readdirSync(stateDir, { recursive: true, encoding: "utf8" }) : [];
  for (const file of stored.filter((f) => f.endsWith(".json")))
    outputs.push(readFileSync(join(stateDir, file), "utf8"));
  const log = join(root, "logs", "upkeep.log");
  if (existsSync(log)) outputs.push(readFileSync(log, "utf8"));
  for (const text of outputs.splice(0)) expect(text).not.toContain(SECRET);
  rmSync(root, { recursive: true, force: true });
});

function writeRules(heartbeat: string, withDown = false): void {
  writeFileSync(
    join(rules, "services.yaml"),
    [
      "version: 1",
      "runtime:",
      `  heartbeat: ${heartbeat}`,
      "services:",
      `  api: { probe: { type: tcp, host: 127.0.0.1, port: ${up.port} } }`,
      ...(withDown
        ? [`  db: { probe: { type: tcp, host: 127.0.0.1, port: ${downPort}, timeout: 500ms } }`]
        : []),
      "",
    ].join("\n"),
  );
}

async function tick(...extra: string[]): Promise<{ code: number; report: { services: { id: string }[] } }> {
  const out: string[] = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((c) => out.push(String(c)) > 0);
  const e = vi.spyOn(process.stderr, "write").mockImplementation((c) => out.push(String(c)) > 0);
  try {
    const code = await run(["--rules", rules, "--state-dir", stateDir, "--format", "json", ...extra]);
    outputs.push(out.join(""));
    return { code, report: JSON.parse(out.join("")) as { services: { id: string }[] } };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

async function doctorCheck(): Promise<{ status: string; message: string } | undefined> {
  const report = await runDoctor({
    rulesDir: rules,
    env: process.env,
    stateDir,
    scheduler: "none",
    label: "com.test.upkeep",
    unit: "upkeep-test",
    home: root,
  });
  const check = report.checks.find((c) => c.id === "heartbeat");
  outputs.push(JSON.stringify(report));
  return check;
}

const lastPing = (): Record<string, unknown> =>
  (JSON.parse(readFileSync(join(stateDir, "heartbeat.json"), "utf8")) as { last: Record<string, unknown> })
    .last;

describe("runtime.heartbeat", () => {
  it("pings the URL with GET after a healthy tick, records it, and doctor says when", async () => {
    writeRules('{ url: "${env:HB_URL}" }');
    expect(await doctorCheck()).toMatchObject({
      status: "skipped",
      message: expect.stringContaining("never pinged"),
    });
    const { code } = await tick();
    expect(code).toBe(0);
    expect(monitor.requests).toHaveLength(1);
    expect(monitor.requests[0]).toMatchObject({ method: "GET", url: `/ping/${SECRET}`, body: "" });
    expect(lastPing()).toMatchObject({ ok: true, signal: "success", status: 200 });
    const check = await doctorCheck();
    expect(check?.status).toBe("ok");
    expect(check?.message).toMatch(/^last ping ok at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(HTTP 200\)$/);
  });

  it("pings <url>/fail when a service is still down, and the tick still exits 1", async () => {
    writeRules('{ url: "${env:HB_URL}" }', true);
    const { code } = await tick();
    expect(code).toBe(1);
    expect(monitor.requests.map((r) => r.url)).toEqual([`/ping/${SECRET}/fail`]);
    expect(lastPing()).toMatchObject({ ok: true, signal: "fail" });
    expect((await doctorCheck())?.message).toContain("last fail ping (a service was down) ok");
  });

  it("POSTs a JSON summary with the ids of the services still down, to a configured failUrl", async () => {
    vi.stubEnv("HB_FAIL", `${monitor.url}/custom-fail`);
    writeRules('{ url: "${env:HB_URL}", failUrl: "${env:HB_FAIL}", method: POST }', true);
    expect((await tick()).code).toBe(1);
    const req = monitor.requests[0];
    expect(req?.method).toBe("POST");
    expect(req?.url).toBe(`/ping/${SECRET}/custom-fail`);
    expect(req?.headers["content-type"]).toBe("application/json");
    expect(monitor.json(0)).toMatchObject({
      source: "upkeep",
      status: "fail",
      summary: "0 healed, 1 failed",
      healed: 0,
      failed: 1,
      down: ["db"],
    });
    expect(req?.body).not.toContain("ECONNREFUSED");
  });

  it("gives up on a monitor that never answers after its timeout: the tick ends with its own result", async () => {
    monitor.reply("hang");
    writeRules('{ url: "${env:HB_URL}", timeout: 300ms }');
    const { code, report } = await tick();
    expect(code).toBe(0);
    expect(report.services.map((s) => s.id)).toEqual(["api"]);
    expect(monitor.requests).toHaveLength(1);
    expect(lastPing()).toMatchObject({ ok: false, signal: "success", error: "timed out after 300 ms" });
    expect((await doctorCheck())?.status).toBe("problem");
  });

  it("a refused connection changes no exit code, and doctor reports the failure with a fix", async () => {
    const closed = await freePort();
    vi.stubEnv("HB_URL", `http://127.0.0.1:${closed}/ping/${SECRET}`);
    writeRules('{ url: "${env:HB_URL}" }', true);
    expect((await tick()).code).toBe(1);
    writeRules('{ url: "${env:HB_URL}" }');
    expect((await tick()).code).toBe(0);
    expect(lastPing()).toMatchObject({ ok: false, error: expect.stringContaining("ECONNREFUSED") });
    const check = await doctorCheck();
    expect(check).toMatchObject({ status: "problem", fix: expect.stringContaining("runtime.heartbeat.url") });
    expect(check?.message).toMatch(/^last ping failed at .*ECONNREFUSED/);
  });

  it("records an unset variable as a failed ping without sending anything", async () => {
    writeRules('{ url: "${env:HB_UNSET_URL}" }');
    expect((await tick()).code).toBe(0);
    expect(monitor.requests).toHaveLength(0);
    expect(lastPing()).toMatchObject({ ok: false, error: "environment variable(s) not set: HB_UNSET_URL" });
  });

  it("a dry run sends nothing and records nothing", async () => {
    writeRules('{ url: "${env:HB_URL}" }', true);
    expect((await tick("--dry-run")).code).toBe(0);
    expect(monitor.requests).toHaveLength(0);
    expect(existsSync(join(stateDir, "heartbeat.json"))).toBe(false);
  });

  it("derives the fail URL healthchecks.io style, keeping a query", () => {
    expect(defaultFailUrl("https://hc-ping.com/abc")).toBe("https://hc-ping.com/abc/fail");
    expect(defaultFailUrl("https://hc-ping.com/abc/")).toBe("https://hc-ping.com/abc/fail");
    expect(defaultFailUrl("https://kuma.example/api/push/x?status=up")).toBe(
      "https://kuma.example/api/push/x/fail?status=up",
    );
  });
});
