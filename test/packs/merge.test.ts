/**
 * Packs merged into the rules through loadRules, with real files in temp dirs: namespacing, merge order,
 * overrides, shadowing, and every diagnostic pointing at the file (consumer's or pack's) and position
 * the value came from.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadRules } from "../../src/config/validate.js";
import { CONSUMER_ALERTS, simplePack, tempTree, under } from "./helpers.js";

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function rules(services: string, extra: Record<string, string> = {}) {
  const tree = await tempTree({
    "rules/services.yaml": services,
    "rules/alerts.yaml": CONSUMER_ALERTS,
    ...under("packs/simple", simplePack()),
    ...extra,
  });
  cleanup = tree.cleanup;
  const dir = join(tree.root, "rules");
  return { dir, root: tree.root, result: await loadRules(dir, { env: {} }) };
}

const PACK = (as: string, port = 8080, extra = "") =>
  `  - { use: ../packs/simple, as: ${as}, with: { port: ${port} }, trust: [launchd.unload]${extra} }`;

describe("namespacing", () => {
  it("gives two uses of the same pack separate ids, recipes and alert rules", async () => {
    const { result } = await rules(["version: 1", "packs:", PACK("web"), PACK("admin", 9090), ""].join("\n"));
    expect(result.diagnostics).toEqual([]);
    const services = result.config?.services ?? [];
    expect(services.map((s) => s.id)).toEqual(["web/app", "admin/app"]);
    expect(services.map((s) => s.probe.params["port"])).toEqual([8080, 9090]);
    expect(services.map((s) => s.heal.recipe)).toEqual(["web/restart", "admin/restart"]);
    const alertRules = result.config?.alerts.rules ?? [];
    expect(alertRules.map((r) => [r.id, r.services])).toEqual([
      ["web/down", ["web/app"]],
      ["admin/down", ["admin/app"]],
    ]);
  });

  it("points source refs of pack values at the pack's files", async () => {
    const { result, root } = await rules(["version: 1", "packs:", PACK("web"), ""].join("\n"));
    const [service] = result.config?.services ?? [];
    expect(service?.source).toEqual({
      file: join(root, "packs/simple/services.yaml"),
      pointer: "/services/app",
    });
    expect(service?.heal.steps[0]?.source.pointer).toBe("/recipes/restart/steps/0");
    expect(result.config?.alerts.rules[0]?.source).toEqual({
      file: join(root, "packs/simple/alerts.yaml"),
      pointer: "/rules/down",
    });
    expect(result.config?.files).toContain(join(root, "packs/simple/pack.yaml"));
  });

  it("refuses two packs with the same namespace", async () => {
    const { result } = await rules(["version: 1", "packs:", PACK("web"), PACK("web", 9090), ""].join("\n"));
    expect(result.diagnostics).toMatchObject([{ code: "duplicate-id", line: 4, pointer: "/packs/1/as" }]);
  });
});

describe("merge order: packs, then overrides, then local rules", () => {
  it("deep-merges an override's maps and replaces its lists", async () => {
    const { result } = await rules(
      [
        "version: 1",
        "packs:",
        PACK("web"),
        "overrides:",
        "  web/app:",
        "    probe: { timeout: 5s }",
        "    tags: [mine]",
        "",
      ].join("\n"),
    );
    expect(result.diagnostics).toEqual([]);
    const [app] = result.config?.services ?? [];
    expect(app?.probe).toMatchObject({
      type: "tcp",
      timeoutMs: 5000,
      params: { host: "127.0.0.1", port: 8080 },
    });
    expect(app?.tags).toEqual(["mine"]);
  });

  it("lets a later pack's rules come after an earlier pack's, and local rules last", async () => {
    const { result } = await rules(
      [
        "version: 1",
        "packs:",
        PACK("b"),
        PACK("a", 9090),
        "services:",
        "  local:",
        "    probe: { type: tcp, port: 1 }",
        "",
      ].join("\n"),
    );
    expect(result.config?.services.map((s) => s.id)).toEqual(["b/app", "a/app", "local"]);
  });

  it("disables one pack service with enabled: false and drops a pack alert rule", async () => {
    const { result } = await rules(
      [
        "version: 1",
        "packs:",
        PACK("web"),
        "overrides:",
        "  web/app: { enabled: false }",
        "  web/down: { enabled: false }",
        "",
      ].join("\n"),
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.config?.services.map((s) => [s.id, s.enabled])).toEqual([["web/app", false]]);
    expect(result.config?.alerts.rules).toEqual([]);
  });

  it("rejects an override of an unknown id with a did-you-mean", async () => {
    const { result, dir } = await rules(
      ["version: 1", "packs:", PACK("web"), "overrides:", "  web/ap: { enabled: false }", ""].join("\n"),
    );
    expect(result.config).toBeUndefined();
    expect(result.diagnostics).toMatchObject([
      {
        code: "unknown-override",
        file: join(dir, "services.yaml"),
        line: 5,
        column: 3,
        pointer: "/overrides/web~1ap",
        hint: 'did you mean "web/app"?',
      },
    ]);
  });

  it("does not let a local rule silently shadow a pack rule", async () => {
    const { result, dir } = await rules(
      [
        "version: 1",
        "packs:",
        PACK("web"),
        "services:",
        "  web/app:",
        "    probe: { type: tcp, port: 1 }",
        "",
      ].join("\n"),
    );
    expect(result.config).toBeUndefined();
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]).toMatchObject({
      code: "pack-shadow",
      file: join(dir, "services.yaml"),
      line: 5,
      column: 3,
    });
    expect(result.diagnostics[0]?.hint).toMatch(/overrides: \{ "web\/app"/);
  });

  it("lets local rules use pack recipes and depend on pack services", async () => {
    const { result } = await rules(
      [
        "version: 1",
        "packs:",
        PACK("web"),
        "services:",
        "  worker:",
        "    probe: { type: tcp, port: 1 }",
        "    dependsOn: [web/app]",
        "    heal: { recipe: web/restart }",
        "",
      ].join("\n"),
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.config?.services[1]).toMatchObject({
      id: "worker",
      dependsOn: ["web/app"],
      heal: { recipe: "web/restart" },
    });
  });
});

describe("diagnostics point where the value was written", () => {
  it("puts a parameter error on the consumer's with: value (line and column)", async () => {
    const { result, dir } = await rules(
      [
        "version: 1",
        "packs:",
        "  - use: ../packs/simple",
        "    as: web",
        "    trust: [launchd.unload]",
        "    with:",
        '      port: "eighty"',
        "",
      ].join("\n"),
    );
    expect(result.config).toBeUndefined();
    expect(result.diagnostics).toMatchObject([
      {
        code: "pack-param",
        file: join(dir, "services.yaml"),
        line: 7,
        column: 13,
        pointer: "/packs/0/with/port",
      },
    ]);
    expect(result.diagnostics[0]?.message).toMatch(/pack "web"/);
  });

  it("reports a missing required parameter on the pack entry", async () => {
    const { result } = await rules(
      ["version: 1", "packs:", "  - { use: ../packs/simple, as: web, trust: [launchd.unload] }", ""].join(
        "\n",
      ),
    );
    expect(result.diagnostics).toMatchObject([{ code: "pack-param", line: 3, pointer: "/packs/0/with" }]);
    expect(result.diagnostics[0]?.message).toMatch(/port/);
  });

  it("puts an error inside a pack on the pack's file", async () => {
    const pack = simplePack();
    pack["services.yaml"] = (pack["services.yaml"] ?? "").replace("type: tcp", "type: tcpp");
    const { result, root } = await rules(
      ["version: 1", "packs:", PACK("web"), ""].join("\n"),
      under("packs/simple", pack),
    );
    expect(result.diagnostics).toMatchObject([
      {
        code: "unknown-probe",
        file: join(root, "packs/simple/services.yaml"),
        line: 11,
        pointer: "/services/app/probe/type",
      },
    ]);
  });

  it("puts an error in an override on the consumer's overrides entry", async () => {
    const { result, dir } = await rules(
      [
        "version: 1",
        "packs:",
        PACK("web"),
        "overrides:",
        "  web/app:",
        "    probe: { timeout: soon }",
        "",
      ].join("\n"),
    );
    expect(result.diagnostics).toMatchObject([
      {
        code: "invalid-duration",
        file: join(dir, "services.yaml"),
        line: 6,
        pointer: "/overrides/web~1app/probe/timeout",
      },
    ]);
  });

  it("refuses a pack file that sets runtime (packs are data: no plugins, no runtime)", async () => {
    const pack = simplePack();
    pack["services.yaml"] = `runtime: { plugins: [./evil.js] }\n${pack["services.yaml"] ?? ""}`;
    const { result, root } = await rules(
      ["version: 1", "packs:", PACK("web"), ""].join("\n"),
      under("packs/simple", pack),
    );
    expect(result.diagnostics).toMatchObject([
      {
        code: "pack-content",
        file: join(root, "packs/simple/services.yaml"),
        line: 1,
        column: 1,
        pointer: "/runtime",
      },
    ]);
  });

  it("reports an unsupported upkeep range on the pack entry", async () => {
    const { result } = await rules(
      ["version: 1", "packs:", PACK("web"), ""].join("\n"),
      under("packs/simple", simplePack({ upkeep: ">=9" })),
    );
    expect(result.diagnostics).toMatchObject([
      { code: "pack-incompatible", line: 3, pointer: "/packs/0/use" },
    ]);
    expect(result.diagnostics[0]?.message).toMatch(/supports upkeep >=9, this is upkeep \d/);
  });

  it("reports a missing pack folder", async () => {
    const { result } = await rules(["version: 1", "packs:", "  - { use: ./nope, as: web }", ""].join("\n"));
    expect(result.diagnostics).toMatchObject([{ code: "pack-not-found", line: 3, pointer: "/packs/0/use" }]);
  });
});

describe("trust", () => {
  it("refuses a declared capability the consumer has not granted, saying how to grant it", async () => {
    const { result, dir } = await rules(
      ["version: 1", "packs:", "  - { use: ../packs/simple, as: web, with: { port: 80 } }", ""].join("\n"),
    );
    expect(result.config).toBeUndefined();
    expect(result.diagnostics).toMatchObject([
      { code: "pack-untrusted", file: join(dir, "services.yaml"), line: 3, pointer: "/packs/0" },
    ]);
    expect(result.diagnostics[0]?.message).toMatch(/runs launchd\.unload/);
    expect(result.diagnostics[0]?.hint).toMatch(/add trust: \[launchd\.unload\] to the pack entry/);
  });

  it("refuses a pack that uses a side-effecting handler it does not declare", async () => {
    const pack = simplePack({ action: "exec", capabilities: "[]" });
    pack["services.yaml"] = (pack["services.yaml"] ?? "").replace(
      '        with: { label: "${{ pack.params.label }}" }',
      "        with: { command: [/bin/true] }",
    );
    const { result, root } = await rules(
      ["version: 1", "packs:", PACK("web"), ""].join("\n"),
      under("packs/simple", pack),
    );
    expect(result.diagnostics).toMatchObject([
      {
        code: "pack-capability",
        file: join(root, "packs/simple/services.yaml"),
        line: 5,
        pointer: "/recipes/restart/steps/0/action",
      },
    ]);
  });

  it("fails again after an update adds a capability, until it is granted", async () => {
    const pack = simplePack({ capabilities: "[launchd.unload, exec]" });
    const { result } = await rules(
      ["version: 1", "packs:", PACK("web"), ""].join("\n"),
      under("packs/simple", pack),
    );
    expect(result.diagnostics).toMatchObject([{ code: "pack-untrusted", pointer: "/packs/0/trust" }]);
    expect(result.diagnostics[0]?.message).toMatch(/runs exec,/);
    expect(result.diagnostics[0]?.hint).toMatch(/trust: \[launchd\.unload, exec\]/);
  });
});

describe("npm packs", () => {
  const npmPack = (version: string): Record<string, string> => ({
    ...under("node_modules/@acme/upkeep-simple", simplePack({ name: "@acme/upkeep-simple", version })),
    "node_modules/@acme/upkeep-simple/package.json": JSON.stringify({ name: "@acme/upkeep-simple", version }),
  });

  it("resolves npm:@scope/name@range from the project's node_modules", async () => {
    const { result } = await rules(
      [
        "version: 1",
        "packs:",
        "  - { use: 'npm:@acme/upkeep-simple@^1.2.0', as: web, with: { port: 81 }, trust: [launchd.unload] }",
        "",
      ].join("\n"),
      npmPack("1.4.0"),
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.config?.services[0]?.id).toBe("web/app");
  });

  it("refuses an installed version outside the range", async () => {
    const { result } = await rules(
      [
        "version: 1",
        "packs:",
        "  - { use: 'npm:@acme/upkeep-simple@^2', as: web, with: { port: 81 } }",
        "",
      ].join("\n"),
      npmPack("1.4.0"),
    );
    expect(result.diagnostics).toMatchObject([{ code: "pack-incompatible", line: 3 }]);
    expect(result.diagnostics[0]?.message).toMatch(/1\.4\.0 is installed, but the rules ask for \^2/);
  });

  it("says how to install a package that is not installed", async () => {
    const { result } = await rules(
      ["version: 1", "packs:", "  - { use: 'npm:@acme/missing@1', as: web }", ""].join("\n"),
    );
    expect(result.diagnostics).toMatchObject([{ code: "pack-not-found" }]);
    expect(result.diagnostics[0]?.hint).toMatch(/npm install @acme\/missing/);
  });
});
