// The NDJSON lines of table answers in both response formats (PROTOCOL.md "API Response Actions
// in Parquet Format" and "… in Delta Format"): protocol, metadata, and pre-signed file lines.
import { hash } from "node:crypto";
import type {
  AddAction,
  CdcAction,
  DeletionVectorDescriptor,
  MetadataAction,
  ProtocolAction,
  RemoveAction,
} from "../../delta/actions.js";
import type { Snapshot } from "../../delta/index.js";
import type { ResponseFormat } from "../protocol.js";
import { deletionVectorPath, withSignedPath } from "./deletion-vectors.js";
import type { ServedTable } from "./query.js";
import { type FileUrls, objectStoreUrls, selfServedUrls } from "./signing.js";

/** `version` only for includeHistoricalProtocol answers (#protocol-in-delta-format). */
export function protocolLine(format: ResponseFormat, protocol: ProtocolAction, version?: number): unknown {
  if (format === "delta")
    return {
      protocol: version === undefined ? { deltaProtocol: protocol } : { deltaProtocol: protocol, version },
    };
  return { protocol: { minReaderVersion: 1 } };
}

export function metadataLine(
  format: ResponseFormat,
  metadata: MetadataAction,
  version: number | undefined,
  snapshot: Snapshot | undefined,
): unknown {
  const extra: { version?: number; size?: number; numFiles?: number } = {};
  if (version !== undefined) extra.version = version;
  if (snapshot) {
    let size = 0;
    for (const f of snapshot.files) size += f.size;
    extra.size = size;
    extra.numFiles = snapshot.files.length;
  }
  if (format === "delta") return { metaData: { deltaMetadata: metadata, ...extra } };
  const line: Record<string, unknown> = {
    id: metadata.id,
    format: { provider: metadata.format?.provider ?? "parquet" },
    schemaString: metadata.schemaString,
    partitionColumns: metadata.partitionColumns ?? [],
    configuration: metadata.configuration ?? {},
    ...extra,
  };
  if (metadata.name) line.name = metadata.name;
  if (metadata.description) line.description = metadata.description;
  return { metaData: line };
}

type FileAction = AddAction | RemoveAction | CdcAction;
type FileKind = "file" | "add" | "remove" | "cdf";

/**
 * File lines of one response, pre-serialised. URLs signed within the same expiry step are equal
 * (see UrlSigner.expiry), so a line is cached on its (immutable, snapshot-owned) action object and
 * reused by the next request of the same recipient and format: a busy query endpoint then costs
 * a lookup per file instead of an HMAC, an MD5 and a JSON serialisation.
 */
/**
 * Files and bytes an answer has handed out so far, counted as its lines are made (the audit log's
 * figures): a running tally the request's audit record reads when the response closes, so a line
 * never has to be parsed again to learn its size.
 */
export interface HandedOut {
  files: number;
  bytes: number;
}

export class FileLines {
  readonly expirationTimestamp: number;
  private readonly prefix: string;
  private readonly urls: FileUrls;
  private lastExtra?: { kind: FileKind; version?: number; timestamp?: number; key: string };

  /**
   * `cacheable`: keep lines on the actions for the next request. Only for actions a cached snapshot
   * owns, and only for tables of moderate size, so a huge table's lines are never all held at once.
   */
  constructor(
    t: ServedTable,
    private readonly format: ResponseFormat,
    private readonly cacheable = false,
    private readonly handedOut?: HandedOut,
  ) {
    // Tables on object storage get URLs of the bucket; the server stays out of the data path.
    const store = t.tables.objectStore(t.entry.location);
    this.urls = store
      ? objectStoreUrls(t.signer, store, t.now)
      : selfServedUrls(
          t.signer,
          t.base,
          { r: t.principalId, s: t.share, c: t.schema, t: t.entry.name },
          t.now,
        );
    this.expirationTimestamp = this.urls.expirationTimestamp;
    this.prefix = [
      format,
      t.principalId,
      t.base,
      t.share,
      t.schema,
      t.entry.name,
      this.expirationTimestamp,
    ].join("\n");
  }

