/**
 * `upkeep completion bash|zsh|fish`: a shell completion script for the commands in the command table
 * (src/cli/main.ts COMMANDS) and their flags. Flags and subcommands are read from each command's own
 * `--help` when the script is generated, so the script always offers what this version's help
 * documents; no second list of flags exists to drift (test/cli/completion.test.ts checks that every
 * offered flag is one its command accepts).
 */
import { ExitCode } from "../../errors.js";
import { parseFlags } from "../args.js";
import { COMMANDS, type CommandModule } from "../main.js";

const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = (typeof SHELLS)[number];

const HELP = `Usage: upkeep completion <bash|zsh|fish>

Prints a completion script for the shell: commands after \`upkeep \`, subcommands, and each command's
flags after \`upkeep COMMAND -\`; anything else completes file names.

  bash   source <(upkeep completion bash)    or save it as ~/.local/share/bash-completion/completions/upkeep
  zsh    upkeep completion zsh > "\${fpath[1]}/_upkeep"    (or source it after compinit)
  fish   upkeep completion fish > ~/.config/fish/completions/upkeep.fish

Options:
  -h, --help         this help

Exit codes: 0, 2 usage.
`;

const OPTIONS = { help: { type: "boolean", short: "h" } } as const;

export interface FlagSpec {
  /** Without dashes: `rules`. */
  readonly long: string;
  readonly short?: string;
  /** Help shows a value after it (`--rules DIR`). */
  readonly takesValue: boolean;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly subcommands: readonly string[];
  readonly flags: readonly FlagSpec[];
}

