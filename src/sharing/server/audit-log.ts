// The provider's audit log: one row per recipient request in a Delta table (by default `audit/`
// in the catalog's folder), so the provider reads it with SHOW ACCESS, SELECT through a share,
// delta-rs or the Python connector. Records are buffered and appended in batches, at most a
// second apart, off the request path: a crash loses at most the last second of records. A failed
// append never fails a request; it is logged and the batch is tried again with the next one
// (up to MAX_PENDING records, then the oldest are dropped, and that is logged too).
//
// Rows are partitioned by day (`date`, UTC), so that retention removes whole days' files in one
// commit without rewriting anything.
import * as arrow from "apache-arrow";
import type { AddAction } from "../../delta/actions.js";
import { DeltaTable, type StructType } from "../../delta/index.js";
import { commitPath } from "../../delta/log.js";
import { encodeActions } from "../../delta/writer.js";
import { ConflictError, isArcuateError, NotFoundError } from "../../errors.js";
import type { Logger } from "./http.js";

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

export interface AuditOptions {
  /** The audit Delta table's location (a folder, or an s3:// location). */
  location: string;
  /** Days of records kept; older days are removed. Default: kept for ever. */
  retentionDays?: number;
  /** Longest wait before buffered records are appended. Default 1000 ms (the most a crash loses). */
  flushMs?: number;
}

const MAX_PENDING = 100_000;
/** A batch is appended at once when it holds this many records, whatever the timer. */
const BATCH_RECORDS = 5_000;
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

export class AuditLog {
  readonly location: string;
  private pending: AccessRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private table: DeltaTable | undefined;
  private lastRetention = 0;
  private readonly flushMs: number;

  constructor(
    private readonly options: AuditOptions,
    private readonly log: Logger,
  ) {
    this.location = options.location;
    this.flushMs = Math.max(1, Math.min(options.flushMs ?? 1000, 1000));
  }

  /** Queues a record; it is in the table within `flushMs`. Never throws. */
  record(record: AccessRecord): void {
    if (this.pending.length >= MAX_PENDING) {
      const dropped = this.pending.splice(0, BATCH_RECORDS);
      this.log(
        `audit: ${dropped.length} records dropped: ${MAX_PENDING} are waiting for ${this.location}, which cannot be written`,
      );
    }
    this.pending.push(record);
    if (this.pending.length >= BATCH_RECORDS) this.kick(0);
    else this.kick(this.flushMs);
  }

  /** Appends everything queued so far (tests and shutdown). Never throws; failures are logged. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    this.flushing = this.append().finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private kick(delay: number): void {
    if (this.timer && delay > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
    // A pending audit batch must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  private async append(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const table = await this.open();
      await table.write(recordsTable(batch), { mode: "append", commitInfo: { operation: "WRITE" } });
      await this.applyRetention(table);
    } catch (error) {
      this.log(
        `audit: could not append ${batch.length} records to ${this.location}: ${error instanceof Error ? error.message : String(error)} (kept; tried again with the next batch)`,
      );
      this.pending = batch.concat(this.pending);
      if (this.pending.length > 0) this.kick(this.flushMs);
    }
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
    const days = this.options.retentionDays;
    if (days === undefined) return;
    const now = Date.now();
    if (now - this.lastRetention < 3_600_000) return;
    this.lastRetention = now;
    await removeDaysBefore(table, dayOf(now - days * DAY_MS));
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
  const utf8 = new arrow.Utf8();
  const int64 = new arrow.Int64();
  const strings = (pick: (r: AccessRecord) => string | null) =>
    arrow.vectorFromArray(
      records.map((r) => pick(r)),
      utf8,
    );
  const longs = (pick: (r: AccessRecord) => number | null) =>
    arrow.vectorFromArray(
      records.map((r) => {
        const v = pick(r);
        return v === null ? null : BigInt(Math.trunc(v));
      }),
      int64,
    );
  return new arrow.Table({
    time: arrow.vectorFromArray(
      records.map((r) => r.time),
      new arrow.TimestampMicrosecond("UTC"),
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
    status: arrow.vectorFromArray(
      records.map((r) => r.status),
      new arrow.Int32(),
    ),
    error_code: strings((r) => r.errorCode),
    client_address: strings((r) => r.clientAddress),
    user_agent: strings((r) => r.userAgent),
    duration_ms: longs((r) => r.durationMs),
  });
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
