// Writing classic single-file checkpoints (PROTOCOL.md "Checkpoints"): the table state at a
// version as one Parquet file of actions, one action per row, in the column layout Spark and
// delta-rs read; then `_last_checkpoint` pointing at it. `remove` tombstones younger than the
// table's `delta.deletedFileRetentionDuration` are kept (PROTOCOL.md: a checkpoint holds the
// tombstones that have not expired), so a VACUUM after a checkpoint still knows which removed
// files a reader of a recent version may need; older ones are dropped, as Spark drops them.
import * as arrow from "apache-arrow";
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from "parquet-wasm/node";
import type { AddAction, MetadataAction, ProtocolAction, RemoveAction, TxnAction } from "./actions.js";
import { LOG_DIR, listLog, readLastCheckpoint } from "./log.js";
import { replay } from "./replay.js";
import { deletedFileRetentionMs } from "./retention.js";
import type { Storage } from "./storage.js";

const f = (name: string, type: arrow.DataType) => new arrow.Field(name, type, true);
const str = () => new arrow.Utf8();
const long = () => new arrow.Int64();
const stringMap = () =>
  new arrow.Map_(
    new arrow.Field(
      "key_value",
      new arrow.Struct<{ key: arrow.Utf8; value: arrow.Utf8 }>([
        new arrow.Field("key", str(), false),
        new arrow.Field("value", str(), true),
      ] as never),
      false,
    ),
    false,
  );
const stringList = () => new arrow.List(f("element", str()));

const CHECKPOINT_SCHEMA = new arrow.Schema([
  f("txn", new arrow.Struct([f("appId", str()), f("version", long()), f("lastUpdated", long())])),
  f(
    "add",
    new arrow.Struct([
      f("path", str()),
      f("partitionValues", stringMap()),
      f("size", long()),
      f("modificationTime", long()),
      f("dataChange", new arrow.Bool()),
      f("tags", stringMap()),
      f("stats", str()),
    ]),
  ),
  f(
    "remove",
    new arrow.Struct([
      f("path", str()),
      f("deletionTimestamp", long()),
      f("dataChange", new arrow.Bool()),
      f("extendedFileMetadata", new arrow.Bool()),
      f("partitionValues", stringMap()),
      f("size", long()),
    ]),
  ),
  f(
    "metaData",
    new arrow.Struct([
      f("id", str()),
      f("name", str()),
      f("description", str()),
      f("format", new arrow.Struct([f("provider", str()), f("options", stringMap())])),
      f("schemaString", str()),
      f("partitionColumns", stringList()),
      f("configuration", stringMap()),
      f("createdTime", long()),
    ]),
  ),
  f(
    "protocol",
    new arrow.Struct([
      f("minReaderVersion", new arrow.Int32()),
      f("minWriterVersion", new arrow.Int32()),
      f("readerFeatures", stringList()),
      f("writerFeatures", stringList()),
    ]),
  ),
]);

const big = (n: number | null | undefined) => (n === null || n === undefined ? null : BigInt(n));
const map = (o: Record<string, string | null> | null | undefined) => (o ? new Map(Object.entries(o)) : null);

function addRow(a: AddAction) {
  return {
    path: a.path,
    partitionValues: map(a.partitionValues ?? {}),
    size: big(a.size),
    modificationTime: big(a.modificationTime),
    dataChange: false,
    tags: map(a.tags),
    stats: a.stats ?? null,
  };
}

function removeRow(r: RemoveAction) {
  return {
    path: r.path,
    deletionTimestamp: big(r.deletionTimestamp ?? 0),
    dataChange: false,
    extendedFileMetadata: r.extendedFileMetadata ?? false,
    partitionValues: map(r.partitionValues ?? {}),
    size: big(r.size),
  };
}

function metaRow(m: MetadataAction) {
  return {
    id: m.id,
    name: m.name ?? null,
    description: m.description ?? null,
    format: { provider: m.format?.provider ?? "parquet", options: map(m.format?.options ?? {}) },
    schemaString: m.schemaString,
    partitionColumns: m.partitionColumns ?? [],
    configuration: map(m.configuration ?? {}),
    createdTime: big(m.createdTime),
  };
}

function protocolRow(p: ProtocolAction) {
  return {
    minReaderVersion: p.minReaderVersion,
    minWriterVersion: p.minWriterVersion,
    readerFeatures: p.minReaderVersion >= 3 ? (p.readerFeatures ?? []) : null,
    writerFeatures: p.minWriterVersion >= 7 ? (p.writerFeatures ?? []) : null,
  };
}

function txnRow(t: TxnAction) {
  return { appId: t.appId, version: big(t.version), lastUpdated: big(t.lastUpdated) };
}

/** Writes the checkpoint of `version` and points `_last_checkpoint` at it (unless a newer one is there). */
export async function writeCheckpoint(storage: Storage, version: number, now = Date.now()): Promise<void> {
  const state = await replay(storage, await listLog(storage), version);
  const cutoff = now - deletedFileRetentionMs(state.metadata);
  const tombstones = state.tombstones.filter((r) => (r.deletionTimestamp ?? 0) > cutoff);
  type Row = Record<string, unknown>;
  const rows: Row[] = [
    { protocol: protocolRow(state.protocol) },
    { metaData: metaRow(state.metadata) },
    ...state.txns.map((t) => ({ txn: txnRow(t) })),
    ...state.files.map((a) => ({ add: addRow(a) })),
    ...tombstones.map((r) => ({ remove: removeRow(r) })),
  ];
  const columns: Record<string, arrow.Vector> = {};
  for (const field of CHECKPOINT_SCHEMA.fields) {
    columns[field.name] = arrow.vectorFromArray(
      rows.map((r) => r[field.name] ?? null),
      field.type,
    );
  }
  const table = new arrow.Table(CHECKPOINT_SCHEMA, [
    new arrow.RecordBatch(
      CHECKPOINT_SCHEMA,
      arrow.makeData({
        type: new arrow.Struct(CHECKPOINT_SCHEMA.fields),
        length: rows.length,
        nullCount: 0,
        children: CHECKPOINT_SCHEMA.fields.map((fl) => columns[fl.name]!.data[0]!),
      }),
    ),
  ]);
  const props = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build();
  const bytes = writeParquet(WasmTable.fromIPCStream(arrow.tableToIPC(table, "stream")), props);
  const name = `${LOG_DIR}/${String(version).padStart(20, "0")}.checkpoint.parquet`;
  await storage.write(name, bytes);
  const last = await readLastCheckpoint(storage);
  if (last && last.version >= version) return;
  const pointer = {
    version,
    size: rows.length,
    sizeInBytes: bytes.length,
    numOfAddFiles: state.files.length,
  };
  await storage.write(`${LOG_DIR}/_last_checkpoint`, new TextEncoder().encode(JSON.stringify(pointer)));
}
