// Bundles the CLI into dist/bundle/ (one ESM entry plus lazily loaded chunks per command). launchd starts
// `upkeep run` as a fresh process every interval, and resolving and reading ~150 small module files was
// most of its cold start. dist/bundle sits at the same depth as dist/<dir>/, so every path a module
// computes from import.meta.url (../../schemas, ../../generated, ../../package.json) stays valid.
import { build } from "esbuild";
import { rmSync } from "node:fs";

const outdir = new URL("../dist/bundle/", import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [new URL("../src/cli/main.ts", import.meta.url).pathname],
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // pino-pretty only loads on a terminal; ajv only compiles plugin schemas (rules use precompiled ones).
  external: ["pino-pretty", "ajv", "ajv/*", "node-sqlite3-wasm"],
  // Bundled CommonJS dependencies call require(); give ESM chunks a real one.
  banner: {
    js: "import { createRequire as __upkeepCreateRequire } from 'node:module'; const require = __upkeepCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
