// A small pool of worker threads that decode data files (decode-worker.ts), shared by every client
// in the process and started on first use. Workers are unref'd: an idle pool never keeps the
// process alive. When workers cannot start (an environment without worker_threads support for
// this file), callers decode on the main thread instead.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import * as arrow from "apache-arrow";
import type { ReadFileOptions, StructType } from "../../delta/index.js";
import { ArcuateError, ERROR_STATUS, type ErrorCode } from "../../errors.js";
import type { DecodeReply, DecodeRequest } from "./decode-worker.js";

interface Pending {
  resolve: (batches: arrow.RecordBatch[]) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: number;
}

export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private broken: Error | undefined;

  constructor(size: number) {
    // Run from TypeScript sources (tsx, vitest): the worker needs tsx's loader to import .ts files.
    const fromSource = import.meta.url.endsWith(".ts");
    const url = new URL(fromSource ? "./decode-worker.ts" : "./decode-worker.js", import.meta.url);
    for (let i = 0; i < size; i++) {
      const worker = new Worker(url, fromSource ? { execArgv: ["--import", "tsx"] } : {});
      worker.unref();
      const slot: Slot = { worker, busy: 0 };
      worker.on("message", (reply: DecodeReply) => this.settle(slot, reply));
      worker.on("error", (error) => this.fail(error));
      worker.on("exit", (code) => {
        if (code !== 0) this.fail(new Error(`decode worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  /** Decodes one data file in a worker; the batches come back in `schema`. */
  decode(
    bytes: Uint8Array,
    schema: StructType,
    partitionValues: Record<string, string | null>,
    options: ReadFileOptions,
  ): Promise<arrow.RecordBatch[]> {
    if (this.broken) return Promise.reject(this.broken);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    // While work is pending the worker must keep the process alive; idle, it must not.
    if (slot.busy === 1) slot.worker.ref();
    return new Promise<arrow.RecordBatch[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: DecodeRequest = { id, bytes, schema, partitionValues, options };
      // Copied, not transferred (a memcpy, cheap next to decoding): the caller keeps its bytes, so
      // it can still decode them itself if the pool breaks.
      slot.worker.postMessage(request);
    });
  }

  private settle(slot: Slot, reply: DecodeReply): void {
    slot.busy--;
    if (slot.busy === 0) slot.worker.unref();
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if ("ipc" in reply) {
      pending.resolve(arrow.tableFromIPC(reply.ipc).batches);
    } else {
      const code: ErrorCode =
        reply.code && reply.code in ERROR_STATUS ? (reply.code as ErrorCode) : "CORRUPT_TABLE";
      pending.reject(new ArcuateError(code, reply.error));
    }
  }

  private fail(error: Error): void {
    this.broken ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  get failed(): boolean {
    return this.broken !== undefined;
  }
}

let shared: DecodePool | undefined;

/** The process-wide pool, or undefined when decoding on the main thread is asked or needed. */
export function decodePool(workers: number | undefined): DecodePool | undefined {
  const size = workers ?? Math.min(4, availableParallelism());
  if (size <= 0) return undefined;
  if (shared?.failed) return undefined;
  shared ??= new DecodePool(size);
  return shared;
}
