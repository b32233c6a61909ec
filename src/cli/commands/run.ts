import { commandFlags } from "../args.js";
import { executeTick, RUN_OPTIONS, runHelp } from "../tick-command.js";

export async function run(argv: string[]): Promise<number> {
  // A mistyped flag is a usage error (exit 2, one line), never an internal error with a stack.
  const values = commandFlags("run", argv, RUN_OPTIONS, () =>
    runHelp("run", "Run one tick: probe every service, heal what is down, alert, record state."),
  );
  if (typeof values === "number") return values;
  return executeTick(values, { dryRun: values["dry-run"] === true });
}
