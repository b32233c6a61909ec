/**
 * The Config cache behind `run`'s cold start: a hit gives exactly the Config a full load gives, and
 * anything the Config depends on (file bytes, referenced env values, --state-dir) misses.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  cacheEntry,
  keyHash,
  NATIVE_HASH_FROM,
  readCachedConfig,
  writeCachedConfig,
} from "../../src/config/config-cache.js";
import { loadRules } from "../../src/config/validate.js";

let dir: string;
let env: Record<string, string | undefined>;

const SERVICES = `version: 1
runtime: { stateDir: "\${env:UPKEEP_TEST_STATE}" }
services:
  web: { title: Web, probe: { type: tcp, port: 8080 } }
`;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "upkeep-cache-"));
  env = { XDG_CACHE_HOME: join(dir, "cache"), UPKEEP_TEST_STATE: join(dir, "state") };
  writeFileSync(join(dir, "services.yaml"), SERVICES);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entry = (overrides: Partial<Parameters<typeof cacheEntry>[0]> = {}) =>
  cacheEntry({ version: "1.0.0", rulesDir: dir, stateDir: undefined, env, ...overrides });

describe("the Config cache", () => {
  it("gives back exactly the Config a full load produced, frozen", async () => {
    const { config } = await loadRules(dir, { env });
    const slot = entry();
    expect(slot).toBeDefined();
    expect(readCachedConfig(slot!)).toBeUndefined();
    await writeCachedConfig(slot!, config!);
    const cached = readCachedConfig(entry()!);
    expect(cached).toEqual(JSON.parse(JSON.stringify(config)));
    expect(Object.isFrozen(cached?.services[0]?.probe)).toBe(true);
  });

  it("misses when the rules, a referenced env value, --state-dir or the version change", async () => {
    const { config } = await loadRules(dir, { env });
    await writeCachedConfig(entry()!, config!);
    expect(readCachedConfig(entry({ version: "1.0.1" })!)).toBeUndefined();
    expect(readCachedConfig(entry({ stateDir: join(dir, "other") })!)).toBeUndefined();
    expect(readCachedConfig(entry({ env: { ...env, UPKEEP_TEST_STATE: "/elsewhere" } })!)).toBeUndefined();
    // An unrelated variable does not matter.
    expect(readCachedConfig(entry({ env: { ...env, UNRELATED: "x" } })!)).toBeDefined();
    writeFileSync(join(dir, "services.yaml"), SERVICES.replace("8080", "8081"));
    expect(readCachedConfig(entry()!)).toBeUndefined();
    writeFileSync(join(dir, "services.yaml"), SERVICES);
    writeFileSync(join(dir, "alerts.yaml"), "version: 1\n");
    expect(readCachedConfig(entry()!)).toBeUndefined();
  });

  it("never caches rules with plugins or packs, or when UPKEEP_NO_CACHE=1", () => {
    expect(entry({ env: { ...env, UPKEEP_NO_CACHE: "1" } })).toBeUndefined();
    writeFileSync(join(dir, "services.yaml"), `${SERVICES}packs:\n  - { use: ./packs/x, as: x }\n`);
    expect(entry()).toBeUndefined();
  });

  it("never writes a Config that loads plugins, even when the key check missed them", async () => {
    const { config } = await loadRules(dir, { env });
    const withPlugin = { ...config!, runtime: { ...config!.runtime, plugins: ["/x/plugin.mjs"] } };
    await writeCachedConfig(entry()!, withPlugin);
    expect(readCachedConfig(entry()!)).toBeUndefined();
  });

  it("treats an unreadable or foreign cache file as a miss", async () => {
    const slot = entry()!;
    const { config } = await loadRules(dir, { env });
    await writeCachedConfig(slot, config!);
    writeFileSync(slot.file, "{not json");
    expect(readCachedConfig(slot)).toBeUndefined();
  });
});

describe("the Config cache with runtime.envFile", () => {
  it.each([
    [
      "block style with a trailing comment",
      'runtime:\n  envFile: ./secrets.env   # KEY=VALUE lines\n  stateDir: "${env:SD}"\n',
    ],
    ["flow style", 'runtime: { envFile: "./secrets.env", stateDir: "${env:SD}" }\n'],
  ])("misses when the env file changes (%s)", async (_name, runtime) => {
    writeFileSync(
      join(dir, "services.yaml"),
      `version: 1\n${runtime}services:\n  web: { probe: { type: tcp, port: 1 } }\n`,
    );
    writeFileSync(join(dir, "secrets.env"), `SD=${join(dir, "a")}\n`, { mode: 0o600 });
    const first = await loadRules(dir, { env: { XDG_CACHE_HOME: env.XDG_CACHE_HOME } });
    const slot = entry({ env: { XDG_CACHE_HOME: env.XDG_CACHE_HOME } })!;
    expect(slot.envFile).toBe(join(dir, "secrets.env"));
    await writeCachedConfig(slot, first.config!);
    expect(readCachedConfig(slot)?.runtime.stateDir).toBe(join(dir, "a"));
    writeFileSync(join(dir, "secrets.env"), `SD=${join(dir, "b")}\n`, { mode: 0o600 });
    expect(readCachedConfig(entry({ env: { XDG_CACHE_HOME: env.XDG_CACHE_HOME } })!)).toBeUndefined();
  });
});

describe("the cache key's hash", () => {
  // Which SHA-256 runs depends on the size of the rules (speed only): both must give the same key.
  it("is the same digest in JavaScript (small rules) and from node:crypto (large rules)", () => {
    const parts = ["1.0.0", "/rules", "é ünïcode ✓ \u{1F600}", "x".repeat(NATIVE_HASH_FROM + 1), "\0none"];
    const js = keyHash(0);
    const native = keyHash(NATIVE_HASH_FROM);
    for (const part of parts) {
      js.update(part);
      native.update(part);
    }
    const expected = createHash("sha256").update(parts.join(""), "utf8").digest("hex");
    expect(js.digest()).toBe(expected);
    expect(native.digest()).toBe(expected);
  });
});
