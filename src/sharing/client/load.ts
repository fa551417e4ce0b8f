// Query and changes answers → Apache Arrow. Files download in parallel (bounded by p-limit) and
// decode in answer order, so rows come out in the order the server listed the files, as the
// Python connector's load_as_pandas does. The change data feed gets the three columns the
// protocol defines (#read-change-data-feed-from-a-table): `_change_type`, and `_commit_version`
// and `_commit_timestamp` as longs (the commit timestamp in ms, as the spec and the Python
// connector have it).

import * as arrow from "apache-arrow";
import pLimit from "p-limit";
import type { StructType } from "../../delta/index.js";
import { ArcuateError } from "../../errors.js";
import type { ChangesOptions, QueryOptions, SharedTableRef, SharingClient } from "./client.js";
import type { DecodePool } from "./decode-pool.js";
import { FileDownloader } from "./download.js";
import type { HttpOptions } from "./http.js";
import { type FileLayout, fileLayout, readDataFile } from "./read-file.js";
import type { SharedFile, TableResponse } from "./response.js";

export interface LoadOptions {
  /** Files downloaded at once. */
  concurrency: number;
  http: HttpOptions;
  /**
   * The worker threads that decode data files, asked for only when the files are worth it
   * (see {@link POOL_MIN_BYTES}); undefined, or answering undefined: decode on the main thread.
   */
  pool?: () => DecodePool | undefined;
  /**
   * Bytes of data files (by their listed size) downloaded ahead of the consumer; default: no
   * bound but the file count. One file is always fetched, however large.
   */
  bytesAhead?: number;
  /**
   * Decode each file on the main thread only when the consumer reaches it, not as soon as it is
   * downloaded (and never in the pool): what is read ahead is then held as its Parquet bytes,
   * not as decoded Arrow, which for well-compressed files is many times larger.
   */
  decodeWhenTaken?: boolean;
}

/**
 * Below this many bytes of data files in an answer, decoding stays on the main thread: starting a
 * worker (loading the Parquet reader into it) costs more CPU than decoding a few MiB, and a
 * command such as `sharing cat --limit 3` should not pay for threads it does not need.
 */
export const POOL_MIN_BYTES = 4 * 1024 * 1024;

/** The decode pool for these files, if they are worth one. */
function poolFor(files: readonly SharedFile[], load: LoadOptions): DecodePool | undefined {
  if (!load.pool) return undefined;
  let bytes = 0;
  for (const file of files) bytes += fileSize(file);
  return bytes >= POOL_MIN_BYTES ? load.pool() : undefined;
}

/** What a stream of batches reads ahead: enough to keep downloads busy, little enough to stay flat. */
export const STREAM_BYTES_AHEAD = 32 * 1024 * 1024;

export const CHANGE_TYPE = "_change_type";
export const COMMIT_VERSION = "_commit_version";
export const COMMIT_TIMESTAMP = "_commit_timestamp";

/** A query opened: the Arrow schema of its rows, and the rows as they download. */
export interface OpenedQuery {
  schema: arrow.Schema;
  /** The table version the answer is for (`delta-table-version`). */
  version: number;
  batches: AsyncIterable<arrow.RecordBatch>;
}

export async function openQuery(
  client: SharingClient,
  table: SharedTableRef,
  options: QueryOptions,
  load: LoadOptions,
): Promise<OpenedQuery> {
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `sharing: limit must be a non-negative integer, not ${options.limit}`,
    );
  }
  const answer = await client.queryFiles(table, options);
  const layout = fileLayout(answer.metadata);
  const files = filesForLimit(
    answer.files.filter((file) => file.kind === "file" || file.kind === "add"),
    options.limit,
  );
  const refreshToken = answer.endStreamAction?.refreshToken;
  const downloader = new FileDownloader(
    files,
    () => client.queryFiles(table, refreshToken === undefined ? options : { ...options, refreshToken }),
    load.http,
  );
  const limit = options.limit;
  const lazy = load.decodeWhenTaken === true;
  const pool = lazy ? undefined : poolFor(files, load);
  async function* batches(): AsyncGenerator<arrow.RecordBatch> {
    if (limit === 0) return;
    let left = limit ?? Number.POSITIVE_INFINITY;
    // Files decode side by side (in the worker pool) while further files download and the
    // consumer takes earlier ones, or (decodeWhenTaken) one by one as the consumer takes them;
    // each file is cut at the limit.
    const fetchAndDecode = async (file: SharedFile, limited: Limited) => {
      const [bytes, deleted] = await limited(() =>
        Promise.all([downloader.download(file), downloader.deletedRows(file)]),
      );
      const decode = () =>
        readDataFile(bytes, layout, layout.schema, file.partitionValues, limit, pool, deleted);
      if (lazy) return decode;
      const decoded = decode();
      // Handled when its turn comes (below); until then a failure is not "unhandled".
      decoded.catch(() => {});
      return () => decoded;
    };
    const ahead = load.bytesAhead === undefined ? {} : { bytes: load.bytesAhead, size: fileSize };
    for await (const [, read] of inOrder(files, load.concurrency, fetchAndDecode, ahead)) {
      for (const batch of await read()) {
        if (batch.numRows === 0) continue;
        const out = batch.numRows > left ? batch.slice(0, left) : batch;
        left -= out.numRows;
        yield out;
        if (left <= 0) return;
      }
    }
  }
  return { schema: layout.arrowSchema, version: answer.version, batches: batches() };
}

