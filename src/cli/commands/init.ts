/**
 * `upkeep init [DIR]`: scaffolds a first rules folder for this machine (services.yaml with one example
 * service whose heal fits the platform, alerts.yaml with the log channel, a rule test), then prints the
 * commands to try it. It never overwrites: every target is checked before the first write, and a file
 * that appears meanwhile makes it remove what it wrote. Exit 0 written, 2 usage or a file in the way.
 */
import { lstatSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { closest } from "../../config/diagnostics.js";
import { schemaTarget } from "../../config/editor-schema.js";
import { DEFAULTS } from "../../config/normalize.js";
import { formatDuration } from "../../duration.js";
import { ExitCode } from "../../errors.js";
import { PLATFORMS, scaffold, type Platform, type ScaffoldFile } from "../../init/templates.js";
import { formatCommandLine } from "../../runtime/process.js";
import { HELP_OPTION, parseFlags, RULES_OPTION } from "../args.js";

type Env = Readonly<Record<string, string | undefined>>;

const OPTIONS = {
  ...RULES_OPTION,
  platform: { type: "string" },
  port: { type: "string" },
  ...HELP_OPTION,
} as const;

const DEFAULT_PORT = 8080;

export const HELP = `Usage: upkeep init [DIR] [--platform macos|linux] [--port N]

Scaffold a rules folder to start from, then print the commands that check, test and run it:
  DIR/services.yaml             one example service, "web": an HTTP probe of http://127.0.0.1:PORT/ and a
                                heal that fits the platform (linux: start python3 -m http.server PORT,
                                detached; macos: restart the LaunchAgent com.example.web)
  DIR/alerts.yaml               the log channel, an alert when a service stays down and one when
                                upkeep gives up healing it
  DIR/tests/example.test.yaml   rule tests for "web" (\`upkeep test --rules DIR\` runs them)
Each file starts with a $schema line for editors, naming the schema of this upkeep (relative when DIR is
in the project upkeep is installed in, else absolute; \`upkeep schema --path NAME\` prints it).
Nothing is overwritten: if any of these files exists, nothing is written.

Arguments:
  DIR                 the folder to create (default ./rules, env UPKEEP_RULES; --rules DIR also works)

Options:
  --platform NAME     macos or linux (default: this machine's, ${platformOf(process.platform)})
  --port N            the example service's port (default ${DEFAULT_PORT})
  -h, --help          this help

Exit codes: 0 written, 2 usage, or a file already there (nothing written).
`;

export async function run(argv: string[], env: Env = process.env): Promise<number> {
  const parsed = parseFlags(argv, OPTIONS);
  if (!parsed.ok) return usageError(parsed.message);
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(HELP);
    return ExitCode.ok;
  }
  if (positionals.length > 1) return usageError(`expected one folder, got ${positionals.length}`);
  const dir = chooseDir(positionals[0], values.rules, env);
  if (!dir.ok) return usageError(dir.message);
  const platform = choosePlatform(values.platform);
  if (!platform.ok) return usageError(platform.message);
  const port = choosePort(values.port);
  if (!port.ok) return usageError(port.message);

  const rulesDir = path.resolve(dir.value);
  const files = scaffold({
    platform: platform.value,
    port: port.value,
    rulesDir,
    schemas: {
      services: schemaTarget("services", rulesDir),
      alerts: schemaTarget("alerts", rulesDir),
      test: schemaTarget("test", path.join(rulesDir, "tests")),
    },
  });
  const blocked = inTheWay(rulesDir, files);
  if (blocked.length > 0) {
    const list = (paths: readonly string[]): string => paths.map((p) => shown(dir.value, p)).join(", ");
    const problems = [
      ...(blocked.notFolders.length > 0 ? [`not a folder: ${list(blocked.notFolders)}`] : []),
      ...(blocked.present.length > 0 ? [`already there: ${list(blocked.present)}`] : []),
    ];
    process.stderr.write(
      `upkeep init: ${problems.join("; ")}; nothing was written (init never overwrites)\n` +
        "Pick another folder (upkeep init DIR) or move these files away first.\n",
    );
    return ExitCode.usage;
  }
  const written = write(rulesDir, files);
  if (!written.ok) {
    process.stderr.write(`upkeep init: ${written.message}; no file was kept\n`);
    return ExitCode.usage;
  }
  process.stdout.write(summary(dir.value, platform.value, files, env));
  return ExitCode.ok;
}

type Choice<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** DIR as the user wrote it (kept relative, so the printed commands read as typed). */
function chooseDir(positional: string | undefined, flag: string | undefined, env: Env): Choice<string> {
  if (positional !== undefined && flag !== undefined && path.resolve(positional) !== path.resolve(flag)) {
    return { ok: false, message: `two folders given: "${positional}" and --rules "${flag}"; give one` };
  }
  const given = positional ?? flag ?? env["UPKEEP_RULES"];
  if (given === "") return { ok: false, message: "the folder is an empty string" };
  return { ok: true, value: given ?? "./rules" };
}

