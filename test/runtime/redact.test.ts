/** Secrets leave no trace in any output, also when they come back transformed. */
import { describe, expect, it } from "vitest";
import { envNamesIn, registerConfigSecrets } from "../../src/runtime/config-secrets.js";
import { createRedactor, redactOutput, redactText, redactValue } from "../../src/runtime/redact.js";

describe("the redactor", () => {
  const hook = "https://discord.com/api/webhooks/123456/s3cr3t-t0k3n?wait=true";
  const redactor = createRedactor([hook, "p@ss word/+="]);

  it("replaces the value, its JSON-escaped and its percent-encoded forms", () => {
    expect(redactText(`sending to ${hook}`, redactor)).toBe("sending to [REDACTED]");
    expect(redactText(JSON.stringify({ url: hook }), redactor)).toBe('{"url":"[REDACTED]"}');
    expect(redactText(`q=${encodeURIComponent("p@ss word/+=")}`, redactor)).toBe("q=[REDACTED]");
  });

  it("replaces a secret URL's path and query, where webhook tokens live, when echoed alone", () => {
    expect(redactText("HTTP 404 no such hook /api/webhooks/123456/s3cr3t-t0k3n?wait=true", redactor)).toBe(
      "HTTP 404 no such hook [REDACTED]",
    );
  });

  it("ignores values too short to be secrets and redacts inside nested JSON values", () => {
    const r = createRedactor(["abc", "secret-value"]);
    expect(redactText("abc", r)).toBe("abc");
    expect(redactValue({ a: { b: ["x secret-value y"] } }, r)).toEqual({ a: { b: ["x [REDACTED] y"] } });
  });
});

describe("the process-wide registry", () => {
  it("hides a secret registered by any redactor at every boundary, also cut after redaction", async () => {
    const { firstLine } = await import("../../src/actions/support.js");
    const secret = "Reg1stry-Secret-0c5e7a9b31d2";
    createRedactor([secret]);
    expect(redactOutput(`token=${secret}`)).toBe("token=[REDACTED]");
    // A detail is cut to 200 characters: the cut must not leave a prefix of the secret behind.
    const line = firstLine(`${"x".repeat(190)}${secret}`);
    expect(line).not.toContain(secret.slice(0, 8));
  });

  it("knows base64, URL query values and a URL's password as forms of a secret", () => {
    const secret = "B4se64-Echoed-Secret-77aa";
    const r = createRedactor([secret, "https://user:p4ssw0rd-xyz@hooks.example/x?token=T0ken-In-Query-123"]);
    const b64 = Buffer.from(secret).toString("base64").replace(/=+$/, "");
    expect(redactText(`echo ${b64}`, r)).toBe("echo [REDACTED]");
    expect(redactText("q T0ken-In-Query-123", r)).toBe("q [REDACTED]");
    expect(redactText("pw p4ssw0rd-xyz", r)).toBe("pw [REDACTED]");
    // A webhook's long path segment (its token) echoed on its own, without the rest of the URL.
    const hook = createRedactor(["https://discord.com/api/webhooks/123456/Hook-Token-Segment-0042"]);
    expect(redactText("unknown webhook Hook-Token-Segment-0042", hook)).toBe("unknown webhook [REDACTED]");
  });

  it("registers what the rules name before anything resolves it (status reads an old tick's words)", () => {
    const rules = {
      services: [{ probe: { params: { env: { PT: "${env:NAMED_ONLY}" }, url: "x ${env:ALSO_NAMED} y" } } }],
    };
    expect([...envNamesIn(rules)].sort()).toEqual(["ALSO_NAMED", "NAMED_ONLY"]);
    registerConfigSecrets(
      rules,
      { NAMED_ONLY: "Named-Only-Value-5511", UNNAMED: "Not-A-Rule-Secret" },
      {
        FROM_FILE: "Env-File-Value-9001",
      },
    );
    expect(redactOutput("a Named-Only-Value-5511 b Env-File-Value-9001 c Not-A-Rule-Secret")).toBe(
      "a [REDACTED] b [REDACTED] c Not-A-Rule-Secret",
    );
  });
});
