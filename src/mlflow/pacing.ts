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
  /**
   * The limit does not shrink below this on latency alone while the server has given no overload
   * answer for the last windows (CALM_WINDOWS): on a loaded machine latency rises for reasons that
   * are not the server's queue. Default 8, the default start.
   */
  calmFloor?: number;
  /** Milliseconds since some origin. Default performance.now. */
  now?: () => number;
}

/** Windows without an overload answer after which the calm floor holds again. */
const CALM_WINDOWS = 10;
/**
 * Windows without new evidence of the knee after which the knee is raised by an eighth (a probe:
 * a step large enough for the next window to tell whether it bought throughput); also how
 * recent a first growth that bought nothing must be for a second to set the knee.
 */
const KNEE_PROBE_WINDOWS = 20;
/** Windows summed on each side of a growth to tell whether it bought throughput. */
const TRIAL_WINDOWS = 2;
/** Windows whose lowest latencies make the floor. */
const FLOOR_WINDOWS = 100;

function summed(windows: Array<{ work: number; ms: number; median: number }>) {
  let work = 0;
  let ms = 0;
  let median = 0;
  for (const w of windows) {
    work += w.work;
    ms += w.ms;
    median += w.median;
  }
  return { throughput: work / Math.max(1, ms), median: median / Math.max(1, windows.length) };
}

/**
 * Hill-climbing in windows of completed requests (at least the limit, at least 8), judged by the
 * window's median latency (weighted by each request's service time) against the lowest latency
 * of the last FLOOR_WINDOWS windows (the server's own service time, with nothing queued; each
 * request against the floor of its own kind, so an import moving from quick creates to heavy
 * log-batches is not taken for a queue; remembered long, since a floor forgotten within a few
 * windows becomes the queued latency of a limit held past the knee, and then nothing ever looks
 * queued) and by its throughput against the last window's. Throughput is counted in service time delivered a second (each completion
 * weighs its kind's floor), so a window of heavy log-batches is not taken for less work than one
 * of quick creates:
 * - median within 1.5× of that floor, the limit reached: nothing queues, so grow by a quarter;
 * - throughput rose by 10% since the last window, the limit reached: grow by an eighth (small
 *   steps: on a server whose throughput does not grow with the limit, a SQLite-backed one, the
 *   rises that noise makes must not outweigh the cuts, or the limit would wander up);
 * - the last change was a cut and throughput fell by 15% or more: the cut cost work, grow back
 *   by an eighth;
 * - requests queue (median past 1.5× the floor) and throughput did not rise: shrink by a tenth,
 *   not below the calm floor while the server has given no overload answer lately (a rise in
 *   latency alone, on a shared machine, is often not the server's queue);
 * - an overload answer (429, 503, a pool timeout, a dropped connection) cuts the limit by a
 *   quarter at once, at most once a window (one burst, one cut), and lifts the calm floor for
 *   CALM_WINDOWS windows.
 *
 * Past a server's knee more requests in flight only queue, and on a PostgreSQL-backed MLflow on
 * a few cores they cost throughput (at 32 in flight it wrote a third as fast as at 16), long
 * before it answers "overloaded". So the limiter remembers a knee, the limit it must stay below,
 * as TCP remembers its slow-start threshold after a loss:
 * - an overload answer at limit L sets the knee to L, when it came within KNEE_PROBE_WINDOWS
 *   windows of another or a knee is known (a single dropped connection only cuts);
 * - every growth is on trial: held for TRIAL_WINDOWS windows, whose summed throughput is
 *   compared with that of the windows at the limit before it. When it did not deliver a quarter
 *   of the rise in requests in flight as more work while the median latency rose by half of it
 *   (Little's law: requests only queued), the growth is taken back, and the grown limit becomes
 *   the knee: at the second such growth within KNEE_PROBE_WINDOWS windows, or at the first once
 *   a knee is known (so noise does not set the first one), and never at or below the calm floor;
 * - no rule grows the limit to the knee or past it, and after KNEE_PROBE_WINDOWS windows without
 *   new evidence the knee rises by an eighth: a slow probe, so a server that got faster (or a
 *   knee set by noise) is found again.
 */
