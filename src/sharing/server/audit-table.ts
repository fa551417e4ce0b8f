// The audit table: a Delta table with one row per recipient request (columns in
// docs/server.md, "Audit log"), partitioned by day (`date`, UTC) so that retention removes whole
// days' files in one commit without rewriting anything. Appends come from the audit log
// (audit-log.ts), in a worker thread; reads from SHOW ACCESS.
import * as arrow from "apache-arrow";
import type { AddAction } from "../../delta/actions.js";
import { DeltaTable, type StructType } from "../../delta/index.js";
import { commitPath } from "../../delta/log.js";
import { encodeActions } from "../../delta/writer.js";
import { ConflictError, isArcuateError, NotFoundError } from "../../errors.js";

/** One request as the audit table keeps it. Never a token, never a signed URL. */
export interface AccessRecord {
  /** When the request arrived (ms since the epoch). */
  time: number;
  requestId: string;
  /** The recipient's name and id; null when the request was not authenticated. */
  recipient: string | null;
  recipientId: string | null;
  /** What was asked: `query`, `metadata`, `listShares`, `file`, `token`, … */
  operation: string;
  method: string;
  share: string | null;
  schema: string | null;
  table: string | null;
  /** The version or range asked for (query body or parameters), as given. */
  version: number | null;
  timestamp: string | null;
  startingVersion: number | null;
  endingVersion: number | null;
  startingTimestamp: string | null;
  endingTimestamp: string | null;
  /** Data files handed out (file lines of a query or changes answer; 1 for a file download). */
  files: number;
  /** Their bytes: the files' sizes in an answer, the bytes sent for a download. */
  bytes: number;
  status: number;
  errorCode: string | null;
  clientAddress: string | null;
  userAgent: string | null;
  durationMs: number;
}

const DAY_MS = 86_400_000;

const field = (name: string, type: StructType["fields"][number]["type"], nullable = true) => ({
  name,
  type,
  nullable,
  metadata: {},
});

/** The audit table's columns (documented in docs/audit.md). */
export const AUDIT_SCHEMA: StructType = {
  type: "struct",
  fields: [
    field("time", "timestamp", false),
    field("date", "string", false),
    field("request_id", "string", false),
    field("recipient", "string"),
    field("recipient_id", "string"),
    field("operation", "string", false),
    field("method", "string", false),
    field("share", "string"),
    field("schema", "string"),
    field("table", "string"),
    field("version", "long"),
    field("timestamp", "string"),
    field("starting_version", "long"),
    field("ending_version", "long"),
    field("starting_timestamp", "string"),
    field("ending_timestamp", "string"),
    field("files", "long", false),
    field("bytes", "long", false),
    field("status", "integer", false),
    field("error_code", "string"),
    field("client_address", "string"),
    field("user_agent", "string"),
    field("duration_ms", "long", false),
  ],
};

/** Appends batches of records to the audit table at `location` (created on first use). */
export class AuditTable {
  private table: DeltaTable | undefined;
  private lastRetention = 0;

  constructor(
    readonly location: string,
    private readonly retentionDays: number | undefined,
  ) {}

  async close(): Promise<void> {}

  /**
   * Appends records in one commit. With `txn`, the commit records that `appId` wrote `version`,
   * and a batch whose version the table already holds is skipped: a spool segment committed just
   * before a crash is not committed twice when it is recovered.
   */
  async append(records: AccessRecord[], txn?: { appId: string; version: number } | boolean): Promise<void> {
    if (typeof txn === "boolean") txn = undefined; // the Appender signature: commits every batch anyway
    const table = await this.open();
    if (txn) {
      const done = (await table.snapshot()).transactionVersion(txn.appId);
      if (done !== undefined && done >= txn.version) return;
    }
    if (records.length > 0)
      await table.write(recordsTable(records), {
        mode: "append",
        commitInfo: { operation: "WRITE" },
        ...(txn ? { txn } : {}),
      });
    await this.applyRetention(table);
  }