export function platformOf(nodePlatform: NodeJS.Platform): Platform {
  return nodePlatform === "darwin" ? "macos" : "linux";
}

function choosePlatform(value: string | undefined): Choice<Platform> {
  if (value === undefined) return { ok: true, value: platformOf(process.platform) };
  if ((PLATFORMS as readonly string[]).includes(value)) return { ok: true, value: value as Platform };
  const hint = value === "darwin" ? "macos" : closest(value, PLATFORMS);
  return {
    ok: false,
    message: `--platform must be ${PLATFORMS.join(" or ")}, not "${value}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`,
  };
}

function choosePort(value: string | undefined): Choice<number> {
  if (value === undefined) return { ok: true, value: DEFAULT_PORT };
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  return port >= 1 && port <= 65_535
    ? { ok: true, value: port }
    : { ok: false, message: `--port must be a port number from 1 to 65535, not "${value}"` };
}

/** Every target that exists (a dangling symlink counts), and the folders in the way that are files. */
function inTheWay(
  rulesDir: string,
  files: readonly ScaffoldFile[],
): { length: number; notFolders: string[]; present: string[] } {
  // Parents come first, so nothing under a file that is in the way is reported as well.
  const folders = [...new Set([".", ...files.map((f) => path.posix.dirname(f.path))])];
  const notFolders: string[] = [];
  const underFile = (file: string): boolean => notFolders.some((f) => f === "." || file.startsWith(`${f}/`));
  for (const folder of folders) {
    if (!underFile(folder) && kindOf(path.join(rulesDir, folder)) === "other") notFolders.push(folder);
  }
  const present = files
    .map((f) => f.path)
    .filter((f) => !underFile(f) && kindOf(path.join(rulesDir, f)) !== "missing");
  return { length: notFolders.length + present.length, notFolders, present };
}

function kindOf(file: string): "missing" | "folder" | "other" {
  try {
    return lstatSync(file).isDirectory() ? "folder" : "other";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    // ENOTDIR (a parent is a file), EACCES: something is in the way; the write below says what.
    return "other";
  }
}

function write(rulesDir: string, files: readonly ScaffoldFile[]): Choice<undefined> {
  const done: string[] = [];
  try {
    for (const file of files) {
      const target = path.join(rulesDir, file.path);
      mkdirSync(path.dirname(target), { recursive: true });
      // wx: a file created since the check above is not overwritten either.
      writeFileSync(target, file.text, { flag: "wx" });
      done.push(target);
    }
    return { ok: true, value: undefined };
  } catch (error) {
    for (const target of done) rmSync(target, { force: true });
    const e = error as NodeJS.ErrnoException;
    return { ok: false, message: `cannot write ${e.path ?? rulesDir} (${e.code ?? e.message})` };
  }
}

function summary(dir: string, platform: Platform, files: readonly ScaffoldFile[], env: Env): string {
  const width = Math.max(...files.map((f) => shown(dir, f.path).length));
  const upkeep = invokedThroughNpx(env) ? "npx upkeep" : "upkeep";
  const command = (...args: string[]): string =>
    `  ${upkeep} ${formatCommandLine([...args, "--rules", dir])}`;
  const scheduler = platform === "macos" ? "launchd" : "systemd";
  const note =
    platform === platformOf(process.platform)
      ? []
      : [`(These rules are for ${platform}; this machine runs ${platformOf(process.platform)}.)`, ""];
  return [
    `Wrote a rules folder for ${platform}:`,
    ...files.map((f) => `  ${shown(dir, f.path).padEnd(width)}  ${f.about}`),
    "",
    ...note,
    "Next: check the rules, run their tests, then run one tick (it heals web if it is down):",
    command("validate"),
    command("test"),
    command("run"),
    "",
    `To run a tick every ${formatDuration(DEFAULTS.runtime.intervalMs)}: ${upkeep} ${formatCommandLine([scheduler, "install", "--rules", dir])}`,
    "",
  ].join("\n");
}

/** DIR/FILE the way the user wrote DIR. */
function shown(dir: string, file: string): string {
  const base = dir.replace(/\/+$/, "");
  return file === "." ? dir : `${base}/${file}`;
}

/** npx and `npm exec` set npm_command=exec; there `upkeep` alone is usually not on PATH. */
function invokedThroughNpx(env: Env): boolean {
  return env["npm_command"] === "exec";
}

function usageError(message: string): number {
  process.stderr.write(`upkeep init: ${message}\nRun \`upkeep init --help\` for its options.\n`);
  return ExitCode.usage;
}
