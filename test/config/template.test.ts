import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { findRefs, renderDeep, renderString, walkStrings, type Lookup } from "../../src/config/template.js";

const values: Record<string, unknown> = {
  "params.port": 3002,
  "params.label": "com.x.api",
  "service.id": "api",
};
const env: Record<string, string> = { HOME: "/home/u", TOKEN: "s3cret" };
const lookup: Lookup = (ref) => (ref.kind === "env" ? env[ref.name] : values[ref.path.join(".")]);

describe("findRefs", () => {
  it("finds expressions with optional inner whitespace, and env references, with their offsets", () => {
    const text = "a ${{params.label}} b ${{  service.id }} c ${env:HOME}";
    expect(findRefs(text)).toEqual([
      { kind: "expr", path: ["params", "label"], start: 2, end: 19 },
      { kind: "expr", path: ["service", "id"], start: 22, end: 40 },
      { kind: "env", name: "HOME", start: 43, end: 54 },
    ]);
    for (const ref of findRefs(text)) expect(text.slice(ref.start, ref.end)).toMatch(/^\$\{.*\}$/);
  });

  it("ignores text that only looks like a reference", () => {
    expect(findRefs("price: $5, ${HOME}, $ {x}, {{ y }}")).toEqual([]);
  });

  it("reports unterminated and empty expressions as errors", () => {
    expect(findRefs("x ${{ params.a")).toEqual([
      { kind: "error", message: expect.stringContaining("unterminated") as string, start: 2, end: 14 },
    ]);
    expect(findRefs("${{ }}")).toEqual([
      { kind: "error", message: expect.stringContaining("empty") as string, start: 0, end: 6 },
    ]);
    expect(findRefs("${env:HOME")[0]?.kind).toBe("error");
  });

  it("allows only dotted identifier paths: no operators, calls or indexes", () => {
    for (const inner of ["a + b", "f()", "a[0]", "a..b", ".a", "a.", "1a", "a.b-c"]) {
      expect(findRefs(`\${{ ${inner} }}`)[0]?.kind, inner).toBe("error");
    }
  });

  it("rejects env names outside [A-Z_][A-Z0-9_]*", () => {
    expect(findRefs("${env:home}")[0]?.kind).toBe("error");
    expect(findRefs("${env:1X}")[0]?.kind).toBe("error");
    expect(findRefs("${env:_X1}")[0]).toMatchObject({ kind: "env", name: "_X1" });
  });

  it("continues after a bad reference", () => {
    expect(findRefs("${env:bad} ${env:GOOD}").map((r) => r.kind)).toEqual(["error", "env"]);
  });
});

describe("renderString", () => {
  it("keeps the referenced value's type when the string is exactly one reference", () => {
    expect(renderString("${{ params.port }}", lookup)).toBe(3002);
    expect(renderString("${env:HOME}", lookup)).toBe("/home/u");
  });

  it("stringifies values inside longer text", () => {
    expect(renderString("port ${{ params.port }} of ${{service.id}} in ${env:HOME}", lookup)).toBe(
      "port 3002 of api in /home/u",
    );
    const objects: Lookup = () => ({ a: [1] });
    expect(renderString("x=${{ a }}", objects)).toBe('x={"a":[1]}');
  });

  it("leaves unknown and malformed references as written", () => {
    expect(renderString("${{ params.missing }}", lookup)).toBe("${{ params.missing }}");
    expect(renderString("${env:UNSET}", lookup)).toBe("${env:UNSET}");
    expect(renderString("a ${{ params.missing }} b ${{ params.port }}", lookup)).toBe(
      "a ${{ params.missing }} b 3002",
    );
    expect(renderString("${{ a b }} ${{ params.port }}", lookup)).toBe("${{ a b }} 3002");
  });

  it("does not re-render the text a value brings in (one pass, data only)", () => {
    const sneaky: Lookup = (ref) => (ref.kind === "expr" && ref.path[0] === "a" ? "${env:TOKEN}" : undefined);
    expect(renderString("x ${{ a }}", sneaky)).toBe("x ${env:TOKEN}");
  });

  it("returns text without references unchanged", () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes("${")),
        (s) => renderString(s, lookup) === s,
      ),
    );
  });
});

describe("walkStrings and renderDeep", () => {
  const doc = {
    with: { label: "${{ params.label }}", port: "${{ params.port }}", args: ["a", "${env:HOME}"], n: 1 },
  };

  it("visits every string with its path, not keys", () => {
    const seen: [string, readonly (string | number)[]][] = [];
    walkStrings(doc, (text, pointer) => seen.push([text, pointer]));
    expect(seen).toEqual([
      ["${{ params.label }}", ["with", "label"]],
      ["${{ params.port }}", ["with", "port"]],
      ["a", ["with", "args", 0]],
      ["${env:HOME}", ["with", "args", 1]],
    ]);
  });

  it("renders nested values into a copy and leaves the input alone", () => {
    const before = structuredClone(doc);
    expect(renderDeep(doc, lookup)).toEqual({
      with: { label: "com.x.api", port: 3002, args: ["a", "/home/u"], n: 1 },
    });
    expect(doc).toEqual(before);
  });

  it("keeps a __proto__ key as plain data", () => {
    const input = JSON.parse('{"__proto__": {"polluted": "${{ params.label }}"}}') as unknown;
    const out = renderDeep(input, lookup) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
});