  line(kind: FileKind, action: FileAction, extra: { version?: number; timestamp?: number }): string {
    if (this.handedOut) {
      this.handedOut.files += 1;
      this.handedOut.bytes += action.size ?? 0;
    }
    if (!this.cacheable) return this.build(kind, action, extra);
    const key = this.key(kind, extra);
    const cached = LINES.get(action);
    if (cached?.key === key) return cached.line;
    const line = this.build(kind, action, extra);
    LINES.set(action, { key, line });
    return line;
  }

  private key(kind: FileKind, extra: { version?: number; timestamp?: number }): string {
    const last = this.lastExtra;
    if (last && last.kind === kind && last.version === extra.version && last.timestamp === extra.timestamp)
      return last.key;
    const key = `${this.prefix}\n${kind}\n${extra.version ?? ""}\n${extra.timestamp ?? ""}`;
    this.lastExtra = { kind, ...extra, key };
    return key;
  }

  private build(kind: FileKind, action: FileAction, extra: { version?: number; timestamp?: number }): string {
    const url = jsonString(this.urls.url(action.path));
    const id = hash("md5", action.path, "hex");
    const versions =
      (extra.version === undefined ? "" : `,"version":${extra.version}`) +
      (extra.timestamp === undefined ? "" : `,"timestamp":${extra.timestamp}`);
    if (this.format === "delta") {
      const key = kind === "cdf" ? "cdc" : kind === "remove" ? "remove" : "add";
      const { path: _path, ...rest } = action;
      const dv = "deletionVector" in rest ? rest.deletionVector : undefined;
      const dvPath = dv ? deletionVectorPath(dv) : undefined;
      if (dv && dvPath !== undefined) {
        const signed = this.urls.url(dvPath);
        (rest as { deletionVector?: DeletionVectorDescriptor }).deletionVector = withSignedPath(dv, signed);
      }
      const restJson = JSON.stringify(rest);
      const wrapped = restJson === "{}" ? `{"path":${url}}` : `{"path":${url},${restJson.slice(1)}`;
      return [
        `{"file":{"id":"${id}"${versions},"expirationTimestamp":${this.expirationTimestamp},"deltaSingleAction":{"${key}":`,
        wrapped,
        "}}}",
      ].join("");
    }
    const stats = kind === "file" || kind === "add" ? (action as AddAction).stats : undefined;
    // Joined, not concatenated: one flat string rather than a rope of a dozen pieces, which is
    // what a cached line would otherwise keep.
    return [
      `{"${kind}":{"url":`,
      url,
      `,"id":"${id}","partitionValues":`,
      JSON.stringify(action.partitionValues ?? {}),
      `,"size":${action.size ?? 0}`,
      stats ? `,"stats":${JSON.stringify(stats)}` : "",
      versions,
      `,"expirationTimestamp":${this.expirationTimestamp}}}`,
    ].join("");
  }
}

/** A URL as a JSON string: quoted as is when it needs no escapes, as signed URLs never do. */
function jsonString(text: string): string {
  // Printable ASCII but the quote and the backslash: nothing JSON would escape.
  return /^[ !#-[\]-~]*$/.test(text) ? `"${text}"` : JSON.stringify(text);
}

const LINES = new WeakMap<object, { key: string; line: string }>();

/**
 * Tables with more files than this get their lines built afresh on every request: the cache holds
 * one line (about 1 KB with a pre-signed S3 URL) per file per table, and a large table's answer
 * must not pin its whole file list as text (bench/s3-server.ts measured +13 MB at 10,000 files).
 */
export const MAX_CACHED_FILES = 1_000;

export function endStream(expiry: number | undefined): unknown {
  return { endStreamAction: expiry === undefined ? {} : { minUrlExpirationTimestamp: expiry } };
}
