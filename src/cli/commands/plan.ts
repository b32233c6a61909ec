import { parseArgs } from "node:util";
import { ExitCode } from "../../errors.js";
import { executeTick, RUN_OPTIONS, runHelp } from "../tick-command.js";

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: RUN_OPTIONS, strict: true, allowPositionals: false });
  if (values.help === true) {
    process.stdout.write(
      runHelp("plan", "Probe for real and decide, then print every step a tick would run; changes nothing."),
    );
    return ExitCode.ok;
  }
  return executeTick(values, { dryRun: true });
}
