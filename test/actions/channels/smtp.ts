/**
 * A real SMTP server (smtp-server, from the nodemailer project) on 127.0.0.1, recording what it got:
 * sessions, AUTH exchanges and messages. Replies can be scripted per recipient to test rejections.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

export interface Received {
  readonly from: string;
  readonly to: string[];
  /** The raw message as the server got it (headers and MIME parts). */
  readonly raw: string;
  /** TLS was on when the message arrived (implicit TLS or after STARTTLS). */
  readonly secure: boolean;
  readonly user: string | undefined;
}

export interface SmtpStandIn {
  readonly port: number;
  readonly messages: Received[];
  readonly auths: { method: string; username: string; password: string; accepted: boolean }[];
  /** A reply code and text for RCPT TO, e.g. [550, "mailbox unavailable"]; undefined accepts. */
  reject: [number, string] | undefined;
  close(): Promise<void>;
}

export interface SmtpOptions {
  /** Require AUTH with this user and password (over clear text too: the test server is local). */
  readonly auth?: { username: string; password: string };
  /** Offer STARTTLS (or speak TLS from the start) with this key and certificate. */
  readonly tls?: { key: Buffer; cert: Buffer; implicit?: boolean };
  /** A careless server: its AUTH refusal quotes the password it got. */
  readonly echo?: boolean;
  /** Listen on this port (a server coming back up on a port it had). */
  readonly port?: number;
}

export async function startSmtp(options: SmtpOptions = {}): Promise<SmtpStandIn> {
  const messages: Received[] = [];
  const auths: SmtpStandIn["auths"] = [];
  const standIn = { reject: undefined as [number, string] | undefined };
  const config: SMTPServerOptions = {
    logger: false,
    banner: "upkeep test SMTP",
    authOptional: options.auth === undefined,
    allowInsecureAuth: true,
    disabledCommands: [...(options.tls === undefined ? ["STARTTLS"] : []), ...(options.auth ? [] : ["AUTH"])],
    ...(options.tls === undefined
      ? {}
      : { key: options.tls.key, cert: options.tls.cert, secure: options.tls.implicit === true }),
    onAuth(auth, _session, callback) {
      const accepted = auth.username === options.auth?.username && auth.password === options.auth?.password;
      auths.push({
        method: auth.method,
        username: auth.username ?? "",
        password: auth.password ?? "",
        accepted,
      });
      if (accepted) callback(null, { user: auth.username });
      else
        callback(new Error(`Invalid username or password${options.echo ? ` (${auth.password ?? ""})` : ""}`));
    },
    onRcptTo(_address, _session, callback) {
      if (standIn.reject === undefined) return callback();
      const error = new Error(standIn.reject[1]) as Error & { responseCode: number };
      error.responseCode = standIn.reject[0];
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        messages.push({
          from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          secure: session.secure,
          user: typeof session.user === "string" ? session.user : undefined,
        });
        callback();
      });
    },
  };
  const server = new SMTPServer(config);
  const port = await new Promise<number>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () =>
      resolve((server.server.address() as AddressInfo).port),
    );
  });
  return Object.assign(standIn, {
    port,
    messages,
    auths,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** A self-signed certificate for `localhost`, made with openssl; undefined when openssl is missing. */
export function selfSignedCert(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), "upkeep-smtp-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
      ],
      { stdio: "ignore", timeout: 10_000 },
    );
    return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The message with quoted-printable soft breaks and escapes undone and headers unfolded, for reading. */
export function readable(raw: string): string {
  const split = raw.indexOf("\r\n\r\n");
  const head = split < 0 ? raw : raw.slice(0, split);
  const unfolded = `${head.replace(/\r\n[ \t]+/g, " ")}${split < 0 ? "" : raw.slice(split)}`.replace(
    /=\r?\n/g,
    "",
  );
  const bytes = unfolded.replace(/(?:=[0-9A-F]{2})+/g, (run) =>
    Buffer.from(run.replace(/=/g, ""), "hex").toString("utf8"),
  );
  return bytes.replace(/\r\n/g, "\n");
}

export function header(raw: string, name: string): string | undefined {
  const head = readable(raw).split("\n\n")[0] ?? "";
  const line = head.split("\n").find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}
