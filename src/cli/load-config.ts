/** Loads and validates the rules for commands that act on them; bad rules print diagnostics to stderr. */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { cacheEntry, readCachedConfig, writeCachedConfig } from "../config/config-cache.js";
import { withEnvFile } from "../config/env-file.js";
import type { Config } from "../config/model.js";
import { suggest } from "../config/suggest.js";
import { registerConfigSecrets } from "../runtime/config-secrets.js";
import { readPackageVersion } from "./version.js";

export interface RulesFlags {
  rules?: string;
  "state-dir"?: string;
}

/** A quoted `~/x` reaches us unexpanded (the shell did not see it); expand it like the shell would. */
export function expandPath(text: string): string {
  return resolve(text === "~" ? homedir() : text.startsWith("~/") ? join(homedir(), text.slice(2)) : text);
}

export function rulesDirFrom(flags: RulesFlags, env: Readonly<Record<string, string | undefined>>): string {
  return expandPath(flags.rules ?? env.UPKEEP_RULES ?? "rules");
}

export function stateDirFrom(
  flags: RulesFlags,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const dir = flags["state-dir"] ?? env.UPKEEP_STATE_DIR;
  return dir === undefined || dir === "" ? undefined : expandPath(dir);
}

export async function loadConfigOrReport(
  flags: RulesFlags,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ config?: Config; env: Readonly<Record<string, string | undefined>> }> {
  const stateDir = stateDirFrom(flags, env);
  const rulesDir = rulesDirFrom(flags, env);
  const cache = cacheEntry({ version: readPackageVersion(), rulesDir, stateDir, env });
  const cached = cache === undefined ? undefined : readCachedConfig(cache);
  if (cached !== undefined) return withSecrets(cached, env);
  const { loadRules } = await import("../config/validate.js");
  const result = await loadRules(rulesDir, {
    env,
    requireEnv: false,
    ...(stateDir === undefined ? {} : { stateDir }),
  });
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0 || result.config === undefined) {
    const { formatText } = await import("./format/diagnostics.js");
    process.stderr.write(formatText(result.diagnostics));
    process.stderr.write("upkeep: the rules have errors; nothing was run and no state was changed.\n");
    return { env };
  }
  if (cache !== undefined) await writeCachedConfig(cache, result.config);
  return withSecrets(result.config, env);
}

/** The environment `${env:NAME}` reads at run time: the real one over runtime.envFile's values. */
function withSecrets(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): { config: Config; env: Readonly<Record<string, string | undefined>> } {
  const merged = withEnvFile(env, config.runtime.envFile);
  if (merged.problem !== undefined) process.stderr.write(`upkeep: warning: ${merged.problem}\n`);
  registerConfigSecrets(config, merged.env, merged.fileValues);
  return { config, env: merged.env };
}

/** "unknown service" with a did-you-mean, or undefined when the rules define `id`. */
export function unknownService(config: Config, id: string): string | undefined {
  const ids = config.services.map((s) => s.id);
  if (ids.includes(id)) return undefined;
  const hint = suggest(id, ids);
  return `unknown service "${id}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`;
}
