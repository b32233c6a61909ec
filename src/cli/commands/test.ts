/**
 * `upkeep test [FILES|DIRS...]`: rule tests (like `promtool test rules`). Each test feeds a timeline of
 * probe results to the same decision core as `upkeep run`, on a simulated clock with every handler
 * replaced by its description; nothing is run, probed or sent. Without FILES it also runs the tests
 * every pack the rules use ships (src/testing/pack-tests.ts), against these rules. Exit 0 all pass,
 * 1 a test failed, 2 a test file or the rules have errors (or usage).
 */
import { resolve } from "node:path";
import { ExitCode } from "../../errors.js";
import { chooseFormat, FORMAT_OPTION, HELP_OPTION, parseFlags, RULES_OPTION, rulesDirFrom } from "../args.js";

const OPTIONS = {
  ...RULES_OPTION,
  ...FORMAT_OPTION,
  ...HELP_OPTION,
  "no-packs": { type: "boolean" },
} as const;

export const HELP = `Usage: upkeep test [FILES|DIRS...] [--rules DIR] [--no-packs] [--format text|json|github]

Run rule tests: each test gives every service a timeline of probe results (e.g. "up x3, down x5, up")
and says what upkeep must decide at given ticks (breaker states, heals attempted or refused and why,
the steps a heal runs, alerts fired, reminded or resolved and on which channels). The tests run the
same decision core as \`upkeep run\` on a simulated clock; no step, probe or channel is run.

Arguments:
  FILES|DIRS         test files, or directories searched for *.test.yaml (default: <rules>/tests,
                     then the tests every pack the rules use ships in <pack>/tests, run against these
                     rules: their params, overrides, defaults, levels and channels)

Options:
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES); given on the command line it
                     is the rules every test runs against, whatever the files' \`rules:\` say
  --no-packs         do not run the packs' tests (only when no FILES are given are they run)
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
  const withPacks = positionals.length === 0 && values["no-packs"] !== true;
  const paths = positionals.length > 0 ? positionals : [`${rulesDir}/tests`];
  const found = await findTestFiles(paths);
  // Rules may have no tests of their own and still use packs that ship some.
  const files = found.ok ? found.files : [];
  if (!found.ok && !withPacks) return usageError(found.message);

  const [{ loadRules }, { runTestFiles, combineRuns }, { runPackTests }] = await Promise.all([
    import("../../config/validate.js"),
    import("../../testing/runner.js"),
    import("../../testing/pack-tests.js"),
  ]);
  const loads = new Map<string, ReturnType<typeof loadRules>>();
  const load = (dir: string): ReturnType<typeof loadRules> => {
    const key = resolve(dir);
    const loaded = loads.get(key) ?? loadRules(dir, { env, requireEnv: false });
    loads.set(key, loaded);
    return loaded;
  };
  const rules = withPacks ? await load(rulesDir) : undefined;
  const packs = await runPackTests(rules?.packs ?? [], { ...(rules ?? { diagnostics: [] }), rulesDir });
  if (files.length === 0 && packs.files.length === 0) {
    return usageError(found.ok ? `no test files (*.test.yaml) in ${paths.join(", ")}` : found.message);
  }
  const own = await runTestFiles(files, { configFor: configLoader(load, values.rules) });
  const result = combineRuns(own, packs);
  process.stdout.write(formatRun(format.value, result));
  if (format.value === "github") process.stderr.write(`upkeep test: ${summaryLine(result)}\n`);
  return result.exitCode;
}

function usageError(message: string): number {
  process.stderr.write(`upkeep test: ${message}\n\n${HELP}`);
  return ExitCode.usage;
}