  private async open(): Promise<DeltaTable> {
    if (this.table) return this.table;
    try {
      this.table = await DeltaTable.open(this.location);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      try {
        this.table = await DeltaTable.create(this.location, {
          schema: AUDIT_SCHEMA,
          partitionColumns: ["date"],
          name: "arcuate_audit",
          description: "arcuate: one row per recipient request to the sharing server",
          configuration: { "arcuate.kind": "audit" },
        });
      } catch (created) {
        // Another server of the same catalog created it first.
        if (!(created instanceof ConflictError)) throw created;
        this.table = await DeltaTable.open(this.location);
      }
    }
    return this.table;
  }

  /** Removes the files of days past the retention period, at most once an hour. */
  private async applyRetention(table: DeltaTable): Promise<void> {
    if (this.retentionDays === undefined) return;
    const now = Date.now();
    if (now - this.lastRetention < 3_600_000) return;
    this.lastRetention = now;
    await removeDaysBefore(table, dayOf(now - this.retentionDays * DAY_MS));
  }
}

/** Commits the removal of every file of a day before `firstKept` (yyyy-mm-dd); returns how many. */
export async function removeDaysBefore(table: DeltaTable, firstKept: string): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const snapshot = await table.snapshot();
    const expired = snapshot.files.filter((f: AddAction) => (f.partitionValues?.date ?? "") < firstKept);
    if (expired.length === 0) return 0;
    const now = Date.now();
    const actions = [
      {
        commitInfo: {
          timestamp: now,
          operation: "DELETE",
          operationParameters: { predicate: JSON.stringify([`date < '${firstKept}'`]) },
          readVersion: snapshot.version,
          isBlindAppend: false,
        },
      },
      ...expired.map((f) => ({
        remove: {
          path: f.path,
          deletionTimestamp: now,
          dataChange: true,
          extendedFileMetadata: true,
          partitionValues: f.partitionValues,
          size: f.size,
        },
      })),
    ];
    try {
      await table.storage.putIfAbsent(commitPath(snapshot.version + 1), encodeActions(actions));
      return expired.length;
    } catch (error) {
      if (!(isArcuateError(error) && error instanceof ConflictError)) throw error;
      // Another server appended first: read again and remove what is expired then.
    }
  }
  throw new ConflictError(`audit: could not commit the retention of ${table.location}: too many writers`);
}

export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function recordsTable(records: AccessRecord[]): arrow.Table {
  const strings = (pick: (r: AccessRecord) => string | null) => utf8Vector(records.map(pick));
  const longs = (pick: (r: AccessRecord) => number | null) =>
    fixedVector(
      new arrow.Int64(),
      records.map(pick),
      (n) => new BigInt64Array(n),
      (v) => BigInt(Math.trunc(v)),
    );
  return new arrow.Table({
    time: fixedVector(
      new arrow.TimestampMicrosecond("UTC"),
      records.map((r) => r.time),
      (n) => new BigInt64Array(n),
      (ms) => BigInt(Math.trunc(ms * 1000)),
    ),
    date: strings((r) => dayOf(r.time)),
    request_id: strings((r) => r.requestId),
    recipient: strings((r) => r.recipient),
    recipient_id: strings((r) => r.recipientId),
    operation: strings((r) => r.operation),
    method: strings((r) => r.method),
    share: strings((r) => r.share),
    schema: strings((r) => r.schema),
    table: strings((r) => r.table),
    version: longs((r) => r.version),
    timestamp: strings((r) => r.timestamp),
    starting_version: longs((r) => r.startingVersion),
    ending_version: longs((r) => r.endingVersion),
    starting_timestamp: strings((r) => r.startingTimestamp),
    ending_timestamp: strings((r) => r.endingTimestamp),
    files: longs((r) => r.files),
    bytes: longs((r) => r.bytes),
    status: fixedVector(
      new arrow.Int32(),
      records.map((r) => r.status),
      (n) => new Int32Array(n),
      (v) => v,
    ),
    error_code: strings((r) => r.errorCode),
    client_address: strings((r) => r.clientAddress),
    user_agent: strings((r) => r.userAgent),
    duration_ms: longs((r) => r.durationMs),
  });
}

// Vectors are built from buffers directly: apache-arrow's builders (vectorFromArray) cost about
// ten times as much per value, and this runs on the server's event loop once a second.

