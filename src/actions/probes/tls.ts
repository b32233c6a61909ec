/**
 * tls: one TLS handshake; passes when the certificate is trusted, names the host and does not expire
 * within minDaysLeft. The handshake never rejects by itself (rejectUnauthorized off, identity check
 * off): the probe judges the certificate it got, so an expired or untrusted one still reports its dates
 * and issuer instead of a bare handshake error.
 */
import type { PeerCertificate, TLSSocket } from "node:tls";
import { formatDuration } from "../../duration.js";
import {
  abortDetail,
  expandHome,
  loadSchema,
  optionalString,
  paramFailure,
  ParamError,
  requireString,
  toBoolean,
  toInteger,
  toNumber,
} from "../support.js";
import type { ProbeHandler, ProbeResult } from "../types.js";
import { stopwatch } from "../../runtime/stopwatch.js";

export type TlsProbeParams = {
  host: string;
  /** Default 443. */
  port?: number | string;
  /** SNI and the name checked against the certificate; default host. */
  servername?: string;
  /** Fail when the certificate expires within this many days; default 14. */
  minDaysLeft?: number | string;
  /** Default true. */
  checkHostname?: boolean | string;
  /** Accept a certificate no trusted CA signed (self-signed); expiry and hostname are still checked. */
  insecure?: boolean | string;
  /** PEM file of extra CA certificates to trust besides Node's bundled ones. */
  ca?: string;
};

const DAY_MS = 86_400_000;

interface Settings {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly sni: string | undefined;
  readonly minDaysLeft: number;
  readonly checkHostname: boolean;
  readonly insecure: boolean;
  readonly ca: string | undefined;
}

function settingsOf(params: TlsProbeParams, isIP: (host: string) => number): Settings {
  const host = requireString(params.host, "host");
  const port = params.port === undefined ? 443 : toInteger(params.port, "port", 1, 65535);
  const servername = optionalString(params.servername, "servername");
  const minDaysLeft = params.minDaysLeft === undefined ? 14 : toNumber(params.minDaysLeft, "minDaysLeft");
  if (minDaysLeft < 0) throw new ParamError("minDaysLeft", `${minDaysLeft} is below 0`);
  const ca = optionalString(params.ca, "ca");
  // RFC 6066 forbids an IP address as SNI (Node warns): an IP host sends none unless servername says.
  const sni = servername ?? (isIP(host) === 0 ? host : undefined);
  return {
    host,
    port,
    name: servername ?? host,
    sni,
    minDaysLeft,
    checkHostname: toBoolean(params.checkHostname, "checkHostname", true),
    insecure: toBoolean(params.insecure, "insecure", false),
    ca: ca === undefined ? undefined : expandHome(ca),
  };
}

