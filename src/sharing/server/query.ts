// Table reads of the protocol on top of src/delta: version, metadata and query (snapshot, time
// travel, paging, streaming from startingVersion); changes.ts has the change data feed. Each
// `prepare…` does every check and every read that can fail before a byte is sent, and returns the
// response headers plus a lazy generator of NDJSON lines, so errors still get a proper status and
// the file list is turned into lines one at a time as the socket takes them.
import { createHash } from "node:crypto";
import type { AddAction } from "../../delta/actions.js";
import type { Commit, Snapshot } from "../../delta/index.js";
import { ArcuateError, isArcuateError } from "../../errors.js";
import type { TableEntry } from "../catalog/state.js";
import {
  CAPABILITIES_HEADER,
  type Capabilities,
  type EndStreamAction,
  formatCapabilities,
  nameKey,
  type ResponseFormat,
  TABLE_VERSION_HEADER,
} from "../protocol.js";
import { badRequest } from "./http.js";
import {
  endStream,
  FileLines,
  type HandedOut,
  MAX_CACHED_FILES,
  metadataLine,
  protocolLine,
} from "./lines.js";
import { type Negotiated, negotiate } from "./negotiate.js";
import type { PageTokens } from "./pagination.js";
import { type FileFilter, partitionFilter } from "./predicates.js";
import type { UrlSigner } from "./signing.js";
import type { TableCache } from "./tables.js";

/** What a table request needs: where the table is, who asks, and how to sign its files. */
export interface ServedTable {
  share: string;
  schema: string;
  entry: TableEntry;
  principalId: string;
  tables: TableCache;
  signer: UrlSigner;
  /** Signs and checks page and refresh tokens. */
  tokens: PageTokens;
  /** `{origin}{prefix}` for file URLs. */
  base: string;
  now: number;
}

export interface Prepared {
  headers: Record<string, string>;
  lines: () => Generator<unknown>;
  /** The files and bytes the lines have handed out so far (answers that list files). */
  handedOut?: HandedOut;
}

const NDJSON = "application/x-ndjson; charset=utf-8";

// ---------------------------------------------------------------------------------------------
// Version

export async function tableVersion(t: ServedTable, startingTimestamp: string | null): Promise<number> {
  if (startingTimestamp === null) return (await t.tables.latest(t.entry.location)).version;
  requireHistory(t, "startingTimestamp");
  const table = await t.tables.table(t.entry.location);
  return asParameterError(() =>
    table.versionAtTimestamp(parseTimestamp(startingTimestamp, "startingTimestamp"), "atOrAfter"),
  );
}

// ---------------------------------------------------------------------------------------------
// Metadata

