// Worker thread of the audit log: spools the batches it is sent and commits them to the audit
// table (audit-spool.ts), so that file writes, Parquet encoding and Delta commits never run on
// the server's event loop.
import { parentPort, workerData } from "node:worker_threads";
import { type PackedRecords, unpackRecords } from "./audit-pack.js";
import { AuditSpool } from "./audit-spool.js";
import { AuditTable } from "./audit-table.js";

export interface AuditRequest {
  id: number;
  /** The records, packed on the server's thread; the rows are built back here. */
  chunks: PackedRecords[];
  /** Commit the spooled records to the Delta table now (else when the segment is due). */
  commit: boolean;
}

export interface AuditReply {
  id: number;
  error?: string;
}

const { location, retentionDays, spoolDir, commitMs } = (workerData ?? {}) as {
  location: string;
  retentionDays?: number;
  spoolDir: string;
  commitMs: number;
};
const spool = new AuditSpool(new AuditTable(location, retentionDays), spoolDir, commitMs);

// One batch at a time, in order: a second arrives only after the first is answered.
parentPort?.on("message", async (request: AuditRequest) => {
  try {
    await spool.add(unpackRecords(request.chunks), request.commit);
    parentPort!.postMessage({ id: request.id } satisfies AuditReply);
  } catch (error) {
    parentPort!.postMessage({
      id: request.id,
      error: error instanceof Error ? error.message : String(error),
    } satisfies AuditReply);
  }
});
