// Request rate limits: one token bucket per key (a recipient id). A bucket holds at most
// `requests` tokens and refills at `requests / perSeconds` tokens a second, so a recipient may
// burst up to its whole allowance and then goes at the limit's pace. Buckets live in this
// process: servers behind a load balancer each count their own share of the requests.
import type { RateLimit } from "../catalog/recipient-limits.js";

export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
  requests: number;
  perSeconds: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Takes a token from `key`'s bucket, or says how many whole seconds until one is there. */
  take(key: string, limit: RateLimit): Admission {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.requests !== limit.requests || bucket.perSeconds !== limit.perSeconds) {
      // A new or changed limit starts full: a provider who raises a limit lets the recipient in at once.
      bucket = { tokens: limit.requests, at: now, requests: limit.requests, perSeconds: limit.perSeconds };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = this.refilled(bucket, now);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    const perMs = bucket.requests / (bucket.perSeconds * 1000);
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)) };
  }

  private refilled(bucket: Bucket, now: number): number {
    const perMs = bucket.requests / (bucket.perSeconds * 1000);
    return Math.min(bucket.requests, bucket.tokens + (now - bucket.at) * perMs);
  }
}
