// Bearer tokens of recipients. A token is `arc_<recipient id>_<32 random bytes, base64url>`: the id
// lets the server find the recipient without scanning, the random part is the secret. Only a keyed
// hash (HMAC-SHA256 with the catalog's pepper) is stored. A fast hash is enough here: the secret
// has 256 bits of entropy, so there is nothing to brute-force, and a slow KDF (scrypt) would cost
// tens of milliseconds on every request. Hashes are compared with `timingSafeEqual`.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const PREFIX = "arc_";

export function newRecipientId(): string {
  return randomBytes(8).toString("hex");
}

export function newToken(recipientId: string): string {
  return `${PREFIX}${recipientId}_${randomBytes(32).toString("base64url")}`;
}

/** The recipient id a token claims to belong to, or undefined when it is not one of ours. */
export function tokenRecipientId(token: string): string | undefined {
  if (!token.startsWith(PREFIX)) return undefined;
  const end = token.indexOf("_", PREFIX.length);
  if (end < 0) return undefined;
  const id = token.slice(PREFIX.length, end);
  return /^[0-9a-f]{16}$/.test(id) ? id : undefined;
}

export function hashToken(pepper: Buffer, token: string): string {
  return createHmac("sha256", pepper).update(token, "utf8").digest("hex");
}

/** Constant-time comparison of a presented token against a stored hash. */
export function tokenMatches(pepper: Buffer, token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashToken(pepper, token), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** Constant-time equality of two strings (the YAML config's single shared token). */
export function constantTimeEqual(a: string, b: string): boolean {
  // Hash both sides first so that lengths do not leak through an early return.
  const key = randomBytes(32);
  const ha = createHmac("sha256", key).update(a, "utf8").digest();
  const hb = createHmac("sha256", key).update(b, "utf8").digest();
  return timingSafeEqual(ha, hb);
}
