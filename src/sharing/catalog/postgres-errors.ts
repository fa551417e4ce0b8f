// What went wrong talking to the PostgreSQL catalog, said so that the reader knows what to do:
// a database that does not answer, refused credentials, a missing database. The URL is shown
// without its password.
import { ArcuateError, isArcuateError } from "../../errors.js";

/** The location without its password, e.g. `postgres://arcuate@db.example.com:5432/catalog`. */
export function describeLocation(location: string): string {
  try {
    const url = new URL(location);
    url.password = "";
    url.search = "";
    return url.toString();
  } catch {
    return "the PostgreSQL catalog (its URL does not parse)";
  }
}

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EPIPE",
]);

export function translatePgError(error: unknown, location: string): Error {
  if (isArcuateError(error)) return error;
  const where = describeLocation(location);
  const e = error as { code?: string; message?: string };
  const code = e.code ?? "";
  const message = e.message ?? String(error);
  let url: URL | undefined;
  try {
    url = new URL(location);
  } catch {
    return new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `catalog: ${where}: correct --catalog (postgres://user:password@host:port/database)`,
      { cause: error },
    );
  }
  if (code === "28P01" || code === "28000") {
    return new ArcuateError(
      "UNAUTHENTICATED",
      `catalog: PostgreSQL at ${where} refused user '${decodeURIComponent(url.username) || "(none)"}' (${message}): correct the user and password in --catalog (postgres://user:password@host:port/database)`,
      { cause: error },
    );
  }
  if (code === "3D000") {
    return new ArcuateError(
      "RESOURCE_DOES_NOT_EXIST",
      `catalog: ${message} at ${where}: create it (createdb ${url.pathname.slice(1)}) or correct the database name in --catalog`,
      { cause: error },
    );
  }
  if (
    UNREACHABLE.has(code) ||
    /timeout|terminat|Connection ended|not queryable/i.test(message) ||
    code.startsWith("57P") ||
    code.startsWith("08")
  ) {
    return new ArcuateError(
      "TEMPORARILY_UNAVAILABLE",
      `catalog: cannot reach the PostgreSQL catalog at ${where} (${code || message}): start the database, or correct the host and port in --catalog`,
      { cause: error },
    );
  }
  return new ArcuateError("INTERNAL_ERROR", `catalog: PostgreSQL at ${where} failed: ${message}`, {
    cause: error,
  });
}
