/**
 * The tls probe against a real TLS server on 127.0.0.1 that picks its certificate by SNI. The
 * certificates are made here with openssl: a test CA, and leaves it signs with exact dates through
 * `openssl ca -startdate/-enddate` (works on OpenSSL 1.1 and 3.x, unlike `req -not_after`, which needs
 * 3.4): one valid for 90 days, one expiring in 2 days, one expired 30 days ago, one for another host
 * name. Without openssl the suite is skipped with that reason.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecureContext, createServer, type SecureContext, type Server } from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tlsProbe } from "../../../src/actions/probes/tls.js";
import { loadRules } from "../../../src/config/validate.js";
import { systemClock, type Clock } from "../../../src/runtime/clock.js";
import { freePort, makeContext, never } from "../helpers.js";

const run = promisify(execFile);
const DAY = 86_400_000;
const HOUR = 3_600_000;
/** The system clock, read at a fixed time: the probe's day count uses only ctx.clock. */
const fixedClock = (at: number): Clock => ({ ...systemClock, now: () => at });

async function opensslMissing(): Promise<string | undefined> {
  try {
    await run("openssl", ["version"], { timeout: 10_000 });
    return undefined;
  } catch {
    return "openssl is not installed";
  }
}
const missing = await opensslMissing();
if (missing !== undefined) console.warn(`tls probe: skipped: ${missing}`);

/** `openssl ca` date form (GeneralizedTime). */
const asn1 = (ms: number): string =>
  `${new Date(ms)
    .toISOString()
    .replace(/[-:T]/g, "")
    .replace(/\.\d+Z$/, "")}Z`;

interface Leaf {
  readonly key: string;
  readonly cert: string;
  readonly notAfter: number;
}

async function makeCertificates(dir: string, now: number): Promise<Record<string, Leaf>> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", [
    "req", "-x509", ...ec, "-days", "365", "-subj", "/CN=upkeep test CA",
    "-keyout", join(dir, "ca.key"), "-out", join(dir, "ca.pem"),
  ]); // prettier-ignore
  mkdirSync(join(dir, "issued"));
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "serial"), "1000\n");
  writeFileSync(
    join(dir, "ca.cnf"),
    [
      "[ca]", "default_ca = test_ca",
      "[test_ca]", `database = ${join(dir, "index.txt")}`, `new_certs_dir = ${join(dir, "issued")}`,
      `serial = ${join(dir, "serial")}`, "default_md = sha256", "policy = any", "unique_subject = no",
      "[any]", "commonName = supplied",
      "[localhost]", "basicConstraints = CA:false", "subjectAltName = DNS:localhost,IP:127.0.0.1",
      "[other]", "basicConstraints = CA:false", "subjectAltName = DNS:other.example",
      "",
    ].join("\n"),
  ); // prettier-ignore
  const leaf = async (name: string, ext: string, from: number, to: number): Promise<Leaf> => {
    const key = join(dir, `${name}.key`);
    const csr = join(dir, `${name}.csr`);
    const cert = join(dir, `${name}.pem`);
    await run("openssl", ["req", "-new", ...ec, "-subj", `/CN=${name}`, "-keyout", key, "-out", csr]);
    await run("openssl", [
      "ca", "-batch", "-notext", "-config", join(dir, "ca.cnf"), "-cert", join(dir, "ca.pem"),
      "-keyfile", join(dir, "ca.key"), "-in", csr, "-out", cert, "-extensions", ext,
      "-startdate", asn1(from), "-enddate", asn1(to),
    ]); // prettier-ignore
    return {
      key: readFileSync(key, "utf8"),
      cert: readFileSync(cert, "utf8"),
      notAfter: Math.floor(to / 1000) * 1000,
    };
  };
  // An hour past whole days, so "in N days" does not depend on how long the suite takes.
  return {
    valid: await leaf("localhost", "localhost", now - DAY, now + 90 * DAY + HOUR),
    soon: await leaf("localhost", "localhost", now - DAY, now + 2 * DAY + HOUR),
    expired: await leaf("localhost", "localhost", now - 60 * DAY, now - 30 * DAY - HOUR),
    wrong: await leaf("other.example", "other", now - DAY, now + 90 * DAY + HOUR),
  };
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