export async function prepareMetadata(
  t: ServedTable,
  caps: Capabilities,
  query: URLSearchParams,
): Promise<Prepared> {
  const version = optionalVersion(query.get("version"), "version");
  const timestamp = query.get("timestamp");
  if (version !== undefined && timestamp !== null)
    throw badRequest("sharing: version and timestamp cannot both be set");
  const snapshot = await snapshotFor(t, version, timestamp ?? undefined);
  const { format, protocol } = negotiateSnapshot(t, caps, snapshot);
  const historical = version !== undefined || timestamp !== null;
  return {
    headers: responseHeaders(snapshot.version, format, false),
    lines: function* () {
      yield protocolLine(format, protocol);
      yield metadataLine(format, snapshot.metadata, historical ? snapshot.version : undefined, snapshot);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Query

export interface QueryBody {
  predicateHints?: string[];
  jsonPredicateHints?: string;
  limitHint?: number;
  version?: number;
  timestamp?: string;
  startingVersion?: number;
  endingVersion?: number;
  /** Paging of a snapshot query's files (the reference server's extension). */
  maxFiles?: number;
  pageToken?: string;
  /** Asks for a token that later returns fresh URLs of the same snapshot. */
  includeRefreshToken?: boolean;
  refreshToken?: string;
  /** With startingVersion, delta format: each later protocol action is sent, with its version. */
  includeHistoricalProtocol?: boolean;
  /** Asynchronous submissions only (async-queries.ts); Spark's client spells it `idempotency_key`. */
  idempotencyKey?: string;
}

/** Checks the types of a query body; a wrong type is MALFORMED_REQUEST, as a JSON mapping error is in the reference server. */
export function parseQueryBody(body: Record<string, unknown>): QueryBody {
  const out: QueryBody = {};
  const malformed = (field: string, what: string) =>
    badRequest(`sharing: '${field}' must be ${what}`, "MALFORMED_REQUEST");
  const int = (field: string): number | undefined => {
    const v = body[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isSafeInteger(v)) throw malformed(field, "an integer");
    if (v < 0) throw badRequest(`sharing: '${field}' must not be negative`);
    return v;
  };
  const str = (field: string): string | undefined => {
    const v = body[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw malformed(field, "a string");
    return v;
  };
  if (body.predicateHints !== undefined && body.predicateHints !== null) {
    if (!Array.isArray(body.predicateHints) || !body.predicateHints.every((p) => typeof p === "string")) {
      throw malformed("predicateHints", "a list of strings");
    }
    out.predicateHints = body.predicateHints as string[];
  }
  const json = str("jsonPredicateHints");
  if (json !== undefined) out.jsonPredicateHints = json;
  const limit = int("limitHint");
  if (limit !== undefined) out.limitHint = limit;
  const version = int("version");
  if (version !== undefined) out.version = version;
  const timestamp = str("timestamp");
  if (timestamp !== undefined) out.timestamp = timestamp;
  const starting = int("startingVersion");
  if (starting !== undefined) out.startingVersion = starting;
  const ending = int("endingVersion");
  if (ending !== undefined) out.endingVersion = ending;
  const maxFiles = int("maxFiles");
  if (maxFiles !== undefined) {
    if (maxFiles < 1) throw badRequest("sharing: 'maxFiles' must be positive");
    out.maxFiles = maxFiles;
  }
  const pageToken = str("pageToken");
  if (pageToken !== undefined && pageToken !== "") out.pageToken = pageToken;
  const refreshToken = str("refreshToken");
  if (refreshToken !== undefined && refreshToken !== "") out.refreshToken = refreshToken;
  if (body.includeRefreshToken !== undefined && body.includeRefreshToken !== null) {
    if (typeof body.includeRefreshToken !== "boolean") throw malformed("includeRefreshToken", "a boolean");
    out.includeRefreshToken = body.includeRefreshToken;
  }
  if (body.includeHistoricalProtocol !== undefined && body.includeHistoricalProtocol !== null) {
    if (typeof body.includeHistoricalProtocol !== "boolean")
      throw malformed("includeHistoricalProtocol", "a boolean");
    if (body.includeHistoricalProtocol) out.includeHistoricalProtocol = true;
  }
  const key = str("idempotencyKey") ?? str("idempotency_key");
  if (key !== undefined && key !== "") {
    if (key.length > 256) throw badRequest("sharing: 'idempotencyKey' must be at most 256 characters");
    out.idempotencyKey = key;
  }
  return out;
}

/** `pin`: the snapshot version an asynchronous query resolved when it was submitted. */
export async function prepareQuery(
  t: ServedTable,
  caps: Capabilities,
  body: QueryBody,
  pin?: number,
): Promise<Prepared> {
  const set = [body.version, body.timestamp, body.startingVersion].filter((v) => v !== undefined).length;
  if (set > 1) throw badRequest("sharing: only one of version, timestamp and startingVersion may be set");
  if (body.startingVersion !== undefined)
    return prepareStreamingQuery(
      t,
      caps,
      body.startingVersion,
      pin ?? body.endingVersion,
      body.includeHistoricalProtocol === true,
    );
  if (set > 0 && (body.refreshToken !== undefined || body.includeRefreshToken)) {
    throw badRequest(
      "sharing: refresh tokens are for queries of the latest snapshot, without version or timestamp",
    );
  }
  // A page or refresh token pins the snapshot version of the first answer.
  const table = `${nameKey(t.share)}\n${nameKey(t.schema)}\n${nameKey(t.entry.name)}`;
  const pageListing = `query\n${table}\n${queryChecksum(body)}`;
  const page =
    body.pageToken === undefined
      ? undefined
      : (JSON.parse(t.tokens.verify(body.pageToken, t.principalId, pageListing)) as { v: number; i: number });
  let pinned = page?.v ?? pin;
  if (pinned === undefined && body.refreshToken !== undefined) {
    const refresh = JSON.parse(t.tokens.verify(body.refreshToken, t.principalId, `refresh\n${table}`)) as {
      v: number;
      e: number;
    };
    if (refresh.e <= t.now) throw badRequest("sharing: refreshToken has expired");
    pinned = refresh.v;
  }
  const snapshot =
    pinned !== undefined
      ? await pinnedSnapshot(t, pinned)
      : await snapshotFor(t, body.version, body.timestamp);
  const { format, protocol } = negotiateSnapshot(t, caps, snapshot);
  const historical = body.version !== undefined || body.timestamp !== undefined;
  const filter = partitionFilter(body.jsonPredicateHints, snapshot.partitionColumns);
  const limit = body.limitHint;
  const start = page?.i ?? 0;
  const maxFiles = body.maxFiles ?? Number.POSITIVE_INFINITY;
  const endLine =
    caps.includeEndStreamAction || body.maxFiles !== undefined || body.includeRefreshToken === true;
  const handedOut: HandedOut = { files: 0, bytes: 0 };
  return {
    headers: responseHeaders(snapshot.version, format, caps.includeEndStreamAction),
    handedOut,
    lines: function* () {
      yield protocolLine(format, protocol);
      yield metadataLine(format, snapshot.metadata, historical ? snapshot.version : undefined, snapshot);
      const lines = new FileLines(t, format, snapshot.files.length <= MAX_CACHED_FILES, handedOut);
      const extra = historical ? { version: snapshot.version, timestamp: snapshot.timestamp } : {};
      let index = 0;
      let sent = 0;
      let next: number | undefined;
      for (const add of limitedFiles(snapshot.files, filter, limit)) {
        if (index >= start) {
          if (sent === maxFiles) {
            next = index;
            break;
          }
          sent++;
          yield lines.line("file", add, extra);
        }
        index++;
      }
      if (!endLine) return;
      const action: EndStreamAction = {};
      if (next !== undefined) {
        action.nextPageToken = t.tokens.sign(
          t.principalId,
          pageListing,
          JSON.stringify({ v: snapshot.version, i: next }),
        );
      }
      if (body.includeRefreshToken) {
        const e = t.now + REFRESH_TOKEN_TTL_MS;
        action.refreshToken = t.tokens.sign(
          t.principalId,
          `refresh\n${table}`,
          JSON.stringify({ v: snapshot.version, e }),
        );
      }
      if (sent > 0) action.minUrlExpirationTimestamp = lines.expirationTimestamp;
      yield { endStreamAction: action };
    },
  };
}

const REFRESH_TOKEN_TTL_MS = 3_600_000;

/** What a page token is bound to besides recipient and table: the query's parameters, paging aside. */
function queryChecksum(body: QueryBody): string {
  const {
    pageToken: _p,
    maxFiles: _m,
    refreshToken: _r,
    includeRefreshToken: _i,
    idempotencyKey: _k,
    ...params
  } = body;
  return createHash("sha256").update(JSON.stringify(params)).digest("base64url");
}

/** The snapshot a page or refresh token pinned; it may be older than the latest even without history sharing. */
async function pinnedSnapshot(t: ServedTable, version: number): Promise<Snapshot> {
  const latest = await t.tables.latest(t.entry.location);
  if (version === latest.version) return latest;
  if (version > latest.version)
    throw badRequest("sharing: the token names a version the table does not have");
  return asParameterError(() => t.tables.at(t.entry.location, version));
}

/** Files in log order, filtered by the partition hint, until the limit is covered by file stats. */
function* limitedFiles(
  files: AddAction[],
  filter: FileFilter,
  limit: number | undefined,
): Generator<AddAction> {
  if (limit === 0) return;
  let rows = 0;
  for (const add of files) {
    if (!filter(add.partitionValues ?? {})) continue;
    yield add;
    if (limit !== undefined) {
      const n = numRecords(add);
      if (n !== undefined) rows += n;
      if (rows >= limit) return;
    }
  }
}

function numRecords(add: AddAction): number | undefined {
  if (!add.stats) return undefined;
  try {
    const n = (JSON.parse(add.stats) as { numRecords?: unknown }).numRecords;
    return typeof n === "number" ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Query with startingVersion: the data change files of each commit since then (streaming readers). */
async function prepareStreamingQuery(
  t: ServedTable,
  caps: Capabilities,
  start: number,
  ending: number | undefined,
  historicalProtocol: boolean,
): Promise<Prepared> {
  requireHistory(t, "startingVersion");
  if (ending !== undefined && ending < start) {
    throw badRequest(
      `sharing: startingVersion (${start}) must not be greater than endingVersion (${ending})`,
    );
  }
  const latest = await t.tables.latest(t.entry.location);
  if (start > latest.version)
    throw badRequest(`sharing: startingVersion ${start} is after the latest version ${latest.version}`);
  const end = Math.min(ending ?? latest.version, latest.version);
  const snapshot = await versionSnapshot(t, start);
  const commits = await loadCommits(t, start, end);
  const { format, protocol } = negotiate(
    caps,
    { ...snapshot, deletionVectors: commitsHaveDeletionVectors(commits) },
    tableName(t),
  );
  const endAction = caps.includeEndStreamAction;
  // The flag only exists for the delta format; parquet answers ignore it (#read-data-from-a-table).
  const protocols = historicalProtocol && format === "delta";
  const handedOut: HandedOut = { files: 0, bytes: 0 };
  return {
    headers: responseHeaders(start, format, endAction),
    handedOut,
    lines: function* () {
      yield protocolLine(format, protocol, protocols ? start : undefined);
      yield metadataLine(format, snapshot.metadata, start, undefined);
      const lines = new FileLines(t, format, false, handedOut);
      let files = 0;
      for (const commit of commits) {
        const extra = { version: commit.version, timestamp: commit.timestamp };
        for (const action of commit.actions) {
          if (action.protocol && protocols && commit.version > start)
            yield protocolLine(format, action.protocol, commit.version);
          if (action.metaData && commit.version > start)
            yield metadataLine(format, action.metaData, commit.version, undefined);
          const file = action.add ?? action.remove;
          if (!file || file.dataChange === false) continue;
          files++;
          yield lines.line(action.add ? "add" : "remove", file, extra);
        }
      }
      if (endAction) yield endStream(files > 0 ? lines.expirationTimestamp : undefined);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** The format and protocol of an answer about `snapshot` (its files decide on deletion vectors). */
function negotiateSnapshot(t: ServedTable, caps: Capabilities, snapshot: Snapshot): Negotiated {
  const deletionVectors = snapshot.files.some((f) => f.deletionVector);
  return negotiate(caps, { ...snapshot, deletionVectors }, tableName(t));
}

/** A data change file of these commits has a deletion vector. */
export function commitsHaveDeletionVectors(commits: Commit[]): boolean {
  return commits.some((c) => c.actions.some((a) => a.add?.deletionVector || a.remove?.deletionVector));
}

export function tableName(t: ServedTable): string {
  return `${t.share}.${t.schema}.${t.entry.name}`;
}

export function responseHeaders(
  version: number,
  format: ResponseFormat,
  endStreamAction: boolean,
): Record<string, string> {
  const caps: { responseFormat: ResponseFormat[]; includeEndStreamAction?: boolean } = {
    responseFormat: [format],
  };
  if (endStreamAction) caps.includeEndStreamAction = true;
  return {
    "Content-Type": NDJSON,
    [TABLE_VERSION_HEADER]: String(version),
    [CAPABILITIES_HEADER]: formatCapabilities(caps),
  };
}

export function requireHistory(t: ServedTable, what: string): void {
  if (!t.entry.historyShared) {
    throw badRequest(
      `sharing: ${what} needs history sharing, which is not enabled on table ${t.share}.${t.schema}.${t.entry.name}`,
    );
  }
}

async function snapshotFor(
  t: ServedTable,
  version: number | undefined,
  timestamp: string | undefined,
): Promise<Snapshot> {
  if (version === undefined && timestamp === undefined) return t.tables.latest(t.entry.location);
  requireHistory(t, version !== undefined ? "version" : "timestamp");
  if (version !== undefined) return versionSnapshot(t, version);
  const table = await t.tables.table(t.entry.location);
  const v = await asParameterError(() =>
    table.versionAtTimestamp(parseTimestamp(timestamp!, "timestamp"), "atOrBefore"),
  );
  return versionSnapshot(t, v);
}

export async function versionSnapshot(t: ServedTable, version: number): Promise<Snapshot> {
  const latest = await t.tables.latest(t.entry.location);
  if (version > latest.version)
    throw badRequest(`sharing: version ${version} is after the latest version ${latest.version}`);
  if (version === latest.version) return latest;
  return asParameterError(() => t.tables.at(t.entry.location, version));
}

export async function loadCommits(t: ServedTable, start: number, end: number): Promise<Commit[]> {
  const table = await t.tables.table(t.entry.location);
  return asParameterError(() => table.commits(start, end));
}

/** A version or timestamp the table does not have is the request's fault (400), not a missing resource. */
export async function asParameterError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isArcuateError(error) && error.code === "RESOURCE_DOES_NOT_EXIST") {
      throw new ArcuateError("INVALID_PARAMETER_VALUE", error.message.replace(/^delta:/, "sharing:"));
    }
    throw error;
  }
}

export function optionalVersion(raw: string | null, name: string): number | undefined {
  if (raw === null) return undefined;
  if (!/^\d{1,15}$/.test(raw))
    throw badRequest(`sharing: ${name} must be a non-negative integer, not '${raw.slice(0, 40)}'`);
  return Number(raw);
}

export function parseTimestamp(raw: string, name: string): number {
  const ms = Date.parse(raw);
  if (raw.length > 64 || !/^\d{4}-\d\d-\d\d/.test(raw) || Number.isNaN(ms)) {
    throw badRequest(
      `sharing: ${name} must be an ISO 8601 timestamp such as 2022-01-01T00:00:00Z, not '${raw.slice(0, 64)}'`,
    );
  }
  return ms;
}
