import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// Tests never touch the user's real ~/.cache/upkeep: every worker and every CLI it spawns caches rules
// in a folder of this run, removed by test/global-setup.ts at the end.
const cacheHome = mkdtempSync(join(tmpdir(), "upkeep-test-cache-"));
process.env.UPKEEP_TEST_CACHE_HOME = cacheHome;

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: { XDG_CACHE_HOME: cacheHome },
    globalSetup: ["test/global-setup.ts"],
  },
});