/** `CN=Example CA, O=Example`: the names as a person reads them in a browser's certificate viewer. */
function distinguishedName(name: PeerCertificate["issuer"] | undefined): string {
  if (name === undefined || name === null) return "";
  return Object.entries(name)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join("+") : String(value)}`)
    .join(", ");
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const days = (n: number): string => `${n} day${n === 1 ? "" : "s"}`;

/** `in 42 days`, `in 5h`: under a day the days would read "0". */
function until(ms: number): string {
  return ms >= DAY_MS ? days(Math.floor(ms / DAY_MS)) : formatDuration(ms);
}

/** The certificate the peer sent, judged against the settings at `now`. */
function judge(
  cert: PeerCertificate,
  socket: TLSSocket,
  s: Settings,
  now: number,
  checkServerIdentity: (name: string, cert: PeerCertificate) => Error | undefined,
): { ok: boolean; detail: string; facts: Record<string, unknown> } {
  const notAfter = Date.parse(cert.valid_to);
  const notBefore = Date.parse(cert.valid_from);
  const leftMs = notAfter - now;
  const daysLeft = Math.floor(leftMs / DAY_MS);
  const identity = s.checkHostname ? checkServerIdentity(s.name, cert) : undefined;
  const chainError = socket.authorized ? undefined : String(socket.authorizationError ?? "untrusted");
  const facts = {
    host: s.host,
    port: s.port,
    servername: s.name,
    daysLeft,
    notAfter: new Date(notAfter).toISOString(),
    notBefore: new Date(notBefore).toISOString(),
    issuer: distinguishedName(cert.issuer),
    subject: distinguishedName(cert.subject),
    trusted: chainError === undefined,
    hostnameMatch: identity === undefined,
    fingerprint256: cert.fingerprint256,
  };
  const subject = `certificate for ${s.name}`;
  const fail = (detail: string) => ({ ok: false, detail, facts });
  if (leftMs <= 0) return fail(`${subject} expired ${until(-leftMs)} ago (${day(notAfter)})`);
  if (notBefore > now) return fail(`${subject} is not valid before ${day(notBefore)}`);
  if (chainError !== undefined && !s.insecure) return fail(`${subject} is not trusted: ${chainError}`);
  if (identity !== undefined) return fail(`${subject} does not match: ${identity.message}`);
  const expires = `${subject} expires in ${until(leftMs)} (${day(notAfter)})`;
  if (leftMs < s.minDaysLeft * DAY_MS) return fail(`${expires}, less than ${days(s.minDaysLeft)}`);
  return { ok: true, detail: expires, facts };
}

export const tlsProbe = {
  name: "tls",
  kind: "probe",
  description:
    "Opens a TLS connection; passes when the certificate is trusted, matches the host and expires after minDaysLeft.",
  get schema() {
    return loadSchema("probe", "tls");
  },
  sideEffects: "none",
  describe: (params) =>
    `tls certificate of ${String(params.host)}:${String(params.port ?? 443)}` +
    `${params.servername === undefined ? "" : ` (SNI ${params.servername})`} valid for ${String(params.minDaysLeft ?? 14)}+ days`,
  async run(ctx, params, signal): Promise<ProbeResult> {
    const tls = await import("node:tls");
    const { isIP } = await import("node:net");
    let s: Settings;
    try {
      s = settingsOf(params, isIP);
    } catch (error) {
      return { ok: false, latencyMs: 0, detail: paramFailure(error) };
    }
    let ca: string[] | undefined;
    if (s.ca !== undefined) {
      try {
        const { readFile } = await import("node:fs/promises");
        ca = [...tls.rootCertificates, await readFile(s.ca, "utf8")];
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        return { ok: false, latencyMs: 0, detail: `cannot read ca ${s.ca}: ${code}` };
      }
    }
    if (signal.aborted) return { ok: false, latencyMs: 0, detail: abortDetail(signal) };
    const where = `${s.host}:${s.port}`;
    const elapsed = stopwatch();
    return new Promise<ProbeResult>((resolve) => {
      const socket = tls.connect({
        host: s.host,
        port: s.port,
        ...(s.sni === undefined ? {} : { servername: s.sni }),
        ...(ca === undefined ? {} : { ca }),
        rejectUnauthorized: false,
        // Checked in judge(): here it would only turn a mismatch into authorizationError, hiding the chain's.
        checkServerIdentity: () => undefined,
      });
      const finish = (ok: boolean, detail: string, facts?: Record<string, unknown>): void => {
        signal.removeEventListener("abort", onAbort);
        socket.destroy();
        const latencyMs = elapsed();
        resolve({ ok, latencyMs, detail, ...(facts === undefined ? {} : { facts }) });
      };
      const onAbort = (): void => finish(false, `${abortDetail(signal)} connecting to ${where}`);
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("secureConnect", () => {
        const cert = socket.getPeerCertificate();
        if (cert === null || Object.keys(cert).length === 0) {
          finish(false, `${where} sent no certificate`);
          return;
        }
        const verdict = judge(cert, socket, s, ctx.clock.now(), tls.checkServerIdentity);
        finish(verdict.ok, verdict.detail, verdict.facts);
      });
      socket.once("error", (error: NodeJS.ErrnoException) =>
        finish(false, `tls ${error.code ?? error.message} ${where}`),
      );
    });
  },
} satisfies ProbeHandler<TlsProbeParams>;
