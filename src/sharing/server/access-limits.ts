// The limits a recipient is held to besides its grants: the client address ranges it may connect
// from, and its request rate. The client's address is the socket's peer, unless the peer is one
// of the configured trusted proxies: then it is the rightmost `X-Forwarded-For` hop that is not
// itself a trusted proxy. Without trusted proxies the header is ignored, since anyone can send it.
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { ArcuateError, AuthError } from "../../errors.js";
import { AddressRanges, describeRateLimit, type RateLimit, unmapped } from "../catalog/recipient-limits.js";
import type { Principal } from "../catalog/state.js";
import { TokenBuckets } from "./rate-limit.js";

export interface AccessLimitOptions {
  /** CIDR ranges of reverse proxies whose `X-Forwarded-For` is believed. Default: none. */
  trustedProxies?: string[];
  /** The rate limit of recipients that have none of their own. Default: none. */
  defaultRateLimit?: RateLimit;
}

export class AccessLimits {
  private readonly trusted: AddressRanges | undefined;
  private readonly buckets = new TokenBuckets();

  constructor(private readonly options: AccessLimitOptions = {}) {
    this.trusted =
      options.trustedProxies && options.trustedProxies.length > 0
        ? new AddressRanges(options.trustedProxies)
        : undefined;
  }

  /** The client's address (null when a trusted proxy forwarded one that is not an address). */
  clientAddress(req: IncomingMessage): string | null {
    const peer = req.socket.remoteAddress;
    if (peer === undefined) return null;
    const address = unmapped(peer);
    if (!this.trusted?.includes(address)) return address;
    const raw = req.headers["x-forwarded-for"];
    const header = Array.isArray(raw) ? raw.join(",") : raw;
    if (header === undefined || header.trim() === "") return address;
    const hops = header.split(",").map((hop) => hop.trim());
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = unmapped(hops[i]!);
      if (isIP(hop) === 0) return null;
      if (!this.trusted.includes(hop) || i === 0) return hop;
    }
    return address;
  }

  /**
   * Throws a protocol error when `principal` may not make this request: 403 from an address
   * outside its list, 429 (with the seconds to wait) past its rate. `counted: false` checks the
   * address only (file downloads, see docs/decisions.md).
   */
  admit(principal: Principal, address: string | null, counted = true): void {
    const ranges = principal.limits?.allowedAddresses;
    if (ranges && (address === null || !ranges.includes(address))) {
      throw new AuthError(
        `sharing: recipient '${principal.name}' may not connect from ${address ?? "an unknown address"} (not in its allowed addresses)`,
        { code: "PERMISSION_DENIED" },
      );
    }
    const limit = principal.limits?.rateLimit ?? this.options.defaultRateLimit;
    if (!counted || !limit) return;
    const admission = this.buckets.take(principal.id, limit);
    if (admission.ok) return;
    throw new ArcuateError(
      "REQUEST_LIMIT_EXCEEDED",
      `sharing: recipient '${principal.name}' is over its rate limit of ${describeRateLimit(limit)}; retry after ${admission.retryAfterSeconds} s`,
      { details: { retryAfterSeconds: admission.retryAfterSeconds } },
    );
  }
}
