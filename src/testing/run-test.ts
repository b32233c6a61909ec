/**
 * One compiled test against one Config: simulate every tick, run the checks placed at each tick as it
 * passes (nothing per tick is kept unless the run is short enough for a timeline), report failures.
 */
import type { Handler } from "../actions/types.js";
import type { Config } from "../config/model.js";
import { runCheck, type CheckContext, type Mismatch } from "./expect.js";
import type { Evaluate } from "./heal-sim.js";
import type { CompiledTest, Failure, PlacedCheck } from "./model.js";
import { simulate, type SimulationCounts } from "./simulate.js";
import { Timeline, TIMELINE_MAX_CELLS } from "./timeline.js";

export interface TestResult {
  readonly name: string;
  readonly description?: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly passed: boolean;
  readonly ticks: number;
  /** What happened over the whole run (heals, refusals, alerts, breaker opens). */
  readonly counts: SimulationCounts;
  readonly failures: readonly Failure[];
}

export interface RunDeps {
  readonly getHandler: (name: string, kind: "step") => Handler | undefined;
  readonly evaluate: Evaluate;
}

/** Failures of one range are reported once, at the first tick; later ticks are listed. */
const MAX_LISTED_TICKS = 20;

export async function runTest(test: CompiledTest, config: Config, deps: RunDeps): Promise<TestResult> {
  const ctx: CheckContext = {
    config,
    startMs: test.startMs,
    intervalMs: test.intervalMs,
    ...(test.ownsRule === undefined ? {} : { ownsRule: test.ownsRule }),
  };
  const timeline =
    test.ticks * config.services.length <= TIMELINE_MAX_CELLS
      ? new Timeline(config.services.map((s) => s.id))
      : undefined;
  const first = new Map<number, { placed: PlacedCheck; mismatch: Mismatch; more: number[]; count: number }>();
  let next = 0;
  const counts = await simulate(
    {
      config,
      ticks: test.ticks,
      startMs: test.startMs,
      intervalMs: test.intervalMs,
      series: test.series,
      settings: {
        launchctlPath: config.runtime.launchctlPath,
        systemctlPath: config.runtime.systemctlPath,
        uid: test.uid,
      },
      getHandler: deps.getHandler,
      evaluate: deps.evaluate,
    },
    (tick) => {
      timeline?.record(tick);
      for (; next < test.checks.length && (test.checks[next] as PlacedCheck).tick === tick.tick; next++) {
        const placed = test.checks[next] as PlacedCheck;
        const mismatch = runCheck(placed.check, tick, ctx);
        if (mismatch === undefined) continue;
        const seen = first.get(placed.group);
        if (seen === undefined) {
          first.set(placed.group, { placed, mismatch, more: [], count: 1 });
          continue;
        }
        seen.count++;
        if (seen.more.length < MAX_LISTED_TICKS) seen.more.push(placed.tick);
      }
    },
  );
  const failures: Failure[] = [...first.values()]
    .sort((a, b) => a.placed.tick - b.placed.tick || a.placed.position.line - b.placed.position.line)
    .map(({ placed, mismatch, more, count }) => ({
      file: test.file,
      line: placed.position.line,
      column: placed.position.column,
      pointer: placed.pointer,
      tick: placed.tick,
      elapsedMs: (placed.tick - 1) * test.intervalMs,
      subject: mismatch.subject,
      expected: mismatch.expected,
      actual: mismatch.actual,
      notes: [...mismatch.notes, ...(timeline?.notes(placed.check, ctx) ?? [])],
      alsoFailedAt: more,
      failedTicks: count,
    }));
  return {
    name: test.name,
    ...(test.description === undefined ? {} : { description: test.description }),
    file: test.file,
    line: test.position.line,
    column: test.position.column,
    passed: failures.length === 0,
    ticks: counts.ticks,
    counts,
    failures,
  };
}
