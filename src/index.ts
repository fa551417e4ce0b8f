// arcuate's public API: named exports only, no `export *` of internals.
export {
  ArcuateError,
  AuthError,
  ConflictError,
  ERROR_STATUS,
  type ErrorCode,
  NotFoundError,
  ParseError,
  ProtocolError,
} from "./errors.js";
