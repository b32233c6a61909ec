/**
 * The measuring loop every timed figure uses: each command once to warm up (and to check it does what
 * the figure says), then `rounds` rounds running every command once, in the given order and reversed
 * on every other round so no command always follows the same one. Medians per command.
 */
import { join } from "node:path";
import { medians, tail } from "./table.mjs";

/**
 * commands: [{ key, argv, env?, before?(), ok?: exit codes (default [0]), timeoutMs?, check?(out, err) }]
 * `check` runs on the warm-up's output files and returns why the command is not what the figure
 * measures (or nothing). Returns { [key]: { wall, cpu } }.
 */
export async function interleave(ctx, commands, rounds) {
  const runs = Object.fromEntries(commands.map((c) => [c.key, []]));
  for (let round = -1; round < rounds; round += 1) {
    const order = round % 2 === 0 ? commands : [...commands].reverse();
    for (const c of order) {
      c.before?.();
      const out = join(ctx.work, `${c.key}.out`);
      const err = join(ctx.work, `${c.key}.err`);
      const r = await ctx.measurer.run(c.argv, {
        env: { ...ctx.env, ...c.env },
        stdout: out,
        stderr: err,
        timeoutMs: c.timeoutMs ?? 120_000,
      });
      const ok = c.ok ?? [0];
      if (r.error !== undefined || r.timedOut || !ok.includes(r.status)) {
        const what = r.error ?? (r.timedOut ? "timed out" : `exit ${r.status ?? `signal ${r.signal}`}`);
        throw new Error(`${c.key} (${c.argv.join(" ")}): ${what}\n${tail(err)}`);
      }
      if (round === -1 && c.check !== undefined) {
        const why = c.check(out, err);
        if (why !== undefined) throw new Error(`${c.key}: ${why}`);
      }
      if (round >= 0) runs[c.key].push(r);
    }
  }
  return Object.fromEntries(Object.entries(runs).map(([key, list]) => [key, medians(list)]));
}
