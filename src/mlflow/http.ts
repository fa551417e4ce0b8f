// The wire under the MLflow client: one place that builds requests, authenticates, retries and
// turns MLflow's error JSON into typed errors. Every endpoint call goes through `call` (JSON) or
// `send` (raw bodies and streams, for artifacts).
//
// Retries: exponential backoff with full jitter on 429, 5xx and connection errors, never on
// other 4xx (a bad request stays bad). Concurrency: a single limiter per client bounds the
// requests in flight, so callers can fan out freely; by default it adapts to the server
// (src/mlflow/pacing.ts), told each request's latency and whether the server was overloaded.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ArcuateError, type ErrorCode } from "../errors.js";
import { createsSomething, neverReachedServer } from "./idempotence.js";
import { AdaptiveLimiter, FixedLimiter, type Limiter } from "./pacing.js";

export interface MlflowClientOptions {
  /** Tracking server URI, e.g. http://127.0.0.1:5000. Default: MLFLOW_TRACKING_URI. */
  trackingUri?: string;
  /** Bearer token. Default: MLFLOW_TRACKING_TOKEN. */
  token?: string;
  /** Basic auth. Default: MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD. */
  username?: string;
  password?: string;
  /** Retries after the first attempt on 429, 5xx and connection errors. Default 5. */
  maxRetries?: number;
  /** First backoff in ms; doubles per retry, capped at 10 s, with full jitter. Default 200. */
  backoffMs?: number;
  /**
   * Requests in flight at once: a number is a fixed limit; "auto" (the default, also from
   * ARCUATE_MLFLOW_CONCURRENCY=auto or a number there) finds what the server takes, between 1 and 64.
   */
  concurrency?: number | "auto";
  /** Per-request timeout in ms for JSON calls. Default 120 s. */
  timeoutMs?: number;
  /** Called as each request (and each retry) is sent: for counting and tracing, never to change it. */
  onRequest?: (method: string, path: string) => void;
}

export interface ResolvedOptions {
  trackingUri: string;
  authorization: string | undefined;
  maxRetries: number;
  backoffMs: number;
  concurrency: number | "auto";
  timeoutMs: number;
  onRequest: ((method: string, path: string) => void) | undefined;
}

export function resolveOptions(options: MlflowClientOptions = {}, env = process.env): ResolvedOptions {
  const trackingUri = (options.trackingUri ?? env.MLFLOW_TRACKING_URI ?? "").replace(/\/+$/, "");
  if (!trackingUri) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      "mlflow: no tracking server; pass trackingUri or set MLFLOW_TRACKING_URI",
    );
  }
  if (!/^https?:\/\//.test(trackingUri)) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `mlflow: tracking URI '${trackingUri}' is not an http(s) URL; arcuate talks to MLflow over its REST API`,
    );
  }
  const token = options.token ?? env.MLFLOW_TRACKING_TOKEN;
  const username = options.username ?? env.MLFLOW_TRACKING_USERNAME;
  const password = options.password ?? env.MLFLOW_TRACKING_PASSWORD;
  let authorization: string | undefined;
  if (token) authorization = `Bearer ${token}`;
  else if (username !== undefined && password !== undefined) {
    authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  }
  return {
    trackingUri,
    authorization,
    maxRetries: options.maxRetries ?? 5,
    backoffMs: options.backoffMs ?? 200,
    concurrency: options.concurrency ?? concurrencyFromEnv(env.ARCUATE_MLFLOW_CONCURRENCY),
    timeoutMs: options.timeoutMs ?? 120_000,
    onRequest: options.onRequest,
  };
}

function concurrencyFromEnv(value: string | undefined): number | "auto" {
  if (value === undefined || value === "" || value === "auto") return "auto";
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `mlflow: ARCUATE_MLFLOW_CONCURRENCY is '${value}'; it takes "auto" or a whole number of requests ≥ 1`,
    );
  }
  return n;
}

