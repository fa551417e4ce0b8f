// Writing Delta tables: create (version 0), append and overwrite. Data files are written first,
// under new unique names; the commit is one create-if-absent of the next `_delta_log/N.json`, so a
// writer that dies before it leaves the table as it was, and of two writers racing for version N
// exactly one wins. The loser re-reads the log and tries N+1 (PROTOCOL.md "Optimistic concurrency"):
// an append adds its files to whatever won; an overwrite removes every file of the version it
// lost to, so the table afterwards holds exactly the overwrite's rows, as if it had come last.
import { randomUUID } from "node:crypto";
import * as arrow from "apache-arrow";
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from "parquet-wasm/node";
import { ArcuateError, ConflictError } from "../errors.js";
import type {
  Action,
  AddAction,
  CommitInfoAction,
  MetadataAction,
  ProtocolAction,
  RemoveAction,
} from "./actions.js";
import { writeCheckpoint } from "./checkpoint.js";
import { jsonValueAt } from "./json.js";
import { commitPath, listLog } from "./log.js";
import { conform, nullData } from "./parquet.js";
import { escapePartitionValue } from "./partitions.js";
import { replay } from "./replay.js";
import {
  arrowSchemaToDelta,
  arrowTypeToDelta,
  type DataType,
  deltaSchemaToArrow,
  type StructField,
  type StructType,
  schemaToString,
} from "./schema.js";
import { Snapshot } from "./snapshot.js";
import { computeStats } from "./stats.js";
import type { Storage } from "./storage.js";
import { takeData } from "./take.js";

export const ENGINE_INFO = "arcuate-delta/0.1";

export interface CreateTableOptions {
  /** The table's columns (a Delta schema, or an Arrow schema converted with arrowSchemaToDelta). */
  schema: StructType | arrow.Schema;
  partitionColumns?: string[];
  /** Table properties, e.g. `delta.enableChangeDataFeed`, `delta.checkpointInterval`. */
  configuration?: Record<string, string>;
  name?: string;
  description?: string;
  /** Extra fields for the commitInfo of version 0. */
  commitInfo?: Record<string, unknown>;
}

export interface WriteOptions {
  mode: "append" | "overwrite";
  /** Extra fields for the commitInfo (kept verbatim in the log). */
  commitInfo?: Record<string, unknown>;
  /** At most this many rows per data file (default 1,000,000). */
  targetFileRows?: number;
  /**
   * A data file is written once the rows buffered for it hold this many bytes in memory (Arrow
   * buffers; default: no limit). Bounds the writer's memory for wide rows, such as large binary
   * values, whatever their number.
   */
  targetFileBytes?: number;
  /**
   * Records an application transaction (a `txn` action): `appId` has now committed `version`.
   * Read it back with `snapshot.transactionVersion(appId)` to make retried writes idempotent.
   */
  txn?: { appId: string; version: number };
  /** Called after the data files are written and before the commit (tests use it to simulate a crash). */
  beforeCommit?: (files: AddAction[]) => Promise<void> | void;
}

/** Writer features arcuate honours; a table needing others is not written to. */
const SUPPORTED_WRITER_FEATURES = new Set(["appendOnly", "invariants", "changeDataFeed", "timestampNtz"]);

function usesType(type: DataType, name: string): boolean {
  if (typeof type === "string") return type === name;
  if (type.type === "struct") return type.fields.some((f) => usesType(f.type, name));
  if (type.type === "array") return usesType(type.elementType, name);
  return usesType(type.keyType, name) || usesType(type.valueType, name);
}

/** The least protocol for a schema and its properties: (1,2), (1,4) with CDF, (3,7) with timestamp_ntz. */
export function protocolFor(schema: StructType, configuration: Record<string, string>): ProtocolAction {
  const cdf = configuration["delta.enableChangeDataFeed"] === "true";
  if (usesType(schema, "timestamp_ntz")) {
    return {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ["timestampNtz"],
      writerFeatures: ["timestampNtz", "appendOnly", "invariants", ...(cdf ? ["changeDataFeed"] : [])],
    };
  }
  return { minReaderVersion: 1, minWriterVersion: cdf ? 4 : 2 };
}

