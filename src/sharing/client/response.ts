// Reading the NDJSON answers of the metadata, query and changes endpoints, in either response
// format (PROTOCOL.md #api-response-actions-in-parquet-format, #api-response-actions-in-delta-format),
// into one normalised shape. The checks the spec puts on a client live here:
// - a `delta` answer when only `parquet` was asked is an error (#responseformat);
// - reader features the client did not offer are refused by name (#readerfeatures);
// - with includeEndStreamAction negotiated, a missing endStreamAction is an error, and an
//   endStreamAction carrying errorMessage always fails the request (#endstreamaction).

import type { DeletionVectorDescriptor } from "../../delta/actions.js";
import { ArcuateError, ProtocolError } from "../../errors.js";
import {
  CAPABILITIES_HEADER,
  type DeltaLine,
  type EndStreamAction,
  type ParquetFile,
  type ParquetLine,
  parseCapabilities,
  type ResponseFormat,
  TABLE_VERSION_HEADER,
} from "../protocol.js";
import { ndjsonLines } from "./ndjson.js";

/** The table's protocol, as either format reports it. */
export interface SharedProtocol {
  minReaderVersion: number;
  minWriterVersion?: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

/** The table's metadata, as either format reports it. */
export interface SharedMetadata {
  id: string;
  name?: string;
  description?: string;
  format: { provider: string };
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  /** The table version this metadata belongs to, when the server says. */
  version?: number;
  size?: number;
  numFiles?: number;
}

/** What a file line stands for: a snapshot file, or a data change of a changes/streaming query. */
export type SharedFileKind = "file" | "add" | "remove" | "cdf";

/**
 * A data file to download, in either format: the protocol's `file` line (its `id` is stable
 * across requests, the key for matching files when URLs are refreshed; `expirationTimestamp` is
 * when the URL stops working), plus what kind of line it came from and its deletion vector.
 */
export interface SharedFile extends ParquetFile {
  kind: SharedFileKind;
  deletionVector?: DeletionVectorDescriptor;
}

export interface TableResponse {
  format: ResponseFormat;
  /** The `delta-table-version` header. */
  version: number;
  protocol: SharedProtocol;
  metadata: SharedMetadata;
  /** Metadata of other versions (changes with includeHistoricalMetadata, streaming queries). */
  historicalMetadata: SharedMetadata[];
  files: SharedFile[];
  endStreamAction?: EndStreamAction;
}

/** What the client asked for, against which an answer is checked. */
export interface Negotiated {
  responseFormats: ResponseFormat[];
  /** Reader features this client can honour (lower-case). */
  readerFeatures: string[];
  includeEndStreamAction: boolean;
}

/** Reads a whole NDJSON answer (line by line) and checks it against what was negotiated. */
export async function readTableResponse(
  what: string,
  response: Response,
  asked: Negotiated,
): Promise<TableResponse> {
  const capabilities = parseCapabilities(response.headers.get(CAPABILITIES_HEADER));
  // A server that ignores the header answers in parquet (#responseformat compatibility table).
  const format: ResponseFormat = capabilities.responseFormat[0] ?? "parquet";
  if (!asked.responseFormats.includes(format)) {
    throw new ProtocolError(
      `sharing: ${what}: the server answered in the '${format}' response format, but the client asked ` +
        `for '${asked.responseFormats.join(",")}'`,
      { code: "UNSUPPORTED_FORMAT", details: { responseFormat: format } },
    );
  }
  const versionHeader = response.headers.get(TABLE_VERSION_HEADER);
  const version = versionHeader === null ? Number.NaN : Number(versionHeader);
  if (!Number.isInteger(version)) {
    throw new ProtocolError(`sharing: ${what}: the response has no valid '${TABLE_VERSION_HEADER}' header`, {
      code: "INTERNAL_ERROR",
    });
  }
  const expectEnd = asked.includeEndStreamAction && capabilities.includeEndStreamAction;
  let protocol: SharedProtocol | undefined;
  let metadata: SharedMetadata | undefined;
  const historicalMetadata: SharedMetadata[] = [];
  const files: SharedFile[] = [];
  let endStreamAction: EndStreamAction | undefined;
  let lineNo = 0;
  if (!response.body)
    throw new ProtocolError(`sharing: ${what}: the response has no body`, { code: "INTERNAL_ERROR" });
  for await (const text of ndjsonLines(response.body as unknown as AsyncIterable<Uint8Array>)) {
    lineNo++;
    if (endStreamAction !== undefined) {
      throw new ProtocolError(`sharing: ${what}: line ${lineNo} follows the endStreamAction`, {
        code: "INTERNAL_ERROR",
      });
    }
    let line: ParquetLine & DeltaLine;
    try {
      line = JSON.parse(text) as ParquetLine & DeltaLine;
    } catch (error) {
      throw new ProtocolError(`sharing: ${what}: line ${lineNo} is not JSON: ${text.slice(0, 200)}`, {
        cause: error,
        code: "INTERNAL_ERROR",
      });
    }
    if (line.endStreamAction) {
      endStreamAction = line.endStreamAction;
      if (endStreamAction.errorMessage) {
        throw new ArcuateError(
          "INTERNAL_ERROR",
          `sharing: ${what}: the server failed: ${endStreamAction.errorMessage}`,
          {
            details: { endStreamAction },
          },
        );
      }
    } else if (line.protocol) {
      const parsed = format === "delta" ? line.protocol.deltaProtocol : line.protocol;
      if (!parsed || typeof parsed.minReaderVersion !== "number") throw badLine(what, lineNo, "protocol");
      if (protocol === undefined) protocol = parsed;
      // Historical protocols (includeHistoricalProtocol) are checked like the first.
      checkProtocol(what, format, parsed, asked);
    } else if (line.metaData) {
      const parsed =
        format === "delta" ? deltaMetadata(line as DeltaLine) : parquetMetadata(line as ParquetLine);
      if (!parsed) throw badLine(what, lineNo, "metaData");
      if (metadata === undefined) metadata = parsed;
      else historicalMetadata.push(parsed);
    } else {
      const file = format === "delta" ? deltaFile(line as DeltaLine) : parquetFile(line as ParquetLine);
      if (file === null) continue; // an action this client has no use for (forward compatibility)
      if (!file) throw badLine(what, lineNo, "file");
      files.push(file);
    }
  }
  if (expectEnd && endStreamAction === undefined) {
    throw new ProtocolError(
      `sharing: ${what}: the server promised an endStreamAction (includeendstreamaction=true) but the ` +
        `response ended without one after ${lineNo} lines; it was probably cut short`,
      { code: "INTERNAL_ERROR" },
    );
  }
  if (!protocol || !metadata) {
    throw new ProtocolError(
      `sharing: ${what}: the response has no ${protocol ? "metaData" : "protocol"} line`,
      {
        code: "INTERNAL_ERROR",
      },
    );
  }
  for (const file of files) {
    if (file.deletionVector && !asked.readerFeatures.includes("deletionvectors")) {
      throw unsupportedFeatures(what, ["deletionVectors"]);
    }
  }
  const result: TableResponse = { format, version, protocol, metadata, historicalMetadata, files };
  if (endStreamAction) result.endStreamAction = endStreamAction;
  return result;
}

function badLine(what: string, lineNo: number, kind: string): ProtocolError {
  return new ProtocolError(`sharing: ${what}: line ${lineNo} is not a valid '${kind}' action`, {
    code: "INTERNAL_ERROR",
  });
}

/** Reader versions and features: refuse what this client cannot honour, naming it. */
function checkProtocol(
  what: string,
  format: ResponseFormat,
  protocol: SharedProtocol,
  asked: Negotiated,
): void {
  if (format === "parquet") {
    // In the parquet format the protocol is the sharing protocol's own, "currently always 1".
    if (protocol.minReaderVersion > 1) {
      throw new ArcuateError(
        "UNSUPPORTED_FEATURE",
        `sharing: ${what}: the table needs reader version ${protocol.minReaderVersion} of the parquet response ` +
          "format; this client reads version 1; upgrade arcuate",
      );
    }
    return;
  }
  if (protocol.minReaderVersion > 3) {
    throw new ArcuateError(
      "UNSUPPORTED_FEATURE",
      `sharing: ${what}: the table needs Delta reader version ${protocol.minReaderVersion}; this client reads up to 3`,
    );
  }
  const missing = (protocol.readerFeatures ?? []).filter(
    (feature) => !asked.readerFeatures.includes(feature.toLowerCase()),
  );
  // Reader version 2 without features means column mapping (Delta PROTOCOL.md, "Column Mapping").
  if (protocol.minReaderVersion === 2 && !asked.readerFeatures.includes("columnmapping"))
    missing.push("columnMapping");
  if (missing.length > 0) throw unsupportedFeatures(what, missing);
}

function unsupportedFeatures(what: string, features: string[]): ArcuateError {
  return new ArcuateError(
    "UNSUPPORTED_FEATURE",
    `sharing: ${what}: the table uses reader features this client cannot honour: ${features.join(", ")}`,
    { details: { readerFeatures: features } },
  );
}

function parquetMetadata(line: ParquetLine): SharedMetadata | undefined {
  const m = line.metaData;
  if (!m || typeof m.schemaString !== "string") return undefined;
  return normaliseMetadata(m, m.version, m.size, m.numFiles);
}

function deltaMetadata(line: DeltaLine): SharedMetadata | undefined {
  const wrapper = line.metaData;
  const m = wrapper?.deltaMetadata;
  if (!wrapper || !m || typeof m.schemaString !== "string") return undefined;
  return normaliseMetadata(m, wrapper.version, wrapper.size, wrapper.numFiles);
}

function normaliseMetadata(
  m: {
    id: string;
    name?: string | null;
    description?: string | null;
    format?: { provider: string };
    schemaString: string;
    partitionColumns?: string[];
    configuration?: Record<string, string> | null;
  },
  version: number | undefined,
  size: number | undefined,
  numFiles: number | undefined,
): SharedMetadata {
  const out: SharedMetadata = {
    id: m.id,
    format: { provider: m.format?.provider ?? "parquet" },
    schemaString: m.schemaString,
    partitionColumns: m.partitionColumns ?? [],
    configuration: m.configuration ?? {},
  };
  if (m.name != null) out.name = m.name;
  if (m.description != null) out.description = m.description;
  if (version != null) out.version = version;
  if (size != null) out.size = size;
  if (numFiles != null) out.numFiles = numFiles;
  return out;
}

/** A parquet-format file line; null for an unknown action, undefined for a malformed one. */
function parquetFile(line: ParquetLine): SharedFile | null | undefined {
  let kind: SharedFileKind;
  let f: ParquetLine["file"] | ParquetLine["add"];
  if (line.file) [kind, f] = ["file", line.file];
  else if (line.add) [kind, f] = ["add", line.add];
  else if (line.cdf) [kind, f] = ["cdf", line.cdf];
  else if (line.remove) [kind, f] = ["remove", line.remove];
  else return null;
  if (!f || typeof f.url !== "string" || typeof f.id !== "string") return undefined;
  const out: SharedFile = {
    kind,
    id: f.id,
    url: f.url,
    partitionValues: f.partitionValues ?? {},
    size: f.size,
  };
  if (f.stats != null) out.stats = f.stats;
  if (f.version != null) out.version = f.version;
  if (f.timestamp != null) out.timestamp = f.timestamp;
  if (f.expirationTimestamp != null) out.expirationTimestamp = f.expirationTimestamp;
  return out;
}

/** A delta-format file line: the wrapped add/remove/cdc with its path replaced by a URL. */
function deltaFile(line: DeltaLine): SharedFile | null | undefined {
  const f = line.file;
  if (!f) return null;
  const action = f.deltaSingleAction;
  if (!action || typeof f.id !== "string") return undefined;
  let kind: SharedFileKind;
  let inner: { path: string; partitionValues?: Record<string, string | null> | null; size?: number | null };
  let stats: string | null | undefined;
  let dv: DeletionVectorDescriptor | null | undefined;
  if (action.add) {
    kind = "add";
    inner = action.add;
    stats = action.add.stats;
    dv = action.add.deletionVector;
  } else if (action.remove) {
    kind = "remove";
    inner = action.remove;
    stats = action.remove.stats;
    dv = action.remove.deletionVector;
  } else if (action.cdc) {
    kind = "cdf";
    inner = action.cdc;
  } else return null;
  if (typeof inner.path !== "string") return undefined;
  const out: SharedFile = {
    kind,
    id: f.id,
    url: inner.path,
    partitionValues: inner.partitionValues ?? {},
    size: inner.size ?? 0,
  };
  if (stats != null) out.stats = stats;
  if (f.version != null) out.version = f.version;
  if (f.timestamp != null) out.timestamp = f.timestamp;
  if (f.expirationTimestamp != null) out.expirationTimestamp = f.expirationTimestamp;
  if (dv != null) out.deletionVector = dv;
  return out;
}
