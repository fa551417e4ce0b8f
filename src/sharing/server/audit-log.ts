// The provider's audit log: one row per recipient request in a Delta table (audit-table.ts; by
// default `audit/` in the catalog's folder), so the provider reads it with SHOW ACCESS, SELECT
// through a share, delta-rs or the Python connector. Records are buffered and appended in
// batches, at most a second apart, by a worker thread: the server's event loop only packs them
// into typed arrays (audit-pack.ts) and posts them, so the log costs the request path next to nothing. A crash loses at most the last second of
// records. A failed append never fails a request; it is logged and the batch is tried again with
// the next one (up to MAX_PENDING records, then the oldest are dropped, and that is logged too).
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { isS3Location } from "../../delta/index.js";
import { type PackedRecords, RecordPacker, unpackRecords } from "./audit-pack.js";
import { type AccessRecord, AuditTable } from "./audit-table.js";
import type { AuditReply, AuditRequest } from "./audit-worker.js";
import type { Logger } from "./http.js";

export type { AccessRecord } from "./audit-table.js";

export interface AuditOptions {
  /** The audit Delta table's location (a folder, or an s3:// location). */
  location: string;
  /** Days of records kept; older days are removed. Default: kept for ever. */
  retentionDays?: number;
  /** Longest wait before buffered records are appended. Default 1000 ms (the most a crash loses). */
  flushMs?: number;
  /** How often spooled records are committed to the Delta table as one file. Default 60 s. */
  commitMs?: number;
  /** Where records wait for their commit. Default: `.<name>-spool` beside a local table, else in the temp folder. */
  spoolDir?: string;
  /** Commit every batch on the calling thread, without worker or spool (tests of the table itself). */
  inProcess?: boolean;
}

const MAX_PENDING = 100_000;
/**
 * Records per packed chunk; a chunk is handed to the worker as soon as it is full, whatever the
 * timer, so that no single post (and no stall of the event loop) grows with the request rate.
 */
const CHUNK_RECORDS = 512;

/** Where batches go: a worker thread, or (when none can start) this thread. */
interface Appender {
  /** `commit`: into the Delta table now (the spool may hold records longer otherwise). */
  append(chunks: PackedRecords[], commit: boolean): Promise<void>;
  close(): Promise<void>;
}

/** Appends on this thread, to the table itself. */
function tableAppender(table: AuditTable): Appender {
  return {
    append: (chunks) => table.append(unpackRecords(chunks)),
    close: () => table.close(),
  };
}

