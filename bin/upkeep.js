#!/usr/bin/env node
// The bundled CLI (dist/bundle) starts fastest; dist/cli is the same code unbundled.
// Built-ins through process.getBuiltinModule, not `import`: an ES import of node:fs builds a facade of
// every export, and reading its lazy ReadStream loads all of fs/streams (~8 ms per tick on Node 24).
const { existsSync, mkdirSync } = process.getBuiltinModule("node:fs");
const module = process.getBuiltinModule("node:module");
const { homedir } = process.getBuiltinModule("node:os");
const { join } = process.getBuiltinModule("node:path");

// Node 22+: keep V8's compiled code for the CLI in the user's cache dir, so a tick started every interval
// does not compile the same few hundred KB of JavaScript each time. Best effort: without it, only slower.
if (typeof module.enableCompileCache === "function" && process.env.UPKEEP_NO_CACHE !== "1") {
  try {
    const xdg = process.env.XDG_CACHE_HOME;
    const dir = join(xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".cache"), "upkeep");
    // 0700 like the Config cache beside it, whichever of the two creates the folder first.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    module.enableCompileCache(join(dir, "compile"));
  } catch {
    // Read-only or missing home: run without the cache.
  }
}

const bundled = new URL("../dist/bundle/main.js", import.meta.url);
const { main } = await import(existsSync(bundled) ? bundled.href : "../dist/cli/main.js");

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`upkeep: internal error (please report): ${error?.stack ?? error}\n`);
    process.exitCode = 2;
  },
);