describe.skipIf(missing !== undefined)(
  `tls probe against a local TLS server${missing ? ` (${missing})` : ""}`,
  () => {
    let dir = "";
    let server: Server | undefined;
    let port = 0;
    let leaves: Record<string, Leaf> = {};
    let ca = "";
    /** The SNI name picks the certificate: valid.test, soon.test, expired.test, wrong.test; none gets valid. */
    const probe = (servername: string | undefined, extra: Record<string, unknown> = {}) =>
      tlsProbe.run(
        makeContext(),
        {
          host: "127.0.0.1",
          port,
          ...(servername ? { servername } : {}),
          ca,
          checkHostname: false,
          ...extra,
        },
        never(),
      );

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "upkeep-tls-probe-"));
      ca = join(dir, "ca.pem");
      leaves = await makeCertificates(dir, Date.now());
      const contexts = new Map<string, SecureContext>(
        Object.entries(leaves).map(([name, l]) => [
          `${name}.test`,
          createSecureContext({ key: l.key, cert: l.cert }),
        ]),
      );
      const valid = leaves["valid"] as Leaf;
      server = createServer({
        key: valid.key,
        cert: valid.cert,
        SNICallback: (name, done) =>
          done(null, contexts.get(name) ?? (contexts.get("valid.test") as SecureContext)),
      });
      server.on("tlsClientError", () => undefined);
      await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
      port = (server.address() as AddressInfo).port;
    }, 60_000);

    afterAll(async () => {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("passes a trusted certificate with time left, and reports its days, expiry and issuer", async () => {
      const result = await probe("valid.test");
      const notAfter = (leaves["valid"] as Leaf).notAfter;
      expect(result).toMatchObject({
        ok: true,
        detail: `certificate for valid.test expires in 90 days (${day(notAfter)})`,
        facts: {
          daysLeft: 90,
          notAfter: new Date(notAfter).toISOString(),
          issuer: "CN=upkeep test CA",
          subject: "CN=localhost",
          trusted: true,
        },
      });
    });

    it("fails a certificate that expires within minDaysLeft (default 14), and passes it with a lower minimum", async () => {
      const notAfter = (leaves["soon"] as Leaf).notAfter;
      const result = await probe("soon.test");
      expect(result).toMatchObject({
        ok: false,
        detail: `certificate for soon.test expires in 2 days (${day(notAfter)}), less than 14 days`,
        facts: { daysLeft: 2 },
      });
      expect((await probe("soon.test", { minDaysLeft: 1 })).ok).toBe(true);
      expect((await probe("valid.test", { minDaysLeft: 91 })).ok).toBe(false);
    });

    it("fails an expired certificate with when it expired, even when insecure accepts untrusted ones", async () => {
      const notAfter = (leaves["expired"] as Leaf).notAfter;
      const detail = `certificate for expired.test expired 30 days ago (${day(notAfter)})`;
      expect(await probe("expired.test")).toMatchObject({ ok: false, detail, facts: { daysLeft: -31 } });
      expect(await probe("expired.test", { insecure: true })).toMatchObject({ ok: false, detail });
    });

    it("checks the host name against the certificate (SNI name, or the IP address without one)", async () => {
      const wrong = await tlsProbe.run(
        makeContext(),
        { host: "127.0.0.1", port, servername: "wrong.test", ca },
        never(),
      );
      expect(wrong.ok).toBe(false);
      expect(wrong.detail).toMatch(
        /^certificate for wrong\.test does not match: .*wrong\.test.*other\.example/,
      );
      expect(wrong.facts).toMatchObject({ hostnameMatch: false, trusted: true });
      // No servername: no SNI, the default certificate, checked against the IP address it names.
      const byIp = await tlsProbe.run(makeContext(), { host: "127.0.0.1", port, ca }, never());
      expect(byIp).toMatchObject({ ok: true, facts: { hostnameMatch: true } });
      expect(byIp.detail).toMatch(/^certificate for 127\.0\.0\.1 expires in 90 days/);
      const unchecked = await tlsProbe.run(
        makeContext(),
        { host: "127.0.0.1", port, servername: "wrong.test", ca, checkHostname: false },
        never(),
      );
      expect(unchecked.ok).toBe(true);
    });

    it("refuses a certificate no trusted CA signed unless insecure is set", async () => {
      const ctx = makeContext();
      const untrusted = await tlsProbe.run(ctx, { host: "127.0.0.1", port, checkHostname: false }, never());
      expect(untrusted).toMatchObject({ ok: false, facts: { trusted: false, daysLeft: 90 } });
      expect(untrusted.detail).toMatch(
        /^certificate for 127\.0\.0\.1 is not trusted: (UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/,
      );
      const insecure = await tlsProbe.run(ctx, { host: "127.0.0.1", port, insecure: true }, never());
      expect(insecure).toMatchObject({ ok: true, facts: { trusted: false, hostnameMatch: true } });
    });

    it("counts days from the injected clock", async () => {
      const notAfter = (leaves["valid"] as Leaf).notAfter;
      const ctx = makeContext({ clock: fixedClock(notAfter - 10 * DAY - HOUR) });
      const result = await tlsProbe.run(
        ctx,
        { host: "127.0.0.1", port, servername: "valid.test", ca, checkHostname: false, minDaysLeft: 10 },
        never(),
      );
      expect(result).toMatchObject({ ok: true, facts: { daysLeft: 10 } });
      const later = makeContext({ clock: fixedClock(notAfter - 10 * DAY + HOUR) });
      const failing = await tlsProbe.run(
        later,
        { host: "127.0.0.1", port, servername: "valid.test", ca, checkHostname: false, minDaysLeft: 10 },
        never(),
      );
      expect(failing).toMatchObject({ ok: false, facts: { daysLeft: 9 } });
    });

    it("fails without a handshake: nothing listening, not TLS, an unreadable ca, bad parameters", async () => {
      const closed = await freePort();
      expect(await tlsProbe.run(makeContext(), { host: "127.0.0.1", port: closed }, never())).toMatchObject({
        ok: false,
        detail: `tls ECONNREFUSED 127.0.0.1:${closed}`,
      });
      expect(
        await tlsProbe.run(makeContext(), { host: "127.0.0.1", port, ca: join(dir, "nope.pem") }, never()),
      ).toMatchObject({ ok: false, detail: `cannot read ca ${join(dir, "nope.pem")}: ENOENT` });
      expect(await tlsProbe.run(makeContext(), { host: "127.0.0.1", port: 0 }, never())).toMatchObject({
        ok: false,
        latencyMs: 0,
        detail: "invalid parameter port: 0 is not an integer in 1..65535",
      });
    });

    it("stops at the probe's deadline", async () => {
      const controller = new AbortController();
      controller.abort();
      expect(await tlsProbe.run(makeContext(), { host: "127.0.0.1", port }, controller.signal)).toMatchObject(
        {
          ok: false,
          detail: "aborted",
        },
      );
    });
  },
);

describe("tls probe in the rules", () => {
  it("validate points at a bad port and a negative minDaysLeft", async () => {
    const root = mkdtempSync(join(tmpdir(), "upkeep-tls-rules-"));
    try {
      const probe = "{ type: tls, host: example.com, port: 70000, minDaysLeft: -1 }";
      writeFileSync(join(root, "services.yaml"), `version: 1\nservices:\n  site:\n    probe: ${probe}\n`);
      const { diagnostics } = await loadRules(root, { env: {} });
      const at = (text: string): number => "    probe: ".length + probe.indexOf(text) + 1;
      expect(diagnostics.map((d) => [d.code, d.line, d.column, d.pointer])).toEqual([
        ["port-range", 4, at("70000"), "/services/site/probe/port"],
        ["out-of-range", 4, at("-1"), "/services/site/probe/minDaysLeft"],
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("describes the check for plan and dry-run", () => {
    expect(tlsProbe.describe({ host: "example.com", minDaysLeft: 21 })).toBe(
      "tls certificate of example.com:443 valid for 21+ days",
    );
  });
});
