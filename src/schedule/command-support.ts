/**
 * What `upkeep launchd` and `upkeep systemd` share: subcommand dispatch, loading the rules (required to
 * render or install; uninstall and status fall back to the default tool paths when the rules are broken,
 * so a bad edit never prevents removing the job), and printing.
 */
import type { Config } from "../config/model.js";
import { suggest } from "../config/suggest.js";
import { rulesDirFrom } from "../cli/load-config.js";
import { ExitCode } from "../errors.js";
import { homedir } from "node:os";
import { chooseFormat, parseFlags } from "../cli/args.js";
import { absolutePath, cliPathWarning, runnerSpec, type RunnerSpec } from "./runner.js";
import { answers, checkListen, DEFAULT_LISTEN, serveUrl, type Address, type ServeJob } from "./serve-job.js";

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

/** The flags both scheduler commands take, plus the job-name flag (`--label` / `--unit`). */
export const SCHEDULE_OPTIONS = {
  rules: { type: "string" },
  "state-dir": { type: "string" },
  node: { type: "string" },
  "dry-run": { type: "boolean" },
  format: { type: "string" },
  serve: { type: "boolean" },
  listen: { type: "string" },
  actions: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** --serve with what it passes on to `upkeep serve`, and the address checked. */
export interface ServeChoice extends ServeJob {
  readonly address: Address;
}

export interface ScheduleStart {
  readonly sub: Subcommand;
  /** The job's name: launchd label or systemd unit. */
  readonly name: string;
  readonly format: "text" | "json";
  readonly dryRun: boolean;
  readonly node: string | undefined;
  readonly loaded: Loaded;
  readonly home: string;
  /** --serve: the status page as a job of its own too; undefined without it. */
  readonly serve: ServeChoice | undefined;
}

/** --serve [--listen HOST:PORT] [--actions]; the two only go with --serve. */
async function serveChoice(
  tool: string,
  values: Record<string, string | boolean | undefined>,
): Promise<ServeChoice | undefined | number> {
  const listen = typeof values["listen"] === "string" ? values["listen"] : undefined;
  const actions = values["actions"] === true;
  if (values["serve"] !== true) {
    if (listen === undefined && !actions) return undefined;
    err(`upkeep ${tool}: ${listen === undefined ? "--actions" : "--listen"} goes with --serve\n`);
    return ExitCode.usage;
  }
  const address = await checkListen(listen ?? DEFAULT_LISTEN);
  if (typeof address === "string") {
    err(`upkeep ${tool}: ${address}\n`);
    return ExitCode.usage;
  }
  return { ...(listen === undefined ? {} : { listen }), actions, address };
}

/**
 * The start `upkeep launchd` and `upkeep systemd` share: flags, --help, the subcommand, the job name
 * (checked), --format, and the rules (required to render or install). Returns an exit code when done.
 */
export async function startSchedule(
  tool: "launchd" | "systemd",
  argv: readonly string[],
  help: string,
  name: {
    readonly flag: "label" | "unit";
    readonly fallback: string;
    readonly check: (n: string) => string | undefined;
  },
): Promise<ScheduleStart | number> {
  const options = { ...SCHEDULE_OPTIONS, [name.flag]: { type: "string" } } as const;
  const parsed = parseFlags(argv, options);
  if (!parsed.ok) {
    err(`upkeep ${tool}: ${parsed.message}\n`);
    return ExitCode.usage;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values["help"] === true) {
    out(help);
    return ExitCode.ok;
  }
  const sub = pickSubcommand(parsed.positionals, tool);
  if (typeof sub === "number") return sub;
  const flag = (key: string): string | undefined =>
    typeof values[key] === "string" ? values[key] : undefined;
  const jobName = flag(name.flag) ?? name.fallback;
  const bad = name.check(jobName);
  if (bad !== undefined) {
    err(`upkeep ${tool}: ${bad}\n`);
    return ExitCode.usage;
  }
  const format = chooseFormat(flag("format"), ["text", "json"] as const, "text");
  if (!format.ok) {
    err(`upkeep ${tool}: ${format.message}\n`);
    return ExitCode.usage;
  }
  const serve = await serveChoice(tool, values);
  if (typeof serve === "number") return serve;
  const rules = flag("rules");
  const stateDir = flag("state-dir");
  const loaded = await loadForSchedule(
    {
      ...(rules === undefined ? {} : { rules }),
      ...(stateDir === undefined ? {} : { "state-dir": stateDir }),
    },
    process.env,
    sub === "render" || sub === "install",
  );
  if (loaded === undefined) return ExitCode.usage;
  return {
    sub,
    name: jobName,
    format: format.value,
    dryRun: values["dry-run"] === true,
    node: flag("node"),
    loaded,
    home: homedir(),
    serve,
  };
}

/** What the job runs, from rules that loaded (render/install require them); warns about a fragile CLI path. */
export function jobSpec(start: ScheduleStart): RunnerSpec {
  const spec = runnerSpec({
    config: start.loaded.config as Config,
    ...(start.loaded.stateDirFlag === undefined ? {} : { stateDir: start.loaded.stateDirFlag }),
    ...(start.node === undefined ? {} : { nodePath: start.node }),
    home: start.home,
  });
  const warning = cliPathWarning(spec.cliPath);
  if (warning !== undefined) err(`upkeep: warning: ${warning}\n`);
  return spec;
}

/**
 * install: the node and CLI the job will start must run. A real install refuses (exit 2) before writing
 * anything; a dry run (often made for another machine) only warns.
 */
export async function checkJobBeforeInstall(
  tool: "launchd" | "systemd",
  spec: RunnerSpec,
  dryRun: boolean,
): Promise<number | undefined> {
  const { checkJobRunner, formatProblems } = await import("./job-check.js");
  const problems = await checkJobRunner(spec, `upkeep ${tool} install`);
  if (problems.length === 0) return undefined;
  err(`upkeep ${tool}: ${dryRun ? "warning: " : ""}the job could not start:\n${formatProblems(problems)}`);
  return dryRun ? undefined : ExitCode.usage;
}

/**
 * install --serve: something else already answering at the page's address (an `upkeep serve` started by
 * hand) would make every start of the job fail with "address in use". A real install refuses (exit 2)
 * before writing anything; a dry run only warns. `ours`: the installed page is what answers there.
 */
export async function checkServeAddress(
  tool: "launchd" | "systemd",
  serve: ServeChoice,
  dryRun: boolean,
  ours: () => Promise<boolean>,
): Promise<number | undefined> {
  if (!(await answers(serve.address)) || (await ours())) return undefined;
  err(
    `upkeep ${tool}: ${dryRun ? "warning: " : ""}something already answers at ${serveUrl(serve.listen)} (an \`upkeep serve\` started by hand?): the page's job could not listen there; stop it, or pick another --listen\n`,
  );
  return dryRun ? undefined : ExitCode.usage;
}
