// Object-store table locations: `s3://bucket/prefix` and `s3a://bucket/prefix` (the form the
// reference server's YAML and Spark write). Parsed once here; everything else works on the result.
import { ArcuateError } from "../errors.js";

export interface S3Location {
  bucket: string;
  /** The key prefix of the table's root, "" or ending in "/". */
  root: string;
  /** The location as given, for error messages. */
  location: string;
}

const SCHEME = /^s3a?:\/\//i;

/** True for locations an S3 storage serves (`s3://`, `s3a://`). */
export function isS3Location(location: string): boolean {
  return SCHEME.test(location);
}

export function parseS3Location(location: string): S3Location {
  if (!isS3Location(location))
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `delta: not an s3:// location: ${location}`);
  const rest = location.replace(SCHEME, "");
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  // Bucket names: 3-63 of lower-case letters, digits, dots and hyphens (S3's rules, loosely).
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `delta: '${bucket}' is not a valid bucket name in ${location}`,
    );
  const path = slash < 0 ? "" : rest.slice(slash + 1);
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.some((p) => p === "." || p === ".."))
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `delta: '.' and '..' are not allowed in ${location}`);
  return { bucket, root: parts.length === 0 ? "" : `${parts.join("/")}/`, location };
}

/** `s3://bucket/prefix` (no trailing slash), the canonical spelling. */
export function formatS3Location(loc: { bucket: string; root: string }): string {
  return `s3://${loc.bucket}/${loc.root.replace(/\/$/, "")}`.replace(/\/$/, "");
}
