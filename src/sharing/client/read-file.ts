// The seam between the sharing client and arcuate's Delta reader: downloaded Parquet bytes become
// Arrow record batches in the table's schema through `src/delta`, so a shared table reads exactly
// as the same table read from disk (column mapping, timestamp units, partition values).

import type * as arrow from "apache-arrow";
import {
  deltaSchemaToArrow,
  parseSchemaString,
  type ReadFileOptions,
  readParquetFile,
  type StructType,
} from "../../delta/index.js";
import { ArcuateError } from "../../errors.js";
import type { DecodePool } from "./decode-pool.js";
import type { SharedMetadata } from "./response.js";

/**
 * Delta reader features this client honours in the `delta` response format. Features of the log
 * alone (checkpoints, vacuum) are the server's business; column mapping, timestamp_ntz and type
 * widening are handled by the Delta reader; deletion vectors are downloaded from their own
 * pre-signed URLs (download.ts) and applied by the Delta reader.
 */
export const CLIENT_READER_FEATURES: readonly string[] = [
  "columnMapping",
  "deletionVectors",
  "timestampNtz",
  "typeWidening",
  "typeWidening-preview",
  "v2Checkpoint",
  "vacuumProtocolCheck",
  // variants decode to JSON text, as src/delta reads them (docs/delta.md)
  "variantType",
  "variantType-preview",
];

/** How to read the data files of one table: its schema and column mapping. */
export interface FileLayout {
  schema: StructType;
  arrowSchema: arrow.Schema;
  partitionColumns: string[];
  columnMapping: "none" | "name" | "id";
}

export function fileLayout(metadata: SharedMetadata): FileLayout {
  const schema = parseSchemaString(metadata.schemaString);
  const mode = metadata.configuration["delta.columnMapping.mode"] ?? "none";
  if (mode !== "none" && mode !== "name" && mode !== "id") {
    throw new ArcuateError("UNSUPPORTED_FEATURE", `sharing: unsupported column mapping mode '${mode}'`);
  }
  return {
    schema,
    arrowSchema: deltaSchemaToArrow(schema),
    partitionColumns: metadata.partitionColumns,
    columnMapping: mode,
  };
}

/** One downloaded data file → record batches in `schema` (which may extend the table's schema). */
export async function readDataFile(
  bytes: Uint8Array,
  layout: FileLayout,
  schema: StructType,
  partitionValues: Record<string, string | null>,
  limit?: number,
  pool?: DecodePool,
  deletedRows?: number[],
): Promise<arrow.RecordBatch[]> {
  const options: ReadFileOptions = {
    columnMapping: layout.columnMapping,
    partitionColumns: layout.partitionColumns,
  };
  if (limit !== undefined) options.limit = limit;
  if (deletedRows !== undefined && deletedRows.length > 0) options.deletedRows = deletedRows;
  if (pool && !pool.failed) {
    const size = bytes.byteLength;
    try {
      return await pool.decode(bytes, schema, partitionValues, options);
    } catch (error) {
      // A data error is the answer; a broken pool (a worker that could not start) is not, unless
      // the bytes went to the worker that broke (the pool moves them to a worker that answered).
      if (error instanceof ArcuateError || !pool.failed || bytes.byteLength !== size) throw error;
    }
  }
  return (await readParquetFile(bytes, schema, partitionValues, options)).batches;
}
