import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { builtinHandlers, getHandler, listHandlers, registerHandler } from "../../src/actions/registry.js";
import type { Handler, HandlerKind, ProbeHandler } from "../../src/actions/types.js";
import { isUpkeepError } from "../../src/errors.js";

const KINDS: Record<HandlerKind, string> = { probe: "probes", step: "steps", channel: "channels" };
const srcDir = (folder: string): string =>
  fileURLToPath(new URL(`../../src/actions/${folder}/`, import.meta.url));
const schemaFile = (kind: HandlerKind, name: string): string =>
  fileURLToPath(new URL(`../../schemas/handlers/${kind}/${name}.schema.json`, import.meta.url));

/** `launchd-unload.ts` holds the handler `launchd.unload`. */
const handlerNameOf = (file: string): string => file.replace(/\.ts$/, "").replace("-", ".");

function isHandler(value: unknown): value is Handler {
  return typeof value === "object" && value !== null && "kind" in value && "run" in value && "name" in value;
}

describe("handler registry", () => {
  for (const [kind, folder] of Object.entries(KINDS) as [HandlerKind, string][]) {
    it(`lists exactly the handler files in src/actions/${folder}`, async () => {
      const files = readdirSync(srcDir(folder)).filter((f) => f.endsWith(".ts"));
      expect(files.map(handlerNameOf).sort()).toEqual(Object.keys(builtinHandlers[kind]).sort());
      for (const file of files) {
        const url = pathToFileURL(join(srcDir(folder), file)).href;
        const module = (await import(/* @vite-ignore */ url)) as Record<string, unknown>;
        const handlers = Object.values(module).filter(isHandler);
        expect(handlers, `${file} exports exactly one handler`).toHaveLength(1);
        const [handler] = handlers as [Handler];
        expect(handler.name).toBe(handlerNameOf(file));
        expect(handler.kind).toBe(kind);
        expect(getHandler(handler.name, kind)).toBe(handler);
      }
    });

    it(`has a schema file for every ${kind} handler, loaded through its schema getter`, () => {
      for (const [name, handler] of Object.entries(builtinHandlers[kind]) as [string, Handler][]) {
        expect(existsSync(schemaFile(kind, name)), `schemas/handlers/${kind}/${name}.schema.json`).toBe(true);
        const schema = handler.schema;
        expect(schema["$id"]).toBe(`https://upkeep.dev/schemas/handlers/${kind}/${name}.schema.json`);
        expect(schema["type"]).toBe("object");
      }
    });
  }

  it("declares side effects: wait/verify none, exec/launchd/systemd local, http step network", () => {
    const effects = Object.fromEntries(
      Object.values(builtinHandlers.step).map((h: Handler) => [h.name, h.sideEffects] as const),
    );
    expect(effects).toEqual({
      wait: "none",
      verify: "none",
      exec: "local",
      http: "network",
      "launchd.unload": "local",
      "launchd.load": "local",
      "launchd.kickstart": "local",
      "launchd.bootout": "local",
      "launchd.bootstrap": "local",
      "systemd.restart": "local",
    });
    for (const probe of Object.values(builtinHandlers.probe)) expect(probe.sideEffects).toBe("none");
  });

  it("keeps the same name apart per kind: http and exec are both a probe and a step", () => {
    expect(getHandler("http", "probe")?.kind).toBe("probe");
    expect(getHandler("http", "step")?.kind).toBe("step");
    expect(getHandler("exec", "step")?.kind).toBe("step");
    expect(getHandler("http")?.kind).toBe("probe");
    expect(getHandler("launchd.load")?.kind).toBe("step");
    expect(getHandler("log")?.kind).toBe("channel");
    expect(getHandler("nope")).toBeUndefined();
    expect(getHandler("toString")).toBeUndefined();
    expect(getHandler("tcp", "step")).toBeUndefined();
  });

  it("lists handler names per kind", () => {
    expect(listHandlers("probe")).toEqual([
      "disk",
      "exec",
      "file",
      "http",
      "launchd",
      "systemd",
      "tcp",
      "tls",
    ]);
    expect(listHandlers("channel")).toContain("log");
  });

  const plugin: ProbeHandler = {
    name: "redis.ping",
    kind: "probe",
    description: "test plugin",
    schema: { type: "object" },
    sideEffects: "none",
    describe: () => "redis ping",
    run: async () => ({ ok: true, latencyMs: 1, detail: "PONG" }),
  };

  it("registers a plugin handler and removes it again", () => {
    const unregister = registerHandler(plugin);
    try {
      expect(getHandler("redis.ping", "probe")).toBe(plugin);
      expect(listHandlers("probe")).toContain("redis.ping");
    } finally {
      unregister();
    }
    expect(getHandler("redis.ping", "probe")).toBeUndefined();
  });

  it("refuses duplicates and malformed handlers with an E_PLUGIN error", () => {
    const attempt = (h: unknown): unknown => {
      try {
        registerHandler(h as Handler);
        return undefined;
      } catch (error) {
        return error;
      }
    };
    const duplicateBuiltin = attempt({ ...plugin, name: "tcp" });
    expect(isUpkeepError(duplicateBuiltin, "E_PLUGIN")).toBe(true);
    expect((duplicateBuiltin as Error).message).toMatch(/probe handler named "tcp" is already registered/);
    const unregister = registerHandler(plugin);
    try {
      expect(isUpkeepError(attempt(plugin), "E_PLUGIN")).toBe(true);
    } finally {
      unregister();
    }
    // A step may reuse a probe's name, like the built-in http and exec.
    registerHandler({ ...plugin, kind: "step" } as unknown as Handler)();
    for (const bad of [
      null,
      { ...plugin, kind: "alert" },
      { ...plugin, name: "" },
      { ...plugin, run: undefined },
    ]) {
      expect(isUpkeepError(attempt(bad), "E_PLUGIN")).toBe(true);
    }
    expect(isUpkeepError(attempt({ ...plugin, sideEffects: "some" }), "E_PLUGIN")).toBe(true);
  });
});
