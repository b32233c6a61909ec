/**
 * Flag helpers every command shares (DESIGN.md command-line contract): --rules (default ./rules, env
 * UPKEEP_RULES), --state-dir (env UPKEEP_STATE_DIR), --format, and util.parseArgs with usage errors that
 * name the bad flag and suggest the right one.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { closest } from "../config/diagnostics.js";
import { ExitCode } from "../errors.js";

type Env = Readonly<Record<string, string | undefined>>;
type Options = NonNullable<ParseArgsConfig["options"]>;
export type ParsedFlags<T extends Options> = ReturnType<
  typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>
>;

export const RULES_OPTION = { rules: { type: "string" } } as const;
export const STATE_DIR_OPTION = { "state-dir": { type: "string" } } as const;
export const FORMAT_OPTION = { format: { type: "string" } } as const;
export const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;

/** The rules directory as the user gave it (kept relative, so diagnostics name files the way they typed them). */
export function rulesDirFrom(values: { rules?: string | undefined }, env: Env): string {
  const fromEnv = env["UPKEEP_RULES"];
  return values.rules ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : "rules");
}

export function stateDirFrom(values: { "state-dir"?: string | undefined }, env: Env): string | undefined {
  const dir = values["state-dir"] ?? env["UPKEEP_STATE_DIR"];
  return dir === undefined || dir === "" ? undefined : dir;
}

export type Choice<T extends string> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** Validates --format against the formats a command supports. */
export function chooseFormat<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): Choice<T> {
  if (value === undefined) return { ok: true, value: fallback };
  if ((allowed as readonly string[]).includes(value)) return { ok: true, value: value as T };
  const hint = closest(value, allowed);
  return {
    ok: false,
    message: `--format must be ${allowed.join(", ")}, not "${value}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`,
  };
}

export type ParseResult<T extends Options> =
  | { readonly ok: true; readonly values: ParsedFlags<T>["values"]; readonly positionals: string[] }
  | { readonly ok: false; readonly message: string };

/** util.parseArgs (strict), with a short message for unknown or malformed flags instead of a throw. */
export function parseFlags<T extends Options>(argv: readonly string[], options: T): ParseResult<T> {
  try {
    const parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { ok: true, values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    return { ok: false, message: usageMessage(error, options) };
  }
}

function usageMessage(error: unknown, options: Options): string {
  const code = (error as { code?: unknown }).code;
  const text = error instanceof Error ? error.message : String(error);
  const flag = /'(-{1,2}[^']*)'/.exec(text)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag !== undefined) {
    const hint = closest(flag.replace(/^-+/, ""), Object.keys(options));
    return `unknown option ${flag}${hint === undefined ? "" : ` (did you mean --${hint}?)`}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && flag !== undefined) {
    const name = flag.replace(/^-+/, "").split(" ")[0] ?? "";
    const expected =
      Object.hasOwn(options, name) && options[name]?.type === "boolean" ? "takes no value" : "needs a value";
    return `option --${name} ${expected}`;
  }
  return text;
}

/**
 * The start every flag-only command shares: parse strictly, refuse stray arguments, answer --help.
 * Returns the flag values, or the exit code when the command is already done (usage error or help).
 */
export function commandFlags<T extends Options>(
  command: string,
  argv: readonly string[],
  options: T,
  help: () => string,
): ParsedFlags<T>["values"] | number {
  const parsed = parseFlags(argv, options);
  if (!parsed.ok || parsed.positionals.length > 0) {
    const why = parsed.ok ? `unexpected argument "${String(parsed.positionals[0])}"` : parsed.message;
    process.stderr.write(`upkeep ${command}: ${why}\nRun \`upkeep ${command} --help\` for its options.\n`);
    return ExitCode.usage;
  }
  if ((parsed.values as { help?: unknown }).help === true) {
    process.stdout.write(help());
    return ExitCode.ok;
  }
  return parsed.values;
}
