// Sharing one in-flight call among concurrent callers: under load, many requests arriving
// together need the same `stat` of catalog.json or of a table's _delta_log; one call answers them
// all. A caller never gets a result older than a call that was still running when it asked.
export class Coalescer<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const pending = fn().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, pending);
    return pending;
  }
}
