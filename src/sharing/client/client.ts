// The Delta Sharing client: listings, table version, metadata, query and changes over REST, and
// tables loaded as Apache Arrow. It reads any server that follows PROTOCOL.md of
// delta-io/delta-sharing, not only arcuate's; every request has the same three steps (build the
// request, call the endpoint with retries, convert the reply), after MLflow's RestStore.

import type * as arrow from "apache-arrow";
import { ArcuateError, ProtocolError } from "../../errors.js";
import {
  CAPABILITIES_HEADER,
  formatCapabilities,
  type Page,
  type ResponseFormat,
  type Schema,
  type Share,
  TABLE_VERSION_HEADER,
  type Table,
} from "../protocol.js";
import { decodePool } from "./decode-pool.js";
import { type HttpOptions, SharingHttp } from "./http.js";
import { type LoadOptions, loadChanges, loadTable, loadTableBatches } from "./load.js";
import { loadProfile, parseProfile, type SharingProfile } from "./profile.js";
import { CLIENT_READER_FEATURES } from "./read-file.js";
import {
  type Negotiated,
  readTableResponse,
  type SharedMetadata,
  type SharedProtocol,
  type TableResponse,
} from "./response.js";

/** A shared table by name; the protocol's `Table` from a listing fits. */
export interface SharedTableRef {
  share: string;
  schema: string;
  name: string;
}

export interface SharingClientOptions extends HttpOptions {
  /** Response formats to accept, in order of preference (default `["parquet", "delta"]`). */
  responseFormats?: ResponseFormat[];
  /** Delta reader features to offer (default: all this client honours). */
  readerFeatures?: string[];
  /** Ask the server to end each answer with an endStreamAction (default true). */
  includeEndStreamAction?: boolean;
  /** Data files downloaded at once (default 8). */
  concurrency?: number;
  /** Page size asked of listings; the server may return fewer (default: the server's choice). */
  maxResults?: number;
  /**
   * Worker threads decoding data files, shared by all clients of the process (default: the
   * number of CPUs, at most 4; 0 decodes on the main thread).
   */
  decodeWorkers?: number;
}

export interface SharedTableInfo {
  /** The `delta-table-version` of the answer. */
  version: number;
  format: ResponseFormat;
  protocol: SharedProtocol;
  metadata: SharedMetadata;
}

/** Snapshot query parameters (#read-data-from-a-table). */
export interface QueryOptions {
  /** Time travel to a table version. */
  version?: number;
  /** Time travel to the version at a timestamp (ISO 8601, or a Date). */
  timestamp?: string | Date;
  /** At most this many rows (sent to the server as `limitHint`, enforced here). */
  limit?: number;
  /** SQL predicate hints (best effort on the server; not applied by the client). */
  predicateHints?: string[];
  /** JSON predicate hints (best effort on the server; not applied by the client). */
  jsonPredicateHints?: string;
}

/** Change data feed parameters (#read-change-data-feed-from-a-table): a start is required. */
export interface ChangesOptions {
  startingVersion?: number;
  startingTimestamp?: string | Date;
  endingVersion?: number;
  endingTimestamp?: string | Date;
  includeHistoricalMetadata?: boolean;
}

const MAX_PAGES = 100_000;

export class SharingClient {
  readonly profile: SharingProfile;
  readonly http: SharingHttp;
  private readonly options: SharingClientOptions;

  constructor(profile: SharingProfile, options: SharingClientOptions = {}) {
    // Checked here, so that a wrong argument is named at once rather than as an "Invalid URL"
    // from the first request (a plain-JavaScript caller passing a path, or `{ profile: path }`).
    this.profile = checkedProfile(profile);
    this.options = checkedOptions(options);
    this.http = new SharingHttp(this.profile, this.options);
  }

  /** A client for a profile file path, profile JSON text or profile object. */
  static async fromProfile(
    pathOrJson: string | Record<string, unknown>,
    options?: SharingClientOptions,
  ): Promise<SharingClient> {
    return new SharingClient(await loadProfile(pathOrJson), options);
  }