export class AuditLog {
  readonly location: string;
  /** Full chunks waiting for the worker, oldest first, and the chunk being filled. */
  private pending: PackedRecords[] = [];
  private pendingRecords = 0;
  private packer = new RecordPacker(CHUNK_RECORDS);
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private appender: Appender | undefined;
  private readonly flushMs: number;
  private readonly commitMs: number;
  private uncommitted = false;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: AuditOptions,
    private readonly log: Logger,
  ) {
    this.location = options.location;
    this.flushMs = Math.max(1, Math.min(options.flushMs ?? 1000, 1000));
    this.commitMs = Math.max(this.flushMs, options.commitMs ?? 60_000);
  }

  /** Queues a record; it is in the table within `flushMs`. Never throws. */
  record(record: AccessRecord): void {
    if (this.pendingRecords >= MAX_PENDING) {
      const dropped = this.pending.shift()!;
      this.pendingRecords -= dropped.count;
      this.log(
        `audit: ${dropped.count} records dropped: ${MAX_PENDING} are waiting for ${this.location}, which cannot be written`,
      );
    }
    this.packer.add(record);
    if (this.packer.full) {
      this.seal();
      this.kick(0);
    } else this.kick(this.flushMs);
  }

  /** Moves the chunk being filled to the pending ones. */
  private seal(): void {
    if (this.packer.count === 0) return;
    this.pendingRecords += this.packer.count;
    this.pending.push(this.packer.take());
  }

  /** Commits everything queued so far to the Delta table (tests and shutdown). Never throws; failures are logged. */
  flush(): Promise<void> {
    return this.send(true);
  }

  /** Hands the queued records to the spool (`commit`: and commits them). */
  private async send(commit: boolean): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    this.seal();
    if (this.pending.length === 0 && !(commit && this.uncommitted)) return;
    this.flushing = this.append(commit).finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }

  async close(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.appender?.close();
    this.appender = undefined;
  }

  private kick(delay: number): void {
    if (this.timer && delay > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.send(false);
    }, delay);
    // A pending audit batch must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  private async append(commit: boolean): Promise<void> {
    const batch = this.pending;
    const count = this.pendingRecords;
    this.pending = [];
    this.pendingRecords = 0;
    try {
      await this.writer().append(batch, commit);
      this.uncommitted = !commit;
      // Records spooled and then no more traffic: commit them when the commit interval has passed.
      if (this.idle) clearTimeout(this.idle);
      if (this.uncommitted) {
        this.idle = setTimeout(() => void this.send(true), this.commitMs);
        this.idle.unref();
      }
    } catch (error) {
      this.log(
        `audit: could not append ${count} records to ${this.location}: ${error instanceof Error ? error.message : String(error)} (kept; tried again with the next batch)`,
      );
      this.pending = batch.concat(this.pending);
      this.pendingRecords += count;
      if (this.pending.length > 0) this.kick(this.flushMs);
    }
  }

  private writer(): Appender {
    if (this.appender instanceof WorkerAppender && this.appender.failed) {
      this.log("audit: the audit worker stopped; appending on the server's thread from now on");
      this.appender = tableAppender(new AuditTable(this.location, this.options.retentionDays));
    }
    this.appender ??=
      this.options.inProcess === true
        ? tableAppender(new AuditTable(this.location, this.options.retentionDays))
        : new WorkerAppender({
            location: this.location,
            retentionDays: this.options.retentionDays,
            spoolDir: this.options.spoolDir ?? defaultSpoolDir(this.location),
            commitMs: this.commitMs,
          });
    return this.appender;
  }
}

class WorkerAppender implements Appender {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private broken: Error | undefined;

  constructor(data: {
    location: string;
    retentionDays: number | undefined;
    spoolDir: string;
    commitMs: number;
  }) {
    // From TypeScript sources (tsx, vitest) the worker needs tsx's loader (see decode-pool.ts).
    const fromSource = import.meta.url.endsWith(".ts");
    const url = new URL(fromSource ? "./audit-worker-source.mjs" : "./audit-worker.js", import.meta.url);
    this.worker = new Worker(url, { workerData: data });
    this.worker.on("message", (reply: AuditReply) => {
      const waiting = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) this.worker.unref();
      if (reply.error === undefined) waiting?.resolve();
      else waiting?.reject(new Error(reply.error));
    });
    const fail = (error: Error) => {
      this.broken ??= error;
      for (const w of this.waiting.values()) w.reject(error);
      this.waiting.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`the audit worker exited with code ${code}`)));
    this.worker.unref();
  }

  get failed(): boolean {
    return this.broken !== undefined;
  }

  append(chunks: PackedRecords[], commit: boolean): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    this.worker.ref();
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, chunks, commit } satisfies AuditRequest);
    });
  }

  async close(): Promise<void> {
    this.broken ??= new Error("the audit log is closed");
    await this.worker.terminate();
  }
}

/** `.audit-spool` beside a local `audit` table; for a table in a bucket, a folder in the temp folder. */
function defaultSpoolDir(location: string): string {
  if (isS3Location(location)) {
    const key = createHash("sha256").update(location).digest("hex").slice(0, 16);
    return join(tmpdir(), "arcuate-audit-spool", key);
  }
  const path = location.startsWith("file:") ? fileURLToPath(location) : resolve(location);
  return join(dirname(path), `.${basename(path)}-spool`);
}
