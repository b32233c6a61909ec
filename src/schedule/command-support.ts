/**
 * What `upkeep launchd` and `upkeep systemd` share: subcommand dispatch, loading the rules (required to
 * render or install; uninstall and status fall back to the default tool paths when the rules are broken,
 * so a bad edit never prevents removing the job), and printing.
 */
import type { Config } from "../config/model.js";
import { suggest } from "../config/suggest.js";
import { rulesDirFrom } from "../cli/load-config.js";
import { ExitCode } from "../errors.js";
import { absolutePath } from "./runner.js";

export const SUBCOMMANDS = ["render", "install", "uninstall", "status"] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

export type Env = Readonly<Record<string, string | undefined>>;

export const out = (text: string): void => {
  process.stdout.write(text);
};
export const err = (text: string): void => {
  process.stderr.write(text);
};

export function pickSubcommand(positionals: readonly string[], command: string): Subcommand | number {
  const [sub, ...extra] = positionals;
  if (sub === undefined) {
    err(`upkeep ${command}: which one? ${SUBCOMMANDS.join(" | ")} (see upkeep ${command} --help)\n`);
    return ExitCode.usage;
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) {
    const hint = suggest(sub, SUBCOMMANDS);
    err(
      `upkeep ${command}: unknown subcommand "${sub}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}\n`,
    );
    return ExitCode.usage;
  }
  if (extra.length > 0) {
    err(`upkeep ${command} ${sub}: unexpected argument "${extra[0]}"\n`);
    return ExitCode.usage;
  }
  return sub as Subcommand;
}

export interface ScheduleFlags {
  readonly rules?: string | undefined;
  readonly "state-dir"?: string | undefined;
}

export interface Loaded {
  readonly config?: Config;
  readonly launchctl: string;
  readonly systemctl: string;
  /** The --state-dir / UPKEEP_STATE_DIR given now, baked into the job's arguments. */
  readonly stateDirFlag?: string;
  readonly stateDir?: string;
}

/**
 * Loads the rules. `required`: bad rules print their diagnostics and yield undefined (exit 2).
 * Otherwise bad rules only print a one-line note and the built-in tool paths are used.
 */
export async function loadForSchedule(
  flags: ScheduleFlags,
  env: Env,
  required: boolean,
): Promise<Loaded | undefined> {
  // `~` expanded here: a flag may arrive quoted (no shell expansion), and the job must get real paths.
  const expand = (text: string | undefined): string | undefined =>
    text === undefined || text === "" ? undefined : absolutePath(text);
  const stateDirFlag = expand(flags["state-dir"] ?? env["UPKEEP_STATE_DIR"]);
  const rules = expand(flags.rules ?? env["UPKEEP_RULES"]);
  const resolved = {
    ...(rules === undefined ? {} : { rules }),
    ...(stateDirFlag === undefined ? {} : { "state-dir": stateDirFlag }),
  };
  const fromFlag = stateDirFlag === undefined ? {} : { stateDirFlag };
  if (required) {
    const { loadConfigOrReport } = await import("../cli/load-config.js");
    const { config } = await loadConfigOrReport(resolved, env);
    if (config === undefined) return undefined;
    return fromConfig(config, fromFlag);
  }
  const [{ loadRules }, { DEFAULTS }] = await Promise.all([
    import("../config/validate.js"),
    import("../config/normalize.js"),
  ]);
  const result = await loadRules(rulesDirFrom(resolved, env), {
    env,
    ...(stateDirFlag === undefined ? {} : { stateDir: stateDirFlag }),
  });
  if (result.config !== undefined) return fromConfig(result.config, fromFlag);
  err(
    "upkeep: note: the rules could not be loaded (see `upkeep validate`); using the default launchctl/systemctl paths\n",
  );
  return {
    launchctl: DEFAULTS.runtime.launchctl,
    systemctl: DEFAULTS.runtime.systemctl,
    ...fromFlag,
    ...(stateDirFlag === undefined ? {} : { stateDir: stateDirFlag }),
  };
}

function fromConfig(config: Config, fromFlag: { stateDirFlag?: string }): Loaded {
  return {
    config,
    launchctl: config.runtime.launchctlPath,
    systemctl: config.runtime.systemctlPath,
    stateDir: config.runtime.stateDir,
    ...fromFlag,
  };
}
