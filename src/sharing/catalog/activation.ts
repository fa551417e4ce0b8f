// One-time activation links. A recipient created WITH ACTIVATION LINK gets no profile: the
// provider sends it a URL `<server origin>/activation/<code>`, and the first GET of it makes the
// recipient's credentials (a new bearer token, or a new OAuth client secret) and answers the
// profile. Until then no credential of the recipient works; after it, the link answers 410. The
// code is `arca_<recipient id>_<32 random bytes>`, stored only as a keyed hash like a token, so
// the catalog never holds anything a link or a profile could be rebuilt from.
import { randomBytes } from "node:crypto";
import type { OAuthProfile, Profile } from "../protocol.js";
import { newClientSecret } from "./oauth.js";
import type { ActivationResult, CatalogState, RecipientEntry } from "./state.js";
import { hashToken, newToken, tokenMatches } from "./tokens.js";

/** How long a link stays valid when nothing else is said: a week. */
export const DEFAULT_ACTIVATION_SECONDS = 7 * 86_400;

export function newActivationCode(recipientId: string): string {
  return `arca_${recipientId}_${randomBytes(32).toString("base64url")}`;
}

/** The link to a code: at the root of the server the profile's endpoint names, outside the API's prefix. */
export function activationUrl(endpoint: string, code: string): string {
  return `${new URL(endpoint).origin}/activation/${code}`;
}

/**
 * Redeems `code` in `state` (changing it: new credentials, the link marked used), or says why not.
 * A link that was used or expired says so; any other code is unknown.
 */
export function redeemActivation(
  state: CatalogState,
  pepper: Buffer,
  code: string,
  now: number,
): ActivationResult {
  const m = /^arca_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/.exec(code);
  const recipient = m ? state.recipients.find((r) => r.id === m[1]) : undefined;
  const activation = recipient?.activation;
  if (!recipient || !activation || !tokenMatches(pepper, code, activation.codeHash))
    return { ok: false, reason: "unknown" };
  if (activation.usedAt !== undefined) return { ok: false, reason: "used", at: activation.usedAt };
  if (Date.parse(activation.expiresAt) <= now)
    return { ok: false, reason: "expired", at: activation.expiresAt };
  activation.usedAt = new Date(now).toISOString();
  return {
    ok: true,
    recipient: { id: recipient.id, name: recipient.name },
    profile: credentials(recipient, pepper),
  };
}

/** Makes the recipient's credentials now (replacing the unknowable ones it was created with). */
function credentials(recipient: RecipientEntry, pepper: Buffer): Profile | OAuthProfile {
  const endpoint = recipient.activation!.endpoint;
  if (recipient.clientSecretHash !== undefined) {
    const secret = newClientSecret(recipient.id);
    recipient.clientSecretHash = hashToken(pepper, secret);
    return {
      shareCredentialsVersion: 2,
      type: "oauth_client_credentials",
      endpoint,
      tokenEndpoint: `${endpoint.replace(/\/+$/, "")}/oauth/token`,
      clientId: recipient.id,
      clientSecret: secret,
    };
  }
  const token = newToken(recipient.id);
  recipient.tokenHash = hashToken(pepper, token);
  const profile: Profile = { shareCredentialsVersion: 1, endpoint, bearerToken: token };
  if (recipient.expiresAt !== undefined) profile.expirationTime = recipient.expiresAt;
  return profile;
}
