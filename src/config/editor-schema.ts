/**
 * Where editors find upkeep's schemas. schemas/editor/<name>.json are self-contained copies of the rules
 * schemas (scripts/build-editor-schemas.mjs): the source schemas carry a remote `$id` that editors try to
 * download. The `# yaml-language-server: $schema=...` lines upkeep writes point at the copy that ships
 * with the upkeep writing them, so validation in the editor works offline.
 */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export type EditorSchemaName = "services" | "alerts" | "pack" | "test";

/** The upkeep package root: src/config, dist/config and dist/bundle all sit two levels below it. */
const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Absolute path of an editor schema in the upkeep installed at `packageRoot` (this one by default). */
export function editorSchemaFile(name: EditorSchemaName, packageRoot: string = PACKAGE_ROOT): string {
  return path.join(path.resolve(packageRoot), "schemas", "editor", `${name}.json`);
}

/**
 * The `$schema` target for a document in `fromDir`. Relative when that folder lies in the project upkeep
 * is installed in (its node_modules, or an upkeep checkout): the line then holds for whoever clones the
 * project and installs it. Absolute otherwise (a global install), which holds on this machine only.
 * yaml-language-server reads the modeline up to the first whitespace and cuts at `#`, so a path holding
 * either (or `%`, which it would decode) is written as a file: URL instead.
 */
export function schemaTarget(
  name: EditorSchemaName,
  fromDir: string,
  packageRoot: string = PACKAGE_ROOT,
): string {
  const file = editorSchemaFile(name, packageRoot);
  const project = projectOf(path.resolve(packageRoot));
  const from = path.resolve(fromDir);
  const unsafe = /[\s#%]/;
  if (from === project || from.startsWith(project.endsWith(path.sep) ? project : project + path.sep)) {
    const relative = path.relative(from, file).split(path.sep).join("/");
    if (!unsafe.test(relative)) return relative;
  }
  return unsafe.test(file) ? pathToFileURL(file).href : file;
}

/** The project an installed package belongs to: the folder holding its (first) node_modules, else itself. */
function projectOf(packageRoot: string): string {
  const parts = packageRoot.split(path.sep);
  const at = parts.indexOf("node_modules");
  if (at < 0) return packageRoot;
  return parts.slice(0, at).join(path.sep) || path.sep;
}
