/** Secrets leave no trace in any output, also when they come back transformed. */
import { describe, expect, it } from "vitest";
import { createRedactor, redactText, redactValue } from "../../src/runtime/redact.js";

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