export async function loadTable(
  client: SharingClient,
  table: SharedTableRef,
  options: QueryOptions,
  load: LoadOptions,
): Promise<arrow.Table> {
  const opened = await openQuery(client, table, options, load);
  const batches: arrow.RecordBatch[] = [];
  for await (const batch of opened.batches) batches.push(batch);
  return new arrow.Table(opened.schema, batches);
}

export async function* loadTableBatches(
  client: SharingClient,
  table: SharedTableRef,
  options: QueryOptions,
  load: LoadOptions,
): AsyncGenerator<arrow.RecordBatch> {
  // A stream is for keeping memory small: files are read ahead by bytes, not only by count, and
  // held as downloaded until the consumer takes them. Its consumer (an import writing to MLflow,
  // `sharing cat` printing rows) is slower than decoding, so decoding on the main thread costs
  // it nothing, while each decode worker is a V8 isolate with its own WebAssembly memory (about
  // 85 MB of RSS each, run from sources): see docs/decisions.md.
  const opened = await openQuery(client, table, options, {
    ...load,
    bytesAhead: load.bytesAhead ?? STREAM_BYTES_AHEAD,
    decodeWhenTaken: load.decodeWhenTaken ?? true,
  });
  for await (const batch of opened.batches) yield batch;
}

/** The change data feed: every add, remove and cdf file of the versions asked, in answer order. */
export async function loadChanges(
  client: SharingClient,
  table: SharedTableRef,
  options: ChangesOptions,
  load: LoadOptions,
): Promise<arrow.Table> {
  const answer = await client.changesFiles(table, options);
  const layout = fileLayout(answer.metadata);
  const schema = changesSchema(layout);
  const downloader = new FileDownloader(answer.files, () => client.changesFiles(table, options), load.http);
  const withChangeType: StructType = {
    type: "struct",
    fields: [...layout.schema.fields, { name: CHANGE_TYPE, type: "string", nullable: true, metadata: {} }],
  };
  const batches: arrow.RecordBatch[] = [];
  const pool = poolFor(answer.files, load);
  for (const file of answer.files) {
    if (file.version === undefined || file.timestamp === undefined) {
      throw new ArcuateError(
        "INTERNAL_ERROR",
        `sharing: the changes answer lists file ${file.id} without its version or timestamp`,
      );
    }
  }
  const fetchAndDecode = async (file: SharedFile, limited: Limited) => {
    const [bytes, deleted] = await limited(() =>
      Promise.all([downloader.download(file), downloader.deletedRows(file)]),
    );
    const fileSchema = file.kind === "cdf" ? withChangeType : layout.schema;
    return readDataFile(bytes, layout, fileSchema, file.partitionValues, undefined, pool, deleted);
  };
  for await (const [file, read] of inOrder(answer.files, load.concurrency, fetchAndDecode)) {
    const cdf = file.kind === "cdf";
    const version = file.version!;
    const timestamp = file.timestamp!;
    for (const batch of read) {
      const n = batch.numRows;
      if (n === 0) continue;
      const children = [...batch.data.children];
      if (!cdf) children.push(constantUtf8(file.kind === "remove" ? "delete" : "insert", n));
      children.push(constantInt64(version, n), constantInt64(timestamp, n));
      const data = arrow.makeData({
        type: new arrow.Struct(schema.fields),
        length: n,
        nullCount: 0,
        children,
      });
      batches.push(new arrow.RecordBatch(schema, data));
    }
  }
  return new arrow.Table(schema, batches);
}

