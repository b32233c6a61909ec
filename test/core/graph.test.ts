import { describe, expect, it } from "vitest";
import { blockedBy, buildGraph, dependentsOf } from "../../src/core/graph.js";

const node = (id: string, ...dependsOn: string[]) => ({ id, dependsOn });

describe("buildGraph order", () => {
  it("puts each service right after its dependencies and keeps input order otherwise", () => {
    const graph = buildGraph([
      node("api", "db", "cache"),
      node("web", "api"),
      node("db"),
      node("cache"),
      node("lone"),
    ]);
    expect(graph.order).toEqual(["db", "cache", "api", "web", "lone"]);
    expect(buildGraph([node("a", "c"), node("b"), node("c")]).order).toEqual(["c", "a", "b"]);
  });

  it("ignores unknown dependencies and duplicates", () => {
    const graph = buildGraph([node("a", "ghost", "b", "b"), node("b")]);
    expect(graph.order).toEqual(["b", "a"]);
    expect(graph.deps.get("a")).toEqual(["b"]);
  });

  it("terminates on cycles and lists every service once", () => {
    const graph = buildGraph([node("a", "b"), node("b", "a", "c"), node("c"), node("self", "self")]);
    expect(graph.order).toEqual(["c", "b", "a", "self"]);
  });
});

describe("blockedBy", () => {
  const graph = buildGraph([
    node("db"),
    node("cache"),
    node("api", "db", "cache"),
    node("web", "api"),
    node("cron"),
  ]);

  it("is empty when no dependency failed", () => {
    expect(blockedBy(graph, "web", new Set(["web"]))).toEqual([]);
    expect(blockedBy(graph, "cron", new Set(["db", "cron"]))).toEqual([]);
  });

  it("names the failed dependency when it is down itself", () => {
    expect(blockedBy(graph, "web", new Set(["api", "web"]))).toEqual(["api"]);
  });

  it("names the root causes through blocked dependencies, transitively", () => {
    expect(blockedBy(graph, "web", new Set(["db", "api", "web"]))).toEqual(["db"]);
    expect(blockedBy(graph, "web", new Set(["db", "cache", "api", "web"]))).toEqual(["db", "cache"]);
  });

  it("does not look past a dependency that is up", () => {
    expect(blockedBy(graph, "web", new Set(["db", "web"]))).toEqual([]);
  });

  it("terminates on cycles", () => {
    const cyclic = buildGraph([node("a", "b"), node("b", "c"), node("c", "a")]);
    expect(blockedBy(cyclic, "a", new Set(["a", "b", "c"]))).toEqual(["c"]);
  });

  it("stays fast on wide diamond ladders", () => {
    const nodes = [node("n0")];
    for (let i = 1; i <= 60; i += 1)
      nodes.push(node(`n${i}`, `n${i - 1}`, `m${i - 1}`), node(`m${i}`, `n${i - 1}`, `m${i - 1}`));
    nodes.push(node("m0"));
    const ladder = buildGraph(nodes);
    const failed = new Set(ladder.order);
    expect(blockedBy(ladder, "n60", failed)).toEqual(["n0", "m0"]);
  });
});

describe("dependentsOf", () => {
  it("lists direct and indirect dependents in dependency order", () => {
    const graph = buildGraph([node("web", "api"), node("api", "db"), node("db"), node("other")]);
    expect(dependentsOf(graph, "db")).toEqual(["api", "web"]);
    expect(dependentsOf(graph, "web")).toEqual([]);
  });
});
