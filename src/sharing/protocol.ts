// Wire types of the Delta Sharing REST protocol, shared by arcuate's server and client.
// Names are verbatim from PROTOCOL.md of delta-io/delta-sharing; each type links its section.
// https://github.com/delta-io/delta-sharing/blob/main/PROTOCOL.md

import type { AddAction, CdcAction, MetadataAction, ProtocolAction, RemoveAction } from "../delta/actions.js";

// ---------------------------------------------------------------------------------------------
// Listings: #list-shares, #get-share, #list-schemas-in-a-share, #list-tables-in-a-schema,
// #list-all-tables-in-a-share

export interface Share {
  name: string;
  id?: string;
  /** The name to show people; at most 255 characters. */
  displayName?: string;
  comment?: string;
  /** At most 50 pairs; keys up to 255 characters, values up to 1000. */
  properties?: Record<string, string>;
}

export interface Schema {
  name: string;
  share: string;
}

export interface Table {
  name: string;
  schema: string;
  share: string;
  shareId?: string;
  id?: string;
}

/** A page of a listing: `items` plus `nextPageToken` when more remain. */
export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

export interface ListParams {
  /** Non-negative; the server clamps it to its own cap. */
  maxResults?: number;
  pageToken?: string;
}

/** GET /shares/{share} */
export interface GetShareResponse {
  share: Share;
}

// ---------------------------------------------------------------------------------------------
// Query and changes requests: #read-data-from-a-table, #read-change-data-feed-from-a-table

/** POST /shares/{share}/schemas/{schema}/tables/{table}/query body. All optional. */
export interface QueryRequest {
  predicateHints?: string[];
  /** A JSON-encoded predicate tree (#json-predicates-for-filtering), as a string. */
  jsonPredicateHints?: string;
  limitHint?: number;
  version?: number;
  /** Timestamp Format: ISO 8601, e.g. `2022-01-01T00:00:00Z`. */
  timestamp?: string;
  startingVersion?: number;
  endingVersion?: number;
  /** With startingVersion and the delta format: inline each later `protocol` action, with its version. */
  includeHistoricalProtocol?: boolean;
  /** With `asyncquery=true`: a retried submission with the same key maps to the same queryId. */
  idempotencyKey?: string;
}

/** POST …/queries/{queryId} body (#get-query-info). */
export interface QueryInfoRequest {
  maxFiles?: number;
  pageToken?: string;
}

/** The first line of an asynchronous query's answer while it is not done (#get-query-info). */
export interface QueryStatus {
  queryId: string;
  status: "pending" | "failed";
  errorMessage?: string;
}

/** GET …/changes query parameters: a start (version or timestamp) is required. */
export interface ChangesRequest {
  startingVersion?: number;
  startingTimestamp?: string;
  endingVersion?: number;
  endingTimestamp?: string;
  includeHistoricalMetadata?: boolean;
  /** Delta format only: inline each later `protocol` action, with its version. */
  includeHistoricalProtocol?: boolean;
}

/** #json-predicates-for-filtering */
export interface JsonPredicate {
  op: string;
  children?: JsonPredicate[];
  name?: string;
  value?: string;
  valueType?: string;
}

// ---------------------------------------------------------------------------------------------
// Capabilities header: #delta-sharing-capabilities-header

export const CAPABILITIES_HEADER = "delta-sharing-capabilities";
export const TABLE_VERSION_HEADER = "delta-table-version";

export type ResponseFormat = "parquet" | "delta";

export interface Capabilities {
  responseFormat: ResponseFormat[];
  readerFeatures: string[];
  includeEndStreamAction: boolean;
  /** `asyncquery=true` (#asyncquery): the client can poll for a query's answer. */
  asyncQuery?: boolean;
}

/** Parses `responseformat=delta,parquet;readerfeatures=deletionvectors;includeendstreamaction=true`. */
export function parseCapabilities(header: string | null | undefined): Capabilities {
  const capabilities: Capabilities = {
    responseFormat: [],
    readerFeatures: [],
    includeEndStreamAction: false,
  };
  if (!header) return capabilities;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const values = part
      .slice(eq + 1)
      .split(",")
      .map((value) => value.trim().toLowerCase())
      .filter((value) => value.length > 0);
    if (key === "responseformat") {
      capabilities.responseFormat = values.filter(
        (v): v is ResponseFormat => v === "parquet" || v === "delta",
      );
    } else if (key === "readerfeatures") {
      capabilities.readerFeatures = values;
    } else if (key === "includeendstreamaction") {
      capabilities.includeEndStreamAction = values[0] === "true";
    } else if (key === "asyncquery") {
      capabilities.asyncQuery = values[0] === "true";
    }
  }
  return capabilities;
}

