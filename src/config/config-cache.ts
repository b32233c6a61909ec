/**
 * A cache of the validated, normalized Config for commands that act on rules (`run`, `plan`, `watch`,
 * `status`...). launchd starts `upkeep run` every few minutes on rules that rarely change, and parsing
 * plus checking them was a third of its cold start. The key covers everything the Config depends on:
 * the upkeep version, the rules directory, the exact bytes of services.yaml and alerts.yaml, the
 * --state-dir override, HOME, and the values of every `${env:NAME}` the files mention (hashed, never
 * stored). Rules with plugins or packs are never cached: their handlers and files must load anyway.
 * `upkeep validate` never uses the cache. UPKEEP_NO_CACHE=1 turns it off.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { envFilePath } from "./env-file.js";
import type { Config } from "./model.js";

export interface CacheKeyInput {
  readonly version: string;
  readonly rulesDir: string;
  readonly stateDir: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface CacheEntry {
  readonly file: string;
  readonly key: string;
  /** The env file whose bytes are in the key. */
  readonly envFile?: string;
}

/** `envFile: path`, in block or flow style, quoted or not, with or without a trailing comment. */
const ENV_FILE = /\benvFile\s*:\s*(?:"([^"]*)"|'([^']*)'|([^\s,}#]+))/;
const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** Keys whose presence means the Config depends on more than the two files. */
const UNCACHEABLE = /^\s*(plugins|packs)\s*:/m;

function readOrEmpty(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

export function cacheDir(env: Readonly<Record<string, string | undefined>>): string {
  const base =
    env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== ""
      ? env.XDG_CACHE_HOME
      : join(homedir(), ".cache");
  return join(base, "upkeep");
}

/** Above this many characters of rules, loading node:crypto costs less than hashing in JavaScript. */
export const NATIVE_HASH_FROM = 64 * 1024;

/**
 * SHA-256 of the key's parts, hex. Both implementations give the same digest; which one runs is a matter
 * of speed only: a healthy tick on a few services should not load node:crypto (a tenth of its start-up),
 * and 5,000 services (1 MB) hash in 3 ms natively against ~40 ms in JavaScript.
 */
export function keyHash(size: number): { update(text: string): void; digest(): string } {
  if (size >= NATIVE_HASH_FROM) {
    const native = process.getBuiltinModule("node:crypto").createHash("sha256");
    return { update: (text) => void native.update(text, "utf8"), digest: () => native.digest("hex") };
  }
  const js = sha256.create();
  return { update: (text) => void js.update(utf8ToBytes(text)), digest: () => bytesToHex(js.digest()) };
}

/** The cache slot for these rules, or undefined when they must not be cached. */
export function cacheEntry(input: CacheKeyInput): CacheEntry | undefined {
  if (input.env.UPKEEP_NO_CACHE === "1") return undefined;
  const services = readOrEmpty(join(input.rulesDir, "services.yaml"));
  if (services === undefined || UNCACHEABLE.test(services)) return undefined;
  const alerts = readOrEmpty(join(input.rulesDir, "alerts.yaml"));
  const names = new Set([...`${services}\n${alerts ?? ""}`.matchAll(ENV_REF)].map((m) => m[1] as string));
  const hash = keyHash(services.length + (alerts?.length ?? 0));
  for (const part of [
    input.version,
    input.rulesDir,
    input.stateDir ?? "",
    homedir(),
    services,
    alerts ?? "\0none",
  ]) {
    hash.update(part);
    hash.update("\0");
  }
  for (const name of [...names].sort()) hash.update(`${name}=${input.env[name] ?? "\0unset"}\0`);
  // runtime.envFile may supply values normalization renders: its path and bytes are part of the key,
  // and the write checks that the path read here is the one the Config names.
  let envFile: string | undefined;
  if (services.includes("envFile")) {
    const match = ENV_FILE.exec(services);
    const text = match?.[1] ?? match?.[2] ?? match?.[3];
    if (text === undefined) return undefined;
    envFile = envFilePath(text, input.rulesDir);
    hash.update(`${envFile}\0${readOrEmpty(envFile) ?? "\0none"}\0`);
  }
  const slot = bytesToHex(sha256(utf8ToBytes(input.rulesDir))).slice(0, 16);
  return {
    file: join(cacheDir(input.env), `config-${slot}.json`),
    key: hash.digest(),
    ...(envFile === undefined ? {} : { envFile }),
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export function readCachedConfig(entry: CacheEntry): Config | undefined {
  const text = readOrEmpty(entry.file);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as { key?: unknown; config?: unknown };
    return parsed.key === entry.key && typeof parsed.config === "object" && parsed.config !== null
      ? deepFreeze(parsed.config as Config)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Only a Config built from the two rules files alone, without plugins, may be cached. */
export function isCacheable(config: Config): boolean {
  const own = new Set(config.files);
  return (
    config.runtime.plugins.length === 0 &&
    config.files.length <= 2 &&
    config.services.every(
      (s) => own.has(s.source.file) && s.heal.steps.every((step) => own.has(step.source.file)),
    )
  );
}

/** Best effort: a cache that cannot be written only costs speed. */
export async function writeCachedConfig(entry: CacheEntry, config: Config): Promise<void> {
  // Had the key read a different env file than the Config names, a later edit could go unnoticed.
  if (!isCacheable(config) || config.runtime.envFile !== entry.envFile) return;
  try {
    const { writeFileAtomic } = await import("../runtime/atomic-file.js");
    mkdirSync(dirname(entry.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(entry.file, JSON.stringify({ key: entry.key, config }));
  } catch {
    // Read-only home, full disk: run without the cache.
  }
}
