/** Run-time rendering of handler parameters, and the shortcut for the rules' own reference-free ones. */
import { describe, expect, it } from "vitest";
import { createRedactor } from "../../src/runtime/redact.js";
import { resolveParams } from "../../src/runtime/resolve.js";

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
};

const ctx = { env: { TOKEN: "s3cret-token" }, redactor: createRedactor() };

describe("resolveParams", () => {
  it("hands over frozen parameters without references as they are (no copy per probe)", () => {
    const params = deepFreeze({ host: "127.0.0.1", port: 80, headers: { a: "b" }, list: ["x", 1, null] });
    const resolved = resolveParams(params, ctx);
    expect(resolved.value).toBe(params);
    expect(resolved.missingEnv).toEqual([]);
  });

  it("renders frozen parameters that hold a reference anywhere, keys included", () => {
    const deep = deepFreeze({ headers: { auth: "Bearer ${env:TOKEN}" } });
    expect(resolveParams(deep, ctx).value).toEqual({ headers: { auth: "Bearer s3cret-token" } });
    const missing = deepFreeze({ list: ["${env:NOPE}"] });
    expect(resolveParams(missing, ctx).missingEnv).toEqual(["NOPE"]);
    const key = deepFreeze({ "${env:TOKEN}": 1 });
    expect(resolveParams(key, ctx).value).not.toBe(key);
  });

  it("copies parameters that are not frozen, as before", () => {
    const params = { host: "127.0.0.1", port: 80 };
    const resolved = resolveParams(params, ctx);
    expect(resolved.value).toEqual(params);
    expect(resolved.value).not.toBe(params);
  });
});