/** An error from MLflow, carrying its `error_code`, the HTTP status and the endpoint. */
export class MlflowError extends ArcuateError {
  readonly mlflowErrorCode: string | undefined;
  readonly httpStatus: number | undefined;
  readonly endpoint: string;

  constructor(
    code: ErrorCode,
    message: string,
    info: { mlflowErrorCode?: string; httpStatus?: number; endpoint: string; cause?: unknown },
  ) {
    super(code, message, {
      cause: info.cause,
      details: {
        mlflowErrorCode: info.mlflowErrorCode,
        httpStatus: info.httpStatus,
        endpoint: info.endpoint,
      },
    });
    this.name = "MlflowError";
    this.mlflowErrorCode = info.mlflowErrorCode;
    this.httpStatus = info.httpStatus;
    this.endpoint = info.endpoint;
  }
}

export type Query = Record<string, string | number | boolean | undefined | string[]>;

export interface SendOptions {
  query?: Query;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Retry this request? Default true. */
  retry?: boolean;
  timeoutMs?: number;
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

export class Http {
  readonly options: ResolvedOptions;
  /** Bounds the requests in flight; adaptive unless a number was given. */
  readonly limiter: Limiter;
  /**
   * Requests sent (each retry counted), answers that said the server is overloaded (429, 503, 504,
   * pool timeouts) or connections that failed, and those of them given up after all retries.
   */
  readonly stats = { sent: 0, overloaded: 0, gaveUp: 0 };

  constructor(options: ResolvedOptions) {
    this.options = options;
    this.limiter =
      options.concurrency === "auto" ? new AdaptiveLimiter() : new FixedLimiter(options.concurrency);
  }

  private limit<T>(task: () => Promise<T>): Promise<T> {
    return this.limiter.run(task);
  }

