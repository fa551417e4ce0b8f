// Profile files and table coordinates of the Delta Sharing client.
// A profile is the recipient's credential: the server endpoint and a bearer token
// (PROTOCOL.md #profile-file-format). Version 1 holds a bearer token; version 2 adds a `type`:
// `bearer_token`, or `oauth_client_credentials` (a token endpoint, client id and secret, from which
// oauth.ts gets short-lived access tokens). The Python connector's other types (private key JWT,
// basic) are refused by name.

import { readFile } from "node:fs/promises";
import { ArcuateError, AuthError } from "../../errors.js";
import { nameProblem, type OAuthProfile, type Profile } from "../protocol.js";
import { nameOAuthProfile } from "./oauth.js";

/** The newest `shareCredentialsVersion` this client reads (as the Python connector 1.x). */
export const CURRENT_PROFILE_VERSION = 2;

/** Any profile this client reads: a bearer token, or OAuth 2.0 client credentials. */
export type SharingProfile = Profile | OAuthProfile;

const UNSUPPORTED_TYPES = new Set(["oauth_jwt_bearer_private_key_jwt", "basic"]);

/** True for a version 2 `oauth_client_credentials` profile. */
export function isOAuthProfile(profile: SharingProfile): profile is OAuthProfile {
  return profile.type === "oauth_client_credentials";
}

/**
 * Reads a profile from a file path, from JSON text (anything starting with `{`), or from an object
 * already parsed. The endpoint loses its trailing `/`. An expired token is not an error here (a
 * profile can still be inspected); {@link assertProfileUsable} checks it before each request.
 */
export async function loadProfile(pathOrJson: string | Record<string, unknown>): Promise<SharingProfile> {
  if (typeof pathOrJson !== "string") return parseProfile(pathOrJson, "profile object");
  const text = pathOrJson.trimStart();
  if (text.startsWith("{")) return parseProfileText(text, "profile JSON");
  let content: string;
  try {
    content = await readFile(pathOrJson, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new ArcuateError(
        "RESOURCE_DOES_NOT_EXIST",
        `sharing: profile file '${pathOrJson}' does not exist`,
        {
          cause: error,
        },
      );
    }
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `sharing: cannot read profile file '${pathOrJson}'`, {
      cause: error,
    });
  }
  return parseProfileText(content, `profile file '${pathOrJson}'`);
}

/** Parses profile JSON text; `source` names it in error messages. */
export function parseProfileText(text: string, source = "profile"): SharingProfile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `sharing: ${source} is not valid JSON`, {
      cause: error,
    });
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `sharing: ${source} is not a JSON object`);
  }
  return parseProfile(json as Record<string, unknown>, source);
}

/** Validates a parsed profile object and returns it normalised. */
export function parseProfile(json: Record<string, unknown>, source = "profile"): SharingProfile {
  const invalid = (message: string) =>
    new ArcuateError("INVALID_PARAMETER_VALUE", `sharing: ${source} ${message}`);
  const version = json["shareCredentialsVersion"];
  if (version === undefined || version === null) throw invalid("has no 'shareCredentialsVersion'");
  if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
    throw invalid(`has an invalid 'shareCredentialsVersion' ${JSON.stringify(version)}`);
  }
  if (version > CURRENT_PROFILE_VERSION) {
    throw invalid(
      `has 'shareCredentialsVersion' ${version}, which is too new: this client reads versions ` +
        `${CURRENT_PROFILE_VERSION} and below; upgrade arcuate`,
    );
  }
  const stringField = (name: string, required: boolean): string | undefined => {
    const value = json[name];
    if (value === undefined || value === null) {
      if (required) throw invalid(`has no '${name}'`);
      return undefined;
    }
    if (typeof value !== "string" || (required && value.length === 0)) {
      throw invalid(`has an invalid '${name}' ${JSON.stringify(value)}`);
    }
    return value;
  };
  let type: string | undefined;
  if (version === 2) {
    type = stringField("type", true)!;
    if (UNSUPPORTED_TYPES.has(type)) {
      throw new ArcuateError(
        "UNSUPPORTED_FEATURE",
        `sharing: ${source} has type '${type}', which arcuate does not support yet (only 'bearer_token' and 'oauth_client_credentials')`,
      );
    }
    if (type !== "bearer_token" && type !== "oauth_client_credentials")
      throw invalid(`has an unknown type '${type}' (expected 'bearer_token' or 'oauth_client_credentials')`);
  }
  const httpUrl = (name: string): string => {
    const value = stringField(name, true)!;
    try {
      const url = new URL(value);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(url.protocol);
    } catch {
      throw invalid(`has an invalid '${name}' '${value}' (expected an http or https URL)`);
    }
    return value;
  };
  let endpoint = httpUrl("endpoint");
  while (endpoint.endsWith("/")) endpoint = endpoint.slice(0, -1);
  if (type === "oauth_client_credentials") {
    const oauth: OAuthProfile = {
      shareCredentialsVersion: 2,
      type,
      endpoint,
      tokenEndpoint: httpUrl("tokenEndpoint"),
      clientId: stringField("clientId", true)!,
      clientSecret: stringField("clientSecret", true)!,
    };
    const scope = stringField("scope", false);
    if (scope !== undefined && scope.length > 0) oauth.scope = scope;
    nameOAuthProfile(oauth, source);
    return oauth;
  }
  const bearerToken = stringField("bearerToken", true)!;
  const expirationTime = stringField("expirationTime", false);
  if (expirationTime !== undefined && Number.isNaN(Date.parse(expirationTime))) {
    throw invalid(`has an invalid 'expirationTime' '${expirationTime}' (expected ISO 8601)`);
  }
  const profile: Profile = { shareCredentialsVersion: version, endpoint, bearerToken };
  if (expirationTime !== undefined) profile.expirationTime = expirationTime;
  if (type !== undefined) profile.type = type;
  return profile;
}