function validity(values: ArrayLike<unknown>): { bitmap: Uint8Array | undefined; nulls: number } {
  let nulls = 0;
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null || values[i] === undefined) nulls++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { bitmap: nulls === 0 ? undefined : bitmap, nulls };
}

function utf8Vector(values: Array<string | null>): arrow.Vector<arrow.Utf8> {
  const { bitmap, nulls } = validity(values);
  const offsets = new Int32Array(values.length + 1);
  let size = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v) size += Buffer.byteLength(v, "utf8");
    offsets[i + 1] = size;
  }
  const data = Buffer.allocUnsafe(size);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v) data.write(v, offsets[i]!, "utf8");
  }
  return arrow.makeVector(
    arrow.makeData({
      type: new arrow.Utf8(),
      length: values.length,
      nullCount: nulls,
      nullBitmap: bitmap,
      valueOffsets: offsets,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    }),
  );
}

function fixedVector<T extends arrow.Int64 | arrow.Int32 | arrow.TimestampMicrosecond, V>(
  type: T,
  values: Array<number | null>,
  make: (n: number) => BigInt64Array | Int32Array,
  convert: (v: number) => V,
): arrow.Vector<T> {
  const { bitmap, nulls } = validity(values);
  const data = make(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) (data as unknown as V[])[i] = convert(v);
  }
  // makeData's overloads are per type; these three take the same props (a fixed-width buffer).
  const makeFixed = arrow.makeData as unknown as (props: {
    type: arrow.DataType;
    length: number;
    nullCount: number;
    nullBitmap: Uint8Array | undefined;
    data: BigInt64Array | Int32Array;
  }) => arrow.Data<T>;
  return arrow.makeVector(
    makeFixed({ type, length: values.length, nullCount: nulls, nullBitmap: bitmap, data }),
  );
}

export interface AccessFilter {
  share?: string;
  /** A recipient's id (rows keep both; the id survives a rename). */
  recipientId?: string;
  /** Only records at or after this time (ms). */
  since?: number;
  /** The newest this many records are returned. Default 1000. */
  limit?: number;
}

export interface AccessRows {
  /** Newest first, at most `limit`. */
  rows: Array<Record<string, unknown>>;
  /** How many records matched in all. */
  matched: number;
}

/** Reads the audit table, newest first; an audit table that does not exist yet has no records. */
export async function readAccessLog(location: string, filter: AccessFilter = {}): Promise<AccessRows> {
  let table: DeltaTable;
  try {
    table = await DeltaTable.open(location);
  } catch (error) {
    if (error instanceof NotFoundError) return { rows: [], matched: 0 };
    throw error;
  }
  const limit = filter.limit ?? 1000;
  const shareKey = filter.share?.toLowerCase();
  let kept: Array<Record<string, unknown>> = [];
  let matched = 0;
  const newestFirst = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    (b.time as number) - (a.time as number);
  for await (const batch of (await table.snapshot()).scanBatches()) {
    for (let i = 0; i < batch.numRows; i++) {
      const row = batch.get(i)!.toJSON() as Record<string, unknown>;
      const time = Number(row.time);
      if (filter.since !== undefined && time < filter.since) continue;
      if (shareKey !== undefined && (row.share as string | null)?.toLowerCase() !== shareKey) continue;
      if (filter.recipientId !== undefined && row.recipient_id !== filter.recipientId) continue;
      matched++;
      kept.push({ ...row, time });
      // Only the newest `limit` are kept, so memory stays bounded however long the log is.
      if (kept.length >= 2 * limit + 1000) kept = kept.sort(newestFirst).slice(0, limit);
    }
  }
  return { rows: kept.sort(newestFirst).slice(0, limit), matched };
}

/**
 * The time SHOW ACCESS … SINCE names: a duration back from `now` (`90s`, `15m`, `24h`, `7d`) or
 * an ISO 8601 date or time. Undefined when the text is neither.
 */
export function sinceTime(text: string, now: number): number | undefined {
  const duration = /^\s*(\d{1,9})\s*([smhd])\s*$/i.exec(text);
  if (duration) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: DAY_MS }[duration[2]!.toLowerCase() as "s"];
    return now - Number(duration[1]) * unit;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined;
  const ms = Date.parse(text.trim());
  return Number.isFinite(ms) ? ms : undefined;
}
