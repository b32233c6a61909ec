/** Removes the run's private cache folder (see vitest.config.ts). */
import { rmSync } from "node:fs";

export default function setup(): () => void {
  return () => {
    const dir = process.env.UPKEEP_TEST_CACHE_HOME;
    if (dir !== undefined && dir.includes("upkeep-test-cache-"))
      rmSync(dir, { recursive: true, force: true });
  };
}