export class AdaptiveLimiter implements Limiter {
  private current: number;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly min: number;
  private readonly calmFloor: number;
  readonly ceiling: number;
  private readonly now: () => number;
  /**
   * `ratios`: each completed request's latency over the floor of its kind, with that floor (its
   * weight); `work`: the floors summed.
   */
  private window = {
    started: 0,
    completed: 0,
    saturated: false,
    ratios: [] as Array<[ratio: number, weight: number]>,
    work: 0,
    cut: false,
  };
  private lastThroughput = 0;
  /** The limit must stay below this (Infinity: no evidence yet). */
  private knee = Number.POSITIVE_INFINITY;
  /** Windows judged since the knee was set or last raised. */
  private kneeAge = 0;
  /** The last windows' work, time and median (the baseline a growth is judged against). */
  private recent: Array<{ work: number; ms: number; median: number }> = [];
  /**
   * A growth on trial: from which limit, what the windows before it did, and the windows since
   * (TRIAL_WINDOWS of them are summed, so one noisy window neither confirms nor refutes it).
   */
  private trial:
    | {
        from: number;
        before: { throughput: number; median: number };
        after: Array<{ work: number; ms: number; median: number }>;
      }
    | undefined;
  /** Windows judged since the last growth that bought nothing (Infinity: none). */
  private sinceFutileGrowth = Number.POSITIVE_INFINITY;
  /** The direction of the last change made on a window's evidence: 1 grew, -1 shrank, 0 none. */
  private lastMove = 0;
  /** Windows judged since the last overload answer (Infinity: none yet). */
  private calmWindows = Number.POSITIVE_INFINITY;
  /** By kind, the lowest latency of each of the last windows: the floor is their minimum. */
  private readonly floors = new Map<string, number[]>();
  /** By kind, the lowest latency of the current window. */
  private windowFloors = new Map<string, number>();
  /** Every change of the limit, for tests and benchmarks: [ms, limit]. */
  readonly history: Array<[number, number]> = [];

