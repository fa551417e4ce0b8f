// A snapshot: the frozen state of a table at one version. Cheap to hold; data files are read
// only when asked (readArrow, scanBatches).
import type * as arrow from "apache-arrow";
import type { AddAction, MetadataAction, ProtocolAction, TxnAction } from "./actions.js";
import { checkReadable, columnMappingMode } from "./features.js";
import type { TableState } from "./replay.js";
import { readSnapshotArrow, type ScanOptions, scanSnapshotBatches } from "./scan.js";
import { parseSchemaString, type StructType } from "./schema.js";
import type { Storage } from "./storage.js";

export class Snapshot {
  readonly version: number;
  /** Commit timestamp (ms). */
  readonly timestamp: number;
  readonly protocol: ProtocolAction;
  readonly metadata: MetadataAction;
  /** Logical schema (parsed schemaString). */
  readonly schema: StructType;
  /** Active files, paths as written in the log (relative to the table, URL-encoded). */
  readonly files: AddAction[];
  /** Latest application transaction per appId (`txn` actions). */
  readonly txns: TxnAction[];
  readonly storage: Storage;

  constructor(storage: Storage, state: TableState) {
    checkReadable(state.protocol);
    this.storage = storage;
    this.version = state.version;
    this.timestamp = state.timestamp;
    this.protocol = state.protocol;
    this.metadata = state.metadata;
    this.schema = parseSchemaString(state.metadata.schemaString);
    columnMappingMode(state.metadata);
    this.files = state.files;
    this.txns = state.txns;
  }

  /** The last version an application recorded with `write(…, { txn })`, or undefined. */
  transactionVersion(appId: string): number | undefined {
    return this.txns.find((t) => t.appId === appId)?.version;
  }

  get partitionColumns(): string[] {
    return this.metadata.partitionColumns ?? [];
  }

  /** Number of rows, from file stats when every file has them. */
  get numRecords(): number | undefined {
    let total = 0;
    for (const f of this.files) {
      if (!f.stats) return undefined;
      const n = (JSON.parse(f.stats) as { numRecords?: number }).numRecords;
      if (typeof n !== "number") return undefined;
      total += n;
    }
    return total;
  }

  /** All rows of the snapshot as one Arrow table, partition columns restored. */
  readArrow(options: ScanOptions = {}): Promise<arrow.Table> {
    return readSnapshotArrow(this, options);
  }

  /** The rows file by file, one data file in memory at a time. */
  scanBatches(options: ScanOptions = {}): AsyncIterable<arrow.RecordBatch> {
    return scanSnapshotBatches(this, options);
  }
}