/**
 * With a limit, the leading files whose stats already hold enough rows (so `--limit 3` on a large
 * table downloads one file, not a window of them). Rows a deletion vector removes do not count;
 * without stats on every file needed, all files.
 */
export function filesForLimit(files: SharedFile[], limit: number | undefined): SharedFile[] {
  if (limit === undefined) return files;
  let rows = 0;
  for (let i = 0; i < files.length; i++) {
    if (rows >= limit) return files.slice(0, i);
    const file = files[i]!;
    let records: unknown;
    try {
      records = file.stats ? (JSON.parse(file.stats) as { numRecords?: unknown }).numRecords : undefined;
    } catch {
      records = undefined;
    }
    if (typeof records !== "number") return files;
    rows += records - (file.deletionVector?.cardinality ?? 0);
  }
  return files;
}

/** The table's columns, then `_change_type`, `_commit_version`, `_commit_timestamp`. */
export function changesSchema(layout: FileLayout): arrow.Schema {
  return new arrow.Schema([
    ...layout.arrowSchema.fields,
    new arrow.Field(CHANGE_TYPE, new arrow.Utf8(), false),
    new arrow.Field(COMMIT_VERSION, new arrow.Int64(), false),
    new arrow.Field(COMMIT_TIMESTAMP, new arrow.Int64(), false),
  ]);
}

/** Runs `fn` within the concurrency bound of {@link inOrder}. */
export type Limited = <X>(fn: () => Promise<X>) => Promise<X>;

/** A data file's listed size in bytes (0 when the answer has none). */
function fileSize(file: SharedFile): number {
  return Number(file.size ?? 0);
}

/**
 * Runs `task` over `items`, yielding results in item order. Only the part of a task it passes to
 * `limited` (the download) counts against `concurrency` (p-limit): the rest (decoding, in the
 * worker pool) runs beside further downloads instead of holding a download's place. At most
 * 2 × concurrency tasks are started and not yet consumed, and, with `ahead`, at most
 * `ahead.bytes` of them by size (one always), so a slow consumer bounds memory.
 */
export async function* inOrder<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, limited: Limited) => Promise<R>,
  ahead: { bytes?: number; size?: (item: T) => number } = {},
): AsyncGenerator<[T, R]> {
  const limit = pLimit(Math.max(1, concurrency));
  const limited: Limited = (fn) => limit(fn);
  const window = Math.max(1, concurrency) * 2;
  const budget = ahead.bytes ?? Number.POSITIVE_INFINITY;
  const sizeOf = ahead.size ?? (() => 0);
  const pending: Promise<R>[] = [];
  let pendingBytes = 0;
  let next = 0;
  const fill = () => {
    while (next < items.length && pending.length < window) {
      const size = sizeOf(items[next]!);
      if (pending.length > 0 && pendingBytes + size > budget) break;
      const item = items[next++]!;
      pendingBytes += size;
      const promise = task(item, limited);
      // Handled later, in order; this keeps a failure that is not yet awaited from being "unhandled".
      promise.catch(() => {});
      pending.push(promise);
    }
  };
  try {
    for (let i = 0; i < items.length; i++) {
      fill();
      const result = await pending.shift()!;
      pendingBytes -= sizeOf(items[i]!);
      yield [items[i]!, result];
    }
  } finally {
    limit.clearQueue();
  }
}

function constantUtf8(value: string, length: number): arrow.Data<arrow.Utf8> {
  const bytes = new TextEncoder().encode(value);
  const data = new Uint8Array(bytes.length * length);
  const valueOffsets = new Int32Array(length + 1);
  for (let i = 0; i < length; i++) {
    data.set(bytes, i * bytes.length);
    valueOffsets[i + 1] = (i + 1) * bytes.length;
  }
  return arrow.makeData({ type: new arrow.Utf8(), length, nullCount: 0, valueOffsets, data });
}

function constantInt64(value: number, length: number): arrow.Data<arrow.Int64> {
  const data = new BigInt64Array(length).fill(BigInt(value));
  return arrow.makeData({ type: new arrow.Int64(), length, nullCount: 0, data });
}

export type { SharedFile, TableResponse };
