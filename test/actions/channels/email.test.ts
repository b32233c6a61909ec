import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { emailChannel as impl, type EmailChannelParams } from "../../../src/actions/channels/email.js";
import type { ChannelHandler } from "../../../src/actions/types.js";
import { run as alertCli } from "../../../src/cli/commands/alert.js";
import { runMain } from "../../schedule/helpers.js";
import { makeContext, never, settings } from "../helpers.js";
import { alertEvent, frozenClock, notificationOf } from "./recorder.js";
import { header, readable, selfSignedCert, startSmtp, type SmtpStandIn } from "./smtp.js";

const email: ChannelHandler<EmailChannelParams> = impl;
const PASSWORD = "smtp-pass-9d8c7b6a5f4e";

const servers: SmtpStandIn[] = [];
const roots: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

async function smtp(options: Parameters<typeof startSmtp>[0] = {}): Promise<SmtpStandIn> {
  const server = await startSmtp(options);
  servers.push(server);
  return server;
}

const ctx = (events = [alertEvent()]) =>
  makeContext({ clock: frozenClock(), notification: notificationOf(events, "mail") });

/** A plain local relay: no TLS offered, so the test opts out of requireTLS. */
const plain = (port: number, extra: Partial<EmailChannelParams> = {}): EmailChannelParams => ({
  host: "127.0.0.1",
  port,
  requireTLS: false,
  from: "upkeep <upkeep@example.test>",
  to: ["ops@example.test", "oncall@example.test"],
  timeout: "3s",
  ...extra,
});

