// The sharing server's small HTTP core on node:http: raw path splitting (no URL normalisation, so
// `..` and `%2e%2e` arrive as themselves and are refused), a route table, body reading with a
// size cap, JSON and NDJSON responses, and the ONE place where errors become `{errorCode, message}`
// with the right status. Handlers throw ArcuateError; anything else is an internal error whose
// details go to the log, never to the client.
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ArcuateError, type ErrorCode, isArcuateError, ProtocolError } from "../../errors.js";
import type { ErrorResponse } from "../protocol.js";

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** Decoded path segments after the endpoint prefix. */
  segments: string[];
  params: Record<string, string>;
  query: URLSearchParams;
}

export type Handler = (ctx: RequestContext) => Promise<void>;

export interface Route {
  method: string;
  /** Segments; `:name` captures one segment into `params.name`. */
  pattern: string[];
  handler: Handler;
}

export function route(method: string, pattern: string, handler: Handler): Route {
  return { method, pattern: pattern.split("/").filter((s) => s !== ""), handler };
}

/** Finds the route for a method and path; a path that matches with another method is a 405-ish 404. */
export function match(
  routes: Route[],
  method: string,
  segments: string[],
): { route: Route; params: Record<string, string> } | undefined {
  for (const candidate of routes) {
    if (candidate.method !== method || candidate.pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < segments.length; i++) {
      const part = candidate.pattern[i]!;
      const segment = segments[i]!;
      if (part.startsWith(":")) params[part.slice(1)] = segment;
      else if (part !== segment) {
        ok = false;
        break;
      }
    }
    if (ok) return { route: candidate, params };
  }
  return undefined;
}

export function badRequest(message: string, code: ErrorCode = "INVALID_PARAMETER_VALUE"): ProtocolError {
  return new ProtocolError(message, { code });
}

/**
 * Splits a raw request target into the segments after `prefix` and the query. Every segment is
 * percent-decoded once; a decoded segment that is `.`/`..`, or holds `/`, `\` or NUL, is refused:
 * no name of the protocol can contain those and no file is ever named by a path segment.
 */
export function splitTarget(
  rawUrl: string,
  prefixSegments: string[],
): { segments: string[]; query: URLSearchParams } | undefined {
  const q = rawUrl.indexOf("?");
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : rawUrl.slice(q + 1));
  if (!rawPath.startsWith("/"))
    throw badRequest(`sharing: request target must start with '/'`, "MALFORMED_REQUEST");
  const raw = rawPath.split("/").slice(1);
  if (raw.length > 0 && raw[raw.length - 1] === "") raw.pop(); // tolerate one trailing slash
  for (let i = 0; i < prefixSegments.length; i++) {
    if (raw[i] !== prefixSegments[i]) return undefined;
  }
  const segments = raw.slice(prefixSegments.length).map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw badRequest("sharing: the request path has a malformed percent-encoding", "MALFORMED_REQUEST");
    }
    if (decoded === "." || decoded === ".." || /[/\\\0]/.test(decoded) || decoded === "") {
      throw badRequest("sharing: the request path has an empty, '.', '..' or '/'-holding segment");
    }
    return decoded;
  });
  return { segments, query };
}

const MAX_BODY_BYTES = 1 << 20;

/** Reads a JSON object body; an empty body is `{}`. Anything that is not a JSON object is MALFORMED_REQUEST. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES)
      throw badRequest(`sharing: request body is larger than ${MAX_BODY_BYTES} bytes`, "MALFORMED_REQUEST");
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("sharing: request body is not valid JSON", "MALFORMED_REQUEST");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest("sharing: request body must be a JSON object", "MALFORMED_REQUEST");
  }
  return value as Record<string, unknown>;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Writes NDJSON lines as they come, waiting for the socket to drain so memory stays flat. */
export class NdjsonWriter {
  private buffer: string[] = [];
  private buffered = 0;

  constructor(private readonly res: ServerResponse) {}

  /** Writes one line: a value to serialise, or a string that already is its JSON. */
  async line(value: unknown): Promise<void> {
    if (this.push(value)) await this.flush();
  }

  /**
   * Buffers one line without waiting; true when a {@link flush} is due. A long answer's loop
   * awaits only then, not once per line (a promise per file line showed in its allocations).
   */
  push(value: unknown): boolean {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    this.buffer.push(text, "\n");
    this.buffered += text.length + 1;
    // Small lines are batched into ~64 KB writes: fewer syscalls, same streaming behaviour.
    return this.buffered >= 65_536;
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join("");
    this.buffer = [];
    this.buffered = 0;
    if (!this.res.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.res.off("drain", done);
          this.res.off("close", done);
          resolve();
        };
        this.res.on("drain", done);
        this.res.on("close", done);
      });
    }
  }

  async end(): Promise<void> {
    await this.flush();
    this.res.end();
  }
}

export type Logger = (message: string) => void;

/** The one place an error becomes a response. */
export function renderError(res: ServerResponse, error: unknown, log: Logger): void {
  let status: number;
  let body: ErrorResponse;
  const headers: Record<string, string> = {};
  if (isArcuateError(error)) {
    const override = error.details.httpStatus;
    status = typeof override === "number" ? override : error.status;
    body = { errorCode: error.code, message: error.message };
    if (status === 401) headers["WWW-Authenticate"] = 'Bearer realm="delta-sharing"';
    if (typeof error.details.contentRange === "string") headers["Content-Range"] = error.details.contentRange;
    if (typeof error.details.retryAfterSeconds === "number")
      headers["Retry-After"] = String(error.details.retryAfterSeconds);
    if (status >= 500) {
      // A server-side failure's message may name files and folders of the provider: log it only.
      log(`sharing: ${error.code}: ${error.message}${causeText(error)}`);
      body = { errorCode: error.code, message: `sharing: the server could not answer (${error.code})` };
    }
  } else {
    status = 500;
    body = { errorCode: "INTERNAL_ERROR", message: "sharing: internal error" };
    log(
      `sharing: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  }
  if (res.headersSent) {
    // Mid-stream: the status line is gone; cut the connection so the client sees a broken body.
    res.destroy();
    return;
  }
  sendJson(res, status, body, headers);
}

function causeText(error: ArcuateError): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? ` (cause: ${cause.message})` : "";
}