  constructor(options: AdaptiveOptions = {}) {
    this.min = options.min ?? 1;
    this.ceiling = options.max ?? 64;
    this.calmFloor = Math.max(this.min, options.calmFloor ?? 8);
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
      const again = this.calmWindows < KNEE_PROBE_WINDOWS;
      this.calmWindows = 0;
      if (!w.cut) {
        w.cut = true;
        // The request was sent at this limit (a later answer of the same burst was too). A first
        // overload answer only cuts: on a loaded machine a starved worker drops a connection now
        // and then at any limit. A second soon after, or one once a knee is known, sets it.
        if (this.knee < Number.POSITIVE_INFINITY || again) {
          this.knee = this.current;
          this.kneeAge = 0;
        }
        this.set(Math.floor((this.current * 3) / 4));
        this.lastMove = -1;
      }
      return;
    }
    w.completed++;
    const kind = outcome.kind ?? "";
    const latency = Math.max(outcome.latencyMs, 0.001);
    const lowest = Math.min(this.windowFloors.get(kind) ?? latency, latency);
    this.windowFloors.set(kind, lowest);
    const floor = Math.min(lowest, ...(this.floors.get(kind) ?? []));
    w.ratios.push([latency / floor, floor]);
    w.work += floor;
    // A window: enough completions to judge (at least the limit, at least 8).
    if (w.completed < Math.max(8, this.current)) return;
    const elapsed = Math.max(1, this.now() - w.started);
    const throughput = w.work / elapsed;
    // The median weighted by service time: a few heavy log-batches queueing at a SQLite-backed
    // server's single writer count for more than many quick uploads beside them that do not.
    const sorted = w.ratios.sort((x, y) => x[0] - y[0]);
    let median = 1;
    for (let i = 0, passed = 0; i < sorted.length; i++) {
      passed += sorted[i]![1];
      median = sorted[i]![0];
      if (passed * 2 >= w.work) break;
    }
    for (const [k, floor] of this.windowFloors) {
      const floors = this.floors.get(k) ?? [];
      floors.push(floor);
      // Forget old floors, so a server that became slower for good is not pushed to one request.
      if (floors.length > FLOOR_WINDOWS) floors.shift();
      this.floors.set(k, floors);
    }
    this.windowFloors = new Map();
    const stats = { work: w.work, ms: elapsed, median };
    const judgedAt = this.current;
    if (!w.cut) this.judge(median, throughput, w.saturated, stats);
    else this.trial = undefined;
    // The window counts towards the baseline of the limit it ran at, if that still holds.
    if (this.current === judgedAt && !w.cut) this.recent.push(stats);
    if (this.recent.length > TRIAL_WINDOWS) this.recent.shift();
    if (this.calmWindows < Number.POSITIVE_INFINITY) this.calmWindows++;
    if (this.sinceFutileGrowth < Number.POSITIVE_INFINITY) this.sinceFutileGrowth++;
    if (this.knee < Number.POSITIVE_INFINITY && ++this.kneeAge >= KNEE_PROBE_WINDOWS) {
      this.knee += Math.max(1, Math.floor(this.knee / 8));
      this.kneeAge = 0;
    }
    this.lastThroughput = throughput;
    this.window = {
      started: this.now(),
      completed: 0,
      saturated: this.active >= this.current,
      ratios: [],
      work: 0,
      cut: false,
    };
  }

  private judge(
    median: number,
    throughput: number,
    saturated: boolean,
    stats: { work: number; ms: number; median: number },
  ): void {
    const first = this.lastThroughput === 0;
    const queued = median > 1.5;
    const rose = !first && throughput > this.lastThroughput * 1.1;
    const fell = !first && throughput < this.lastThroughput * 0.85;
    const trial = this.trial;
    if (trial) {
      // A growth on trial: hold it until its windows are in, then ask whether the server did
      // more work for it or requests only queued.
      if (!saturated) this.trial = undefined;
      else {
        trial.after.push(stats);
        if (trial.after.length < TRIAL_WINDOWS) {
          this.lastMove = 0;
          return;
        }
        this.trial = undefined;
        const after = summed(trial.after);
        const gain = this.current / trial.from - 1;
        const worked = after.throughput >= trial.before.throughput * (1 + gain / 4);
        const waited = after.median >= trial.before.median * (1 + gain / 2);
        if (!worked && waited) {
          // Taken back at once; a first knee is set by a second such growth soon after, not by
          // windows that noise made slow.
          const known = this.knee < Number.POSITIVE_INFINITY;
          if ((known || this.sinceFutileGrowth < KNEE_PROBE_WINDOWS) && this.current > this.calmFloor) {
            this.knee = Math.min(this.knee, this.current);
            this.kneeAge = 0;
          }
          this.sinceFutileGrowth = 0;
          this.set(trial.from);
          this.lastMove = -1;
          return;
        }
      }
    }
    const grow = (by: number) => {
      const from = this.current;
      this.set(Math.min(this.current + Math.max(1, Math.floor(by)), this.knee - 1));
      this.lastMove = this.current > from ? 1 : 0;
      if (this.current > from)
        this.trial = { from, before: summed([...this.recent, stats].slice(-TRIAL_WINDOWS)), after: [] };
    };
    if (saturated && !queued) grow(this.current / 4);
    else if (saturated && rose) grow(this.current / 8);
    else if (this.lastMove < 0 && fell) grow(this.current / 8);
    else if (queued && !rose && !first) {
      const floor = this.calmWindows >= CALM_WINDOWS ? this.calmFloor : this.min;
      this.set(
        Math.max(this.current - Math.max(1, Math.floor(this.current / 10)), Math.min(this.current, floor)),
      );
      this.lastMove = -1;
    } else this.lastMove = 0;
  }

  private set(limit: number): void {
    const next = Math.min(this.ceiling, Math.max(this.min, limit));
    if (next === this.current) return;
    this.current = next;
    // A growth is judged against windows at one limit only.
    this.recent = [];
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
