// `npm start` and `npm test` on a fresh clone: the package builds on `prepack` (a `prepare` script runs
// on every install of the published package, and npm warns about it), so a checkout builds here, once,
// when dist/ is missing or older than a source file. Build time is spent only when something changed.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const stamp = join(root, "dist", "bundle", "main.js");

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const sources = ["src", "schemas", "scripts"].map((d) => join(root, d)).filter((d) => existsSync(d));
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (built === 0 || Math.max(...sources.map(newest), statSync(join(root, "package.json")).mtimeMs) > built) {
  process.stderr.write("upkeep: building dist/ (npm run build) ...\n");
  const result = spawnSync(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "build"], {
    cwd: root,
    stdio: "inherit",
  });
  process.exit(result.status ?? 1);
}
