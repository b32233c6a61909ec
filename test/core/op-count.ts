/**
 * Operation counters for scale specs: instead of timing code (never in tests), count how often it reads
 * a collection, and compare a run over N items with one over 2N. Linear work reads about twice as often;
 * work that scans everything once per item reads four times as often.
 */

export interface Counter {
  reads: number;
}

/** A view of `items` counting each element read (index access, iteration, find, filter, some...). */
export function countingArray<T>(items: readonly T[], counter: Counter): readonly T[] {
  return new Proxy(items, {
    get(target, key, receiver) {
      if (typeof key === "string" && /^\d+$/.test(key)) counter.reads += 1;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

/** A Map counting lookups and every entry iterated. */
export class CountingMap<K, V> extends Map<K, V> {
  constructor(
    entries: Iterable<readonly [K, V]>,
    private readonly counter: Counter,
  ) {
    super(entries);
  }

  override get(key: K): V | undefined {
    this.counter.reads += 1;
    return super.get(key);
  }

  override entries(): MapIterator<[K, V]> {
    const counter = this.counter;
    const inner = super.entries();
    return (function* () {
      for (const entry of inner) {
        counter.reads += 1;
        yield entry;
      }
    })() as unknown as MapIterator<[K, V]>;
  }

  override [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  override forEach(fn: (value: V, key: K, map: Map<K, V>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

/** reads(2n) / reads(n): about 2 for linear work, about 4 for quadratic. */
export async function growth(n: number, reads: (n: number) => number | Promise<number>): Promise<number> {
  const small = await reads(n);
  const large = await reads(2 * n);
  return large / small;
}

/** Below this, doubling the services did not square the work. */
export const LINEAR = 2.5;
