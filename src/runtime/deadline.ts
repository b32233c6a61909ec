/**
 * A child AbortSignal that aborts when its parent does or when `ms` passes on the global timers (which
 * fake timers control, unlike AbortSignal.timeout). Dispose it to clear the timer.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  dispose(): void;
}

export class DeadlineError extends Error {
  readonly code = "E_TIMEOUT";
  constructor(label: string, ms: number) {
    super(`${label} after ${ms} ms`);
    this.name = "DeadlineError";
  }
}

export function deadlineSignal(parent: AbortSignal | undefined, ms: number, label: string): Deadline {
  const controller = new AbortController();
  const onParentAbort = (): void => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener("abort", onParentAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new DeadlineError(label, ms)), ms);
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParentAbort);
    },
  };
}
