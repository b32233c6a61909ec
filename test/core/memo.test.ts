import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonLogic } from "../../src/config/model.js";
import { evaluateLogic } from "../../src/config/logic.js";
import { memoize } from "../../src/core/memo.js";

const EXPRESSIONS: JsonLogic[] = [
  { "==": [{ var: "status" }, "down"] },
  { and: [{ "==": [{ var: "status" }, "down"] }, { ">=": [{ var: "consecutiveFailures" }, 3] }] },
  { "==": [{ var: "heal.outcome" }, "failed"] },
  { "<": [{ var: ["heal.budgetLeft", 9] }, 1] },
  { in: ["db", { var: "service.tags" }] },
  { var: ["missingFact", { var: "status" }] },
  { some: [{ var: "blockedBy" }, { "==": [{ var: "" }, "health-proxy"] }] },
  { missing: ["status", "nope"] },
  { "!!": [{ var: "" }] },
  { if: [{ var: "status" }, { cat: [{ var: "status" }, "!"] }, "none"] },
  true,
];

const facts = fc.record({
  status: fc.constantFrom("up", "down", "blocked"),
  consecutiveFailures: fc.integer({ min: 0, max: 6 }),
  heal: fc.record({
    outcome: fc.constantFrom("none", "healed", "failed"),
    budgetLeft: fc.integer({ min: 0, max: 3 }),
  }),
  service: fc.record({ id: fc.constant("boss-api"), tags: fc.subarray(["db", "web"]) }),
  blockedBy: fc.subarray(["health-proxy", "mcp-bridge"]),
});

describe("memoized json-logic", () => {
  it("gives exactly what evaluateLogic gives, call after call", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(EXPRESSIONS.length - 1), facts), { minLength: 1, maxLength: 40 }),
        (calls) => {
          const memo = memoize((expr, data) => evaluateLogic(expr, data));
          for (const [i, data] of calls) {
            const expr = EXPRESSIONS[i] as JsonLogic;
            expect(memo(expr, data)).toEqual(evaluateLogic(expr, data));
          }
        },
      ),
    );
  });

  it("evaluates a condition once per distinct value of the facts it reads", () => {
    let calls = 0;
    const memo = memoize((expr, data) => {
      calls++;
      return evaluateLogic(expr, data);
    });
    const down: JsonLogic = { "==": [{ var: "status" }, "down"] };
    for (let i = 0; i < 100; i++)
      memo(down, { status: i % 2 === 0 ? "down" : "up", since: i, consecutiveFailures: i });
    expect(calls).toBe(2);
  });

  it("never memoizes what it cannot key: empty or computed paths, missing, per-item operators", () => {
    let calls = 0;
    const memo = memoize((expr, data) => {
      calls++;
      return evaluateLogic(expr, data);
    });
    const uncacheable: JsonLogic[] = [
      { "!!": [{ var: "" }] },
      { var: [{ cat: ["sta", "tus"] }] },
      { missing: ["status"] },
      { some: [{ var: "blockedBy" }, { "==": [{ var: "" }, "x"] }] },
    ];
    for (const expr of uncacheable) for (let i = 0; i < 3; i++) memo(expr, { status: "down", blockedBy: [] });
    expect(calls).toBe(12);
  });

  it("tells apart values JSON would confuse", () => {
    const memo = memoize((expr, data) => evaluateLogic(expr, data));
    const expr: JsonLogic = { var: ["x", "fallback"] };
    expect(memo(expr, { x: null })).toBe(null);
    expect(memo(expr, {})).toBe("fallback");
    expect(memo(expr, { x: "1" })).toBe("1");
    expect(memo(expr, { x: 1 })).toBe(1);
    expect(memo({ "==": [{ var: "x" }, null] }, { x: [Number.NaN] })).toBe(
      evaluateLogic({ "==": [{ var: "x" }, null] }, { x: [Number.NaN] }),
    );
  });
});
