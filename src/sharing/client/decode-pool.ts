// A small pool of worker threads that decode data files (decode-worker.ts), shared by every client
// in the process; each worker starts when work finds the others busy. Workers are unref'd while
// idle: an idle pool never keeps the process alive. When workers cannot start (an environment
// without worker_threads support for this file), callers decode on the main thread instead.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type * as arrow from "apache-arrow";
import { deltaSchemaToArrow, type ReadFileOptions, type StructType } from "../../delta/index.js";
import { ArcuateError, ERROR_STATUS, type ErrorCode } from "../../errors.js";
import type { DecodeReply, DecodeRequest } from "./decode-worker.js";
import { batchFromWire } from "./wire.js";

interface Pending {
  schema: StructType;
  resolve: (batches: arrow.RecordBatch[]) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: number;
  /** The worker has answered once: it started, so it may be handed the caller's bytes. */
  answered: boolean;
}

export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly size: number;
  private readonly url: URL;
  private nextId = 0;
  private broken: Error | undefined;

  /** Up to `size` workers, each started when work finds every started one busy. */
  constructor(size: number) {
    this.size = Math.max(1, size);
    // Run from TypeScript sources (tsx, vitest): the worker needs tsx's loader to import .ts files.
    const fromSource = import.meta.url.endsWith(".ts");
    this.url = new URL(fromSource ? "./decode-worker-source.mjs" : "./decode-worker.js", import.meta.url);
  }

  /** Workers started so far. */
  get started(): number {
    return this.slots.length;
  }

  private startWorker(): Slot {
    const worker = new Worker(this.url);
    const slot: Slot = { worker, busy: 0, answered: false };
    worker.on("message", (reply: DecodeReply) => this.settle(slot, reply));
    worker.on("error", (error) => this.fail(error));
    worker.on("exit", (code) => {
      if (code !== 0) this.fail(new Error(`decode worker exited with code ${code}`));
    });
    // Only after the listeners: adding a "message" listener refs the worker's port again
    // (nodejs/node#53036), and a ref'd idle port kept every command that read a share alive.
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private pickSlot(): Slot {
    const idle = this.slots.find((slot) => slot.busy === 0);
    if (idle) return idle;
    // Starting a worker costs more CPU than decoding a small file: start one only when needed.
    if (this.slots.length < this.size) return this.startWorker();
    return this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  /** Decodes one data file in a worker; the batches come back in `schema`. */
  decode(
    bytes: Uint8Array,
    schema: StructType,
    partitionValues: Record<string, string | null>,
    options: ReadFileOptions,
  ): Promise<arrow.RecordBatch[]> {
    if (this.broken) return Promise.reject(this.broken);
    const slot = this.pickSlot();
    const id = this.nextId++;
    slot.busy++;
    // While work is pending the worker must keep the process alive; idle, it must not.
    if (slot.busy === 1) slot.worker.ref();
    return new Promise<arrow.RecordBatch[]>((resolve, reject) => {
      this.pending.set(id, { schema, resolve, reject });
      const request: DecodeRequest = { id, bytes, schema, partitionValues, options };
      // Moved, not copied, to a worker that has answered before. Until then they are copied: a
      // worker that cannot start breaks the pool, and the caller decodes its bytes itself.
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      const move = slot.answered && whole && bytes.buffer instanceof ArrayBuffer;
      slot.worker.postMessage(request, move ? [bytes.buffer as ArrayBuffer] : []);
    });
  }

  private settle(slot: Slot, reply: DecodeReply): void {
    slot.answered = true;
    slot.busy--;
    if (slot.busy === 0) slot.worker.unref();
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if ("batches" in reply) {
      // The worker's batches are in `schema`, column for column (readParquetFile's output schema).
      const arrowSchema = deltaSchemaToArrow(pending.schema);
      pending.resolve(reply.batches.map((batch) => batchFromWire(arrowSchema, batch)));
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
