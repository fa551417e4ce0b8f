// The adaptive limit's rules on a simulated server (a pure model: the clock and the latencies are
// given), so each rule is seen alone. The real servers' side is in bench/exchange.ts and in the
// exchange tests that run with the default (adaptive) concurrency.
import { describe, expect, it } from "vitest";
import { AdaptiveLimiter, FixedLimiter } from "../../src/mlflow/pacing.js";

/**
 * A simulated server that serves `capacity` requests at once in 10 ms each and queues the rest (so
 * a round of `limit` requests takes 10 ms × ⌈limit / capacity⌉), under full demand: every round
 * offers more requests than the limit lets through. Returns the limit after `rounds`.
 */
async function serve(limiter: AdaptiveLimiter, clock: { now: number }, capacity: number, rounds: number) {
  for (let round = 0; round < rounds; round++) {
    let release!: () => void;
    const barrier = new Promise<void>((resolve) => (release = resolve));
    const offered = limiter.ceiling + 1;
    const inFlight = limiter.limit;
    const tasks = Array.from({ length: offered }, () => limiter.run(() => barrier));
    // The i-th request of the round waits for the ones ahead of it.
    clock.now += 10 * Math.ceil(inFlight / capacity);
    for (let i = 0; i < inFlight; i++)
      limiter.report({ latencyMs: 10 * Math.ceil((i + 1) / capacity), overloaded: false });
    release();
    await Promise.all(tasks);
  }
  return limiter.limit;
}

/**
 * A simulated server that shares itself among whatever is in flight (as a PostgreSQL-backed MLflow
 * on a few cores does): past `knee` requests at once it does no more work, every request only
 * takes longer (Little's law: a round of `limit` requests takes 10 ms × limit / knee, each of
 * them that long). Returns the limit after each round.
 */
async function share(limiter: AdaptiveLimiter, clock: { now: number }, knee: number, rounds: number) {
  const limits: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let release!: () => void;
    const barrier = new Promise<void>((resolve) => (release = resolve));
    const inFlight = limiter.limit;
    const tasks = Array.from({ length: limiter.ceiling + 1 }, () => limiter.run(() => barrier));
    const ms = 10 * Math.max(1, inFlight / knee);
    clock.now += ms;
    for (let i = 0; i < inFlight; i++) limiter.report({ latencyMs: ms, overloaded: false });
    release();
    await Promise.all(tasks);
    limits.push(limiter.limit);
  }
  return limits;
}

function limiterAt(initial: number) {
  const clock = { now: 0 };
  return { clock, limiter: new AdaptiveLimiter({ initial, now: () => clock.now }) };
}

