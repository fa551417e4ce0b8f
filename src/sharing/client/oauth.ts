// OAuth 2.0 client credentials for the Delta Sharing client (RFC 6749 §4.4): a version 2
// `oauth_client_credentials` profile names a token endpoint, a client id and a secret; the client
// POSTs `grant_type=client_credentials` (and `scope` when the profile has one) there, with the id
// and secret in HTTP Basic auth (§2.3.1), and sends the access token it gets as its bearer token.
//
// One token source per credentials, shared by every client of the process (a preview and an
// import in one session, the parallel requests of a load): a token is renewed shortly before it
// expires, and once more when the server answers 401 to it; concurrent requests that need a new
// token wait for one renewal, never start their own.
import { ArcuateError, AuthError, ProtocolError } from "../../errors.js";
import type { OAuthProfile } from "../protocol.js";

/** What a token request needs from the HTTP client that asks: its fetch, retries and limits. */
export interface TokenRequestIo {
  fetch: typeof fetch;
  /** Runs an attempt with the caller's retry policy (429, 5xx and connection failures). */
  retrying: <T>(attempt: () => Promise<T>) => Promise<T>;
  timeoutMs: number;
  userAgent: string;
}

/** Renew this long before expiry at most (the Python connector renews 10 minutes ahead of 1-hour tokens). */
const MAX_RENEW_AHEAD_MS = 60_000;

interface AccessToken {
  value: string;
  /** When to get a new one: ahead of the expiry by a minute, or by half the lifetime when shorter. */
  renewAt: number;
}

/** The source of access tokens for one profile's credentials. */
export class OAuthTokenSource {
  private current: AccessToken | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly profile: OAuthProfile,
    /** The profile as messages name it, e.g. "profile file 'partner.share'". */
    readonly source: string,
  ) {}

  /** A valid access token: the cached one, or a new one when it is due for renewal. */
  token(io: TokenRequestIo): Promise<string> {
    if (this.current && Date.now() < this.current.renewAt) return Promise.resolve(this.current.value);
    return this.renew(io, this.current?.value);
  }

  /**
   * A new access token after the server refused `rejected`. When another request already renewed
   * it, that newer token is returned without asking again.
   */
  renew(io: TokenRequestIo, rejected: string | undefined): Promise<string> {
    if (this.pending) return this.pending;
    if (this.current && this.current.value !== rejected && Date.now() < this.current.renewAt) {
      return Promise.resolve(this.current.value);
    }
    const pending = this.request(io).then((token) => {
      this.current = token;
      return token.value;
    });
    this.pending = pending;
    const clear = () => {
      if (this.pending === pending) this.pending = undefined;
    };
    pending.then(clear, clear);
    return pending;
  }

  private async request(io: TokenRequestIo): Promise<AccessToken> {
    const { tokenEndpoint, clientId, clientSecret, scope } = this.profile;
    const what = `${this.source} could not get an access token from ${tokenEndpoint}`;
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    if (scope !== undefined) form.set("scope", scope);
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString(
      "base64",
    );
    return io.retrying(async () => {
      const started = Date.now();
      let response: Response;
      let text: string;
      try {
        response = await io.fetch(tokenEndpoint, {
          method: "POST",
          headers: {
            authorization: `Basic ${basic}`,
            "content-type": "application/x-www-form-urlencoded",
            accept: "application/json",
            "user-agent": io.userAgent,
          },
          body: form.toString(),
          signal: AbortSignal.timeout(io.timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const detail =
          cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
        throw new ArcuateError("CONNECTION_FAILED", `sharing: ${what}: ${detail}`, { cause: error });
      }
      let body: Record<string, unknown> | undefined;
      try {
        const parsed = JSON.parse(text) as unknown;
        if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed))
          body = parsed as Record<string, unknown>;
      } catch {
        // not JSON: the status and text say what happened
      }
      if (response.status < 200 || response.status > 299) throw tokenError(what, response, body, text);
      const value = body?.["access_token"];
      if (typeof value !== "string" || value.length === 0) {
        throw new ProtocolError(`sharing: ${what}: the answer has no 'access_token'`, {
          code: "INTERNAL_ERROR",
        });
      }
      // RFC 6749 §5.1: expires_in is recommended, not required; some servers send it as a string.
      const expiresIn = Number(body?.["expires_in"]);
      if (!Number.isFinite(expiresIn) || expiresIn <= 0) {
        return { value, renewAt: Number.POSITIVE_INFINITY };
      }
      const lifetime = expiresIn * 1000;
      return { value, renewAt: started + lifetime - Math.min(MAX_RENEW_AHEAD_MS, lifetime / 2) };
    });
  }
}

function tokenError(
  what: string,
  response: Response,
  body: Record<string, unknown> | undefined,
  text: string,
): ArcuateError {
  const status = response.status;
  const error = typeof body?.["error"] === "string" ? body["error"] : undefined;
  const description =
    typeof body?.["error_description"] === "string" ? body["error_description"] : text.slice(0, 500);
  const message = `sharing: ${what}: HTTP ${status}${error ? ` ${error}` : ""}${description ? `: ${description}` : ""}`;
  const details: Record<string, unknown> = { httpStatus: status, errorCode: error };
  const retryAfter = response.headers.get("retry-after");
  if (retryAfter !== null && /^\d+$/.test(retryAfter)) details["retryAfterMs"] = Number(retryAfter) * 1000;
  // A wrong id or secret is 401 invalid_client, or 400 with invalid_client / unauthorized_client.
  if (status === 401 || error === "invalid_client" || error === "unauthorized_client")
    return new AuthError(message, { details, code: "UNAUTHENTICATED" });
  if (status === 403) return new AuthError(message, { details, code: "PERMISSION_DENIED" });
  if (status === 429 || status === 503)
    return new ArcuateError("TEMPORARILY_UNAVAILABLE", message, { details });
  if (status >= 500) return new ArcuateError("INTERNAL_ERROR", message, { details });
  return new ProtocolError(message, { details, code: "INVALID_PARAMETER_VALUE" });
}

// ---------------------------------------------------------------------------------------------
// One source per credentials in the process, found again by every client of the same profile.

const sources = new Map<string, OAuthTokenSource>();

function credentialsKey(profile: OAuthProfile): string {
  return JSON.stringify([
    profile.tokenEndpoint,
    profile.clientId,
    profile.clientSecret,
    profile.scope ?? null,
  ]);
}

/**
 * Remembers how a profile was named where it was first read (its file path, usually), so that a
 * token error says which profile failed even when a client got a copy of the object.
 */
export function nameOAuthProfile(profile: OAuthProfile, source: string): void {
  const key = credentialsKey(profile);
  if (!sources.has(key)) sources.set(key, new OAuthTokenSource(profile, source));
}

/** The token source of a profile's credentials. */
export function oauthTokenSource(profile: OAuthProfile): OAuthTokenSource {
  const key = credentialsKey(profile);
  let source = sources.get(key);
  if (!source) {
    source = new OAuthTokenSource(profile, `the profile of client '${profile.clientId}'`);
    sources.set(key, source);
  }
  return source;
}
