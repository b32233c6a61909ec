/**
 * A child AbortSignal that aborts when its parent does or when `ms` passes on the global timers (which
 * fake timers control, unlike AbortSignal.timeout). Dispose it to clear the timer.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  /**
   * Calls `hook` once the signal aborts (at once if it has), after the signal's own listeners; returns
   * a function that forgets it. No EventTarget listener: adding and removing one costs more than a probe's
   * other bookkeeping together.
   */
  whenAborted(hook: () => void): () => void;
  dispose(): void;
}

export class DeadlineError extends Error {
  readonly code = "E_TIMEOUT";
  constructor(label: string, ms: number) {
    super(`${label} after ${ms} ms`);
    this.name = "DeadlineError";
  }
}

/**
 * The children of each parent signal, behind one listener on the parent. Node's EventTarget walks its
 * listener list on every add and remove (it refuses duplicates), so a tick signal with a few hundred
 * probes in flight made each probe's start and end cost as much as the probes in flight; a Set does not.
 */
const childrenOf = new WeakMap<AbortSignal, Set<() => void>>();

function onParentAbort(parent: AbortSignal, abort: () => void): () => void {
  let children = childrenOf.get(parent);
  if (children === undefined) {
    const set = new Set<() => void>();
    children = set;
    childrenOf.set(parent, set);
    parent.addEventListener(
      "abort",
      () => {
        // A child aborting may dispose itself (delete) meanwhile: a Set's iteration allows that.
        for (const child of set) child();
        set.clear();
      },
      { once: true },
    );
  }
  const own = children;
  own.add(abort);
  return () => own.delete(abort);
}

export function deadlineSignal(parent: AbortSignal | undefined, ms: number, label: string): Deadline {
  const controller = new AbortController();
  let hooks: Set<() => void> | undefined;
  const abort = (reason: unknown): void => {
    if (controller.signal.aborted) return;
    controller.abort(reason);
    if (hooks !== undefined) for (const hook of hooks) hook();
    hooks = undefined;
  };
  let detach: (() => void) | undefined;
  if (parent?.aborted) abort(parent.reason);
  else if (parent !== undefined) detach = onParentAbort(parent, () => abort(parent.reason));
  const timer = setTimeout(() => abort(new DeadlineError(label, ms)), ms);
  return {
    signal: controller.signal,
    whenAborted: (hook) => {
      if (controller.signal.aborted) {
        hook();
        return () => {};
      }
      const own = (hooks ??= new Set());
      own.add(hook);
      return () => own.delete(hook);
    },
    dispose: () => {
      clearTimeout(timer);
      detach?.();
    },
  };
}
