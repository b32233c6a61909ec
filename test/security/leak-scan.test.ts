/** The search the planted-secrets suite relies on: it must find a value in every form it claims to. */
import { describe, expect, it } from "vitest";
import { findSecrets, makeSecret, maskAll } from "./leak-scan.js";

const value = makeSecret("UNIT", '+/"=');
const secrets = [{ name: "UNIT_SECRET", value }];
const formsFound = (text: string): string[] => findSecrets(text, secrets).map((h) => h.form);

describe("leak-scan", () => {
  it("makes distinct, deterministic values of at least 20 characters", () => {
    expect(makeSecret("A")).toBe(makeSecret("A"));
    expect(makeSecret("A")).not.toBe(makeSecret("B"));
    expect(value.length).toBeGreaterThanOrEqual(20);
    expect(() => makeSecret("TOOLONGTAG")).toThrow(/longer than 8/);
  });

  it("finds the raw value, and nothing in text without it", () => {
    expect(formsFound(`detail: probe failed for ${value}\n`)).toEqual(["raw"]);
    expect(findSecrets("detail: probe failed for [REDACTED]", secrets)).toEqual([]);
  });

  it("finds the JSON-escaped and URL-encoded forms", () => {
    expect(formsFound(JSON.stringify({ detail: `x ${value} y` }))).toContain("json-escaped");
    expect(formsFound(`GET /hook?key=${encodeURIComponent(value)}`)).toContain("url-encoded");
  });

  it("finds base64 at every byte alignment inside a longer encoded string", () => {
    for (const prefix of ["", "a", "ab", "abc", "Basic user:"]) {
      const encoded = Buffer.from(`${prefix}${value}trailer`).toString("base64");
      expect(formsFound(`authorization: Basic ${encoded}`), prefix).toContain("base64");
    }
  });

  it("finds a 16-character part (a truncated detail) and says it is partial", () => {
    expect(formsFound(`detail: …${value.slice(3, 19)}`)).toEqual(["partial"]);
    expect(formsFound(`detail: …${value.slice(3, 18)}`)).toEqual([]);
  });

  it("masks every value in an excerpt, whole or in part", () => {
    const hit = findSecrets(`before ${value} after`, secrets)[0];
    expect(hit?.excerpt).toBe("before «UNIT_SECRET» after");
    expect(maskAll(`x ${value.slice(0, 20)} y`, secrets)).toBe("x «UNIT_SECRET~» y");
    expect(maskAll(`key=${value.slice(5)}&`, secrets)).toBe("key=«UNIT_SECRET~»&");
    const other = { name: "OTHER", value: makeSecret("OTHER") };
    expect(maskAll(`a ${other.value.slice(0, 12)} b`, [...secrets, other])).toBe("a «OTHER~» b");
  });
});
