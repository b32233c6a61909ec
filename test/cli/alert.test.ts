import { createHmac } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { run } from "../../src/cli/commands/alert.js";
import { startRecorder, type Recorder } from "../actions/channels/recorder.js";

const TOKEN = "alert-test-token-77aa88bb99cc";
const HMAC_KEY = "alert-test-hmac-key-0246";

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}
const captured: string[] = [];

async function cli(argv: string[]): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => out.push(String(chunk)) > 0);
  const e = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => err.push(String(chunk)) > 0);
  try {
    const code = await run([...argv, "--rules", rules, "--state-dir", stateDir], env);
    captured.push(out.join(""), err.join(""));
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

let root: string;
let rules: string;
let stateDir: string;
let hook: Recorder;
let discord: Recorder;
let env: Record<string, string>;

beforeEach(async () => {
  hook = await startRecorder();
  discord = await startRecorder("/api/webhooks/1");
  root = mkdtempSync(join(tmpdir(), "upkeep-alert-cli-"));
  rules = join(root, "rules");
  stateDir = join(root, "state");
  env = { HOOK_URL: `${hook.url}/${TOKEN}`, HOOK_SECRET: HMAC_KEY, DISCORD_URL: `${discord.url}/${TOKEN}` };
  mkdirSync(rules);
  writeFileSync(
    join(rules, "services.yaml"),
    "version: 1\nservices:\n  api:\n    probe: { type: tcp, port: 8080 }\n",
  );
  writeFileSync(
    join(rules, "alerts.yaml"),
    [
      "version: 1",
      "channels:",
      "  log: { type: log }",
      '  hook: { type: webhook, with: { url: "${env:HOOK_URL}", secret: "${env:HOOK_SECRET}", timeout: 2s } }',
      '  discord: { type: discord, with: { url: "${env:DISCORD_URL}", username: upkeep } }',
      '  pager: { type: slack, with: { url: "${env:PAGER_URL}" } }',
      "levels:",
      "  CRITICAL: { threshold: 3, cooldown: 1h, channels: [discord, log] }",
      "  WARNING: { threshold: 5, cooldown: 2h, channels: [hook, pager] }",
      "rules:",
      "  down: { level: CRITICAL, when: { '==': [{ var: status }, down] } }",
      "",
    ].join("\n"),
  );
});
afterEach(async () => {
  await hook.close();
  await discord.close();
  rmSync(root, { recursive: true, force: true });
});

describe("upkeep alert test", () => {
  it("sends a signed sample through a webhook channel at the level that uses it, and says so", async () => {
    const result = await cli(["test", "hook"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `Sent a sample WARNING alert via hook (webhook): POST notification JSON to http://127.0.0.1:${hook.port}/..., signed\n  sent: HTTP 204\n`,
    );
    expect(hook.requests).toHaveLength(1);
    const req = hook.requests[0];
    expect(req?.headers["x-upkeep-signature"]).toBe(
      `sha256=${createHmac("sha256", HMAC_KEY)
        .update(req?.body ?? "")
        .digest("hex")}`,
    );
    const body = hook.json(0) as {
      events: { level: string; kind: string; serviceTitle: string; message: string }[];
    };
    expect(body.events).toEqual([
      expect.objectContaining({ level: "WARNING", kind: "firing", serviceTitle: "upkeep test alert" }),
    ]);
    expect(body.events[0]?.message).toMatch(/^\[WARNING\] upkeep test alert is down: this is a sample alert/);
    // Real send, outside the outbox: nothing is queued or stored.
    expect(existsSync(join(stateDir, "outbox.json"))).toBe(false);
  });

  it("sends a Discord-shaped sample (red embed for CRITICAL, green for --resolved) and JSON on request", async () => {
    const json = await cli(["test", "discord", "--format", "json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      channel: "discord",
      type: "discord",
      level: "CRITICAL",
      status: "sent",
      detail: "HTTP 204",
    });
    expect((discord.json(0)["embeds"] as { color: number }[])[0]?.color).toBe(0xed4245);
    expect((await cli(["test", "discord", "--resolved"])).code).toBe(0);
    expect((discord.json(1)["embeds"] as { color: number; title: string }[])[0]).toMatchObject({
      color: 0x57f287,
      title: "Resolved: upkeep test alert is up again",
    });
  });

  it("exits 1 when the endpoint fails or the channel cannot be used, without queueing", async () => {
    hook.reply({ status: 500, body: "boom" }, { status: 403, body: "forbidden" });
    const failed = await cli(["test", "hook"]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("  failed: HTTP 500 boom (a tick would retry it later)\n");
    const refused = await cli(["test", "hook"]);
    expect(refused.stdout).toContain(
      "  failed: HTTP 403 forbidden (not retryable: check the channel's settings)\n",
    );
    const unusable = await cli(["test", "pager"]);
    expect(unusable.code).toBe(1);
    expect(unusable.stdout).toBe(
      "Could not send a sample WARNING alert via pager (slack)\n  unusable: environment variable(s) not set: PAGER_URL\n",
    );
    expect(existsSync(join(stateDir, "outbox.json"))).toBe(false);
  });

  it("exits 2 for an unknown channel or level, with did-you-mean", async () => {
    const unknown = await cli(["test", "hok"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      'upkeep alert: unknown channel "hok" (did you mean "hook"?); channels: log, hook, discord, pager\n',
    );
    const level = await cli(["test", "hook", "--level", "WARNNG"]);
    expect(level.code).toBe(2);
    expect(level.stderr).toContain('unknown level "WARNNG" (did you mean "WARNING"?)');
    expect((await cli(["tset", "hook"])).code).toBe(2);
    expect((await cli(["test"])).code).toBe(2);
    expect(hook.requests).toHaveLength(0);
  });

  it("never prints or logs a secret, even when the endpoint echoes it", async () => {
    hook.reply({ status: 400, body: `no route for /hook/${TOKEN} (key ${HMAC_KEY})` });
    const result = await cli(["test", "hook"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("[REDACTED]");
    await cli(["test", "discord", "--format", "json"]);
    const log = readFileSync(join(root, "logs", "upkeep.log"), "utf8");
    expect(log).toContain("alert test");
    for (const text of [...captured, log]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(HMAC_KEY);
    }
  });
});
