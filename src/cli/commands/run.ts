import { ExitCode } from "../../errors.js";
import { parseFlags } from "../args.js";
import { executeTick, RUN_OPTIONS, runHelp } from "../tick-command.js";

export async function run(argv: string[]): Promise<number> {
  // A mistyped flag is a usage error (exit 2, one line), never an internal error with a stack.
  const parsed = parseFlags(argv, RUN_OPTIONS);
  if (!parsed.ok || parsed.positionals.length > 0) {
    const why = parsed.ok ? `unexpected argument "${String(parsed.positionals[0])}"` : parsed.message;
    process.stderr.write(`upkeep run: ${why}\nRun \`upkeep run --help\` for its options.\n`);
    return ExitCode.usage;
  }
  const { values } = parsed;
  if (values.help === true) {
    process.stdout.write(
      runHelp("run", "Run one tick: probe every service, heal what is down, alert, record state."),
    );
    return ExitCode.ok;
  }
  return executeTick(values, { dryRun: values["dry-run"] === true });
}
