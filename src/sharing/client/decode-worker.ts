// Worker thread of the decode pool: Parquet bytes → the Delta module's readParquetFile → Arrow IPC
// bytes, handed back by transfer (no copy). Decoding is the CPU-heavy part of a load; in workers it
// runs beside the downloads and the main thread instead of after them.
import { parentPort } from "node:worker_threads";
import * as arrow from "apache-arrow";
import { type ReadFileOptions, readParquetFile, type StructType } from "../../delta/index.js";

export interface DecodeRequest {
  id: number;
  bytes: Uint8Array;
  schema: StructType;
  partitionValues: Record<string, string | null>;
  options: ReadFileOptions;
}

export type DecodeReply = { id: number; ipc: Uint8Array } | { id: number; error: string; code?: string };

parentPort?.on("message", async (request: DecodeRequest) => {
  try {
    const table = await readParquetFile(
      request.bytes,
      request.schema,
      request.partitionValues,
      request.options,
    );
    const ipc = arrow.tableToIPC(table, "stream");
    parentPort!.postMessage({ id: request.id, ipc } satisfies DecodeReply, [ipc.buffer as ArrayBuffer]);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    parentPort!.postMessage({
      id: request.id,
      error: error instanceof Error ? error.message : String(error),
      ...(typeof code === "string" ? { code } : {}),
    } satisfies DecodeReply);
  }
});