function checkWritable(protocol: ProtocolAction): void {
  if (protocol.minWriterVersion > 7) {
    throw new ArcuateError(
      "UNSUPPORTED_FEATURE",
      `delta: unsupported writer version ${protocol.minWriterVersion}`,
    );
  }
  if (protocol.minWriterVersion === 7) {
    const missing = (protocol.writerFeatures ?? []).filter((f) => !SUPPORTED_WRITER_FEATURES.has(f));
    if (missing.length > 0) {
      throw new ArcuateError(
        "UNSUPPORTED_FEATURE",
        `delta: unsupported writer feature ${missing.join(", ")}`,
      );
    }
  } else if (protocol.minWriterVersion >= 5) {
    // Writer versions 5 and 6 bring column mapping, identity columns and generated columns.
    throw new ArcuateError(
      "UNSUPPORTED_FEATURE",
      `delta: unsupported writer version ${protocol.minWriterVersion}`,
    );
  }
}

/** Commits version 0 of a new table. ConflictError when a table exists there already. */
export async function createTable(storage: Storage, options: CreateTableOptions): Promise<number> {
  const schema = options.schema instanceof arrow.Schema ? arrowSchemaToDelta(options.schema) : options.schema;
  const partitionColumns = options.partitionColumns ?? [];
  for (const p of partitionColumns) {
    const field = schema.fields.find((f) => f.name === p);
    if (!field)
      throw new ArcuateError("INVALID_PARAMETER_VALUE", `delta: partition column ${p} is not in the schema`);
    if (typeof field.type !== "string") {
      throw new ArcuateError(
        "INVALID_PARAMETER_VALUE",
        `delta: partition column ${p} must have a primitive type`,
      );
    }
  }
  const configuration = options.configuration ?? {};
  const now = Date.now();
  const protocol = protocolFor(schema, configuration);
  const metaData: MetadataAction = {
    id: randomUUID(),
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    format: { provider: "parquet", options: {} },
    schemaString: schemaToString(schema),
    partitionColumns,
    configuration,
    createdTime: now,
  };
  const commitInfo: CommitInfoAction = {
    timestamp: now,
    operation: "CREATE TABLE",
    operationParameters: {
      partitionBy: JSON.stringify(partitionColumns),
      properties: JSON.stringify(configuration),
      ...(options.description !== undefined ? { description: options.description } : {}),
    },
    isBlindAppend: true,
    engineInfo: ENGINE_INFO,
    ...options.commitInfo,
  };
  const actions: Action[] = [{ commitInfo }, { protocol }, { metaData }];
  try {
    await storage.putIfAbsent(commitPath(0), encodeActions(actions));
  } catch (error) {
    if (error instanceof ConflictError)
      throw new ConflictError("delta: a table already exists there", { cause: error });
    throw error;
  }
  return 0;
}

export function encodeActions(actions: Action[]): Uint8Array {
  return new TextEncoder().encode(`${actions.map((a) => JSON.stringify(a)).join("\n")}\n`);
}

async function latestSnapshot(storage: Storage): Promise<Snapshot> {
  return new Snapshot(storage, await replay(storage, await listLog(storage)));
}

/** Same Delta type, nullability aside. */
function sameType(a: DataType, b: DataType): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (a.type !== b.type) return false;
  if (a.type === "struct" && b.type === "struct") {
    return (
      a.fields.length === b.fields.length &&
      a.fields.every((f, i) => f.name === b.fields[i]!.name && sameType(f.type, b.fields[i]!.type))
    );
  }
  if (a.type === "array" && b.type === "array") return sameType(a.elementType, b.elementType);
  if (a.type === "map" && b.type === "map")
    return sameType(a.keyType, b.keyType) && sameType(a.valueType, b.valueType);
  return false;
}

