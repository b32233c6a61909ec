import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isUpkeepError } from "../../src/errors.js";
import { assertStateDirWritable } from "../../src/runtime/state-dir-check.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "upkeep-state-dir-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// The EACCES case needs a user that file modes bind: test/cli/state-faults.test.ts runs it for real.
describe("assertStateDirWritable", () => {
  it("passes on a writable dir and leaves nothing behind", async () => {
    await assertStateDirWritable(dir);
    expect(await readdir(dir)).toEqual([]);
  });

  it("fails with E_STATE_UNWRITABLE naming the dir and the errno, saying that nothing ran", async () => {
    // A file where the dir should be: creating anything in it fails for every user, root included.
    const notDir = join(dir, "state");
    await writeFile(notDir, "");
    const error = await assertStateDirWritable(notDir).catch((e: unknown) => e);
    expect(isUpkeepError(error, "E_STATE_UNWRITABLE")).toBe(true);
    expect((error as Error).message).toBe(
      `cannot write state in ${notDir} (ENOTDIR): no heal or alert ran, because their limits could not be ` +
        `recorded; fix the permissions (or free space) of ${notDir} and run again`,
    );
  });
});
