// What a provider limits a recipient to besides its grants: the client address ranges it may
// connect from (CIDR, IPv4 and IPv6) and how many requests it may make in a period. Checked here
// when they are set, so the server only ever compiles ranges that parse. The server enforces
// them (server/access-limits.ts); matching uses Node's own `net.BlockList`.
import { BlockList, isIP } from "node:net";
import { ProtocolError } from "../../errors.js";
import type { RecipientEntry } from "./state.js";

/** At most this many requests in `perSeconds` seconds (a token bucket: bursts up to `requests`). */
export interface RateLimit {
  requests: number;
  perSeconds: number;
}

/** A change to a recipient's limits: a value sets, `null` removes the limit. */
export interface RecipientLimitsChange {
  allowedAddresses?: string[] | null;
  rateLimit?: RateLimit | null;
}

const MAX_RANGES = 100;
const MAX_REQUESTS = 1_000_000;
const MAX_PERIOD_SECONDS = 86_400;
export const RATE_UNITS = { second: 1, minute: 60, hour: 3600 } as const;

/** `10.0.0.0/8`, `2001:db8::/32` or a single address (a /32 or /128), in a canonical form. */
export function normaliseAddressRange(text: string): string {
  const invalid = () =>
    new ProtocolError(
      `catalog: '${text.slice(0, 80)}' is not an address range like 10.0.0.0/8, 2001:db8::/32 or 192.0.2.7`,
      { code: "INVALID_PARAMETER_VALUE" },
    );
  const m = /^\s*([0-9A-Fa-f:.]{2,45})(?:\/(\d{1,3}))?\s*$/.exec(text);
  if (!m) throw invalid();
  const address = m[1]!.toLowerCase();
  const family = isIP(address);
  if (family === 0) throw invalid();
  const bits = family === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? bits : Number(m[2]);
  if (prefix > bits) throw invalid();
  return `${address}/${prefix}`;
}

/** A compiled list of address ranges. */
export class AddressRanges {
  private readonly list = new BlockList();

  constructor(readonly ranges: readonly string[]) {
    for (const range of ranges) {
      const [address, prefix] = normaliseAddressRange(range).split("/") as [string, string];
      this.list.addSubnet(address, Number(prefix), isIP(address) === 4 ? "ipv4" : "ipv6");
    }
  }

  /** Whether `address` (IPv4, IPv6, or IPv4 mapped into IPv6) is in one of the ranges. */
  includes(address: string): boolean {
    const plain = unmapped(address);
    const family = isIP(plain);
    if (family === 0) return false;
    return this.list.check(plain, family === 4 ? "ipv4" : "ipv6");
  }
}

/** An IPv4 address as itself, not in its IPv6 mapping (`::ffff:10.0.0.1`, as dual-stack sockets report it). */
export function unmapped(address: string): string {
  return /^::ffff:\d{1,3}(\.\d{1,3}){3}$/i.test(address) ? address.slice(7) : address;
}

export function checkRateLimit(limit: RateLimit): RateLimit {
  if (!Number.isInteger(limit.requests) || limit.requests < 1 || limit.requests > MAX_REQUESTS)
    throw new ProtocolError(
      `catalog: a rate limit allows 1 to ${MAX_REQUESTS} requests, not ${limit.requests}`,
      {
        code: "INVALID_PARAMETER_VALUE",
      },
    );
  if (!Number.isInteger(limit.perSeconds) || limit.perSeconds < 1 || limit.perSeconds > MAX_PERIOD_SECONDS)
    throw new ProtocolError(
      `catalog: a rate limit's period is 1 to ${MAX_PERIOD_SECONDS} seconds, not ${limit.perSeconds}`,
      { code: "INVALID_PARAMETER_VALUE" },
    );
  return { requests: limit.requests, perSeconds: limit.perSeconds };
}

/** "600 requests per minute", for messages. */
export function describeRateLimit(limit: RateLimit): string {
  const unit = Object.entries(RATE_UNITS).find(([, seconds]) => seconds === limit.perSeconds)?.[0];
  const per = unit ?? `${limit.perSeconds} seconds`;
  return `${limit.requests} request${limit.requests === 1 ? "" : "s"} per ${per}`;
}

/** "recipient r: connects from 10.0.0.0/8 only; 600 requests per minute", as set now. */
export function describeLimits(r: {
  name: string;
  allowedAddresses?: string[];
  rateLimit?: RateLimit;
}): string {
  const from = r.allowedAddresses
    ? `connects from ${r.allowedAddresses.join(", ")} only`
    : "connects from anywhere";
  const rate = r.rateLimit ? describeRateLimit(r.rateLimit) : "no rate limit of its own";
  return `recipient ${r.name}: ${from}; ${rate}`;
}

/** Applies `change` to `recipient` in place, after checking every value (nothing changes on a refusal). */
export function applyRecipientLimits(recipient: RecipientEntry, change: RecipientLimitsChange): void {
  let ranges: string[] | undefined;
  if (change.allowedAddresses) {
    if (change.allowedAddresses.length === 0 || change.allowedAddresses.length > MAX_RANGES)
      throw new ProtocolError(
        `catalog: recipient '${recipient.name}': give 1 to ${MAX_RANGES} allowed address ranges (UNSET ALLOWED ADDRESSES allows every address)`,
        { code: "INVALID_PARAMETER_VALUE" },
      );
    ranges = [...new Set(change.allowedAddresses.map(normaliseAddressRange))];
  }
  const rate = change.rateLimit ? checkRateLimit(change.rateLimit) : undefined;
  if (change.allowedAddresses === null) delete recipient.allowedAddresses;
  else if (ranges) recipient.allowedAddresses = ranges;
  if (change.rateLimit === null) delete recipient.rateLimit;
  else if (rate) recipient.rateLimit = rate;
}
