// Reading a snapshot's rows: data files one at a time, deletion vectors applied, partition columns
// restored. `scanBatches` holds one data file in memory at a time; `readArrow` collects them.
import * as arrow from "apache-arrow";
import { ArcuateError } from "../errors.js";
import type { AddAction } from "./actions.js";
import { readDeletionVector } from "./deletion-vectors.js";
import { columnMappingMode } from "./features.js";
import { outputSchema, readParquetBatches } from "./parquet.js";
import { dataFileLocation } from "./scan-location.js";
import type { Snapshot } from "./snapshot.js";
import { checkTypeChanges } from "./type-widening.js";

export interface ScanOptions {
  /** Return at most this many rows. */
  limit?: number;
  /** Top-level columns to return, by logical name (default: all). */
  columns?: string[];
}

export async function* scanSnapshotBatches(
  snapshot: Snapshot,
  options: ScanOptions = {},
): AsyncGenerator<arrow.RecordBatch> {
  const mapping = columnMappingMode(snapshot.metadata);
  checkTypeChanges(snapshot.schema);
  let remaining = options.limit ?? Number.POSITIVE_INFINITY;
  if (remaining <= 0) return;
  const files = snapshot.files;
  // One data file at a time: its bytes are read, decoded, handed out, and dropped before the next.
  for (const file of files) {
    const loaded = await readFile(snapshot, file);
    const deletedRows = file.deletionVector
      ? await readDeletionVector(snapshot.storage, file.deletionVector)
      : undefined;
    const batches = readParquetBatches(loaded, snapshot.schema, file.partitionValues ?? {}, {
      columnMapping: mapping,
      partitionColumns: snapshot.partitionColumns,
      ...(options.columns ? { columns: options.columns } : {}),
      ...(Number.isFinite(remaining) && !deletedRows ? { limit: remaining } : {}),
      ...(deletedRows ? { deletedRows } : {}),
    });
    for (const batch of batches) {
      if (remaining <= 0) return;
      if (batch.numRows > remaining) {
        yield batch.slice(0, remaining);
        remaining = 0;
        return;
      }
      remaining -= batch.numRows;
      yield batch;
    }
    if (remaining <= 0) return;
  }
}

async function readFile(snapshot: Snapshot, file: AddAction): Promise<Uint8Array> {
  const { storage, path } = dataFileLocation(snapshot.storage, file.path);
  try {
    return await storage.read(path);
  } catch (error) {
    throw new ArcuateError(
      "CORRUPT_TABLE",
      `delta: data file ${file.path} of version ${snapshot.version} cannot be read: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

export async function readSnapshotArrow(snapshot: Snapshot, options: ScanOptions = {}): Promise<arrow.Table> {
  const schema = outputSchema(snapshot.schema, options.columns);
  const batches: arrow.RecordBatch[] = [];
  for await (const batch of scanSnapshotBatches(snapshot, options)) batches.push(batch);
  return new arrow.Table(schema, batches);
}