/**
 * True when the profile's token has an expiration time at or before `now`. An OAuth profile's
 * access tokens expire all the time and are renewed (oauth.ts): the profile itself never does.
 */
export function isProfileExpired(profile: SharingProfile, now: number = Date.now()): boolean {
  if (isOAuthProfile(profile) || profile.expirationTime === undefined) return false;
  return Date.parse(profile.expirationTime) <= now;
}

/** Throws an AuthError naming the expiry when the profile's token has expired. */
export function assertProfileUsable(profile: SharingProfile, now: number = Date.now()): void {
  if (!isOAuthProfile(profile) && isProfileExpired(profile, now)) {
    throw new AuthError(
      `sharing: the bearer token for ${profile.endpoint} expired at ${profile.expirationTime}; ` +
        "ask the provider for a new profile",
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Coordinates: `<profile>#<share>.<schema>.<table>`, split at the LAST `#` (a profile path may
// hold a `#`; share, schema and table names may not, after the protocol's name rules a share name
// may hold a `.` but schema and table names may not, so the table part splits from the right).

/** A table named by profile and share/schema/table. */
export interface TableCoordinate {
  profile: string;
  share: string;
  schema: string;
  table: string;
}

/** A location for listings: a profile, optionally narrowed to a share or a schema. */
export interface SharingLocation {
  profile: string;
  share?: string;
  schema?: string;
  table?: string;
}

/** Parses `<profile>#<share>.<schema>.<table>`. */
export function parseCoordinate(text: string): TableCoordinate {
  const location = parseLocation(text);
  if (location.table === undefined) {
    throw coordinateError(text, "expected '<profile>#<share>.<schema>.<table>'");
  }
  return location as TableCoordinate;
}

/** Parses `<profile>[#<share>[.<schema>[.<table>]]]`, the form `arcuate sharing ls` takes. */
export function parseLocation(text: string): SharingLocation {
  const hash = text.lastIndexOf("#");
  if (hash < 0) {
    if (text.length === 0) throw coordinateError(text, "the profile is empty");
    return { profile: text };
  }
  const profile = text.slice(0, hash);
  const rest = text.slice(hash + 1);
  if (profile.length === 0) throw coordinateError(text, "the profile before '#' is empty");
  if (rest.length === 0) throw coordinateError(text, "nothing follows '#'");
  // Schema and table names hold no '.', so split from the right: at most the last two dots
  // separate schema and table; a share name may keep its own dots only when a table is given.
  const parts = rest.split(".");
  let location: SharingLocation;
  if (parts.length === 1) location = { profile, share: parts[0]! };
  else if (parts.length === 2) location = { profile, share: parts[0]!, schema: parts[1]! };
  else {
    const table = parts.pop()!;
    const schema = parts.pop()!;
    location = { profile, share: parts.join("."), schema, table };
  }
  for (const kind of ["share", "schema", "table"] as const) {
    const name = location[kind];
    if (name === undefined) continue;
    const problem = nameProblem(kind, name);
    if (problem) throw coordinateError(text, problem);
  }
  return location;
}

function coordinateError(text: string, why: string): ArcuateError {
  return new ArcuateError("INVALID_PARAMETER_VALUE", `sharing: invalid table coordinate '${text}': ${why}`);
}
