import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { schemaFindings } from "../../src/config/schema-errors.js";
import { validateSchema } from "../../src/config/schema-validate.js";

/** Real ajv output (allErrors, discriminator), so the collapsing is tested against what ajv reports. */
function findings(
  schema: Record<string, unknown>,
  data: unknown,
): { code: string; pointer: string; message: string; hint?: string }[] {
  const ajv = new Ajv2020({ allErrors: true, discriminator: true, strict: false });
  const validate = ajv.compile(schema);
  validate(data);
  return schemaFindings(validate.errors ?? [], data, { schema }).map(({ code, pointer, message, hint }) => ({
    code,
    pointer,
    message,
    ...(hint === undefined ? {} : { hint }),
  }));
}

const PROBES = {
  type: "object",
  properties: {
    probe: {
      type: "object",
      required: ["type"],
      discriminator: { propertyName: "type" },
      oneOf: [
        { properties: { type: { const: "tcp" }, port: { type: "integer" } }, additionalProperties: false },
        { properties: { type: { const: "http" }, url: { type: "string" } }, additionalProperties: false },
      ],
    },
  },
};

describe("schemaFindings", () => {
  it("keeps only the branch an anyOf value was meant for", () => {
    const schema = {
      type: "object",
      properties: {
        port: {
          anyOf: [
            { type: "integer", minimum: 1, maximum: 65535 },
            { type: "string", pattern: "^(\\$\\{\\{\\s*[a-z.]+\\s*\\}\\})$" },
          ],
        },
      },
    };
    expect(findings(schema, { port: 70000 })).toEqual([
      { code: "port-range", pointer: "/port", message: "port must be between 1 and 65535, got 70000" },
    ]);
    expect(findings(schema, { port: "http" })).toEqual([
      {
        code: "invalid-type",
        pointer: "/port",
        message: 'expected a whole number (or a ${{ ... }} / ${env:NAME} template), got "http"',
      },
    ]);
    // A boolean fails the string branch on its type, so nothing tells it is a template-only branch.
    expect(findings(schema, { port: true })).toEqual([
      { code: "invalid-type", pointer: "/port", message: "expected a whole number or a string, got true" },
    ]);
  });

  it("keeps the errors of every value that fails the same anyOf (one per service, not one in all)", () => {
    const data = {
      version: 1,
      services: {
        a: { probe: { type: "tcp", port: "6379x" } },
        b: { probe: { type: "tcp", port: 70000 } },
      },
    };
    const errors = validateSchema("services", data);
    expect(
      schemaFindings(errors, data, { kind: "services" }).map((f) => [f.code, f.pointer, f.message]),
    ).toEqual([
      [
        "invalid-type",
        "/services/a/probe/port",
        'expected a whole number (or a ${{ ... }} / ${env:NAME} template), got "6379x"',
      ],
      ["port-range", "/services/b/probe/port", "port must be between 1 and 65535, got 70000"],
    ]);
  });

  it("reports an unknown discriminator value as an unknown probe type", () => {
    expect(findings(PROBES, { probe: { type: "tpc" } })).toEqual([
      { code: "unknown-probe", pointer: "/probe/type", message: 'unknown probe type "tpc"' },
    ]);
  });

  it("hints unknown keys from the discriminated branch only", () => {
    expect(findings(PROBES, { probe: { type: "tcp", prot: 1 } })).toEqual([
      {
        code: "unknown-key",
        pointer: "/probe/prot",
        message: 'unknown key "prot"',
        hint: 'did you mean "port"?',
      },
    ]);
    expect(findings(PROBES, { probe: { type: "http", x: 1 } })).toEqual([
      {
        code: "unknown-key",
        pointer: "/probe/x",
        message: 'unknown key "x"',
        hint: "allowed here: type, url",
      },
    ]);
  });

  it("drops if/then wrapper errors and keeps what the `then` said", () => {
    const errors = validateSchema("services", {
      version: 1,
      services: {
        api: { probe: { type: "tcp", port: 1 }, heal: { steps: [{ action: "wait", with: { fro: "2s" } }] } },
      },
    });
    expect(errors.map((e) => e.keyword).sort()).toEqual(["additionalProperties", "if", "required"]);
    const data = {
      version: 1,
      services: {
        api: { probe: { type: "tcp", port: 1 }, heal: { steps: [{ action: "wait", with: { fro: "2s" } }] } },
      },
    };
    expect(
      schemaFindings(errors, data, { kind: "services" }).map((f) => [f.code, f.pointer, f.hint]),
    ).toEqual([["unknown-key", "/services/api/heal/steps/0/with/fro", 'did you mean "for"?']]);
    // Without a close match the missing key is its own finding.
    const far = {
      ...data,
      services: { api: { ...data.services.api, heal: { steps: [{ action: "wait", with: { x: "2s" } }] } } },
    };
    expect(
      schemaFindings(validateSchema("services", far), far, { kind: "services" }).map((f) => f.code),
    ).toEqual(["missing-key", "unknown-key"]);
  });

  it("never prints values from the environment when asked not to", () => {
    const schema = { type: "object", properties: { token: { type: "string", pattern: "^tok_" } } };
    const ajv = new Ajv2020({ allErrors: true });
    const validate = ajv.compile(schema);
    validate({ token: "s3cr3t" });
    const [finding] = schemaFindings(validate.errors ?? [], { token: "s3cr3t" }, { schema }, "", {
      hideValues: true,
    });
    expect(finding?.message).not.toContain("s3cr3t");
    expect(finding?.message).toContain("a value from the environment");
  });
});
