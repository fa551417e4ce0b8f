// HTTP for the Delta Sharing client: Node's built-in fetch, bearer auth, retries with exponential
// backoff and jitter on 429, 5xx and connection errors (never on other 4xx, which a retry cannot
// fix), and the protocol's `{errorCode, message}` bodies turned into ArcuateErrors.

import {
  ArcuateError,
  AuthError,
  ERROR_STATUS,
  type ErrorCode,
  NotFoundError,
  ProtocolError,
} from "../../errors.js";
import { type OAuthTokenSource, oauthTokenSource } from "./oauth.js";
import { assertProfileUsable, isOAuthProfile, isProfileExpired, type SharingProfile } from "./profile.js";

export interface RetryOptions {
  /** Retries after the first attempt (default 5). */
  retries?: number;
  /** First backoff in ms (default 200); it doubles each retry. */
  baseDelayMs?: number;
  /** Cap of one backoff in ms (default 10 000). */
  maxDelayMs?: number;
  /**
   * Total time spent waiting as servers' `Retry-After` asked (a 429 past a rate limit), after
   * which the refusal is thrown (default 300 000). Such waits do not use up `retries`.
   */
  maxRetryAfterWaitMs?: number;
}

export interface HttpOptions {
  retry?: RetryOptions;
  /** Replaces the global fetch (tests, proxies). */
  fetch?: typeof fetch;
  /** Replaces the sleep between retries (tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Per-request timeout for the response headers, in ms (default 120 000). */
  timeoutMs?: number;
  userAgent?: string;
}

export interface RequestSpec {
  method: "GET" | "POST" | "HEAD";
  /** Path under the endpoint, starting with `/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

const DEFAULT_USER_AGENT = `arcuate-sharing-client Node/${process.versions.node}`;

/** Retryable failure: a status of 429 or 5xx, or no response at all. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** The delay before retry number `attempt` (0-based): exponential, capped, "equal jitter". */
export function backoffDelay(
  attempt: number,
  options: RetryOptions = {},
  random: () => number = Math.random,
) {
  const base = options.baseDelayMs ?? 200;
  const cap = options.maxDelayMs ?? 10_000;
  const exp = Math.min(cap, base * 2 ** attempt);
  // Half fixed, half random: spreads clients that failed together without ever retrying at once.
  return exp / 2 + random() * (exp / 2);
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `attempt` until it succeeds, retrying when `retryable(error)` holds, with backoff. */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  retryable: (error: unknown) => boolean,
  options: RetryOptions & { sleep?: (ms: number) => Promise<void> } = {},
): Promise<T> {
  const retries = options.retries ?? 5;
  const sleep = options.sleep ?? sleepFor;
  const maxWait = options.maxRetryAfterWaitMs ?? 300_000;
  let waited = 0;
  for (let n = 0; ; ) {
    try {
      return await attempt();
    } catch (error) {
      if (!retryable(error)) throw error;
      const retryAfter = error instanceof ArcuateError ? error.details["retryAfterMs"] : undefined;
      if (typeof retryAfter === "number" && error instanceof ArcuateError) {
        // The server said when to come back: wait that long (plus a little, so that clients
        // refused together do not all return at once), for as long as the total wait allows.
        const delay = Math.min(retryAfter, 60_000) + Math.random() * Math.min(1000, retryAfter / 10);
        if (waited + delay > maxWait)
          throw new ArcuateError(
            error.code,
            `${error.message} (still refused after waiting ${Math.round(waited / 1000)} s in all as the server's Retry-After asked; try again later)`,
            { details: error.details, cause: error },
          );
        waited += delay;
        await sleep(delay);
        continue;
      }
      if (n >= retries) throw error;
      await sleep(backoffDelay(n++, options));
    }
  }
}

/** True for errors worth retrying: connection failures and 429/5xx responses. */
export function isRetryableError(error: unknown): boolean {
  if (!(error instanceof ArcuateError)) return false;
  if (error.code === "CONNECTION_FAILED") return true;
  // A server that names the table corrupt answers the same however often it is asked.
  if (error.details["errorCode"] === "CORRUPT_TABLE") return false;
  const status = error.details["httpStatus"];
  return typeof status === "number" && isRetryableStatus(status);
}

/** Wraps a failure of fetch itself (refused, reset, DNS, timeout) as CONNECTION_FAILED. */
export function connectionError(what: string, error: unknown): ArcuateError {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  // Both when there are both: "UND_ERR_SOCKET" alone tells a user nothing, "other side closed" does.
  const detail =
    cause?.code && cause.message && !cause.message.includes(cause.code)
      ? `${cause.message} (${cause.code})`
      : (cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error)));
  return new ArcuateError("CONNECTION_FAILED", `sharing: ${what} failed: ${detail}`, { cause: error });
}

