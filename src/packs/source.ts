/**
 * Where a pack comes from: `use: ./packs/x` (a folder, relative to the rules directory) or
 * `use: npm:@scope/name@range` (a package installed in the consumer's project; npm did the fetching and
 * checked the tarball's integrity, upkeep only finds it in node_modules and checks the range).
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import semver from "semver";

export type PackSource =
  | { readonly kind: "local"; readonly path: string }
  | { readonly kind: "npm"; readonly name: string; readonly range: string };

export type Resolved =
  | {
      readonly ok: true;
      readonly dir: string;
      readonly source: PackSource;
      /** The installed package.json version (npm packs only). */
      readonly packageVersion?: string;
    }
  | {
      readonly ok: false;
      readonly code: "pack-not-found" | "pack-incompatible";
      readonly message: string;
      readonly hint?: string;
    };

const NPM_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

/** Parses a `use:` value; undefined when it is neither a path nor an npm: spec. */
export function parseUse(use: string): PackSource | undefined {
  if (use.startsWith("npm:")) {
    const spec = use.slice(4);
    // The version separator is the last "@" that is not the scope's leading one.
    const at = spec.lastIndexOf("@");
    const name = at > 0 ? spec.slice(0, at) : spec;
    const range = at > 0 ? spec.slice(at + 1) : "*";
    if (!NPM_NAME.test(name) || semver.validRange(range) === null) return undefined;
    return { kind: "npm", name, range };
  }
  if (use.startsWith("./") || use.startsWith("../") || isAbsolute(use)) return { kind: "local", path: use };
  return undefined;
}

export async function resolvePack(use: string, rulesDir: string): Promise<Resolved> {
  const source = parseUse(use);
  if (source === undefined) {
    return {
      ok: false,
      code: "pack-not-found",
      message: `"${use}" is not a pack reference`,
      hint: "use a folder (./packs/x, relative to the rules directory) or npm:@scope/name@range",
    };
  }
  if (source.kind === "local") {
    const dir = resolve(rulesDir, source.path);
    if (!(await isFile(join(dir, "pack.yaml")))) {
      return {
        ok: false,
        code: "pack-not-found",
        message: `no pack at "${source.path}" (${join(dir, "pack.yaml")} does not exist)`,
        hint: "the path is relative to the rules directory; a pack folder holds pack.yaml",
      };
    }
    return { ok: true, dir, source };
  }
  return resolveNpm(source, rulesDir);
}

/** Looks for node_modules/<name> from the rules directory upwards, like Node's own resolution. */
async function resolveNpm(source: PackSource & { kind: "npm" }, rulesDir: string): Promise<Resolved> {
  let at = resolve(rulesDir);
  for (let depth = 0; depth < 64; depth++) {
    const dir = join(at, "node_modules", source.name);
    const version = await packageVersion(join(dir, "package.json"));
    if (version !== undefined) {
      if (!semver.satisfies(version, source.range)) {
        return {
          ok: false,
          code: "pack-incompatible",
          message: `${source.name}@${version} is installed, but the rules ask for ${source.range}`,
          hint: `install a matching version (npm install ${source.name}@"${source.range}") or change the range`,
        };
      }
      if (!(await isFile(join(dir, "pack.yaml")))) {
        return {
          ok: false,
          code: "pack-not-found",
          message: `the npm package ${source.name} has no pack.yaml: it is not an upkeep pack`,
        };
      }
      return { ok: true, dir, source, packageVersion: version };
    }
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  return {
    ok: false,
    code: "pack-not-found",
    message: `the npm package ${source.name} is not installed (no node_modules/${source.name} above the rules directory)`,
    hint: `run npm install ${source.name}@"${source.range}" in the project that holds the rules`,
  };
}

async function packageVersion(file: string): Promise<string | undefined> {
  try {
    const pkg = JSON.parse(await readFile(file, "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}
