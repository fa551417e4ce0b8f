// Ordered, bounded fan-out: run `work` on each item with at most `limit` in flight, and yield
// the results in the items' order. Exports use it to prefetch the next runs' metric histories
// while the current run's rows are written, without holding more than `limit` runs in memory.
export async function* mapOrdered<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): AsyncGenerator<R> {
  const inFlight: Promise<R>[] = [];
  let index = 0;
  for await (const item of items) {
    const promise = work(item, index++);
    // Mark it handled now; the error surfaces when the result is awaited in order below.
    promise.catch(() => {});
    inFlight.push(promise);
    if (inFlight.length >= limit) yield await inFlight.shift()!;
  }
  while (inFlight.length > 0) yield await inFlight.shift()!;
}

/** Bounded in-flight promises: `add` waits while `limit` are running; the first failure wins. */
export class Pool {
  private readonly running = new Set<Promise<void>>();
  private failure: unknown;
  constructor(private readonly limit: number) {}
  async add(task: () => Promise<void>): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.failure) throw this.failure;
    const promise: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }
  async drain(): Promise<void> {
    await Promise.all(this.running);
    if (this.failure) throw this.failure;
  }
}

/**
 * Bounded fan-out in completion order: run `work` on each item with at most `limit` in flight,
 * and yield each result as soon as it is ready. For work whose order does not matter (an
 * owner's artifacts): one slow item does not hold back the `limit - 1` behind it.
 */
export async function* mapUnordered<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): AsyncGenerator<R> {
  const inFlight = new Map<number, Promise<{ id: number; result: R }>>();
  let index = 0;
  const start = (item: T) => {
    const id = index++;
    const promise = work(item, id).then((result) => ({ id, result }));
    // Marked handled: a failure surfaces through the race below, or is dropped with the rest
    // when an earlier failure ended the iteration.
    promise.catch(() => {});
    inFlight.set(id, promise);
  };
  const next = async (): Promise<R> => {
    const { id, result } = await Promise.race(inFlight.values());
    inFlight.delete(id);
    return result;
  };
  for await (const item of items) {
    start(item);
    if (inFlight.size >= limit) yield await next();
  }
  while (inFlight.size > 0) yield await next();
}

/**
 * One source read once by `consumers` readers at their own pace: each reader gets every item in
 * order. A reader at most `ahead` items past the slowest waits for it, and an item is let go once
 * every reader has taken it, so memory holds a few items however long the source is (an
 * export's pages of runs, read by its artifacts, metrics and runs tables side by side). A reader
 * that stops early no longer holds the others back.
 */
export function broadcast<T>(source: AsyncIterable<T>, consumers: number, ahead = 1): AsyncIterable<T>[] {
  const iterator = source[Symbol.asyncIterator]();
  const buffer: T[] = [];
  /** The source position of buffer[0]. */
  let base = 0;
  let done = false;
  let pulling: Promise<void> | undefined;
  const positions: number[] = new Array<number>(consumers).fill(0);
  let waiters: Array<() => void> = [];
  const wakeAll = () => {
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };
  const pull = (): Promise<void> => {
    pulling ??= iterator
      .next()
      .then((next) => {
        if (next.done) done = true;
        else buffer.push(next.value);
      })
      .finally(() => {
        pulling = undefined;
        wakeAll();
      });
    return pulling;
  };
  const release = () => {
    const slowest = Math.min(...positions);
    while (base < slowest && buffer.length > 0) {
      buffer.shift();
      base++;
    }
    wakeAll();
  };
  const reader = (index: number): AsyncIterable<T> => ({
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const position = positions[index]!;
          if (position < base + buffer.length) {
            const item = buffer[position - base] as T;
            positions[index] = position + 1;
            release();
            yield item;
          } else if (done) {
            return;
          } else if (position - Math.min(...positions) >= ahead) {
            await new Promise<void>((resolve) => waiters.push(resolve));
          } else {
            await pull();
          }
        }
      } finally {
        positions[index] = Number.POSITIVE_INFINITY;
        release();
      }
    },
  });
  return positions.map((_, index) => reader(index));
}
