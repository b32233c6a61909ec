#!/usr/bin/env node
// The bundled CLI (dist/bundle) starts fastest; dist/cli is the same code unbundled.
import { existsSync } from "node:fs";

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
