// Bundles the CLI into dist/bundle/ (one ESM entry plus lazily loaded chunks). launchd starts `upkeep run`
// as a fresh process every interval, and resolving, reading and linking many small ES modules was most
// of its cold start (each module costs the ESM loader a resolve, a read and a link, whatever its size).
// So everything a healthy tick runs goes into one chunk, `run-core`: the run command and what it imports,
// plus the modules the tick loads with import() on every tick (RUN_CORE_ROOTS); what only some ticks
// need (a first tick's rules parsing and checks, execa, SQLite, pino, the other commands) stays in chunks
// of its own, loaded when used. rolldown does this grouping; esbuild, which bundled before, cannot.
// test/cli/run-startup.test.ts counts the files a healthy tick loads, so a new import() on the tick's
// path that leaves run-core shows up there.
//
// dist/bundle sits at the same depth as dist/<dir>/, so every path a module computes from
// import.meta.url (../../schemas, ../../generated, ../../package.json) stays valid.
import { rmSync } from "node:fs";
import { isBuiltin } from "node:module";
import { fileURLToPath } from "node:url";
import { rolldown } from "rolldown";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = `${root}dist/bundle/`;

/** Modules a healthy tick imports with import(); run-core also takes everything they import statically. */
const RUN_CORE_ROOTS = [
  "src/cli/output-guard.ts",
  "src/cli/commands/run.ts",
  "src/cli/tick-command.ts",
  "src/cli/load-config.ts",
  "src/cli/version.ts",
  "src/config/config-cache.ts",
  "src/config/logic.ts",
  "src/config/suggest.ts",
  "src/actions/registry.ts",
  "src/runtime/session.ts",
  "src/runtime/tick.ts",
  "src/runtime/lock.ts",
  "src/runtime/log-rotation.ts",
  "src/runtime/state-store.ts",
  "src/runtime/silences.ts",
  "src/runtime/outbox.ts",
  "src/history/record.ts",
  "src/runtime/history-store.ts",
].map((file) => `${root}${file}`);

/**
 * `import { x } from "node:fs"` in an ES module makes Node build an ES facade of the whole built-in,
 * reading every export (node:fs's lazy ReadStream getter alone loads all of fs/streams: ~8 ms of a
 * tick on Node 24). So imports of built-ins become a CommonJS `require`, whose exports are read when
 * used; rolldown's interop turns `x` into a property read of that object. Static imports only: see below.
 */
const builtinsThroughRequire = {
  name: "builtins-through-require",
  resolveId(source, _importer, extra) {
    // node:module stays an ES import: the bundle's own require() (the banner, rolldown's runtime) comes from it.
    if (!isBuiltin(source) || source === "node:module") return null;
    const name = source.startsWith("node:") ? source : `node:${source}`;
    // import() of a built-in stays a native import(): Node caches its facade, where a wrapper would
    // copy the module's exports into a new namespace object at every call (a tcp probe per service).
    if (extra.kind === "require-call" || extra.kind === "dynamic-import") return { id: name, external: true };
    return { id: `\0builtin:${name}` };
  },
  load(id) {
    if (!id.startsWith("\0builtin:")) return null;
    return {
      code: `module.exports = require(${JSON.stringify(id.slice("\0builtin:".length))});`,
      moduleType: "js",
    };
  },
};

rmSync(outdir, { recursive: true, force: true });
const bundle = await rolldown({
  input: { main: `${root}src/cli/main.ts` },
  platform: "node",
  // pino-pretty only loads on a terminal; ajv only compiles plugin schemas (rules use precompiled ones);
  // the WebAssembly SQLite finds its .wasm beside its own file.
  plugins: [builtinsThroughRequire],
  external: ["pino-pretty", /^ajv(\/|$)/, "node-sqlite3-wasm"],
  resolve: { extensionAlias: { ".js": [".ts", ".js"] } },
  transform: { target: "node20" },
  logLevel: "warn",
  // A module imported both ways stays where its static importers put it; run-core relies on that.
  checks: { ineffectiveDynamicImport: false },
});
try {
  await bundle.write({
    dir: outdir,
    format: "esm",
    entryFileNames: "[name].js",
    chunkFileNames: "[name]-[hash].js",
    codeSplitting: {
      // The built-in wrappers are one line each: a chunk of their own would cost a file per import().
      groups: [
        { name: "run-core", test: (id) => RUN_CORE_ROOTS.includes(id) || id.startsWith("\0builtin:") },
      ],
    },
  });
} finally {
  await bundle.close();
}
