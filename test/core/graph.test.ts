import { describe, expect, it } from "vitest";
import {
  blockedBy,
  blockedByOf,
  buildGraph,
  dependentsOf,
  type DependencyGraph,
} from "../../src/core/graph.js";
import { countingArray, CountingMap, growth, LINEAR, type Counter } from "./op-count.js";

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

describe("graph walks at scale (read counts, no clock)", () => {
  /** A chain of `n` (each on the one before), and `n` services on one hub. */
  const chain = (n: number) =>
    Array.from({ length: n }, (_, i) => node(`c${i}`, ...(i === 0 ? [] : [`c${i - 1}`])));
  const hub = (n: number) => [node("hub"), ...Array.from({ length: n }, (_, i) => node(`s${i}`, "hub"))];
  const counted = (graph: DependencyGraph, counter: Counter): DependencyGraph => ({
    ...graph,
    order: countingArray(graph.order, counter),
    deps: new CountingMap(graph.deps, counter),
    dependents: new CountingMap(graph.dependents, counter),
  });

  it("finds what blocks each of the services on a hub without reading the whole order for each", async () => {
    const ratio = await growth(200, (n) => {
      const counter = { reads: 0 };
      const graph = counted(buildGraph(hub(n)), counter);
      const failed = new Set(graph.order);
      for (let i = 0; i < n; i++) expect(blockedBy(graph, `s${i}`, failed)).toEqual(["hub"]);
      return counter.reads;
    });
    expect(ratio).toBeLessThan(LINEAR);
  });

  it("finds the dependents of the head of a chain in one walk", async () => {
    const ratio = await growth(200, (n) => {
      const counter = { reads: 0 };
      const graph = counted(buildGraph(chain(n)), counter);
      expect(dependentsOf(graph, "c0")).toHaveLength(n - 1);
      return counter.reads;
    });
    expect(ratio).toBeLessThan(LINEAR);
  });

  it("blockedByOf reuses root causes: a whole failed chain costs one walk", async () => {
    const ratio = await growth(200, (n) => {
      const counter = { reads: 0 };
      const graph = counted(buildGraph(chain(n)), counter);
      const failed = new Set(graph.order);
      const roots = blockedByOf(graph, failed);
      for (let i = 1; i < n; i++) expect(roots(`c${i}`)).toEqual(["c0"]);
      return counter.reads;
    });
    expect(ratio).toBeLessThan(LINEAR);
    // The same answers as one walk per service.
    const graph = buildGraph([...chain(5), node("x", "c2", "c4")]);
    const failed = new Set(["c1", "c2", "c3", "x"]);
    const roots = blockedByOf(graph, failed);
    for (const id of graph.order) expect(roots(id)).toEqual(blockedBy(graph, id, failed));
  });
});
