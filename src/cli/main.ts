/**
 * Entry point: picks the command and imports only its module, so a cold `upkeep run` never pays for
 * what `validate` or `demo` need. The one error boundary maps error codes to exit codes.
 */
import { ExitCode, UpkeepError } from "../errors.js";
import { BROKEN_PIPE_EXIT, guardOutput, outputWasCutOff } from "./output-guard.js";

export interface CommandModule {
  /** Runs the command with its own argv (after the command name); resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<CommandModule>;
}

/** The one list of commands. Each module parses its own flags and prints its own `--help`. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  run: {
    summary: "run one tick: probe, heal what is down, alert, record state",
    load: () => import("./commands/run.js"),
  },
  plan: {
    summary: "show what a tick would do (probes for real, changes nothing)",
    load: () => import("./commands/plan.js"),
  },
  watch: {
    summary: "run ticks in a loop until SIGINT/SIGTERM",
    load: () => import("./commands/watch.js"),
  },
  status: {
    summary: "services, breaker states, heal budgets, firing alerts",
    load: () => import("./commands/status.js"),
  },
  demo: {
    summary: "self-contained demo: start stub services, kill one, heal it, clean up",
    load: () => import("./commands/demo.js"),
  },
  init: {
    summary: "scaffold a rules folder for this machine (example service, alerts, a rule test)",
    load: () => import("./commands/init.js"),
  },
  validate: {
    summary: "check rules and packs (schema + semantic checks)",
    load: () => import("./commands/validate.js"),
  },
  test: {
    summary: "run rule tests: timelines of probe results against the decision core, simulated clock",
    load: () => import("./commands/test.js"),
  },
  silence: {
    summary: "add | list | remove ad-hoc silences (mute alerts, optionally pause healing)",
    load: () => import("./commands/silence.js"),
  },
  alert: {
    summary: "alert test CHANNEL: send a sample alert through one channel",
    load: () => import("./commands/alert.js"),
  },
  schema: {
    summary: "print a JSON Schema (services | alerts | pack | test | handlers/KIND/NAME)",
    load: () => import("./commands/schema.js"),
  },
  launchd: {
    summary: "render | install | uninstall | status of the LaunchAgent that runs ticks (macOS)",
    load: () => import("./commands/launchd.js"),
  },
  systemd: {
    summary: "render | install | uninstall | status of the systemd user timer that runs ticks (Linux)",
    load: () => import("./commands/systemd.js"),
  },
  doctor: {
    summary: "check the installation (node, scheduler, folders, rules, lock) and say how to fix it",
    load: () => import("./commands/doctor.js"),
  },
  breaker: {
    summary: "reset | isolate a service's circuit breaker by hand",
    load: () => import("./commands/breaker.js"),
  },
  pack: {
    summary: "init | validate | list | lock rule packs (shared, versioned rules)",
    load: () => import("./commands/pack.js"),
  },
  heal: {
    summary: "heal one service now (--force bypasses cooldown and budget, recorded with who forced it)",
    load: () => import("./commands/heal.js"),
  },
  report: {
    summary: "uptime, incidents, MTTR/MTBF, heal outcomes and missed ticks from the history",
    load: () => import("./commands/report.js"),
  },
  serve: {
    summary: "a local status page and JSON API (actions with a token, loopback by default)",
    load: () => import("./commands/serve.js"),
  },
  explain: {
    summary: "one service's merged rule, where each value came from, and its recent history",
    load: () => import("./commands/explain.js"),
  },
  logs: {
    summary: "print the log by service, level and time; -f follows it across rotation",
    load: () => import("./commands/logs.js"),
  },
  completion: {
    summary: "bash | zsh | fish: print a shell completion script for upkeep",
    load: () => import("./commands/completion.js"),
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    "upkeep: workflow-as-config rules runner for self-healing local services",
    "",
    "Usage: upkeep <command> [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Common options:",
    "  --rules DIR       rules directory (default ./rules, env UPKEEP_RULES)",
    "  --state-dir DIR   state directory (env UPKEEP_STATE_DIR)",
    "  --format FORMAT   text | json (and more for validate)",
    "  -h, --help        help for upkeep or a command",
    "",
    "Run `upkeep <command> --help` for a command's options.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  guardOutput();
  const code = await dispatch(argv);
  return outputWasCutOff() ? BROKEN_PIPE_EXIT : code;
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === "--version" || name === "-V") {
    const { readPackageVersion } = await import("./version.js");
    process.stdout.write(`${readPackageVersion()}\n`);
    return ExitCode.ok;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (entry === undefined) {
    const { suggest } = await import("../config/suggest.js");
    const hint = suggest(name, Object.keys(COMMANDS));
    process.stderr.write(
      `upkeep: unknown command "${name}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}\n` +
        "Run `upkeep --help` for the list of commands.\n",
    );
    return ExitCode.usage;
  }
  try {
    const command = await entry.load();
    return await command.run(rest);
  } catch (error) {
    return reportError(error);
  }
}

/** Expected errors print their message; anything else is a bug and prints its stack with "please report". */
export function reportError(error: unknown): number {
  if (error instanceof UpkeepError) {
    process.stderr.write(`upkeep: ${error.message}\n`);
    if (error.code === "E_LOCKED") return ExitCode.locked;
    if (error.code === "E_INTERNAL") return ExitCode.usage;
    return ExitCode.usage;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`upkeep: internal error (please report this with the text below)\n${stack}\n`);
  return ExitCode.usage;
}
