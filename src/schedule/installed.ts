/**
 * Reads back what an install wrote (the plist or the service unit): which node and which CLI the
 * scheduler will start. `doctor` checks those, not the node that happens to run `doctor`.
 */
import { readFile, stat } from "node:fs/promises";

export interface InstalledRunner {
  readonly file: string;
  readonly nodePath?: string;
  readonly cliPath?: string;
  /** The rest of the command line (`run --rules DIR ...`). */
  readonly args: readonly string[];
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

function runnerFrom(file: string, words: readonly string[]): InstalledRunner {
  const [nodePath, cliPath, ...args] = words;
  return {
    file,
    ...(nodePath === undefined ? {} : { nodePath }),
    ...(cliPath === undefined ? {} : { cliPath }),
    args,
  };
}

/** undefined when the plist is absent; throws nothing: an unreadable plist yields no arguments. */
export async function readInstalledPlist(file: string): Promise<InstalledRunner | undefined> {
  const text = await readText(file);
  if (text === undefined) return undefined;
  const { parse } = await import("plist");
  try {
    const doc = parse(text);
    const argv =
      doc !== null && typeof doc === "object" && !Array.isArray(doc)
        ? (doc as Record<string, unknown>)["ProgramArguments"]
        : undefined;
    const words = Array.isArray(argv) ? argv.filter((w): w is string => typeof w === "string") : [];
    return runnerFrom(file, words);
  } catch {
    return { file, args: [] };
  }
}

export async function readInstalledUnit(file: string): Promise<InstalledRunner | undefined> {
  const text = await readText(file);
  if (text === undefined) return undefined;
  const line = text.split("\n").find((l) => l.startsWith("ExecStart="));
  return runnerFrom(file, line === undefined ? [] : execWords(line.slice("ExecStart=".length)));
}

/**
 * Splits an Exec line the way systemd does for what upkeep writes: double-quoted words with `\\` and
 * `\"` escapes, `%%` for `%`, `$$` for `$` (in arguments only: the program's path has no variables).
 * A leading `-`, `@`, `+` or `!` prefix on the program is dropped.
 */
export function execWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i] as string)) i++;
    if (i >= line.length) break;
    let word = "";
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === "\\" && i + 1 < line.length) i++;
        word += line[i];
        i++;
      }
      i++;
    } else {
      while (i < line.length && !/\s/.test(line[i] as string)) word += line[i++];
    }
    const specifiersOut = word.replace(/%%/g, "%");
    words.push(words.length === 0 ? specifiersOut : specifiersOut.replace(/\$\$/g, "$"));
  }
  if (words.length > 0) words[0] = (words[0] as string).replace(/^[-@+!:]+/, "");
  return words;
}

/** Newest modification time among the files that exist, or undefined. */
export async function newestMtime(files: readonly string[]): Promise<number | undefined> {
  const times = await Promise.all(
    files.map((f) =>
      stat(f).then(
        (s) => s.mtimeMs,
        () => undefined,
      ),
    ),
  );
  const known = times.filter((t): t is number => t !== undefined);
  return known.length === 0 ? undefined : Math.max(...known);
}
