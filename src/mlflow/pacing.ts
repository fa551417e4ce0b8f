// How many requests a client keeps in flight at one tracking server. A fixed number is wrong for
// most servers: a SQLite-backed MLflow serialises its writes and answers a crowd with pool
// timeouts, while a PostgreSQL-backed one with several workers takes many at once. So the
// default limit adapts, as TCP's congestion control does and Netflix's concurrency-limits for
// services: it starts low, grows while the requests completed per second grow with it, and backs
// off when the server says it is overloaded (429, 503, the SQL store's pool timeouts) or when
// latency rises without more throughput. An explicit number is a fixed limit.
//
// Pure: the clock is passed in, no I/O; src/mlflow/http.ts reports each request's outcome.

/** What the limiter is told when a request ends. */
export interface Outcome {
  /** From sending to the reply's status line, in ms. */
  latencyMs: number;
  /** The server answered "too busy" (it is retried): the limit must come down now. */
  overloaded: boolean;
  /**
   * What kind of request it was (its endpoint): latency is judged against the floor of its own
   * kind, since a 1,000-point log-batch takes many times a runs/create with nothing queued.
   */
  kind?: string;
}

export interface Limiter {
  /** Runs `task` once a slot is free. */
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Reports a request's outcome (a task may send several: retries). */
  report(outcome: Outcome): void;
  /** The requests allowed in flight now. */
  readonly limit: number;
  /** The most the limit can ever be: what callers should offer to fill it. */
  readonly ceiling: number;
}

/** A fixed number of requests in flight. */
export class FixedLimiter implements Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(readonly limit: number) {
    this.ceiling = limit;
  }
  readonly ceiling: number;

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, or is freed.
      if (next) next();
      else this.active--;
    }
  }

  report(): void {}
}

export interface AdaptiveOptions {
  /** Starting limit. Default 8: what a SQLite-backed server with its 4 workers takes without complaint. */
  initial?: number;
  /** Default 1. */
  min?: number;
  /** Default 64. */
  max?: number;
  /** Milliseconds since some origin. Default performance.now. */
  now?: () => number;
}

/**
 * Hill-climbing in windows of completed requests (at least the limit, at least 8), judged by the
 * window's median latency against the lowest latency seen lately (the server's own service time,
 * with nothing queued; each request against the floor of its own kind, so an import moving from
 * quick creates to heavy log-batches is not taken for a queue) and by its throughput against the
 * last window's:
 * - median within 1.5× of that floor, the limit reached: nothing queues, so grow by a quarter;
 * - requests queue (median past 1.5× the floor) but throughput still rose by 10%: grow by one;
 * - requests queue and throughput did not rise: shrink by a tenth (more only waits in line);
 * - an overload answer halves the limit at once, at most once a window (one burst, one cut).
 */
export class AdaptiveLimiter implements Limiter {
  private current: number;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly min: number;
  readonly ceiling: number;
  private readonly now: () => number;
  /** `ratios`: each completed request's latency over the floor of its kind. */
  private window = { started: 0, completed: 0, saturated: false, ratios: [] as number[], cut: false };
  private lastThroughput = 0;
  /** By kind, the lowest latency of each of the last windows: the floor is their minimum. */
  private readonly floors = new Map<string, number[]>();
  /** By kind, the lowest latency of the current window. */
  private windowFloors = new Map<string, number>();
  /** Every change of the limit, for tests and benchmarks: [ms, limit]. */
  readonly history: Array<[number, number]> = [];

  constructor(options: AdaptiveOptions = {}) {
    this.min = options.min ?? 1;
    this.ceiling = options.max ?? 64;
    this.current = Math.min(this.ceiling, Math.max(this.min, options.initial ?? 8));
    this.now = options.now ?? (() => performance.now());
    this.window.started = this.now();
    this.history.push([this.window.started, this.current]);
  }

  get limit(): number {
    return this.current;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A waiter is handed its slot by wake() (which counts it in `active` before resolving).
    if (this.active < this.current) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.active >= this.current) this.window.saturated = true;
    try {
      return await task();
    } finally {
      this.active--;
      this.wake();
    }
  }

  report(outcome: Outcome): void {
    const w = this.window;
    if (outcome.overloaded) {
      if (!w.cut) {
        w.cut = true;
        this.set(Math.floor(this.current / 2));
      }
      return;
    }
    w.completed++;
    const kind = outcome.kind ?? "";
    const latency = Math.max(outcome.latencyMs, 0.001);
    const lowest = Math.min(this.windowFloors.get(kind) ?? latency, latency);
    this.windowFloors.set(kind, lowest);
    w.ratios.push(latency / Math.min(lowest, ...(this.floors.get(kind) ?? [])));
    // A window: enough completions to judge (at least the limit, at least 8).
    if (w.completed < Math.max(8, this.current)) return;
    const elapsed = Math.max(1, this.now() - w.started);
    const throughput = w.completed / elapsed;
    const sorted = w.ratios.sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    for (const [k, floor] of this.windowFloors) {
      const floors = this.floors.get(k) ?? [];
      floors.push(floor);
      // Forget old floors, so a server that became slower for good is not pushed to one request.
      if (floors.length > 10) floors.shift();
      this.floors.set(k, floors);
    }
    this.windowFloors = new Map();
    const queued = median > 1.5;
    const rose = throughput > this.lastThroughput * 1.1;
    if (!w.cut) {
      if (!queued && w.saturated) this.set(this.current + Math.max(1, Math.floor(this.current / 4)));
      else if (queued && rose && w.saturated) this.set(this.current + 1);
      else if (queued && !rose) this.set(this.current - Math.max(1, Math.floor(this.current / 10)));
    }
    this.lastThroughput = throughput;
    this.window = {
      started: this.now(),
      completed: 0,
      saturated: this.active >= this.current,
      ratios: [],
      cut: false,
    };
  }

  private set(limit: number): void {
    const next = Math.min(this.ceiling, Math.max(this.min, limit));
    if (next === this.current) return;
    this.current = next;
    this.history.push([this.now(), next]);
    this.wake();
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.active < this.current) {
      this.active++;
      this.waiting.shift()!();
    }
  }
}
