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