/** Builds the error for a non-2xx response of the sharing server from its `{errorCode, message}`. */
export async function responseError(
  what: string,
  response: Response,
  profile?: SharingProfile,
): Promise<ArcuateError> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    // the body is only for the message; the status alone still makes a useful error
  }
  let serverCode: string | undefined;
  let serverMessage = text.slice(0, 1000);
  try {
    const json = JSON.parse(text) as { errorCode?: unknown; message?: unknown };
    if (typeof json.errorCode === "string") serverCode = json.errorCode;
    if (typeof json.message === "string") serverMessage = json.message;
  } catch {
    // not JSON: keep the text
  }
  const status = response.status;
  const details: Record<string, unknown> = { httpStatus: status, errorCode: serverCode };
  const retryAfter = response.headers.get("retry-after");
  if (retryAfter !== null && /^\d+$/.test(retryAfter)) details["retryAfterMs"] = Number(retryAfter) * 1000;
  let message = `sharing: ${what} failed with HTTP ${status}${serverCode ? ` ${serverCode}` : ""}`;
  if (serverMessage) message += `: ${serverMessage}`;
  if (status === 401 && profile && !isOAuthProfile(profile) && isProfileExpired(profile)) {
    message += ` (the profile's bearer token expired at ${profile.expirationTime})`;
  }
  const known =
    serverCode !== undefined && serverCode in ERROR_STATUS ? (serverCode as ErrorCode) : undefined;
  if (status === 401) return new AuthError(message, { details, code: "UNAUTHENTICATED" });
  if (status === 403) return new AuthError(message, { details, code: "PERMISSION_DENIED" });
  if (status === 404) return new NotFoundError(message, { details });
  if (status === 429 || status === 503)
    return new ArcuateError("TEMPORARILY_UNAVAILABLE", message, { details });
  if (status >= 500) return new ArcuateError(known ?? "INTERNAL_ERROR", message, { details });
  return new ProtocolError(message, { details, code: known ?? "INVALID_PARAMETER_VALUE" });
}

/** The REST side of the client: one profile, requests with auth and retries. */
export class SharingHttp {
  readonly profile: SharingProfile;
  private readonly options: HttpOptions;
  private readonly fetchImpl: typeof fetch;
  /** An OAuth profile's access tokens (oauth.ts); a bearer profile's token is in the profile. */
  private readonly tokens: OAuthTokenSource | undefined;

  constructor(profile: SharingProfile, options: HttpOptions = {}) {
    this.profile = profile;
    this.options = options;
    this.fetchImpl = options.fetch ?? fetch;
    this.tokens = isOAuthProfile(profile) ? oauthTokenSource(profile) : undefined;
  }

  url(path: string, query?: RequestSpec["query"]): string {
    const url = new URL(this.profile.endpoint + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /**
   * Sends a request and returns the 2xx response with its body unread, retrying 429/5xx and
   * connection failures. Other statuses throw at once.
   */
  request(spec: RequestSpec): Promise<Response> {
    return withRetries(() => this.send(spec), isRetryableError, {
      ...this.options.retry,
      sleep: this.options.sleep,
    });
  }

  /** Like {@link request}, then parses the body as one JSON document. */
  async json<T>(spec: RequestSpec): Promise<{ body: T; headers: Headers }> {
    return withRetries(
      async () => {
        const response = await this.send(spec);
        let text: string;
        try {
          text = await response.text();
        } catch (error) {
          throw connectionError(`reading ${spec.method} ${spec.path}`, error);
        }
        try {
          return { body: JSON.parse(text) as T, headers: response.headers };
        } catch (error) {
          throw new ProtocolError(`sharing: ${spec.method} ${spec.path} returned a body that is not JSON`, {
            cause: error,
            code: "INTERNAL_ERROR",
          });
        }
      },
      isRetryableError,
      { ...this.options.retry, sleep: this.options.sleep },
    );
  }

  /** Runs `attempt` with this client's retry policy. */
  retrying<T>(attempt: () => Promise<T>): Promise<T> {
    return withRetries(attempt, isRetryableError, { ...this.options.retry, sleep: this.options.sleep });
  }

  /** One attempt, no retries: the 2xx response with its body unread, or a thrown ArcuateError. */
  async send(spec: RequestSpec): Promise<Response> {
    assertProfileUsable(this.profile);
    const token = this.tokens ? await this.tokens.token(this.tokenIo()) : this.bearerToken();
    const response = await this.sendWith(spec, token);
    if (response.status !== 401 || !this.tokens) return this.checked(spec, response);
    // An access token can expire (or be revoked) on the way: renew it once and ask again.
    await response.body?.cancel().catch(() => {});
    return this.checked(spec, await this.sendWith(spec, await this.tokens.renew(this.tokenIo(), token)));
  }

  private bearerToken(): string {
    return isOAuthProfile(this.profile) ? "" : this.profile.bearerToken;
  }

  private tokenIo() {
    return {
      fetch: this.fetchImpl,
      retrying: <T>(attempt: () => Promise<T>) => this.retrying(attempt),
      timeoutMs: this.options.timeoutMs ?? 120_000,
      userAgent: this.options.userAgent ?? DEFAULT_USER_AGENT,
    };
  }

  private async checked(spec: RequestSpec, response: Response): Promise<Response> {
    if (response.status < 200 || response.status > 299)
      throw await responseError(`${spec.method} ${spec.path}`, response, this.profile);
    return response;
  }

  private async sendWith(spec: RequestSpec, token: string): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      "user-agent": this.options.userAgent ?? DEFAULT_USER_AGENT,
      ...spec.headers,
    };
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers["content-type"] = "application/json; charset=utf-8";
    }
    const what = `${spec.method} ${spec.path}`;
    let response: Response;
    try {
      response = await this.fetchImpl(this.url(spec.path, spec.query), {
        method: spec.method,
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000),
      });
    } catch (error) {
      throw connectionError(`${what} to ${this.profile.endpoint}`, error);
    }
    return response;
  }
}
