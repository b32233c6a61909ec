import { commandFlags } from "../args.js";
import { executeTick, RUN_OPTIONS, runHelp } from "../tick-command.js";

export async function run(argv: string[]): Promise<number> {
  // A mistyped flag is a usage error (exit 2, one line), never an internal error with a stack.
  const values = commandFlags("plan", argv, RUN_OPTIONS, () =>
    runHelp("plan", "Probe for real and decide, then print every step a tick would run; changes nothing."),
  );
  if (typeof values === "number") return values;
  return executeTick(values, { dryRun: true });
}
