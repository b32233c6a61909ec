import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadYamlFile, parseYaml } from "../../src/config/load.js";

const SRC = `version: 1
services:
  api:
    title: "API"
    probe: { type: tcp, port: 80 }
    heal:
      steps:
        - action: wait
          with: { for: 2s }
        - action: verify
    "a/b~c": x
    empty:
`;

describe("parseYaml", () => {
  it("builds the JS value and maps pointers to 1-based positions of values and keys", () => {
    const y = parseYaml(SRC, "rules/services.yaml");
    expect(y.diagnostics).toEqual([]);
    expect(y.usable).toBe(true);
    expect(y.value).toMatchObject({ version: 1, services: { api: { title: "API" } } });
    expect(y.positionOf("/services/api/title")).toEqual({ line: 4, column: 12 });
    expect(y.positionOf("/services/api/title", { key: true })).toEqual({ line: 4, column: 5 });
    expect(y.positionOf("/services/api/probe/port")).toEqual({ line: 5, column: 31 });
    expect(y.positionOf("/services/api/heal/steps/1/action")).toEqual({ line: 10, column: 19 });
    expect(y.positionOf("/services/api/heal/steps/0/with/for", { key: true })).toEqual({
      line: 9,
      column: 19,
    });
    expect(y.positionOf("/services/api/a~1b~0c")).toEqual({ line: 11, column: 14 });
    expect(y.positionOf("")).toEqual({ line: 1, column: 1 });
  });

  it("falls back to the nearest existing ancestor, and to the key of an empty value", () => {
    const y = parseYaml(SRC, "f.yaml");
    expect(y.positionOf("/services/api/probe/host")).toEqual({ line: 5, column: 12 });
    expect(y.positionOf("/services/api/heal/steps/7/with")).toEqual({ line: 8, column: 9 });
    expect(y.positionOf("/services/api/empty")).toEqual({ line: 12, column: 5 });
    expect(y.positionOf("/services/api/empty/deeper")).toEqual({ line: 12, column: 5 });
  });

  it("indexes big maps so lookups in 5,000 keys stay exact", () => {
    const lines = ["services:"];
    for (let i = 0; i < 5000; i++) lines.push(`  s${i}: { port: ${i} }`);
    const y = parseYaml(lines.join("\n"), "big.yaml");
    expect(y.positionOf("/services/s4321/port")).toEqual({ line: 4323, column: 18 });
    expect(y.positionOf("/services/s4321", { key: true })).toEqual({ line: 4323, column: 3 });
  });

  it("turns a syntax error into a diagnostic with its position and marks the file unusable", () => {
    const y = parseYaml("services:\n  api: { title: x\n  other: 1\n", "s.yaml");
    expect(y.usable).toBe(false);
    expect(y.value).toBeUndefined();
    expect(y.diagnostics.length).toBeGreaterThan(0);
    expect(y.diagnostics[0]).toMatchObject({
      severity: "error",
      code: "yaml-syntax",
      file: "s.yaml",
      line: 3,
      column: 3,
    });
  });

  it("reports duplicate keys at the second key; ids in id maps are duplicate-id", () => {
    const y = parseYaml("services:\n  api: {}\n  api: {}\nx:\n  a: 1\n  a: 2\n", "s.yaml");
    expect(y.usable).toBe(true);
    expect(y.diagnostics).toEqual([
      expect.objectContaining({ code: "duplicate-id", line: 3, column: 3, pointer: "/services/api" }),
      expect.objectContaining({ code: "duplicate-key", line: 6, column: 3, pointer: "/x/a" }),
    ]);
    expect(y.diagnostics[0]?.message).toBe('duplicate id "api" in services (first defined on line 2)');
  });

  it("reports unknown tags as warnings", () => {
    const y = parseYaml("a: !!foo bar\n", "s.yaml");
    expect(y.diagnostics).toEqual([
      expect.objectContaining({ severity: "warning", code: "yaml-warning", line: 1, column: 4 }),
    ]);
  });

  it("keeps YAML 1.2 core scalars: yes/on stay strings", () => {
    expect(parseYaml("a: yes\nb: on\nc: true\n", "s.yaml").value).toEqual({ a: "yes", b: "on", c: true });
  });
});

describe("hostile YAML", () => {
  it("rejects an alias bomb (billion laughs) quickly with a clear diagnostic", () => {
    const rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    const names = "abcdefghi";
    for (let i = 1; i < names.length; i++) {
      const prev = names[i - 1] as string;
      rows.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${prev}`).join(",")}]`);
    }
    const y = parseYaml(`${rows.join("\n")}\n`, "bomb.yaml");
    expect(y.usable).toBe(false);
    expect(y.value).toBeUndefined();
    expect(y.diagnostics).toEqual([
      expect.objectContaining({ code: "alias-limit", severity: "error", line: 2, column: 8 }),
    ]);
    expect(y.diagnostics[0]?.message).toMatch(/too many alias expansions/);
  });

  it("allows a few aliases", () => {
    const y = parseYaml("x: &t { timeout: 2s }\na: *t\nb: *t\n", "s.yaml");
    expect(y.diagnostics).toEqual([]);
    expect(y.value).toEqual({ x: { timeout: "2s" }, a: { timeout: "2s" }, b: { timeout: "2s" } });
  });

  it("rejects a recursive alias instead of building a circular value", () => {
    const y = parseYaml("a: &x\n  b: *x\n", "s.yaml");
    expect(y.value).toBeUndefined();
    expect(y.diagnostics).toEqual([
      expect.objectContaining({ code: "alias-limit", line: 2, column: 6, pointer: "/a/b" }),
    ]);
  });

  it("reports an alias without an anchor", () => {
    const y = parseYaml("a: *nope\n", "s.yaml");
    expect(y.diagnostics).toEqual([expect.objectContaining({ code: "yaml-syntax", line: 1, column: 4 })]);
  });

  it("rejects __proto__, constructor and prototype keys and never pollutes Object.prototype", () => {
    const src = [
      "__proto__: { polluted: true }",
      "services:",
      "  constructor: { prototype: { polluted: true } }",
      "  api:",
      "    __proto__:",
      "      polluted: true",
      "list:",
      "  - { __proto__: { polluted: true } }",
      "",
    ].join("\n");
    const y = parseYaml(src, "s.yaml");
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(y.diagnostics.map((d) => [d.code, d.line, d.column, d.pointer])).toEqual([
      ["forbidden-key", 1, 1, "/__proto__"],
      ["forbidden-key", 3, 3, "/services/constructor"],
      ["forbidden-key", 5, 5, "/services/api/__proto__"],
      ["forbidden-key", 8, 7, "/list/0/__proto__"],
    ]);
    const value = y.value as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(["services", "list"]);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, "__proto__")).toBe(false);
    expect(value["services"]).toEqual({ api: {} });
    expect(JSON.stringify(value)).not.toContain("polluted");
  });
});

describe("loadYamlFile", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "upkeep-load-"));
    await writeFile(join(dir, "ok.yaml"), "a: 1\n");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a file and names it as given", async () => {
    const result = await loadYamlFile(join(dir, "ok.yaml"), "shown/ok.yaml");
    expect(result.ok && result.yaml.file).toBe("shown/ok.yaml");
    expect(result.ok && result.yaml.value).toEqual({ a: 1 });
  });

  it("returns the error of a missing file instead of throwing", async () => {
    const result = await loadYamlFile(join(dir, "nope.yaml"), "nope.yaml");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.code).toBe("ENOENT");
  });
});