const WIDENS: Record<string, string[]> = {
  byte: ["short", "integer", "long", "double"],
  short: ["integer", "long", "double"],
  integer: ["long", "double"],
  float: ["double"],
};

/** An input batch in the table's Arrow types, columns in table order. */
function conformInput(batch: arrow.RecordBatch, schema: StructType): arrow.Data[] {
  const names = new Set(schema.fields.map((f) => f.name));
  for (const f of batch.schema.fields) {
    if (!names.has(f.name)) {
      throw new ArcuateError(
        "INVALID_PARAMETER_VALUE",
        `delta: column ${f.name} is not in the table's schema`,
      );
    }
  }
  return schema.fields.map((field) => {
    const index = batch.schema.fields.findIndex((f) => f.name === field.name);
    if (index < 0) {
      if (!field.nullable) {
        throw new ArcuateError(
          "INVALID_PARAMETER_VALUE",
          `delta: non-nullable column ${field.name} is missing`,
        );
      }
      return nullData(field.type, batch.numRows);
    }
    const given = arrowTypeToDelta(batch.schema.fields[index]!.type, field.name);
    const ok =
      sameType(given, field.type) ||
      (typeof given === "string" && typeof field.type === "string" && WIDENS[given]?.includes(field.type));
    if (!ok) {
      throw new ArcuateError(
        "INVALID_PARAMETER_VALUE",
        `delta: column ${field.name} is ${JSON.stringify(given)} but the table has ${JSON.stringify(field.type)}`,
      );
    }
    const data = conform(batch.data.children[index]!, field.type, "none", field.name);
    if (!field.nullable && data.nullCount > 0) {
      throw new ArcuateError(
        "INVALID_PARAMETER_VALUE",
        `delta: column ${field.name} is not nullable but has nulls`,
      );
    }
    return data;
  });
}

/** The serialized partition value at row i (PROTOCOL.md "Partition Value Serialization"). */
function partitionString(data: arrow.Data, i: number, type: DataType): string | null {
  const v = jsonValueAt(data, i, type);
  // An empty string partition value reads back as null (PROTOCOL.md), so it is written as null.
  if (v === null || v === "") return null;
  switch (type) {
    case "timestamp":
    case "timestamp_ntz":
      // "2021-01-01 08:09:10.123456": the form Spark writes, read as UTC.
      return String(v).replace("T", " ").replace(/Z$/, "");
    case "binary":
      return String.fromCharCode(...Buffer.from(String(v), "base64"));
    default:
      return String(v);
  }
}

