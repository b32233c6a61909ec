/**
 * Proof that the state dir takes new files, made before a tick probes, heals or alerts. The heal
 * budget, cooldowns and alert reminders only hold if each tick records what it did: a tick that heals
 * and then cannot save would heal again on the next tick, every tick (seen: a budget of 1 per hour,
 * 3 heals and 3 notifications in 3 ticks). The proof is what an atomic write does first: create a
 * temp file in the dir, write and fsync it; then remove it.
 */
import { open, unlink } from "node:fs/promises";
import { join } from "node:path";
import { UpkeepError } from "../errors.js";
import { STATE_FILE_MODE, tempName } from "./atomic-file.js";

export async function assertStateDirWritable(dir: string): Promise<void> {
  // Named like an atomic write's temp file, so a tick killed right here leaves nothing the sweep misses.
  const probe = tempName(join(dir, "write-check"));
  try {
    const handle = await open(probe, "wx", STATE_FILE_MODE);
    try {
      await handle.writeFile("upkeep\n", "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await unlink(probe);
  } catch (error) {
    await unlink(probe).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UpkeepError(
      "E_STATE_UNWRITABLE",
      `cannot write state in ${dir} (${code}): no heal or alert ran, because their limits could not be ` +
        `recorded; fix the permissions (or free space) of ${dir} and run again`,
      { dir, code },
      { cause: error },
    );
  }
}
