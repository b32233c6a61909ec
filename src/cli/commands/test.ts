/**
 * `upkeep test [FILES|DIRS...]`: rule tests (like `promtool test rules`). Each test feeds a timeline of
 * probe results to the same decision core as `upkeep run`, on a simulated clock with every handler
 * replaced by its description; nothing is run, probed or sent. Exit 0 all pass, 1 a test failed,
 * 2 a test file or the rules have errors (or usage).
 */
import { ExitCode } from "../../errors.js";
import { chooseFormat, FORMAT_OPTION, HELP_OPTION, parseFlags, RULES_OPTION, rulesDirFrom } from "../args.js";

const OPTIONS = { ...RULES_OPTION, ...FORMAT_OPTION, ...HELP_OPTION } as const;

export const HELP = `Usage: upkeep test [FILES|DIRS...] [--rules DIR] [--format text|json|github]

Run rule tests: each test gives every service a timeline of probe results (e.g. "up x3, down x5, up")
and says what upkeep must decide at given ticks (breaker states, heals attempted or refused and why,
the steps a heal runs, alerts fired, reminded or resolved and on which channels). The tests run the
same decision core as \`upkeep run\` on a simulated clock; no step, probe or channel is run.

Arguments:
  FILES|DIRS         test files, or directories searched for *.test.yaml (default: <rules>/tests)

Options:
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES); given on the command line it
                     is the rules every test runs against, whatever the files' \`rules:\` say
  --format FORMAT    text (default), json (one document on stdout) or github (annotations; the default
                     when GITHUB_ACTIONS=true)
  -h, --help         this help

Exit codes: 0 all tests passed, 1 a test failed, 2 a test file or the rules have errors, or usage.
The file format is described by schemas/test.schema.json (\`upkeep schema test\`).
`;

export async function run(
  argv: string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const parsed = parseFlags(argv, OPTIONS);
  if (!parsed.ok) return usageError(parsed.message);
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(HELP);
    return ExitCode.ok;
  }
  const { TEST_FORMATS, formatRun, summaryLine } = await import("../../testing/format.js");
  const fallback = env["GITHUB_ACTIONS"] === "true" ? "github" : "text";
  const format = chooseFormat(values.format, TEST_FORMATS, fallback);
  if (!format.ok) return usageError(format.message);

  const rulesDir = rulesDirFrom(values, env);
  const { findTestFiles, configLoader } = await import("../../testing/files.js");
  const paths = positionals.length > 0 ? positionals : [`${rulesDir}/tests`];
  const found = await findTestFiles(paths);
  if (!found.ok) return usageError(found.message);
  if (found.files.length === 0) return usageError(`no test files (*.test.yaml) in ${paths.join(", ")}`);

  const [{ loadRules }, { runTestFiles }] = await Promise.all([
    import("../../config/validate.js"),
    import("../../testing/runner.js"),
  ]);
  const load = (dir: string) => loadRules(dir, { env, requireEnv: false });
  const result = await runTestFiles(found.files, {
    configFor: configLoader(load, values.rules),
  });
  process.stdout.write(formatRun(format.value, result));
  if (format.value === "github") process.stderr.write(`upkeep test: ${summaryLine(result)}\n`);
  return result.exitCode;
}

function usageError(message: string): number {
  process.stderr.write(`upkeep test: ${message}\n\n${HELP}`);
  return ExitCode.usage;
}
