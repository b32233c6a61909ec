/**
 * At most `concurrency` tasks at once, started in the order they were asked for. A tick puts every
 * service's probe through one of these (thousands of services): it costs one promise per task, where
 * p-limit's costs several and an async hop per start.
 */
export type Limit = <T>(task: () => Promise<T>) => Promise<T>;

export function limiter(concurrency: number): Limit {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`concurrency must be a positive integer, not ${String(concurrency)}`);
  let active = 0;
  // A queue read from `head`: shift() on a long array copies it each time.
  let waiting: (() => void)[] = [];
  let head = 0;
  const done = (): void => {
    active -= 1;
    if (head < waiting.length) {
      const start = waiting[head] as () => void;
      head += 1;
      if (head === waiting.length) {
        waiting = [];
        head = 0;
      }
      active += 1;
      start();
    }
  };
  return <T>(task: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const start = (): void => {
        let running: Promise<T>;
        try {
          running = task();
        } catch (error) {
          running = Promise.reject(error as Error);
        }
        running.then(
          (value) => {
            done();
            resolve(value);
          },
          (error: unknown) => {
            done();
            reject(error as Error);
          },
        );
      };
      if (active < concurrency) {
        active += 1;
        start();
      } else waiting.push(start);
    });
}