  /**
   * Calls a JSON endpoint under /api/2.0 (or, with `api: "ajax"`, under /ajax-api/2.0, where
   * MLflow keeps the endpoints its UI uses; with `api: "rest3"`, under /api/3.0, MLflow 3's
   * GenAI endpoints) and returns the parsed reply.
   */
  async call<T>(
    method: string,
    path: string,
    options: {
      query?: Query;
      body?: unknown;
      api?: "rest" | "ajax" | "rest3";
      /** The reply may hold bare NaN/Infinity (Flask's JSON, not protobuf's): read them as strings. */
      nonFiniteTokens?: boolean;
    } = {},
  ): Promise<T> {
    const prefix =
      options.api === "ajax" ? "/ajax-api/2.0" : options.api === "rest3" ? "/api/3.0" : "/api/2.0";
    let response: Response;
    let text: string;
    for (let attempt = 0; ; attempt++) {
      response = await this.send(method, `${prefix}${path}`, {
        query: options.query,
        headers: options.body === undefined ? {} : { "content-type": "application/json" },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      try {
        text = await response.text();
        break;
      } catch (error) {
        // The answer was cut off: repeat what is safe to repeat, say so for a create (idempotence.ts).
        if (!createsSomething(method, `${prefix}${path}`) && attempt < this.options.maxRetries) {
          await this.backoff(attempt);
          continue;
        }
        throw this.interrupted(method, `${prefix}${path}`, error);
      }
    }
    if (!text) return {} as T;
    try {
      return JSON.parse(options.nonFiniteTokens ? quoteNonFiniteTokens(text) : text) as T;
    } catch (error) {
      throw new MlflowError("INTERNAL_ERROR", `mlflow: ${method} ${path} returned a body that is not JSON`, {
        endpoint: path,
        httpStatus: response.status,
        cause: error,
      });
    }
  }

  /**
   * Sends a request and returns the response once its status is 2xx; a non-2xx status becomes
   * an MlflowError. The caller owns the body of the returned response.
   */
  send(method: string, path: string, options: SendOptions = {}): Promise<Response> {
    return this.limit(() => this.sendWithRetries(method, path, options));
  }

  url(path: string, query?: Query): string {
    const url = new URL(this.options.trackingUri + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const item of value) url.searchParams.append(key, item);
      else url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  private async sendWithRetries(method: string, path: string, options: SendOptions): Promise<Response> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = { ...options.headers };
    if (this.options.authorization) headers.authorization = this.options.authorization;
    const retries = options.retry === false ? 0 : this.options.maxRetries;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      this.options.onRequest?.(method, path);
      this.stats.sent++;
      const sent = performance.now();
      const kind = requestKind(method, path);
      try {
        response = await fetch(url, {
          method,
          headers,
          body: options.body,
          signal: AbortSignal.timeout(options.timeoutMs ?? this.options.timeoutMs),
        });
      } catch (error) {
        this.limiter.report({ latencyMs: performance.now() - sent, overloaded: true, kind });
        this.stats.overloaded++;
        const repeatable = !createsSomething(method, path) || neverReachedServer(error);
        if (attempt < retries && repeatable) {
          await this.backoff(attempt);
          continue;
        }
        this.stats.gaveUp++;
        throw repeatable
          ? this.connectionFailed(method, path, attempt + 1, error)
          : this.interrupted(method, path, error);
      }
      if (response.ok) {
        this.limiter.report({ latencyMs: performance.now() - sent, overloaded: false, kind });
        return response;
      }
      const text = await response.text().catch(() => "");
      const overloaded = isOverload(response.status, text);
      this.limiter.report({ latencyMs: performance.now() - sent, overloaded, kind });
      if (overloaded) this.stats.overloaded++;
      if (isRetryable(response.status, text, path) && attempt < retries) {
        await this.backoff(attempt, response.headers.get("retry-after"));
        continue;
      }
      if (overloaded) this.stats.gaveUp++;
      throw errorFromReply(
        method,
        path,
        response.status,
        response.statusText,
        text,
        this.options.trackingUri,
      );
    }
  }

  /**
   * Streams a request body from `source` with node:http rather than fetch: Node's fetch reads a
   * streamed request body ahead of the socket (seen here: +200 MB of RSS for a 200 MB upload),
   * while a stream pipeline honours backpressure. `source` is called again for each retry.
   */
  upload(
    method: string,
    path: string,
    source: () => AsyncIterable<Uint8Array>,
    options: { headers?: Record<string, string>; retry?: boolean } = {},
  ): Promise<void> {
    return this.limit(async () => {
      const retries = options.retry === false ? 0 : this.options.maxRetries;
      for (let attempt = 0; ; attempt++) {
        let status: number;
        let text: string;
        this.options.onRequest?.(method, path);
        this.stats.sent++;
        const sent = performance.now();
        const kind = requestKind(method, path);
        try {
          ({ status, text } = await this.streamOnce(method, path, source, options.headers ?? {}));
        } catch (error) {
          this.limiter.report({ latencyMs: performance.now() - sent, overloaded: true, kind });
          this.stats.overloaded++;
          if (attempt < retries) {
            await this.backoff(attempt);
            continue;
          }
          this.stats.gaveUp++;
          throw this.connectionFailed(method, path, attempt + 1, error);
        }
        const overloaded = isOverload(status, text);
        this.limiter.report({ latencyMs: performance.now() - sent, overloaded, kind });
        if (status >= 200 && status < 300) return;
        if (overloaded) this.stats.overloaded++;
        if (isRetryable(status, text, path) && attempt < retries) {
          await this.backoff(attempt);
          continue;
        }
        if (overloaded) this.stats.gaveUp++;
        throw errorFromReply(method, path, status, "", text, this.options.trackingUri);
      }
    });
  }

  private async streamOnce(
    method: string,
    path: string,
    source: () => AsyncIterable<Uint8Array>,
    extraHeaders: Record<string, string>,
  ): Promise<{ status: number; text: string }> {
    const url = new URL(this.url(path));
    const headers: Record<string, string> = { ...extraHeaders, "transfer-encoding": "chunked" };
    if (this.options.authorization) headers.authorization = this.options.authorization;
    const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, { method, headers });
    const responded = new Promise<IncomingMessage>((resolve, reject) => {
      request.once("response", resolve);
      request.once("error", reject);
    });
    // If the body fails to go out (the server cut the connection: EPIPE), pipeline throws and
    // `responded` rejects too, with no one awaiting it: mark it handled, the retry loop decides.
    responded.catch(() => {});
    await pipeline(Readable.from(source()), request);
    const response = await responded;
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return { status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") };
  }

  /** A request that may have been applied before its connection broke; not repeated blind. */
  private interrupted(method: string, path: string, error: unknown): MlflowError {
    return new MlflowError(
      "CONNECTION_FAILED",
      `mlflow: the connection to the tracking server at ${this.options.trackingUri} broke during ${method} ${path} (${connectionReason(error)}); it may have been applied, so it was not sent again: run the statement again, it picks up what was done`,
      { endpoint: path, cause: error },
    );
  }

  private connectionFailed(method: string, path: string, attempts: number, error: unknown): MlflowError {
    return new MlflowError(
      "CONNECTION_FAILED",
      `mlflow: cannot reach the tracking server at ${this.options.trackingUri} (${method} ${path}) after ${attempts} attempt(s): ${connectionReason(error)}`,
      { endpoint: path, cause: error },
    );
  }

  private async backoff(attempt: number, retryAfter?: string | null): Promise<void> {
    const fromHeader = retryAfter ? Number(retryAfter) * 1000 : Number.NaN;
    const cap = Math.min(10_000, this.options.backoffMs * 2 ** attempt);
    const delay = Number.isFinite(fromHeader) ? Math.min(fromHeader, 30_000) : Math.random() * cap;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** The kind of a request for the limiter: its endpoint, one for all files of the artifacts proxy. */
function requestKind(method: string, path: string): string {
  const bare = path.split("?")[0]!;
  const artifacts = bare.indexOf("/mlflow-artifacts/");
  return `${method} ${artifacts >= 0 ? bare.slice(0, artifacts + "/mlflow-artifacts/".length) : bare}`;
}

function connectionReason(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause;
    if (cause instanceof Error && "code" in cause) return `${String(cause.code)} ${cause.message}`.trim();
    if (error.name === "TimeoutError") return "the request timed out";
    return error.message;
  }
  return String(error);
}

/** MLflow error codes → arcuate error codes. */
function codeFor(mlflowErrorCode: string | undefined, status: number): ErrorCode {
  switch (mlflowErrorCode) {
    case "RESOURCE_DOES_NOT_EXIST":
    case "NOT_FOUND":
      return "RESOURCE_DOES_NOT_EXIST";
    case "RESOURCE_ALREADY_EXISTS":
      return "RESOURCE_ALREADY_EXISTS";
    case "INVALID_PARAMETER_VALUE":
    case "BAD_REQUEST":
      return "INVALID_PARAMETER_VALUE";
    case "PERMISSION_DENIED":
      return "PERMISSION_DENIED";
    case "UNAUTHENTICATED":
      return "UNAUTHENTICATED";
  }
  if (status === 401) return "UNAUTHENTICATED";
  if (status === 403) return "PERMISSION_DENIED";
  if (status === 404) return "RESOURCE_DOES_NOT_EXIST";
  if (status === 409) return "RESOURCE_ALREADY_EXISTS";
  if (status === 429 || status === 503) return "TEMPORARILY_UNAVAILABLE";
  if (status >= 500) return "INTERNAL_ERROR";
  return "INVALID_PARAMETER_VALUE";
}

/**
 * MLflow answers some overloads with HTTP 400 (its SQLAlchemy pool timing out, SQLite busy):
 * those are transient, retried like a 503.
 */
const TRANSIENT_MESSAGE = /QueuePool limit .* reached|database is locked/;

/**
 * MLflow's SQL store races when two log-inputs create the same dataset at once (it looks the
 * dataset up, then inserts it): the loser fails on the unique index of datasets, and its whole
 * transaction is rolled back. Sent again, it finds the dataset and links it: safe to retry.
 */
const DATASET_RACE =
  /UNIQUE constraint failed: datasets\.|duplicate key value violates unique constraint|Duplicate entry .* for key/;

/** The server says it is too busy (not that the request is wrong): fewer requests in flight. */
function isOverload(status: number, text: string): boolean {
  return (
    status === 429 || status === 503 || status === 504 || (status === 400 && TRANSIENT_MESSAGE.test(text))
  );
}

function isRetryable(status: number, text: string, path: string): boolean {
  if (RETRYABLE_STATUS.has(status)) return true;
  if (status !== 400) return false;
  return TRANSIENT_MESSAGE.test(text) || (path.endsWith("/runs/log-inputs") && DATASET_RACE.test(text));
}

function errorFromReply(
  method: string,
  path: string,
  status: number,
  statusText: string,
  text: string,
  trackingUri: string,
): MlflowError {
  let mlflowErrorCode: string | undefined;
  let message = text.trim().slice(0, 500);
  let json = false;
  try {
    const parsed = JSON.parse(text) as { error_code?: string; message?: string };
    json = typeof parsed === "object" && parsed !== null;
    mlflowErrorCode = parsed.error_code;
    if (parsed.message) message = parsed.message;
  } catch {
    // not JSON: keep the text (HTML error pages are cut short above)
  }
  if (!json && (status === 404 || status === 405)) {
    // A route the server does not have (an older MLflow, or not MLflow at all): Flask's HTML
    // page says nothing a user can act on.
    return new MlflowError(
      "UNSUPPORTED_FEATURE",
      `mlflow: the tracking server at ${trackingUri} has no endpoint ${method} ${path} (HTTP ${status}); it may run an older MLflow than this needs`,
      { httpStatus: status, endpoint: path },
    );
  }
  if (!json && /^\s*</.test(message))
    message = `${statusText || "error"} (an HTML page, not MLflow's error JSON)`;
  const code = codeFor(mlflowErrorCode, status);
  const full = `mlflow: ${method} ${path} failed with HTTP ${status}${mlflowErrorCode ? ` ${mlflowErrorCode}` : ""}: ${message || statusText}`;
  const info = { mlflowErrorCode, httpStatus: status, endpoint: path };
  const ErrorClass =
    code === "RESOURCE_DOES_NOT_EXIST"
      ? MlflowNotFoundError
      : code === "UNAUTHENTICATED" || code === "PERMISSION_DENIED"
        ? MlflowAuthError
        : code === "RESOURCE_ALREADY_EXISTS"
          ? MlflowConflictError
          : MlflowError;
  return new ErrorClass(code, full, info);
}

/** The experiment, run, model, version or file does not exist. */
export class MlflowNotFoundError extends MlflowError {}
/** Missing or wrong credentials, or no permission. */
export class MlflowAuthError extends MlflowError {}
/** The name is taken. */
export class MlflowConflictError extends MlflowError {}

/**
 * Python's json writes NaN and ±Infinity as bare tokens, which JSON.parse refuses; this quotes
 * them ("NaN", the form MLflow's protobuf JSON uses), so metricValueToNumber reads them. Only a
 * token right after a colon and before `,` `}` or `]` is a value; MLflow's names cannot hold
 * those characters, so no string is changed.
 */
export function quoteNonFiniteTokens(text: string): string {
  return text.replace(/:(\s*)(NaN|-?Infinity)(?=\s*[,}\]])/g, ':$1"$2"');
}