  // -------------------------------------------------------------------------------------------
  // Listings (#list-shares … #list-all-tables-in-a-share), every page followed.

  listShares(): Promise<Share[]> {
    return this.paginate<Share>("/shares");
  }

  async getShare(share: string): Promise<Share> {
    const { body } = await this.http.json<{ share?: Share }>({
      method: "GET",
      path: `/shares/${enc(share)}`,
    });
    if (!body.share || typeof body.share.name !== "string") {
      throw new ProtocolError(`sharing: GET /shares/${share} returned no share`, { code: "INTERNAL_ERROR" });
    }
    return body.share;
  }

  listSchemas(share: string): Promise<Schema[]> {
    return this.paginate<Schema>(`/shares/${enc(share)}/schemas`);
  }

  listTables(share: string, schema: string): Promise<Table[]> {
    return this.paginate<Table>(`/shares/${enc(share)}/schemas/${enc(schema)}/tables`);
  }

  listAllTables(share: string): Promise<Table[]> {
    return this.paginate<Table>(`/shares/${enc(share)}/all-tables`);
  }

  private async paginate<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const { body } = await this.http.json<Page<T>>({
        method: "GET",
        path,
        query: { maxResults: this.options.maxResults, pageToken },
      });
      if (body.items !== undefined && !Array.isArray(body.items)) {
        throw new ProtocolError(`sharing: GET ${path} returned 'items' that is not an array`, {
          code: "INTERNAL_ERROR",
        });
      }
      items.push(...(body.items ?? []));
      // The token may be missing or empty when no more results remain (#list-shares).
      if (!body.nextPageToken) return items;
      if (seen.has(body.nextPageToken)) {
        throw new ProtocolError(
          `sharing: GET ${path} returned the page token '${body.nextPageToken}' twice`,
          {
            code: "INTERNAL_ERROR",
          },
        );
      }
      seen.add(body.nextPageToken);
      pageToken = body.nextPageToken;
    }
    throw new ProtocolError(`sharing: GET ${path} returned more than ${MAX_PAGES} pages`, {
      code: "INTERNAL_ERROR",
    });
  }

  // -------------------------------------------------------------------------------------------
  // Table version and metadata (#query-table-version, #query-table-metadata)

  async tableVersion(
    table: SharedTableRef,
    options: { startingTimestamp?: string | Date } = {},
  ): Promise<number> {
    const path = `${tablePath(table)}/version`;
    const response = await this.http.request({
      method: "GET",
      path,
      query: { startingTimestamp: isoTimestamp(options.startingTimestamp) },
    });
    await response.body?.cancel();
    const header = response.headers.get(TABLE_VERSION_HEADER);
    const version = header === null ? Number.NaN : Number(header);
    if (!Number.isInteger(version)) {
      throw new ProtocolError(`sharing: GET ${path} returned no valid '${TABLE_VERSION_HEADER}' header`, {
        code: "INTERNAL_ERROR",
      });
    }
    return version;
  }

  async tableMetadata(
    table: SharedTableRef,
    options: { version?: number; timestamp?: string | Date } = {},
  ): Promise<SharedTableInfo> {
    const path = `${tablePath(table)}/metadata`;
    const answer = await this.readNdjson(`GET ${path}`, {
      method: "GET",
      path,
      query: { version: options.version, timestamp: isoTimestamp(options.timestamp) },
    });
    const info: SharedTableInfo = {
      version: answer.version,
      format: answer.format,
      protocol: answer.protocol,
      metadata: answer.metadata,
    };
    return info;
  }

  async tableProtocol(table: SharedTableRef): Promise<SharedProtocol> {
    return (await this.tableMetadata(table)).protocol;
  }

  // -------------------------------------------------------------------------------------------
  // Query and changes: the file lists (#read-data-from-a-table, #read-change-data-feed-from-a-table)

  /**
   * The files of a snapshot query, following `nextPageToken`s of paginated answers. `refreshToken`
   * (from an earlier answer's endStreamAction) asks for fresh URLs of the same snapshot.
   */
  async queryFiles(
    table: SharedTableRef,
    options: QueryOptions & { refreshToken?: string } = {},
  ): Promise<TableResponse> {
    const path = `${tablePath(table)}/query`;
    const body: Record<string, unknown> = {};
    if (options.predicateHints !== undefined) body["predicateHints"] = options.predicateHints;
    if (options.jsonPredicateHints !== undefined) body["jsonPredicateHints"] = options.jsonPredicateHints;
    if (options.limit !== undefined) body["limitHint"] = options.limit;
    if (options.version !== undefined) body["version"] = options.version;
    if (options.timestamp !== undefined) body["timestamp"] = isoTimestamp(options.timestamp);
    if (options.refreshToken !== undefined) body["refreshToken"] = options.refreshToken;
    return this.followPages(`POST ${path}`, (pageToken) => ({
      method: "POST",
      path,
      body: pageToken === undefined ? body : { ...body, pageToken, refreshToken: undefined },
    }));
  }

  /** The files of a change data feed query. */
  async changesFiles(table: SharedTableRef, options: ChangesOptions): Promise<TableResponse> {
    if (options.startingVersion === undefined && options.startingTimestamp === undefined) {
      throw new ArcuateError(
        "INVALID_PARAMETER_VALUE",
        "sharing: a changes query needs startingVersion or startingTimestamp",
      );
    }
    const path = `${tablePath(table)}/changes`;
    const query = {
      startingVersion: options.startingVersion,
      startingTimestamp: isoTimestamp(options.startingTimestamp),
      endingVersion: options.endingVersion,
      endingTimestamp: isoTimestamp(options.endingTimestamp),
      includeHistoricalMetadata: options.includeHistoricalMetadata,
    };
    return this.followPages(`GET ${path}`, (pageToken) => ({
      method: "GET",
      path,
      query: { ...query, pageToken },
    }));
  }

  // -------------------------------------------------------------------------------------------
  // Loading as Arrow

  /** The whole snapshot (or `limit` rows of it) as one Arrow table. */
  queryTable(table: SharedTableRef, options: QueryOptions = {}): Promise<arrow.Table> {
    return loadTable(this, table, options, this.loadOptions());
  }

  /** The snapshot's rows as record batches, a few files downloaded ahead, in file order. */
  queryTableBatches(table: SharedTableRef, options: QueryOptions = {}): AsyncIterable<arrow.RecordBatch> {
    return loadTableBatches(this, table, options, this.loadOptions());
  }

  /** The change data feed as one Arrow table with `_change_type`, `_commit_version`, `_commit_timestamp`. */
  tableChanges(table: SharedTableRef, options: ChangesOptions): Promise<arrow.Table> {
    return loadChanges(this, table, options, this.loadOptions());
  }

  private loadOptions(): LoadOptions {
    return {
      concurrency: this.options.concurrency ?? 8,
      http: this.options,
      pool: () => decodePool(this.options.decodeWorkers),
    };
  }

  // -------------------------------------------------------------------------------------------

  /** What this client asks for in the capabilities header. */
  negotiated(): Negotiated {
    return {
      responseFormats: this.options.responseFormats ?? ["parquet", "delta"],
      readerFeatures: (this.options.readerFeatures ?? CLIENT_READER_FEATURES).map((f) => f.toLowerCase()),
      includeEndStreamAction: this.options.includeEndStreamAction ?? true,
    };
  }

  private capabilitiesHeader(): Record<string, string> {
    const asked = this.negotiated();
    const readerFeatures = this.options.readerFeatures ?? CLIENT_READER_FEATURES;
    return {
      [CAPABILITIES_HEADER]: formatCapabilities({
        responseFormat: asked.responseFormats,
        readerFeatures: asked.responseFormats.includes("delta") ? [...readerFeatures] : [],
        includeEndStreamAction: asked.includeEndStreamAction,
      }),
    };
  }

  private readNdjson(what: string, spec: Parameters<SharingHttp["request"]>[0]): Promise<TableResponse> {
    // Retried as a whole: a body cut off mid-stream is a connection failure like any other.
    return this.http.retrying(async () => {
      const response = await this.http.send({
        ...spec,
        headers: { ...spec.headers, ...this.capabilitiesHeader() },
      });
      try {
        return await readTableResponse(what, response, this.negotiated());
      } catch (error) {
        await response.body?.cancel().catch(() => {});
        if (error instanceof ArcuateError) throw error;
        throw new ArcuateError(
          "CONNECTION_FAILED",
          `sharing: ${what}: reading the response failed: ${String(error)}`,
          {
            cause: error,
          },
        );
      }
    });
  }

  private async followPages(
    what: string,
    spec: (pageToken: string | undefined) => Parameters<SharingHttp["request"]>[0],
  ): Promise<TableResponse> {
    const first = await this.readNdjson(what, spec(undefined));
    let last = first;
    const seen = new Set<string>();
    while (last.endStreamAction?.nextPageToken) {
      const token = last.endStreamAction.nextPageToken;
      if (seen.has(token) || seen.size >= MAX_PAGES) {
        throw new ProtocolError(`sharing: ${what}: the server repeated the page token '${token}'`, {
          code: "INTERNAL_ERROR",
        });
      }
      seen.add(token);
      last = await this.readNdjson(what, spec(token));
      first.files.push(...last.files);
      first.historicalMetadata.push(...last.historicalMetadata);
    }
    // The first page's refresh token covers the query; keep the last page's expiry bound.
    if (last !== first && last.endStreamAction) {
      first.endStreamAction = { ...last.endStreamAction, refreshToken: first.endStreamAction?.refreshToken };
    }
    return first;
  }
}