/** Percent-encodes a relative path for `add.path` (a URI), keeping the characters Spark keeps. */
function encodePath(path: string): string {
  return path
    .split("/")
    .map((segment) =>
      [...new TextEncoder().encode(segment)]
        .map((b) => {
          const c = String.fromCharCode(b);
          return /[A-Za-z0-9\-_.~=+!$&'()*,;:@]/.test(c)
            ? c
            : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
        })
        .join(""),
    )
    .join("/");
}

interface PartitionBuffer {
  values: Record<string, string | null>;
  batches: arrow.RecordBatch[];
  rows: number;
  /** Arrow bytes of `batches`. */
  bytes: number;
}

async function* batchesOf(
  data: arrow.Table | AsyncIterable<arrow.RecordBatch>,
): AsyncGenerator<arrow.RecordBatch> {
  if (data instanceof arrow.Table) {
    for (const batch of data.batches) yield batch;
  } else {
    for await (const batch of data) yield batch;
  }
}

function writeParquetBytes(schema: arrow.Schema, batches: arrow.RecordBatch[]): Uint8Array {
  const table = new arrow.Table(schema, batches);
  const wasmTable = WasmTable.fromIPCStream(arrow.tableToIPC(table, "stream"));
  const props = new WriterPropertiesBuilder()
    .setCompression(Compression.SNAPPY)
    .setCreatedBy(ENGINE_INFO)
    .build();
  return writeParquet(wasmTable, props);
}

/** Writes the data files of a write; returns their add actions. Nothing is committed. */
async function writeDataFiles(
  storage: Storage,
  snapshot: Snapshot,
  data: arrow.Table | AsyncIterable<arrow.RecordBatch>,
  target: { rows: number; bytes: number },
): Promise<AddAction[]> {
  const schema = snapshot.schema;
  const partitionColumns = snapshot.partitionColumns;
  const partitionIndex = partitionColumns.map((p) => schema.fields.findIndex((f) => f.name === p));
  const dataFields: StructField[] = schema.fields.filter((f) => !partitionColumns.includes(f.name));
  const dataIndex = dataFields.map((f) => schema.fields.indexOf(f));
  const fileSchema = deltaSchemaToArrow({ type: "struct", fields: dataFields });
  const buffers = new Map<string, PartitionBuffer>();
  const adds: AddAction[] = [];

  const flush = async (buffer: PartitionBuffer): Promise<void> => {
    if (buffer.rows === 0) return;
    const folder = partitionColumns
      .map((p) => `${p}=${escapePartitionValue(buffer.values[p] ?? "__HIVE_DEFAULT_PARTITION__")}`)
      .join("/");
    const name = `part-00000-${randomUUID()}-c000.snappy.parquet`;
    const relative = folder ? `${folder}/${name}` : name;
    const bytes = writeParquetBytes(fileSchema, buffer.batches);
    await storage.write(relative, bytes);
    adds.push({
      path: encodePath(relative),
      partitionValues: buffer.values,
      size: bytes.length,
      modificationTime: Date.now(),
      dataChange: true,
      stats: JSON.stringify(computeStats(dataFields, buffer.batches)),
    });
    buffer.batches = [];
    buffer.rows = 0;
    buffer.bytes = 0;
  };

  for await (const input of batchesOf(data)) {
    if (input.numRows === 0) continue;
    const columns = conformInput(input, schema);
    const groups = new Map<string, { values: Record<string, string | null>; rows: number[] }>();
    if (partitionColumns.length === 0) {
      groups.set("", { values: {}, rows: [] });
    } else {
      for (let i = 0; i < input.numRows; i += 1) {
        const values: Record<string, string | null> = {};
        partitionColumns.forEach((p, k) => {
          const idx = partitionIndex[k]!;
          values[p] = partitionString(columns[idx]!, i, schema.fields[idx]!.type);
        });
        const key = JSON.stringify(values);
        const group = groups.get(key) ?? { values, rows: [] };
        group.rows.push(i);
        groups.set(key, group);
      }
    }
    for (const [key, group] of groups) {
      const whole = partitionColumns.length === 0 || group.rows.length === input.numRows;
      const children = dataIndex.map((idx) => (whole ? columns[idx]! : takeData(columns[idx]!, group.rows)));
      const length = whole ? input.numRows : group.rows.length;
      const batch = new arrow.RecordBatch(
        fileSchema,
        arrow.makeData({ type: new arrow.Struct(fileSchema.fields), length, nullCount: 0, children }),
      );
      const buffer = buffers.get(key) ?? { values: group.values, batches: [], rows: 0, bytes: 0 };
      buffers.set(key, buffer);
      buffer.batches.push(batch);
      buffer.rows += length;
      buffer.bytes += batch.data.byteLength;
      if (buffer.rows >= target.rows || buffer.bytes >= target.bytes) await flush(buffer);
    }
  }
  for (const buffer of buffers.values()) await flush(buffer);
  return adds;
}

function sameMetadata(a: MetadataAction, b: MetadataAction): boolean {
  return (
    a.id === b.id &&
    a.schemaString === b.schemaString &&
    JSON.stringify(a.partitionColumns) === JSON.stringify(b.partitionColumns) &&
    JSON.stringify(a.configuration) === JSON.stringify(b.configuration)
  );
}

const MAX_ATTEMPTS = 200;

/** Appends or overwrites; returns the committed version. */
export async function writeTable(
  storage: Storage,
  data: arrow.Table | AsyncIterable<arrow.RecordBatch>,
  options: WriteOptions,
): Promise<number> {
  if (options.mode !== "append" && options.mode !== "overwrite") {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `delta: unknown write mode ${String(options.mode)}`);
  }
  const base = await latestSnapshot(storage);
  checkWritable(base.protocol);
  if (options.mode === "overwrite" && base.metadata.configuration?.["delta.appendOnly"] === "true") {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", "delta: the table is append-only (delta.appendOnly)");
  }
  const adds = await writeDataFiles(storage, base, data, {
    rows: options.targetFileRows ?? 1_000_000,
    bytes: options.targetFileBytes ?? Number.POSITIVE_INFINITY,
  });
  await options.beforeCommit?.(adds);

  let snapshot = base;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    if (attempt > 0) {
      snapshot = await latestSnapshot(storage);
      if (
        !sameMetadata(base.metadata, snapshot.metadata) ||
        JSON.stringify(base.protocol) !== JSON.stringify(snapshot.protocol)
      ) {
        throw new ConflictError(
          `delta: the table's metadata or protocol changed at version ${snapshot.version} while writing; write again`,
        );
      }
    }
    const now = Date.now();
    const removes: RemoveAction[] =
      options.mode === "overwrite"
        ? snapshot.files.map((f) => ({
            path: f.path,
            deletionTimestamp: now,
            dataChange: true,
            extendedFileMetadata: true,
            partitionValues: f.partitionValues,
            size: f.size,
            ...(f.stats ? { stats: f.stats } : {}),
          }))
        : [];
    const numOutputRows = adds.reduce(
      (n, a) => n + ((JSON.parse(a.stats!) as { numRecords: number }).numRecords ?? 0),
      0,
    );
    const commitInfo: CommitInfoAction = {
      timestamp: now,
      operation: "WRITE",
      operationParameters: {
        mode: options.mode === "append" ? "Append" : "Overwrite",
        partitionBy: JSON.stringify(snapshot.partitionColumns),
      },
      readVersion: snapshot.version,
      isolationLevel: "Serializable",
      isBlindAppend: options.mode === "append",
      operationMetrics: {
        numFiles: String(adds.length),
        numOutputRows: String(numOutputRows),
        numOutputBytes: String(adds.reduce((n, a) => n + a.size, 0)),
        ...(options.mode === "overwrite" ? { numRemovedFiles: String(removes.length) } : {}),
      },
      engineInfo: ENGINE_INFO,
      ...options.commitInfo,
    };
    const actions: Action[] = [
      { commitInfo },
      ...(options.txn
        ? [{ txn: { appId: options.txn.appId, version: options.txn.version, lastUpdated: now } }]
        : []),
      ...removes.map((remove) => ({ remove })),
      ...adds.map((add) => ({ add })),
    ];
    const version = snapshot.version + 1;
    try {
      await storage.putIfAbsent(commitPath(version), encodeActions(actions));
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      // Lost the race for this version: back off a little (jittered) and try the next one.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** Math.min(attempt, 6))));
      continue;
    }
    await maybeCheckpoint(storage, version, snapshot.metadata);
    return version;
  }
  throw new ConflictError(
    `delta: gave up committing after ${MAX_ATTEMPTS} attempts: too many concurrent writers`,
  );
}

export function checkpointInterval(metadata: MetadataAction): number {
  const n = Number(metadata.configuration?.["delta.checkpointInterval"] ?? 10);
  return Number.isInteger(n) && n > 0 ? n : 10;
}

async function maybeCheckpoint(storage: Storage, version: number, metadata: MetadataAction): Promise<void> {
  if (version % checkpointInterval(metadata) !== 0) return;
  try {
    await writeCheckpoint(storage, version);
  } catch {
    // The commit stands without it: a checkpoint only speeds up replay, and the next one will come.
  }
}
