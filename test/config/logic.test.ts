import { describe, expect, it } from "vitest";
import { FACT_NAMES } from "../../src/core/facts.js";
import { checkLogic, evaluateLogic, LOGIC_OPERATORS, tryEvaluateLogic } from "../../src/config/logic.js";

const codes = (expr: unknown, facts?: readonly string[]): string[] =>
  checkLogic(expr, "/when", facts === undefined ? {} : { facts }).map((f) => f.code);

describe("checkLogic", () => {
  it("accepts the conditions the shipped rules use", () => {
    expect(checkLogic({ "==": [{ var: "status" }, "down"] }, "/when", { facts: FACT_NAMES })).toEqual([]);
    expect(
      checkLogic(
        {
          and: [{ ">=": [{ var: "consecutiveFailures" }, 3] }, { "!=": [{ var: "heal.outcome" }, "healed"] }],
        },
        "/when",
        { facts: FACT_NAMES },
      ),
    ).toEqual([]);
    expect(checkLogic(true, "/when")).toEqual([]);
  });

  it("rejects an object with two keys, which json-logic would treat as an always-true literal", () => {
    const findings = checkLogic({ "==": [1, 1], "!=": [1, 2] }, "/rules/a/when");
    expect(findings).toEqual([expect.objectContaining({ pointer: "/rules/a/when", code: "invalid-logic" })]);
    expect(findings[0]?.message).toMatch(/2 keys \(==, !=\)/);
    expect(codes({})).toEqual(["invalid-logic"]);
  });

  it("reports unknown operators at the operator key, with a did-you-mean hint", () => {
    const findings = checkLogic({ and: [{ "===": [1, 1] }, { sume: [[1], { var: "" }] }] }, "/when");
    expect(findings).toEqual([
      {
        pointer: "/when/and/1/sume",
        code: "unknown-operator",
        message: 'unknown json-logic operator "sume"',
        hint: 'did you mean "some"?',
        atKey: true,
      },
    ]);
  });

  it("does not allow `log` (it writes to the console) nor the removed `method`", () => {
    expect(LOGIC_OPERATORS).not.toContain("log");
    expect(codes({ log: "x" })).toEqual(["unknown-operator"]);
    expect(codes({ method: [{ var: "detail" }, "toString"] })).toEqual(["unknown-operator"]);
  });

  it("escapes operators that contain a slash in pointers", () => {
    expect(checkLogic({ "a/b": 1 }, "")[0]?.pointer).toBe("/a~1b");
  });

  it("rejects var paths that reach prototypes, wherever they appear", () => {
    expect(codes({ var: "constructor.name" })).toEqual(["unsafe-var-path"]);
    expect(codes({ "==": [{ var: ["service.__proto__.x", 1] }, 1] })).toEqual(["unsafe-var-path"]);
    expect(codes({ missing: ["status", "heal.prototype"] })).toEqual(["unsafe-var-path"]);
    expect(codes({ missing_some: [1, ["constructor"]] })).toEqual(["unsafe-var-path"]);
    expect(checkLogic({ var: "a.constructor" }, "/x")[0]?.pointer).toBe("/x/var");
    expect(checkLogic({ var: ["a.constructor"] }, "/x")[0]?.pointer).toBe("/x/var/0");
  });

  it("checks the first segment of var paths against the facts when asked, with a hint", () => {
    const findings = checkLogic({ "==": [{ var: "stauts" }, "down"] }, "/when", { facts: FACT_NAMES });
    expect(findings).toEqual([
      expect.objectContaining({
        pointer: "/when/==/0/var",
        code: "unknown-fact",
        hint: 'did you mean "status"?',
      }),
    ]);
    expect(codes({ var: "stauts" })).toEqual([]);
  });

  it("does not check fact names inside filter/map/all/none/some/reduce item logic", () => {
    const expr = { some: [{ var: "blockedBy" }, { "==": [{ var: "" }, "db"] }] };
    expect(codes(expr, FACT_NAMES)).toEqual([]);
    const reduce = { reduce: [{ var: "blockedBy" }, { "+": [{ var: "accumulator" }, 1] }, 0] };
    expect(codes(reduce, FACT_NAMES)).toEqual([]);
    expect(codes({ all: [{ var: "nope" }, true] }, FACT_NAMES)).toEqual(["unknown-fact"]);
  });

  it("reports every problem in one pass", () => {
    expect(codes({ or: [{ foo: 1 }, { var: "prototype" }, { a: 1, b: 2 }] })).toEqual([
      "unknown-operator",
      "unsafe-var-path",
      "invalid-logic",
    ]);
  });

  it("bounds nesting depth", () => {
    let deep: unknown = true;
    for (let i = 0; i < 100; i++) deep = { "!": [deep] };
    expect(codes(deep)).toContain("invalid-logic");
  });
});

describe("evaluateLogic", () => {
  const facts = {
    status: "down",
    consecutiveFailures: 4,
    service: { id: "api", tags: ["web"] },
    blockedBy: [],
  };

  it("evaluates against the facts", () => {
    expect(evaluateLogic({ "==": [{ var: "status" }, "down"] }, facts)).toBe(true);
    expect(evaluateLogic({ ">=": [{ var: "consecutiveFailures" }, 5] }, facts)).toBe(false);
    expect(evaluateLogic({ in: ["web", { var: "service.tags" }] }, facts)).toBe(true);
    expect(evaluateLogic({ var: ["missing.path", "fallback"] }, facts)).toBe("fallback");
    expect(evaluateLogic({ missing: ["status", "nope"] }, facts)).toEqual(["nope"]);
  });

  it("never reads through prototypes, even with a computed path", () => {
    expect(evaluateLogic({ var: { cat: ["constr", "uctor"] } }, facts)).toBeNull();
    expect(evaluateLogic({ var: { cat: ["service.tags.", "constructor"] } }, facts)).toBeNull();
    expect(evaluateLogic({ var: { cat: ["toStr", "ing"] } }, facts)).toBeNull();
  });

  it("returns undefined (never true) and reports why for expressions it refuses or that fail", () => {
    const errors: string[] = [];
    expect(evaluateLogic({ "==": [1, 1], "!=": [1, 2] }, facts, (e) => errors.push(e))).toBeUndefined();
    expect(evaluateLogic({ log: "x" }, facts, (e) => errors.push(e))).toBeUndefined();
    expect(errors).toHaveLength(2);
    expect(tryEvaluateLogic({ nope: 1 }, facts)).toEqual({
      ok: false,
      error: 'unknown json-logic operator "nope"',
    });
  });

  it("does not mutate or depend on the caller's data object", () => {
    const data = { status: "up", nested: { a: 1 } };
    const copy = structuredClone(data);
    evaluateLogic({ map: [[1, 2], { "+": [{ var: "" }, 1] }] }, data);
    expect(data).toEqual(copy);
  });
});
