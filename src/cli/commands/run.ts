import { parseArgs } from "node:util";
import { ExitCode } from "../../errors.js";
import { executeTick, RUN_OPTIONS, runHelp } from "../tick-command.js";

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: RUN_OPTIONS, strict: true, allowPositionals: false });
  if (values.help === true) {
    process.stdout.write(runHelp("run", "Run one tick: probe every service, heal what is down, alert, record state."));
    return ExitCode.ok;
  }
  return executeTick(values, { dryRun: values["dry-run"] === true });
}