/** `/shares/{share}/schemas/{schema}/tables/{table}` with each name URL-encoded. */
export function tablePath(table: SharedTableRef): string {
  return `/shares/${enc(table.share)}/schemas/${enc(table.schema)}/tables/${enc(table.name)}`;
}

function enc(name: string): string {
  return encodeURIComponent(name);
}

/** Timestamps go on the wire in ISO 8601 UTC (#timestamp-format). */
function isoTimestamp(value: string | Date | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `sharing: invalid timestamp '${value}' (expected ISO 8601)`,
    );
  }
  return value;
}

const FROM_PROFILE_HINT =
  "use await SharingClient.fromProfile(path) or new SharingClient(await loadProfile(path))";

function checkedProfile(profile: unknown): SharingProfile {
  if (typeof profile === "string") {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `sharing: new SharingClient takes a loaded profile, not the string '${profile}': ${FROM_PROFILE_HINT}`,
    );
  }
  if (profile === null || typeof profile !== "object" || Array.isArray(profile)) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `sharing: new SharingClient takes a loaded profile, not ${profile === null ? "null" : typeof profile}: ${FROM_PROFILE_HINT}`,
    );
  }
  const fields = profile as Record<string, unknown>;
  if (typeof fields["profile"] === "string" && fields["endpoint"] === undefined) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `sharing: new SharingClient takes the profile itself, not { profile: '${fields["profile"]}' }: ${FROM_PROFILE_HINT}`,
    );
  }
  return parseProfile(fields, "the profile given to new SharingClient");
}

function checkedOptions(options: unknown): SharingClientOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", "sharing: SharingClient options must be an object");
  }
  const given = options as Record<string, unknown>;
  const count = (name: string, min: number) => {
    const value = given[name];
    if (value !== undefined && (typeof value !== "number" || !Number.isInteger(value) || value < min)) {
      throw new ArcuateError(
        "INVALID_PARAMETER_VALUE",
        `sharing: SharingClient option '${name}' must be a whole number >= ${min}, not ${JSON.stringify(value)}`,
      );
    }
  };
  count("concurrency", 1);
  count("maxResults", 1);
  count("decodeWorkers", 0);
  const formats = given["responseFormats"];
  if (
    formats !== undefined &&
    (!Array.isArray(formats) ||
      formats.length === 0 ||
      formats.some((format) => format !== "parquet" && format !== "delta"))
  ) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `sharing: SharingClient option 'responseFormats' must list "parquet" and/or "delta", not ${JSON.stringify(formats)}`,
    );
  }
  return options as SharingClientOptions;
}
