/**
 * `upkeep schema [NAME]`: prints a JSON Schema from schemas/ (for editors, CI or a rule pack's own checks).
 * The file is printed as shipped, so `$id` and relative `$ref`s stay valid next to the other schemas.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ExitCode } from "../../errors.js";
import { listSchemas, SCHEMA_DIR } from "../../config/schema-validate.js";
import { suggest } from "../../config/suggest.js";
import { editorSchemaFile, type EditorSchemaName } from "../../config/editor-schema.js";

const EDITOR_SCHEMAS: readonly EditorSchemaName[] = ["services", "alerts", "pack", "test"];

const HELP = `Usage: upkeep schema [NAME] [--list] [--path]

Print a JSON Schema (draft 2020-12) to stdout.

NAME:
  services                 the services rules file (default)
  alerts                   the alerts rules file
  handlers/KIND/HANDLER    a built-in handler's parameters, e.g. handlers/step/launchd.unload
  handlers/HANDLER         the same when the handler name is unique, e.g. handlers/wait

Options:
  --list                   print the available names, one per line
  --path                   print the absolute path of the file an editor's $schema line should name: for
                           services, alerts, pack and test the self-contained copy in schemas/editor/
                           (editors cannot follow the source schemas' remote $id), else the schema file
  -h, --help               show this help
`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        help: { type: "boolean", short: "h" },
        list: { type: "boolean" },
        path: { type: "boolean" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    process.stderr.write(`upkeep schema: ${error instanceof Error ? error.message : String(error)}\n${HELP}`);
    return ExitCode.usage;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(HELP);
    return ExitCode.ok;
  }
  const names = listSchemas();
  if (values.list === true) {
    process.stdout.write(`${names.join("\n")}\n`);
    return ExitCode.ok;
  }
  if (positionals.length > 1) {
    process.stderr.write(`upkeep schema: expected one schema name, got ${positionals.length}\n${HELP}`);
    return ExitCode.usage;
  }
  const requested = positionals[0] ?? "services";
  const matches = candidates(requested, names);
  if (matches.length !== 1) {
    const hint =
      matches.length > 1 ? matches.join('" or "') : suggest(requested, [...names, ...names.map(shortName)]);
    const what = matches.length > 1 ? "ambiguous" : "unknown";
    process.stderr.write(
      `upkeep schema: ${what} schema "${requested}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}\n` +
        "Run `upkeep schema --list` for the available names.\n",
    );
    return ExitCode.usage;
  }
  const name = matches[0] as string;
  const file = `${SCHEMA_DIR}${name}.schema.json`;
  process.stdout.write(values.path === true ? `${editorPath(name) ?? file}\n` : readFileSync(file, "utf8"));
  return ExitCode.ok;
}

/** The self-contained copy editors can read offline, for the documents people edit. */
function editorPath(name: string): string | undefined {
  return (EDITOR_SCHEMAS as readonly string[]).includes(name)
    ? editorSchemaFile(name as EditorSchemaName)
    : undefined;
}

/** The exact name, or for `handlers/NAME` every kind that has a handler of that name. */
function candidates(requested: string, names: readonly string[]): string[] {
  const bare = requested.replace(/\.schema\.json$/, "");
  if (names.includes(bare)) return [bare];
  return bare.startsWith("handlers/")
    ? names.filter((n) => n.startsWith("handlers/") && shortName(n) === bare)
    : [];
}

/** handlers/step/wait -> handlers/wait */
function shortName(name: string): string {
  const parts = name.split("/");
  return parts[0] === "handlers" && parts.length > 2 ? ["handlers", ...parts.slice(2)].join("/") : name;
}
