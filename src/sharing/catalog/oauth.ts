// OAuth 2.0 client credentials for recipients (RFC 6749 §4.4). A recipient created with OAuth
// holds a client id (its recipient id) and a client secret `arcs_<id>_<32 random bytes>`, stored
// only as a keyed hash like a bearer token. The server's token endpoint exchanges them for an
// access token `arco_<id>.<expiry ms>.<mac>` that expires on its own: the MAC (HMAC-SHA256 with
// the catalog's pepper) covers the id, the expiry and the secret's hash, so a token needs no
// storage, and rotating the secret or dropping the recipient ends every token issued before.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const ACCESS_TOKEN_PREFIX = "arco_";
const SECRET_PREFIX = "arcs_";
/** Default lifetime of an access token. */
export const DEFAULT_ACCESS_TOKEN_SECONDS = 3600;

export function newClientSecret(recipientId: string): string {
  return `${SECRET_PREFIX}${recipientId}_${randomBytes(32).toString("base64url")}`;
}

export function mintAccessToken(pepper: Buffer, id: string, secretHash: string, expiresAt: number): string {
  return `${ACCESS_TOKEN_PREFIX}${id}.${expiresAt}.${mac(pepper, id, expiresAt, secretHash)}`;
}

/** The recipient id and expiry an access token claims; undefined when it is not one of ours. */
export function parseAccessToken(token: string): { id: string; expiresAt: number; mac: string } | undefined {
  const m = /^arco_([0-9a-f]{16})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
  return m ? { id: m[1]!, expiresAt: Number(m[2]), mac: m[3]! } : undefined;
}

export function accessTokenMatches(
  pepper: Buffer,
  token: { id: string; expiresAt: number; mac: string },
  secretHash: string,
): boolean {
  const expected = Buffer.from(mac(pepper, token.id, token.expiresAt, secretHash));
  const given = Buffer.from(token.mac);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function mac(pepper: Buffer, id: string, expiresAt: number, secretHash: string): string {
  return createHmac("sha256", pepper)
    .update(`oauth-access\n${id}\n${expiresAt}\n${secretHash}`)
    .digest("base64url");
}
