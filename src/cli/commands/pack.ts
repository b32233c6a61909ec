/**
 * `upkeep pack init|validate|list|lock`: scaffold a pack, check one on its own, show the packs the rules
 * use (with versions and lock status), and write rules.lock.
 */
import { ExitCode } from "../../errors.js";
import { chooseFormat, FORMAT_OPTION, HELP_OPTION, parseFlags, RULES_OPTION, rulesDirFrom } from "../args.js";

const OPTIONS = { ...RULES_OPTION, ...FORMAT_OPTION, with: { type: "string" }, ...HELP_OPTION } as const;
type Env = Readonly<Record<string, string | undefined>>;

export const HELP = `Usage: upkeep pack <command> [options]

Commands:
  init [DIR]                 scaffold a pack in DIR (default .): pack.yaml, services.yaml, alerts.yaml
  validate DIR [--with JSON] check a pack on its own (example parameters unless --with gives them)
  list [--rules DIR]         the packs the rules use: namespace, name@version, source, lock status
  lock [--rules DIR]         write DIR/rules.lock (version and content hash of every pack)

Options:
  --rules DIR        rules directory (default ./rules, env UPKEEP_RULES)
  --format FORMAT    text (default) or json (validate, list)
  --with JSON        pack parameters for validate, e.g. '{"port": 8080}'
  -h, --help         this help

Use packs in services.yaml with packs: [ { use: ./packs/x | npm:@scope/name@range, as: ns, with: {...}, trust: [...] } ].
Exit codes: 0 ok, 1 errors found, 2 usage error.
`;

export async function run(argv: string[], env: Env = process.env): Promise<number> {
  const parsed = parseFlags(argv, OPTIONS);
  if (!parsed.ok) return usageError(parsed.message);
  const { values, positionals } = parsed;
  const [sub, ...args] = positionals;
  if (values.help === true || sub === undefined) {
    process.stdout.write(HELP);
    return sub === undefined && values.help !== true ? ExitCode.usage : ExitCode.ok;
  }
  const format = chooseFormat(values.format, ["text", "json"] as const, "text");
  if (!format.ok) return usageError(format.message);
  const rulesDir = rulesDirFrom(values, env);
  switch (sub) {
    case "init":
      return init(args[0] ?? ".");
    case "validate": {
      if (args[0] === undefined) return usageError("pack validate needs the pack's folder");
      let given: Record<string, unknown> | undefined;
      if (values.with !== undefined) {
        try {
          given = JSON.parse(values.with) as Record<string, unknown>;
        } catch {
          return usageError("--with must be a JSON object");
        }
      }
      return validate(args[0], given, format.value);
    }
    case "list":
      return list(rulesDir, env, format.value);
    case "lock":
      return lock(rulesDir, env);
    default: {
      const { closest } = await import("../../config/diagnostics.js");
      const hint = closest(sub, ["init", "validate", "list", "lock"]);
      return usageError(
        `unknown pack command "${sub}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`,
      );
    }
  }
}

async function init(dir: string): Promise<number> {
  const [{ scaffold }, { readPackageVersion }] = await Promise.all([
    import("../../packs/scaffold.js"),
    import("../version.js"),
  ]);
  const result = await scaffold(dir, readPackageVersion());
  if ("exists" in result) {
    process.stderr.write(`upkeep pack init: ${result.exists} already exists; nothing was written\n`);
    return ExitCode.failure;
  }
  process.stdout.write(`created ${result.written.join(", ")}\ncheck it with: upkeep pack validate ${dir}\n`);
  return ExitCode.ok;
}

async function validate(
  dir: string,
  given: Record<string, unknown> | undefined,
  format: "text" | "json",
): Promise<number> {
  const { validatePack } = await import("../../packs/standalone.js");
  const { diagnostics } = await validatePack(dir, given);
  const { formatDiagnostics } = await import("../format/diagnostics.js");
  process.stdout.write(formatDiagnostics(format, diagnostics));
  return diagnostics.some((d) => d.severity === "error") ? ExitCode.failure : ExitCode.ok;
}

async function list(rulesDir: string, env: Env, format: "text" | "json"): Promise<number> {
  const { loadRules } = await import("../../config/validate.js");
  const result = await loadRules(rulesDir, { env, normalize: false });
  const packs = (result.packs ?? []).map((p) => ({
    as: p.as,
    name: p.manifest.name,
    version: p.manifest.version,
    use: p.use,
    capabilities: p.manifest.capabilities ?? [],
    lock: p.lock ?? "no-lock",
  }));
  if (format === "json") {
    process.stdout.write(`${JSON.stringify({ packs }, null, 2)}\n`);
  } else if (packs.length === 0) {
    process.stdout.write("the rules use no packs\n");
  } else {
    for (const p of packs) {
      const caps = p.capabilities.length === 0 ? "" : `  runs: ${p.capabilities.join(", ")}`;
      process.stdout.write(`${p.as}  ${p.name}@${p.version}  ${p.use}  [${p.lock}]${caps}\n`);
    }
  }
  const errors = result.diagnostics.filter((d) => d.severity === "error" && d.code.startsWith("pack"));
  if (errors.length > 0) {
    const { formatText } = await import("../format/diagnostics.js");
    process.stderr.write(formatText(errors));
    return ExitCode.failure;
  }
  return ExitCode.ok;
}

async function lock(rulesDir: string, env: Env): Promise<number> {
  const [{ loadRules }, { lockEntryOf }, { writeLock }] = await Promise.all([
    import("../../config/validate.js"),
    import("../../packs/apply.js"),
    import("../../packs/lockfile.js"),
  ]);
  const result = await loadRules(rulesDir, { env, normalize: false });
  // A lock records packs that load; the lock's own differences are what this command resolves.
  const errors = result.diagnostics.filter((d) => d.severity === "error" && d.code !== "pack-lock");
  if (errors.length > 0) {
    const { formatText } = await import("../format/diagnostics.js");
    process.stderr.write(formatText(errors));
    process.stderr.write("upkeep pack lock: fix the errors above first; rules.lock was not written\n");
    return ExitCode.failure;
  }
  const entries = Object.fromEntries(
    await Promise.all((result.packs ?? []).map(async (p) => [p.as, await lockEntryOf(rulesDir, p)] as const)),
  );
  const path = await writeLock(rulesDir, entries);
  const names = Object.entries(entries).map(([as, e]) => `${as} (${e.name}@${e.version})`);
  process.stdout.write(`wrote ${path}: ${names.length === 0 ? "no packs" : names.join(", ")}\n`);
  return ExitCode.ok;
}

function usageError(message: string): number {
  process.stderr.write(`upkeep pack: ${message}\n\n${HELP}`);
  return ExitCode.usage;
}