describe("the adaptive concurrency limit", () => {
  it("grows while throughput grows and settles near what the server takes", async () => {
    const { clock, limiter } = limiterAt(2);
    const limit = await serve(limiter, clock, 24, 60);
    // Busy (at least ¾ of what it serves at once), and not flooded: at most 2.5× the capacity,
    // so a request waits at most about one and a half service rounds.
    expect(limit).toBeGreaterThanOrEqual(18);
    expect(limit).toBeLessThanOrEqual(60);
  });

  it("stays low on a server that takes one request at a time (SQLite's single writer)", async () => {
    const { clock, limiter } = limiterAt(4);
    expect(await serve(limiter, clock, 1, 60)).toBeLessThanOrEqual(5);
  });

  it("cuts by a quarter at an overload answer, once per burst", () => {
    const { limiter } = limiterAt(32);
    limiter.report({ latencyMs: 10, overloaded: true });
    limiter.report({ latencyMs: 10, overloaded: true });
    limiter.report({ latencyMs: 10, overloaded: true });
    expect(limiter.limit).toBe(24);
  });

  it("stops growing on a server whose throughput flattens, though latency never reaches the queue mark", async () => {
    const { clock, limiter } = limiterAt(8);
    const limits = await share(limiter, clock, 16, 80);
    // It reaches the knee (every request in flight is work up to 16)…
    expect(Math.max(...limits)).toBeGreaterThanOrEqual(16);
    // …and, once it has found it, does not wander past it: at 24 in flight each request takes
    // 1.5× as long for nothing.
    expect(Math.max(...limits.slice(20))).toBeLessThanOrEqual(20);
  });

  it("holds below the limit at which the server said it was overloaded again, and probes past it only after a long calm", async () => {
    const { clock, limiter } = limiterAt(32);
    limiter.report({ latencyMs: 10, overloaded: true });
    expect(limiter.limit).toBe(24);
    // A server that queues nothing: the limit grows back, and a second overload answer soon
    // after the first says where the knee is.
    await serve(limiter, clock, 1000, 1);
    const knee = limiter.limit;
    limiter.report({ latencyMs: 10, overloaded: true });
    expect(limiter.limit).toBeLessThan(knee);
    // Every rule says grow: the limit comes back up, to just below that knee.
    await serve(limiter, clock, 1000, 9);
    expect(limiter.limit).toBe(knee - 1);
    // Many windows without another overload answer: the knee is probed upward.
    expect(await serve(limiter, clock, 1000, 40)).toBeGreaterThan(knee);
  });

  it("takes a single overload answer for a cut, not for the knee", async () => {
    const { clock, limiter } = limiterAt(32);
    limiter.report({ latencyMs: 10, overloaded: true });
    expect(await serve(limiter, clock, 1000, 9)).toBeGreaterThan(32);
  });

  it("comes down when latency rises and throughput does not", () => {
    const { clock, limiter } = limiterAt(32);
    const tick = (ms: number) => (clock.now += ms);
    // A first window at low latency sets the baseline.
    tick(10);
    for (let i = 0; i < 32; i++) limiter.report({ latencyMs: 10, overloaded: false });
    // Then the same throughput at four times the latency: requests only queue.
    for (let w = 0; w < 5; w++) {
      tick(40);
      for (let i = 0; i < limiter.limit; i++) limiter.report({ latencyMs: 40, overloaded: false });
    }
    expect(limiter.limit).toBeLessThan(32);
  });

  it("does not fall below its calm floor on latency alone, only once the server says it is overloaded", () => {
    const limitAfter = (overload: boolean) => {
      const { clock, limiter } = limiterAt(12);
      clock.now += 10;
      for (let i = 0; i < 12; i++) limiter.report({ latencyMs: 10, overloaded: false });
      if (overload) limiter.report({ latencyMs: 10, overloaded: true });
      // Latency four times the floor and the same throughput, window after window: what a
      // machine whose other load slows every request looks like, and what a queue looks like
      // (for fewer windows than the floors are remembered).
      for (let w = 0; w < 8; w++) {
        clock.now += 40;
        const n = limiter.limit;
        for (let i = 0; i < n; i++) limiter.report({ latencyMs: 40, overloaded: false });
      }
      return limiter.limit;
    };
    expect(limitAfter(false)).toBe(8);
    expect(limitAfter(true)).toBeLessThan(8);
  });

  it("grows back after a cut that cost throughput", () => {
    const { clock, limiter } = limiterAt(32);
    const window = (ms: number, latencyMs: number) => {
      clock.now += ms;
      const n = limiter.limit;
      for (let i = 0; i < n; i++) limiter.report({ latencyMs, overloaded: false });
    };
    window(10, 10);
    // Queued (twice the floor) and no more throughput: cut by a tenth…
    window(20, 20);
    expect(limiter.limit).toBe(29);
    // …but the smaller window did a fifth less work in the same time: the cut was wrong.
    window(25, 20);
    expect(limiter.limit).toBeGreaterThan(29);
  });

  it("judges each kind of request against its own floor: heavy log-batches after quick creates are no queue", () => {
    const limitAfter = (kinds: boolean) => {
      const { clock, limiter } = limiterAt(16);
      const window = (kind: string, ms: number) => {
        clock.now += ms;
        const n = limiter.limit;
        for (let i = 0; i < n; i++)
          limiter.report({ latencyMs: ms, overloaded: false, ...(kinds ? { kind } : {}) });
      };
      window("POST /runs/create", 10);
      // Thirty times the latency of a create, each on its own, none waiting for another.
      for (let w = 0; w < 5; w++) window("POST /runs/log-batch", 300);
      return limiter.limit;
    };
    expect(limitAfter(true)).toBe(16);
    // Judged against the creates' floor, the same answers read as a queue and the limit fell.
    expect(limitAfter(false)).toBeLessThan(16);
  });

  it("never passes its bounds", async () => {
    const { limiter } = limiterAt(4);
    for (let i = 0; i < 20; i++) {
      limiter.report({ latencyMs: 10, overloaded: true });
      // A new window each time: each burst may cut once.
      for (let k = 0; k < 8; k++) limiter.report({ latencyMs: 10, overloaded: false });
    }
    expect(limiter.limit).toBe(1);
    // (That limiter now holds below the knee its overloads set; a fresh one shows the top bound.)
    const fresh = limiterAt(4);
    expect(await serve(fresh.limiter, fresh.clock, 1000, 100)).toBe(64);
  });

  it("lets no more than its limit run at once", async () => {
    for (const limiter of [new FixedLimiter(3), new AdaptiveLimiter({ initial: 3 })]) {
      let running = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 20 }, () =>
          limiter.run(async () => {
            running++;
            most = Math.max(most, running);
            await new Promise((resolve) => setTimeout(resolve, 2));
            running--;
          }),
        ),
      );
      expect(most).toBe(3);
    }
  });
});
