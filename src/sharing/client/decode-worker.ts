// Worker thread of the decode pool: Parquet bytes → the Delta module's readParquetFile → the
// Arrow buffers themselves, handed back by transfer (no copy, no re-encoding). Decoding is the
// CPU-heavy part of a load; in workers it runs beside the downloads and the main thread instead of
// after them.
import { parentPort } from "node:worker_threads";
import { type ReadFileOptions, readParquetFile, type StructType } from "../../delta/index.js";
import { toWire, type WireBatch } from "./wire.js";

export interface DecodeRequest {
  id: number;
  bytes: Uint8Array;
  schema: StructType;
  partitionValues: Record<string, string | null>;
  options: ReadFileOptions;
}

export type DecodeReply = { id: number; batches: WireBatch[] } | { id: number; error: string; code?: string };

parentPort?.on("message", async (request: DecodeRequest) => {
  try {
    const table = await readParquetFile(
      request.bytes,
      request.schema,
      request.partitionValues,
      request.options,
    );
    const transfer = new Set<ArrayBuffer>();
    const wire = table.batches.map((batch) => toWire(batch.data, transfer));
    parentPort!.postMessage({ id: request.id, batches: wire } satisfies DecodeReply, [...transfer]);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    parentPort!.postMessage({
      id: request.id,
      error: error instanceof Error ? error.message : String(error),
      ...(typeof code === "string" ? { code } : {}),
    } satisfies DecodeReply);
  }
});
