/**
 * Milliseconds since it was started, rounded: the latency a probe or a request reports. From
 * process.hrtime (monotonic, like performance.now), because the `performance` global loads perf_hooks
 * and a dozen modules behind it on first use: a few milliseconds of every tick's start-up.
 */
export function stopwatch(): () => number {
  const started = process.hrtime.bigint();
  return () => Math.round(Number(process.hrtime.bigint() - started) / 1e6);
}
