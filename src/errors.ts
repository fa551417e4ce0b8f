// One error type for the whole project, with a code table (after MLflow's MlflowException and
// its code → HTTP status map). Every layer throws ArcuateError (or a subclass); the sharing
// server renders it as a protocol error, the CLI and the kernel render its message. Messages
// start with the subsystem ("mlflow: …", "delta: …", "sharing: …") and carry the bad value.

/** Error codes and the HTTP status each maps to, used by the sharing server and client alike. */
export const ERROR_STATUS = {
  // Delta Sharing protocol codes (PROTOCOL.md, "API Response Format"), verbatim.
  MALFORMED_REQUEST: 400,
  INVALID_PARAMETER_VALUE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_DOES_NOT_EXIST: 404,
  RESOURCE_ALREADY_EXISTS: 409,
  ABORTED: 409,
  INTERNAL_ERROR: 500,
  // arcuate's own
  SYNTAX_ERROR: 400,
  UNSUPPORTED_FEATURE: 400,
  UNSUPPORTED_FORMAT: 400,
  CONFLICT: 409,
  TEMPORARILY_UNAVAILABLE: 503,
  /** Past a recipient's request rate limit (the server sends Retry-After). */
  REQUEST_LIMIT_EXCEEDED: 429,
  CONNECTION_FAILED: 503,
  CORRUPT_TABLE: 500,
  /** A setting a statement needs is missing (no MLflow server, no profile): not a syntax error. */
  MISSING_SETTING: 400,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ArcuateErrorOptions {
  /** The underlying error, kept for debugging; never shown to a remote client. */
  cause?: unknown;
  /** Extra structured detail (endpoint, HTTP status, MLflow error code, …). */
  details?: Record<string, unknown>;
}

export class ArcuateError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ArcuateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ArcuateError";
    this.code = code;
    this.details = options.details ?? {};
  }

  /** The HTTP status for this error's code. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Something named does not exist (experiment, run, share, table, file, …). */
export class NotFoundError extends ArcuateError {
  constructor(message: string, options?: ArcuateErrorOptions) {
    super("RESOURCE_DOES_NOT_EXIST", message, options);
    this.name = "NotFoundError";
  }
}

/** A peer spoke a protocol wrongly, or a request broke the protocol's rules. */
export class ProtocolError extends ArcuateError {
  constructor(message: string, options?: ArcuateErrorOptions & { code?: ErrorCode }) {
    super(options?.code ?? "MALFORMED_REQUEST", message, options);
    this.name = "ProtocolError";
  }
}

/** A write lost a race or a name is taken. */
export class ConflictError extends ArcuateError {
  constructor(message: string, options?: ArcuateErrorOptions & { code?: ErrorCode }) {
    super(options?.code ?? "CONFLICT", message, options);
    this.name = "ConflictError";
  }
}

/** Missing, wrong or expired credentials, or no grant. */
export class AuthError extends ArcuateError {
  constructor(message: string, options?: ArcuateErrorOptions & { code?: ErrorCode }) {
    super(options?.code ?? "UNAUTHENTICATED", message, options);
    this.name = "AuthError";
  }
}

/** A statement of the %arcuate language that does not parse; carries its position. */
export class ParseError extends ArcuateError {
  readonly line: number;
  readonly column: number;
  constructor(message: string, position: { line: number; column: number }, options?: ArcuateErrorOptions) {
    super("SYNTAX_ERROR", message, options);
    this.name = "ParseError";
    this.line = position.line;
    this.column = position.column;
  }
}

/** A setting a statement needs is not given: names the statement kind and how to give it. */
export class ConfigurationError extends ArcuateError {
  constructor(message: string, options?: ArcuateErrorOptions) {
    super("MISSING_SETTING", message, options);
    this.name = "ConfigurationError";
  }
}

export function isArcuateError(value: unknown): value is ArcuateError {
  return value instanceof ArcuateError;
}

/** The message of any thrown value, for rendering. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
