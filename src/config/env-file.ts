/**
 * `runtime.envFile`: secrets for scheduled runs. launchd and systemd start `upkeep run` without the
 * shell's environment, and copying secrets into a plist or unit (world-readable) would leak them; a
 * KEY=VALUE file readable only by its owner is where `${env:NAME}` values live instead. Variables set
 * in the real environment win over the file. A file others can read is refused (like ssh does with
 * keys), so a leak is loud rather than silent.
 */
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

export interface EnvFileResult {
  readonly values: Readonly<Record<string, string>>;
  /** Why the file was not used (unreadable, readable by others), for a warning. */
  readonly problem?: string;
}

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

export function envFilePath(text: string, rulesDir: string): string {
  if (text === "~" || text.startsWith("~/")) return join(homedir(), text.slice(1));
  return isAbsolute(text) ? text : resolve(rulesDir, text);
}

export function parseEnvText(text: string): Record<string, string> {
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#|$)/.test(line)) continue;
    const match = LINE.exec(line);
    if (match === null) continue;
    let value = match[2] as string;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2)
      value = value.slice(1, -1);
    values[match[1] as string] = value;
  }
  return values;
}

export function readEnvFile(file: string): EnvFileResult {
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { values: {}, problem: `cannot read env file ${file} (${code})` };
  }
  if ((mode & 0o077) !== 0 && process.platform !== "win32") {
    return {
      values: {},
      problem: `env file ${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`,
    };
  }
  return { values: parseEnvText(text) };
}

/** The environment `${env:NAME}` reads: the file's values under the real environment's. */
export function withEnvFile(
  env: Readonly<Record<string, string | undefined>>,
  file: string | undefined,
): {
  env: Readonly<Record<string, string | undefined>>;
  /** Every value the file holds (all of them secrets, whether or not a rule names them). */
  fileValues: Readonly<Record<string, string>>;
  problem?: string;
} {
  if (file === undefined) return { env, fileValues: {} };
  const { values, problem } = readEnvFile(file);
  // An empty real variable does not hide the file's value.
  const real = Object.entries(env).filter(([, v]) => v !== undefined && v !== "");
  const merged = { ...values, ...Object.fromEntries(real) };
  return problem === undefined
    ? { env: merged, fileValues: values }
    : { env: merged, fileValues: values, problem };
}