/** A port nothing listens on (taken, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const cert = selfSignedCert();

describe("email channel", () => {
  it("sends one mail: From, To, the headline subject, a plain-text and an HTML body", async () => {
    const server = await smtp();
    const result = await email.run(ctx(), plain(server.port), never());
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(/^SMTP 250 /);
    expect(server.messages).toHaveLength(1);
    const mail = server.messages[0]!;
    expect(mail.from).toBe("upkeep@example.test");
    expect(mail.to).toEqual(["ops@example.test", "oncall@example.test"]);
    expect(header(mail.raw, "From")).toBe("upkeep <upkeep@example.test>");
    expect(header(mail.raw, "To")).toBe("ops@example.test, oncall@example.test");
    expect(header(mail.raw, "Subject")).toBe("[upkeep] CRITICAL: Boss API is down");
    expect(header(mail.raw, "X-Upkeep-Notification")).toBe("n-1234");
    expect(mail.raw).toContain("Content-Type: text/plain");
    expect(mail.raw).toContain("Content-Type: text/html");
    const body = readable(mail.raw);
    expect(body).toContain("  Boss API is down: connect ECONNREFUSED 127.0.0.1:4000 (3 failed checks)");
    expect(body).toContain("  Failed checks: 3");
    expect(body).toContain("<h2>CRITICAL: Boss API is down</h2>");
    expect(body).toContain('<tr><th align="left">Heal</th><td>heal failed: verify failed</td></tr>');
  });

  it("counts a group in the subject, lists every alert, and escapes HTML in names and messages", async () => {
    const server = await smtp();
    const events = [
      alertEvent({
        serviceTitle: "<b>Boss</b> & co",
        message: '[CRITICAL] <script>alert("x")</script> is down',
      }),
      alertEvent({
        kind: "resolved",
        facts: { ...alertEvent().facts, status: "up" },
        serviceTitle: "Health Proxy",
        message: "[RESOLVED] Health Proxy is up again",
      }),
    ];
    const result = await email.run(
      ctx(events),
      plain(server.port, { subject: "{count} from {host}: {headline}" }),
      never(),
    );
    expect(result.ok).toBe(true);
    const mail = server.messages[0]!;
    expect(header(mail.raw, "Subject")).toMatch(/^2 from .+: 2 alerts: 1 CRITICAL firing, 1 resolved$/);
    const body = readable(mail.raw);
    expect(body).toContain("<h3>CRITICAL: &lt;b&gt;Boss&lt;/b&gt; &amp; co is down</h3>");
    expect(body).toContain("<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; is down</p>");
    expect(body).toContain("<h3>Resolved: Health Proxy is up again</h3>");
    expect(body.slice(body.indexOf("Content-Type: text/html"))).not.toContain("<script>alert");
    // The plain part keeps the text as written.
    expect(body).toContain('  <script>alert("x")</script> is down');
  });

  it("logs in with AUTH and never shows the password, even when the server echoes it", async () => {
    const server = await smtp({ auth: { username: "upkeep", password: PASSWORD }, echo: true });
    const ok = await email.run(
      ctx(),
      plain(server.port, { username: "upkeep", password: PASSWORD }),
      never(),
    );
    expect(ok.ok).toBe(true);
    expect(server.auths).toEqual([
      { method: "PLAIN", username: "upkeep", password: PASSWORD, accepted: true },
    ]);
    expect(server.messages[0]?.user).toBe("upkeep");
    expect(JSON.stringify(ok)).not.toContain(PASSWORD);

    const wrong = await email.run(
      ctx(),
      plain(server.port, { username: "upkeep", password: `${PASSWORD}-old` }),
      never(),
    );
    expect(wrong).toMatchObject({ ok: false, retryable: false });
    expect(wrong.detail).toContain("535");
    expect(JSON.stringify(wrong)).not.toContain(PASSWORD);
  });

  it("refuses to send in clear by default when the server offers no STARTTLS", async () => {
    const server = await smtp({ auth: { username: "upkeep", password: PASSWORD } });
    const { requireTLS: _, ...params } = plain(server.port, { username: "upkeep", password: PASSWORD });
    const result = await email.run(ctx(), params, never());
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/STARTTLS/i);
    expect(server.auths).toEqual([]);
    expect(server.messages).toEqual([]);
  });

  describe.skipIf(cert === undefined)("with TLS (self-signed certificate from openssl)", () => {
    it("upgrades with STARTTLS and accepts the certificate with insecure: true", async () => {
      const server = await smtp({ tls: cert!, auth: { username: "upkeep", password: PASSWORD } });
      const { requireTLS: _, ...params } = plain(server.port, { username: "upkeep", password: PASSWORD });
      const result = await email.run(ctx(), { ...params, insecure: true }, never());
      expect(result.ok).toBe(true);
      expect(server.messages[0]?.secure).toBe(true);
    });

    it("refuses the self-signed certificate without insecure, not retryable, before AUTH", async () => {
      const server = await smtp({ tls: cert!, auth: { username: "upkeep", password: PASSWORD } });
      const { requireTLS: _, ...params } = plain(server.port, { username: "upkeep", password: PASSWORD });
      const result = await email.run(ctx(), params, never());
      expect(result).toMatchObject({ ok: false, retryable: false });
      expect(result.detail).toMatch(/certificate/);
      expect(result.detail).toContain("insecure: true");
      expect(server.auths).toEqual([]);
    });

    it("speaks TLS from the first byte with secure: true", async () => {
      const server = await smtp({ tls: { ...cert!, implicit: true } });
      const result = await email.run(ctx(), { ...plain(server.port), secure: true, insecure: true }, never());
      expect(result.ok).toBe(true);
      expect(server.messages[0]?.secure).toBe(true);
    });
  });
  it.skipIf(cert !== undefined)(
    "TLS cases need openssl to make a self-signed certificate (not found)",
    () => {
      expect(cert).toBeUndefined();
    },
  );

  it("a 5xx rejection is permanent, a 4xx one is retried; the detail quotes the server", async () => {
    const server = await smtp();
    server.reject = [550, "5.1.1 mailbox unavailable"];
    const permanent = await email.run(ctx(), plain(server.port), never());
    expect(permanent).toEqual({
      ok: false,
      detail: "SMTP 550 5.1.1 mailbox unavailable (after RCPT)",
      retryable: false,
    });
    server.reject = [451, "4.3.0 try again later"];
    const transient = await email.run(ctx(), plain(server.port), never());
    expect(transient).toEqual({
      ok: false,
      detail: "SMTP 451 4.3.0 try again later (after RCPT)",
      retryable: true,
    });
    expect(server.messages).toEqual([]);
  });

  it("a server that is down or never answers is retried", async () => {
    const refused = await email.run(ctx(), plain(await freePort()), never());
    expect(refused).toMatchObject({ ok: false, retryable: true });
    expect(refused.detail).toMatch(/ECONNREFUSED/);

    // Accepts the connection and never sends its greeting.
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const hung = await email.run(ctx(), plain(port, { timeout: "300ms" }), never());
      expect(hung).toMatchObject({ ok: false, retryable: true });
      expect(hung.detail).toMatch(/greeting|timeout/i);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("refuses bad parameters without connecting", async () => {
    const result = await email.run(ctx(), { ...plain(1), to: [] }, never());
    expect(result).toEqual({
      ok: false,
      detail: "invalid parameter to: is not an address or a non-empty list of addresses",
      retryable: false,
    });
    const half = await email.run(ctx(), { ...plain(1), username: "upkeep" }, never());
    expect(half).toMatchObject({ ok: false, retryable: false, detail: expect.stringContaining("password") });
  });

  it("describes where it sends, without credentials", () => {
    expect(
      email.describe(
        {
          host: "smtp.example.com",
          from: "a@example.com",
          to: ["x@example.com", "y@example.com"],
          password: PASSWORD,
        },
        { settings },
      ),
    ).toBe("SMTP smtp.example.com:587 to x@example.com, y@example.com");
    expect(
      email.describe(
        { host: "smtp.example.com", secure: true, from: "a@b", to: "x@example.com" },
        { settings },
      ),
    ).toBe("SMTP smtp.example.com:465 to x@example.com");
  });
});

function rulesDir(root: string, channel: string, extraRuntime: string[] = []): string {
  const rules = join(root, "rules");
  mkdirSync(rules);
  writeFileSync(
    join(rules, "services.yaml"),
    [
      "version: 1",
      "runtime:",
      `  stateDir: ${JSON.stringify(join(root, "state"))}`,
      `  logFile: ${JSON.stringify(join(root, "upkeep.log"))}`,
      ...extraRuntime,
      "services:",
      "  web:",
      `    probe: { type: tcp, host: 127.0.0.1, port: 1, timeout: 1s }`,
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(rules, "alerts.yaml"),
    [
      "version: 1",
      "channels:",
      `  mail: ${channel}`,
      "levels:",
      "  CRITICAL: { threshold: 1, cooldown: 1h, channels: [mail] }",
      "rules:",
      "  down: { level: CRITICAL, when: { '==': [{ var: status }, down] } }",
      "",
    ].join("\n"),
  );
  return rules;
}

describe("upkeep with an email channel", () => {
  it("alert test MAIL sends a sample through SMTP AUTH and never prints the password", async () => {
    const server = await smtp({ auth: { username: "upkeep", password: PASSWORD } });
    const root = mkdtempSync(join(tmpdir(), "upkeep-email-cli-"));
    roots.push(root);
    const rules = rulesDir(
      root,
      `{ type: email, with: { host: 127.0.0.1, port: ${server.port}, requireTLS: false, username: upkeep, password: "\${env:SMTP_PASSWORD}", from: upkeep@example.test, to: ops@example.test, timeout: 3s } }`,
    );
    const out: string[] = [];
    const o = vi.spyOn(process.stdout, "write").mockImplementation((c) => out.push(String(c)) > 0);
    const e = vi.spyOn(process.stderr, "write").mockImplementation((c) => out.push(String(c)) > 0);
    let codes: number[];
    try {
      const argv = ["test", "mail", "--rules", rules, "--state-dir", join(root, "state")];
      codes = [
        await alertCli(argv, { SMTP_PASSWORD: `${PASSWORD}-wrong` }),
        await alertCli(argv, { SMTP_PASSWORD: PASSWORD }),
      ];
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
    expect(codes).toEqual([1, 0]);
    const text = out.join("");
    expect(text).toContain(
      `Sent a sample CRITICAL alert via mail (email): SMTP 127.0.0.1:${server.port} to ops@example.test`,
    );
    expect(text).toContain("535");
    expect(text).not.toContain(PASSWORD);
    expect(server.auths.map((a) => a.accepted)).toEqual([false, true]);
    expect(server.messages).toHaveLength(1);
    expect(header(server.messages[0]!.raw, "Subject")).toMatch(/^\[upkeep\] /);
  });

  it("upkeep run queues the notice while the server is down; a later run delivers it", async () => {
    const port = await freePort();
    const root = mkdtempSync(join(tmpdir(), "upkeep-email-run-"));
    roots.push(root);
    const rules = rulesDir(
      root,
      `{ type: email, with: { host: 127.0.0.1, port: ${port}, requireTLS: false, from: upkeep@example.test, to: ops@example.test, timeout: 2s } }`,
    );
    const outboxFile = join(root, "state", "outbox.json");
    type Outbox = {
      entries: { channel: string; attempts: number; nextAttemptAt: number; lastError: string }[];
    };
    const outbox = (): Outbox => JSON.parse(readFileSync(outboxFile, "utf8")) as Outbox;

    const first = await runMain(["run", "--rules", rules]);
    expect(first.code).not.toBe(2);
    expect(outbox().entries).toEqual([
      expect.objectContaining({
        channel: "mail",
        attempts: 1,
        lastError: expect.stringMatching(/ECONNREFUSED/),
      }),
    ]);

    // The server comes up; the entry's backoff (1 min) is made due, as if that minute had passed.
    const server = await smtp({ port });
    const doc = JSON.parse(readFileSync(outboxFile, "utf8")) as Outbox & Record<string, unknown>;
    writeFileSync(
      outboxFile,
      JSON.stringify({ ...doc, entries: doc.entries.map((en) => ({ ...en, nextAttemptAt: 0 })) }),
    );

    const second = await runMain(["run", "--rules", rules]);
    expect(second.code).not.toBe(2);
    expect(server.messages).toHaveLength(1);
    expect(header(server.messages[0]!.raw, "Subject")).toMatch(/^\[upkeep\] CRITICAL: web is down/);
    expect(outbox().entries).toEqual([]);
  });
});
