// Rows of the arcuate tables, shared by every asset kind: records (plain objects keyed by column
// name) into record batches of a kind's schema and back, appends that commit nothing when there
// is nothing new, small index tables rewritten only when a record changed, and "the latest copy
// of each row" (a row changed at the provider is appended again under a later export_seq).
//
// Only types come from tables.ts, source.ts and format.ts: format.ts assembles its schemas from
// the asset modules, so a value import back into it would be a cycle.
import type { RecordBatch, Schema } from "apache-arrow";
import { buildBatch, columnValues } from "../columns.js";
import type { TableName } from "../format.js";
import type { ExportSource } from "../source.js";
import type { ExportTable } from "../tables.js";

export type Row = Record<string, unknown>;

/** The records as one batch of `schema`; every row gets export sequence number `seq`. */
export function rowsToBatch(schema: Schema, rows: readonly Row[], seq: number): RecordBatch {
  const columns: Record<string, unknown[]> = {};
  for (const field of schema.fields)
    columns[field.name] =
      field.name === "export_seq" ? rows.map(() => seq) : rows.map((r) => r[field.name] ?? null);
  return buildBatch(schema, columns);
}

/** The rows of record batches as plain records (for the small index tables only). */
export function rowsOf(batches: Iterable<RecordBatch>): Row[] {
  const rows: Row[] = [];
  for (const batch of batches) {
    const names = batch.schema.fields.map((f) => f.name);
    const columns = names.map((name) => columnValues(batch, name));
    for (let i = 0; i < batch.numRows; i++)
      rows.push(Object.fromEntries(names.map((name, c) => [name, columns[c]![i]])));
  }
  return rows;
}

export async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}

/** Appends the batches as one commit, or commits nothing when there are none. */
export async function appendAll(
  table: ExportTable,
  batches: AsyncIterable<RecordBatch>,
  seq: number,
): Promise<void> {
  const iterator = batches[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  async function* rest(): AsyncGenerator<RecordBatch> {
    yield first.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  await table.write(rest(), "append", seq);
}

/**
 * Overwrites a small index table with `records` when one of them changed (by record_sha256), one
 * went away, the table is new, or `always`; says how many changed and how many went away.
 */
export async function replaceIfChanged(
  table: ExportTable,
  schema: Schema,
  key: string,
  records: readonly Row[],
  seq: number,
  always = false,
): Promise<{ changed: number; removed: number }> {
  const previous = new Map<string, string>();
  let exists = false;
  for await (const batch of table.scan([key, "record_sha256"])) {
    exists = true;
    const keys = columnValues(batch, key);
    const shas = columnValues(batch, "record_sha256");
    for (let i = 0; i < keys.length; i++) previous.set(String(keys[i]), String(shas[i]));
  }
  const current = new Set(records.map((r) => String(r[key])));
  const changed = records.filter((r) => previous.get(String(r[key])) !== r.record_sha256).length;
  const removed = [...previous.keys()].filter((k) => !current.has(k)).length;
  if (exists && changed === 0 && removed === 0 && !always) return { changed, removed };
  if (!exists && records.length === 0) {
    await table.create(seq);
    return { changed: 0, removed: 0 };
  }
  await table.write(once(rowsToBatch(schema, records, seq)), "overwrite", seq);
  return { changed, removed };
}

/** key → record_sha256 of the latest copy (highest export_seq) of each row of an exported table. */
export async function latestShas(table: ExportTable, key: string): Promise<Map<string, string>> {
  const latest = new Map<string, { seq: number; sha: string }>();
  for await (const batch of table.scan([key, "record_sha256", "export_seq"])) {
    const keys = columnValues(batch, key);
    const shas = columnValues(batch, "record_sha256");
    const seqs = columnValues(batch, "export_seq");
    for (let i = 0; i < keys.length; i++) {
      const k = String(keys[i]);
      const seq = Number(seqs[i]);
      if ((latest.get(k)?.seq ?? -1) <= seq) latest.set(k, { seq, sha: String(shas[i]) });
    }
  }
  return new Map([...latest].map(([k, v]) => [k, v.sha]));
}

/** The latest copy of each row of a shared table, keyed by `key`. */
export async function latestRows(
  source: ExportSource,
  table: TableName,
  key: string,
): Promise<Map<string, Row>> {
  const latest = new Map<string, Row>();
  for await (const batch of source.batches(table)) {
    for (const row of rowsOf([batch])) {
      const k = String(row[key]);
      const previous = latest.get(k);
      if (!previous || Number(previous.export_seq) <= Number(row.export_seq)) latest.set(k, row);
    }
  }
  return latest;
}

/** The rows of `table` written by exports up to `maxSeq` (the anchor's), batch by batch. */
export async function* upToSeq(
  source: ExportSource,
  table: TableName,
  maxSeq: number,
): AsyncGenerator<RecordBatch> {
  for await (const batch of source.batches(table)) {
    const seqs = batch.getChild("export_seq")!;
    let keep = true;
    for (let i = 0; i < batch.numRows && keep; i++) keep = Number(seqs.get(i)) <= maxSeq;
    if (keep) {
      yield batch;
      continue;
    }
    const indexes: number[] = [];
    for (let i = 0; i < batch.numRows; i++) if (Number(seqs.get(i)) <= maxSeq) indexes.push(i);
    if (indexes.length === 0) continue;
    // Rare (time travel to an older export): rebuild the kept rows by slicing contiguous runs.
    let start = indexes[0]!;
    for (let k = 1; k <= indexes.length; k++) {
      if (k === indexes.length || indexes[k] !== indexes[k - 1]! + 1) {
        yield batch.slice(start, indexes[k - 1]! + 1);
        if (k < indexes.length) start = indexes[k]!;
      }
    }
  }
}

/** Groups rows by one of their columns, keeping their order. */
export function groupBy(rows: Iterable<Row>, column: string): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = String(row[column]);
    const list = groups.get(key);
    if (list) list.push(row);
    else groups.set(key, [row]);
  }
  return groups;
}
