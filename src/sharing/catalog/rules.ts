// What the catalog accepts: names by the protocol's rules, recipient names that are safe file
// names, endpoints, token expiries, and table locations on the local file system (or in an S3 bucket).
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatS3Location, isS3Location, parseS3Location } from "../../delta/s3-location.js";
import { ArcuateError, ProtocolError } from "../../errors.js";
import { type NameKind, nameProblem } from "../protocol.js";

export function checkName(kind: NameKind, name: string): void {
  const problem = nameProblem(kind, name);
  if (problem) throw new ProtocolError(`catalog: ${problem}`, { code: "INVALID_PARAMETER_VALUE" });
  // `.` and `..` are legal share names by the letter of the protocol but read as path steps in URLs.
  if (name === "." || name === "..") {
    throw new ProtocolError(`catalog: ${kind} name '${name}' is not allowed`, {
      code: "INVALID_PARAMETER_VALUE",
    });
  }
}

/** Recipient names become file names (profiles/<name>.share), so they are kept plain. */
export function checkRecipientName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
    throw new ProtocolError(
      `catalog: recipient name '${name}' must start with a letter or digit and hold only letters, digits, '.', '_' and '-' (at most 128)`,
      { code: "INVALID_PARAMETER_VALUE" },
    );
  }
}

export function checkEndpoint(endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ProtocolError(`catalog: endpoint '${endpoint}' is not a URL`, {
      code: "INVALID_PARAMETER_VALUE",
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ProtocolError(`catalog: endpoint '${endpoint}' must be http or https`, {
      code: "INVALID_PARAMETER_VALUE",
    });
  }
}

/** The ISO expiry of a new token, from a date or seconds from now; undefined: never. */
export function expiry(options: {
  expiresAt?: Date | string;
  expiresInSeconds?: number;
  endpoint?: string;
}): string | undefined {
  if (options.endpoint !== undefined) checkEndpoint(options.endpoint);
  if (options.expiresAt !== undefined) {
    const date = new Date(options.expiresAt);
    if (Number.isNaN(date.getTime())) {
      throw new ProtocolError(`catalog: expiry '${String(options.expiresAt)}' is not a date`, {
        code: "INVALID_PARAMETER_VALUE",
      });
    }
    return date.toISOString();
  }
  if (options.expiresInSeconds !== undefined) {
    if (!Number.isFinite(options.expiresInSeconds)) {
      throw new ProtocolError(`catalog: expiry of ${options.expiresInSeconds} seconds is not a number`, {
        code: "INVALID_PARAMETER_VALUE",
      });
    }
    return new Date(Date.now() + options.expiresInSeconds * 1000).toISOString();
  }
  return undefined;
}

/** The local folder of a table location: a path (relative to the working directory) or a `file:` URL; or an `s3://` location. */
export function tableLocationPath(location: string): string {
  if (isS3Location(location)) return formatS3Location(parseS3Location(location)); // object storage
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    if (!location.toLowerCase().startsWith("file:")) {
      throw new ArcuateError(
        "UNSUPPORTED_FEATURE",
        `catalog: table location '${location}' is not on the local file system`,
      );
    }
    return fileURLToPath(location);
  }
  return isAbsolute(location) ? resolve(location) : resolve(process.cwd(), location);
}
