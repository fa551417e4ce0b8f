// Streams the traces module moves rows through, so that neither export nor import holds a whole
// table: a bounded channel (a producer hands record batches to a table writer that is already
// writing, and waits while the writer is behind) and a keyed read-ahead over a table's rows (the
// import takes the rows of one trace at a time from a table written in the same trace order as
// the spans, buffering only what it read ahead of the trace it wants).
import type { RecordBatch } from "apache-arrow";
import { columnValues } from "../../columns.js";
import type { Row } from "../rows.js";

/** An async iterable fed by `push`, holding at most `capacity` items; `close` ends it. */
export class Channel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private closed = false;
  private failure: { error: unknown } | undefined;
  private wakeReader: (() => void) | undefined;
  private wakeWriters: Array<() => void> = [];

  constructor(private readonly capacity: number) {}

  /** Waits while the channel is full. */
  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && !this.closed)
      await new Promise<void>((resolve) => this.wakeWriters.push(resolve));
    if (this.failure) throw this.failure.error;
    if (this.closed) throw new Error("traces: a channel was written after it was closed");
    this.items.push(item);
    this.wake();
  }

  /** Ends the stream; with an error, the reader gets it instead of the end (and commits nothing). */
  close(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    if (error !== undefined) this.failure = { error };
    this.wake();
    for (const wake of this.wakeWriters.splice(0)) wake();
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.failure) throw this.failure.error;
      const item = this.items.shift();
      if (item !== undefined) {
        this.wakeWriters.shift()?.();
        yield item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.wakeReader = resolve;
      });
    }
  }
}

/**
 * Rows converted to plain records at a time. A data file decodes to one record batch (a spans
 * file of 8 MiB is some 15,000 rows), and its rows as JS objects take several times its Arrow
 * size: converting it in slices keeps that to a slice's worth.
 */
const ROWS_PER_SLICE = 1_000;

/** Record batches cut into zero-copy slices of at most {@link ROWS_PER_SLICE} rows. */
export async function* sliced(batches: AsyncIterable<RecordBatch>): AsyncGenerator<RecordBatch> {
  for await (const batch of batches) {
    if (batch.numRows <= ROWS_PER_SLICE) yield batch;
    else
      for (let start = 0; start < batch.numRows; start += ROWS_PER_SLICE)
        yield batch.slice(start, start + ROWS_PER_SLICE);
  }
}

/** The rows of record batches one by one, as plain records (one slice converted at a time). */
export async function* rowsOfBatches(batches: AsyncIterable<RecordBatch>): AsyncGenerator<Row> {
  for await (const batch of sliced(batches)) {
    const names = batch.schema.fields.map((f) => f.name);
    const columns = names.map((name) => columnValues(batch, name));
    for (let i = 0; i < batch.numRows; i++) {
      const row: Row = {};
      for (let c = 0; c < names.length; c++) row[names[c]!] = columns[c]![i];
      yield row;
    }
  }
}

/**
 * Hands out the rows of one key at a time from a stream of rows, reading ahead only as far as
 * it must: when the stream is in the order the keys are asked for, it holds the rows of one key.
 * Rows that `keep` rejects (older copies) are dropped as they are read; a key has `expected(key)`
 * rows kept, and once that many are buffered `take` returns without reading further.
 */
export class KeyedReader {
  private readonly buffered = new Map<string, Row[]>();
  private readonly rows: AsyncIterator<Row>;
  private done = false;

  constructor(
    rows: AsyncIterable<Row>,
    private readonly key: string,
    private readonly expected: (key: string) => number,
    private readonly keep: (row: Row) => boolean,
  ) {
    this.rows = rows[Symbol.asyncIterator]();
  }

  /** The kept rows of `key` (fewer than expected only when the stream ended first). */
  async take(key: string): Promise<Row[]> {
    const want = this.expected(key);
    while (!this.done && (this.buffered.get(key)?.length ?? 0) < want) {
      const next = await this.rows.next();
      if (next.done) {
        this.done = true;
        break;
      }
      const row = next.value;
      if (!this.keep(row)) continue;
      const k = String(row[this.key]);
      const list = this.buffered.get(k);
      if (list) list.push(row);
      else this.buffered.set(k, [row]);
    }
    const rows = this.buffered.get(key) ?? [];
    this.buffered.delete(key);
    return rows;
  }

  /** Stops reading (the stream's source is closed). */
  async close(): Promise<void> {
    if (!this.done) await this.rows.return?.();
    this.done = true;
  }
}