/** Flags and subcommands a command's `--help` documents. */
export function parseHelp(command: string, help: string): Pick<CommandSpec, "subcommands" | "flags"> {
  const flags = new Map<string, FlagSpec>();
  const flagPattern = /(?:^|[\s[(|,])(?:-([a-zA-Z]), )?--([a-z][a-z0-9-]*)(=| [A-Z]| \[?[A-Z])?/g;
  // Flags are read where help defines them: the usage block and option lines. Prose mentions other
  // programs' flags (`systemctl --user`) and other commands' (`upkeep status --format json`).
  const lines = help.split("\n");
  const blank = lines.findIndex((line) => line.trim() === "");
  const usageEnd = blank < 0 ? lines.length : blank;
  const defining = lines
    .filter((line, i) => i < usageEnd || /^\s*(-[a-zA-Z], )?--[a-z]/.test(line))
    .map((line) => line.replace(/`[^`]*`/g, ""))
    .join("\n");
  for (const m of defining.matchAll(flagPattern)) {
    const long = m[2] as string;
    const known = flags.get(long);
    flags.set(long, {
      long,
      ...((m[1] ?? known?.short) === undefined ? {} : { short: (m[1] ?? known?.short) as string }),
      takesValue: (known?.takesValue ?? false) || m[3] !== undefined,
    });
  }
  const subcommands = new Set<string>();
  for (const line of lines) {
    const usage = new RegExp(`upkeep ${command} (<([a-z|-]+)>|[a-z][a-z-]*)`).exec(line);
    // `<a|b>` lists subcommands; a lone `<command>` is a placeholder.
    if (usage === null || (usage[2] !== undefined && !usage[2].includes("|"))) continue;
    for (const word of (usage[2] ?? usage[1] ?? "").split("|")) subcommands.add(word);
  }
  // A "Commands:" block lists subcommands one per indented line.
  const block = lines.indexOf("Commands:");
  for (let i = block + 1; block >= 0 && i < lines.length && /^\s+[a-z]/.test(lines[i] ?? ""); i++) {
    subcommands.add((lines[i] ?? "").trim().split(/\s/)[0] as string);
  }
  return { subcommands: [...subcommands], flags: [...flags.values()] };
}

/** The command's help, as it prints it, captured in this process. */
async function helpOf(module: CommandModule): Promise<string> {
  const write = process.stdout.write;
  let text = "";
  process.stdout.write = ((chunk: string | Uint8Array) => {
    text += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  }) as typeof process.stdout.write;
  try {
    await module.run(["--help"]);
  } finally {
    process.stdout.write = write;
  }
  return text;
}

export async function commandSpecs(): Promise<CommandSpec[]> {
  const specs: CommandSpec[] = [];
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const help = await helpOf(await entry.load());
    specs.push({ name, summary: entry.summary, ...parseHelp(name, help) });
  }
  return specs;
}

const words = (flags: readonly FlagSpec[]): string =>
  flags.flatMap((f) => [`--${f.long}`, ...(f.short === undefined ? [] : [`-${f.short}`])]).join(" ");

/** Single-quoted for sh, zsh and fish (fish also treats a backslash inside quotes specially). */
const quote = (text: string, shell: Shell): string =>
  shell === "fish"
    ? `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`
    : `'${text.replace(/'/g, `'\\''`)}'`;

export function bashScript(specs: readonly CommandSpec[]): string {
  const cases = specs.map(
    (s) =>
      `    ${s.name}) opts=${quote(words(s.flags), "bash")}; subs=${quote(s.subcommands.join(" "), "bash")} ;;`,
  );
  return `# upkeep completion for bash (generated by \`upkeep completion bash\`)
_upkeep() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" at=0 i opts="" subs=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; at=$i; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W ${quote(`${specs.map((s) => s.name).join(" ")} --help --version`, "bash")} -- "$cur"))
    return 0
  fi
  case "$cmd" in
${cases.join("\n")}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -n "$subs" && $COMP_CWORD -eq $((at + 1)) ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  else
    COMPREPLY=()
  fi
  return 0
}
complete -o default -F _upkeep upkeep
`;
}

export function zshScript(specs: readonly CommandSpec[]): string {
  const described = specs.map((s) => `    ${quote(`${s.name}:${s.summary}`, "zsh")}`);
  const cases = specs.map(
    (s) => `    ${s.name}) opts=(${words(s.flags)}); subs=(${s.subcommands.join(" ")}) ;;`,
  );
  return `#compdef upkeep
# upkeep completion for zsh (generated by \`upkeep completion zsh\`)
_upkeep() {
  local -a commands opts subs
  commands=(
${described.join("\n")}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'upkeep command' commands
    return
  fi
  case \${words[2]} in
${cases.join("\n")}
  esac
  if [[ $PREFIX == -* ]]; then
    compadd -- $opts
  elif (( CURRENT == 3 && \${#subs} > 0 )); then
    compadd -- $subs
  else
    _files
  fi
}
if [[ "\${funcstack[1]}" == "_upkeep" ]]; then
  _upkeep "$@"
else
  compdef _upkeep upkeep
fi
`;
}

export function fishScript(specs: readonly CommandSpec[]): string {
  const lines = [
    "# upkeep completion for fish (generated by `upkeep completion fish`)",
    `complete -c upkeep -n __fish_use_subcommand -f -l help -s h -d 'help for upkeep'`,
    `complete -c upkeep -n __fish_use_subcommand -f -l version -s V -d 'print the version'`,
  ];
  for (const s of specs) {
    lines.push(`complete -c upkeep -n __fish_use_subcommand -f -a ${s.name} -d ${quote(s.summary, "fish")}`);
    const when = `__fish_seen_subcommand_from ${s.name}`;
    if (s.subcommands.length > 0) {
      const notYet = `${when}; and not __fish_seen_subcommand_from ${s.subcommands.join(" ")}`;
      lines.push(
        `complete -c upkeep -n ${quote(notYet, "fish")} -f -a ${quote(s.subcommands.join(" "), "fish")}`,
      );
    }
    for (const f of s.flags) {
      const short = f.short === undefined ? "" : ` -s ${f.short}`;
      lines.push(
        `complete -c upkeep -n ${quote(when, "fish")} -l ${f.long}${short}${f.takesValue ? " -r" : ""}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, OPTIONS);
  const fail = (why: string): number => {
    process.stderr.write(`upkeep completion: ${why}\nRun \`upkeep completion --help\` for its options.\n`);
    return ExitCode.usage;
  };
  if (!parsed.ok) return fail(parsed.message);
  if (parsed.values.help === true) {
    process.stdout.write(HELP);
    return ExitCode.ok;
  }
  const [shell, ...extra] = parsed.positionals;
  if (shell === undefined) return fail("which shell? upkeep completion bash|zsh|fish");
  if (!(SHELLS as readonly string[]).includes(shell))
    return fail(`unknown shell "${shell}" (bash, zsh or fish)`);
  if (extra.length > 0) return fail(`unexpected argument "${extra[0]}"`);
  const specs = await commandSpecs();
  const generate = { bash: bashScript, zsh: zshScript, fish: fishScript }[shell as Shell];
  process.stdout.write(generate(specs));
  return ExitCode.ok;
}