export function formatCapabilities(capabilities: Partial<Capabilities>): string {
  const parts: string[] = [];
  if (capabilities.responseFormat?.length)
    parts.push(`responseformat=${capabilities.responseFormat.join(",")}`);
  if (capabilities.readerFeatures?.length)
    parts.push(`readerfeatures=${capabilities.readerFeatures.join(",")}`);
  if (capabilities.includeEndStreamAction !== undefined) {
    parts.push(`includeendstreamaction=${capabilities.includeEndStreamAction}`);
  }
  if (capabilities.asyncQuery !== undefined) parts.push(`asyncquery=${capabilities.asyncQuery}`);
  return parts.join(";");
}

// ---------------------------------------------------------------------------------------------
// Response lines in the `parquet` format: #api-response-actions-in-parquet-format

/** #protocol */
export interface ParquetProtocol {
  minReaderVersion: number;
}

/** #metadata */
export interface ParquetMetadata {
  id: string;
  name?: string;
  description?: string;
  format: { provider: string };
  schemaString: string;
  partitionColumns: string[];
  configuration?: Record<string, string>;
  version?: number;
  size?: number;
  numFiles?: number;
}

/** #file */
export interface ParquetFile {
  url: string;
  id: string;
  partitionValues: Record<string, string | null>;
  size: number;
  stats?: string;
  version?: number;
  timestamp?: number;
  expirationTimestamp?: number;
}

/** #add-file, #cdf-file, #remove-file (changes and startingVersion queries) */
export interface ParquetChangeFile {
  url: string;
  id: string;
  partitionValues: Record<string, string | null>;
  size: number;
  timestamp: number;
  version: number;
  stats?: string;
  expirationTimestamp?: number;
}

/** #endstreamaction */
export interface EndStreamAction {
  refreshToken?: string;
  nextPageToken?: string;
  minUrlExpirationTimestamp?: number;
  errorMessage?: string;
}

/** One NDJSON line of a `parquet`-format response: exactly one key is set. */
export interface ParquetLine {
  protocol?: ParquetProtocol;
  metaData?: ParquetMetadata;
  file?: ParquetFile;
  add?: ParquetChangeFile;
  cdf?: ParquetChangeFile;
  remove?: ParquetChangeFile;
  endStreamAction?: EndStreamAction;
  queryStatus?: QueryStatus;
}

// ---------------------------------------------------------------------------------------------
// Response lines in the `delta` format: #api-response-actions-in-delta-format

export interface DeltaFormatProtocol {
  deltaProtocol: ProtocolAction;
  version?: number;
}

export interface DeltaFormatMetadata {
  deltaMetadata: MetadataAction;
  version?: number;
  size?: number;
  numFiles?: number;
}

/** The path of the wrapped action is replaced by a pre-signed URL. */
export interface DeltaFormatFile {
  id: string;
  deletionVectorFileId?: string;
  version?: number;
  timestamp?: number;
  expirationTimestamp?: number;
  deltaSingleAction: { add?: AddAction; remove?: RemoveAction; cdc?: CdcAction };
}

export interface DeltaLine {
  protocol?: DeltaFormatProtocol;
  metaData?: DeltaFormatMetadata;
  file?: DeltaFormatFile;
  endStreamAction?: EndStreamAction;
  queryStatus?: QueryStatus;
}

// ---------------------------------------------------------------------------------------------
// Errors: every non-2xx response body is `{errorCode, message}`.

export interface ErrorResponse {
  errorCode: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Profile files: #profile-file-format (version 1), and version 2 bearer-token profiles.

export interface Profile {
  shareCredentialsVersion: number;
  endpoint: string;
  bearerToken: string;
  /** ISO 8601; absent means the token never expires. */
  expirationTime?: string;
  /** Version 2 profiles carry `type: "bearer_token"`. */
  type?: string;
}

/** A version 2 profile of OAuth 2.0 client credentials, as the Python and Spark connectors read it. */
export interface OAuthProfile {
  shareCredentialsVersion: 2;
  type: "oauth_client_credentials";
  endpoint: string;
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  /** Never present: lets code read `profile.bearerToken` of either kind of profile. */
  bearerToken?: undefined;
}

// ---------------------------------------------------------------------------------------------
// Names: #names — at most 255 characters, no space, `/` or control characters; schema and table
// names also no `.`; names compare case-insensitively.

function hasForbiddenCharacter(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || code === 0x2f) return true; // controls, space, DEL, '/'
  }
  return false;
}

export type NameKind = "share" | "schema" | "table";

/** Returns why a name breaks the protocol's rules, or undefined when it is fine. */
export function nameProblem(kind: NameKind, name: string): string | undefined {
  if (name.length === 0) return `${kind} name is empty`;
  if (name.length > 255) return `${kind} name is longer than 255 characters`;
  if (hasForbiddenCharacter(name)) return `${kind} name '${name}' has a space, '/' or a control character`;
  if (kind !== "share" && name.includes(".")) return `${kind} name '${name}' has a '.'`;
  return undefined;
}

/** The canonical form used to compare names (the protocol makes them case-insensitive). */
export function nameKey(name: string): string {
  return name.toLowerCase();
}
