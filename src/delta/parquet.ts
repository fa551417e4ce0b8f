// Parquet data files to Arrow in the table's schema. Decoding is parquet-wasm's (arrow-rs compiled
// to WebAssembly; see docs/decisions.md for why): this module only conforms what the file holds
// to the Delta schema: physical (column-mapped) names to logical ones, timestamp units to
// microseconds, widened types, missing columns as nulls, partition columns from the log.
import * as arrow from "apache-arrow";
import { parseTable as parseFfiTable } from "arrow-js-ffi";
import { readParquet, type Table as WasmTable, wasmMemory } from "parquet-wasm/node";
import { ArcuateError } from "../errors.js";
import { decimalWords, partitionColumn } from "./partitions.js";
import {
  type DataType,
  deltaSchemaToArrow,
  deltaTypeToArrow,
  type StructField,
  type StructType,
} from "./schema.js";
import { takeData } from "./take.js";
import { variantColumnToJson } from "./variant.js";

// arrow-js-ffi's type declarations import their siblings without extensions, which NodeNext
// resolution does not follow (the import is untyped): its signature, as its README gives it.
const parseTable = parseFfiTable as (
  memory: ArrayBuffer,
  arrayAddrs: Uint32Array,
  schemaAddr: number,
  copy: boolean,
) => arrow.Table;

export interface ReadFileOptions {
  /** "name"/"id": columns are stored under `delta.columnMapping.physicalName`. */
  columnMapping?: "none" | "name" | "id";
  /** Logical names of the top-level columns to return (default: all). */
  columns?: string[];
  /** Partition columns (logical names); they come from `partitionValues`, not the file. */
  partitionColumns?: string[];
  /** Rows to read at most. */
  limit?: number;
  /** Row positions to drop (deletion vector), sorted ascending. */
  deletedRows?: Uint32Array | number[];
}

export function physicalName(field: StructField, mapping: ReadFileOptions["columnMapping"]): string {
  if (mapping === "name" || mapping === "id") {
    const physical = field.metadata["delta.columnMapping.physicalName"];
    if (typeof physical === "string") return physical;
  }
  return field.name;
}

/** Decodes a whole Parquet file to an Arrow table in the file's own schema. */
export function decodeParquet(
  bytes: Uint8Array,
  options: { columns?: string[]; limit?: number } = {},
): arrow.Table {
  const readOptions = {
    batchSize: 1 << 20,
    ...(options.columns ? { columns: options.columns } : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
  };
  try {
    return fromWasmTable(readParquet(bytes, readOptions)) ?? fromIPC(readParquet(bytes, readOptions));
  } catch (error) {
    throw new ArcuateError("CORRUPT_TABLE", `delta: cannot read parquet file: ${String(error)}`, {
      cause: error,
    });
  }
}

/**
 * parquet-wasm's table → apache-arrow through the Arrow C data interface (arrow-js-ffi), copying
 * each buffer out of WebAssembly memory once: about half the cost of the IPC hand-over, which
 * encodes a stream, copies it out and parses it again. Undefined when arrow-js-ffi cannot take
 * the table as it is (a layout it does not read, or a sliced array: it copies buffers from their
 * start and would misplace an offset); the caller then reads the file again through IPC.
 */
function fromWasmTable(table: WasmTable): arrow.Table | undefined {
  const ffi = table.intoFFI();
  try {
    // The memory's buffer is taken after decoding: WebAssembly memory may have grown meanwhile.
    const parsed = parseTable(wasmMemory().buffer, ffi.arrayAddrs(), ffi.schemaAddr(), true);
    return parsed.batches.every((batch) => unsliced(batch.data)) ? parsed : undefined;
  } catch {
    return undefined;
  } finally {
    ffi.free();
  }
}

function unsliced(data: arrow.Data): boolean {
  if (data.offset !== 0) return false;
  if (data.dictionary && !data.dictionary.data.every(unsliced)) return false;
  return data.children.every(unsliced);
}

function fromIPC(table: WasmTable): arrow.Table {
  return arrow.tableFromIPC(table.intoIPCStream());
}

/** Parquet bytes of one data file → Arrow table in the table's schema, partition columns restored. */
export async function readParquetFile(
  bytes: Uint8Array,
  schema: StructType,
  partitionValues: Record<string, string | null>,
  options: ReadFileOptions = {},
): Promise<arrow.Table> {
  const batches = readParquetBatches(bytes, schema, partitionValues, options);
  const target = outputSchema(schema, options.columns);
  return new arrow.Table(target, batches);
}

export function outputFields(schema: StructType, columns?: string[]): StructField[] {
  if (!columns) return schema.fields;
  return columns.map((name) => {
    const field = schema.fields.find((f) => f.name === name);
    if (!field) throw new ArcuateError("INVALID_PARAMETER_VALUE", `delta: no column ${JSON.stringify(name)}`);
    return field;
  });
}

export function outputSchema(schema: StructType, columns?: string[]): arrow.Schema {
  return deltaSchemaToArrow({ type: "struct", fields: outputFields(schema, columns) });
}

/** The record batches of one data file in the table's schema. */
export function readParquetBatches(
  bytes: Uint8Array,
  schema: StructType,
  partitionValues: Record<string, string | null>,
  options: ReadFileOptions = {},
): arrow.RecordBatch[] {
  const mapping = options.columnMapping ?? "none";
  const fields = outputFields(schema, options.columns);
  // Without a list, the columns named in partitionValues (by logical or physical name) are partitions.
  const partitionColumns = new Set(
    options.partitionColumns ??
      schema.fields
        .filter((f) => f.name in partitionValues || physicalName(f, mapping) in partitionValues)
        .map((f) => f.name),
  );
  const hasDeletes = (options.deletedRows?.length ?? 0) > 0;
  const source = decodeParquet(
    bytes,
    options.limit !== undefined && !hasDeletes ? { limit: options.limit } : {},
  );
  const present = new Set(source.schema.fields.map((f) => f.name));
  const target = outputSchema(schema, options.columns);
  const out: arrow.RecordBatch[] = [];
  let rowBase = 0;
  const batches = source.batches.length > 0 ? source.batches : [];
  for (const batch of batches) {
    const n = batch.numRows;
    // arrow-js decodes some empty batches with missing children; they hold nothing anyway.
    if (n === 0) continue;
    const children = fields.map((field) => {
      if (partitionColumns.has(field.name)) {
        const key = mapping === "none" ? field.name : physicalName(field, mapping);
        const value = key in partitionValues ? partitionValues[key] : partitionValues[field.name];
        return partitionColumn(field.type, value, n);
      }
      const name = physicalName(field, mapping);
      const index = present.has(name) ? source.schema.fields.findIndex((f) => f.name === name) : -1;
      if (index < 0) return nullData(field.type, n);
      return conform(batch.data.children[index]!, field.type, mapping, field.name);
    });
    let data = arrow.makeData({
      type: new arrow.Struct(target.fields),
      length: n,
      nullCount: 0,
      children,
    });
    if (hasDeletes) data = dropRows(data, options.deletedRows!, rowBase);
    rowBase += n;
    out.push(new arrow.RecordBatch(target, data));
  }
  return out;
}

/** Removes the rows whose file positions (rowBase + i) are in `deleted`. */
function dropRows(
  data: arrow.Data<arrow.Struct>,
  deleted: Uint32Array | number[],
  rowBase: number,
): arrow.Data<arrow.Struct> {
  const keep: number[] = [];
  let d = lowerBound(deleted, rowBase);
  for (let i = 0; i < data.length; i += 1) {
    const pos = rowBase + i;
    while (d < deleted.length && deleted[d]! < pos) d += 1;
    if (d < deleted.length && deleted[d] === pos) continue;
    keep.push(i);
  }
  if (keep.length === data.length) return data;
  return takeRows(data, keep);
}

function lowerBound(sorted: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function takeRows(data: arrow.Data<arrow.Struct>, rows: number[]): arrow.Data<arrow.Struct> {
  return takeData(data, rows) as arrow.Data<arrow.Struct>;
}

/** A column of `length` nulls of a Delta type. */
export function nullData(type: DataType, length: number): arrow.Data {
  return arrow.vectorFromArray(new Array(length).fill(null), deltaTypeToArrow(type)).data[0]!;
}

function unitFactor(unit: arrow.TimeUnit): bigint {
  switch (unit) {
    case arrow.TimeUnit.SECOND:
      return 1_000_000n;
    case arrow.TimeUnit.MILLISECOND:
      return 1000n;
    case arrow.TimeUnit.MICROSECOND:
      return 1n;
    default:
      return 0n; // nanoseconds: divide by 1000
  }
}

/** Converts one decoded column to the Arrow type of `type`, recursively for nested types. */
export function conform(
  src: arrow.Data,
  type: DataType,
  mapping: ReadFileOptions["columnMapping"],
  where: string,
): arrow.Data {
  const targetType = deltaTypeToArrow(type);
  const base = {
    offset: src.offset,
    length: src.length,
    nullCount: src.nullCount,
    nullBitmap: src.nullBitmap,
  };
  if (typeof type === "object") {
    if (type.type === "struct") {
      if (src.typeId !== arrow.Type.Struct) return fallback(src, targetType, where);
      const srcFields = (src.type as arrow.Struct).children;
      const children = type.fields.map((f) => {
        const name = physicalName(f, mapping);
        const index = srcFields.findIndex((sf) => sf.name === name);
        // Struct children are aligned with the parent's rows (arrow-js slices them together).
        if (index < 0) return nullData(f.type, src.length);
        return conform(src.children[index]!, f.type, mapping, `${where}.${f.name}`);
      });
      return arrow.makeData({ ...base, type: targetType as arrow.Struct, children });
    }
    if (type.type === "array") {
      if (src.typeId !== arrow.Type.List) return fallback(src, targetType, where);
      const child = conform(src.children[0]!, type.elementType, mapping, `${where}.element`);
      return arrow.makeData({
        ...base,
        type: targetType as arrow.List,
        valueOffsets: src.valueOffsets as Int32Array,
        child,
      });
    }
    if (src.typeId !== arrow.Type.Map) return fallback(src, targetType, where);
    const entries = src.children[0]!;
    const entriesType = (targetType as arrow.Map_).children[0]!.type as arrow.Struct;
    const key = conform(entries.children[0]!, type.keyType, mapping, `${where}.key`);
    const value = conform(entries.children[1]!, type.valueType, mapping, `${where}.value`);
    const child = arrow.makeData({
      type: entriesType,
      offset: entries.offset,
      length: entries.length,
      nullCount: 0,
      children: [key, value],
    });
    return arrow.makeData({
      ...base,
      type: targetType as arrow.Map_,
      valueOffsets: src.valueOffsets as Int32Array,
      child,
    });
  }
  if (type === "variant") return variantColumnToJson(src, where);
  const s = src.type as arrow.DataType;
  // Same physical layout: re-label the buffers with the target type (names, time zone, precision).
  if (s.typeId === targetType.typeId) {
    switch (targetType.typeId) {
      case arrow.Type.Int:
      case arrow.Type.Float:
        if ((s as arrow.Int).bitWidth === (targetType as arrow.Int).bitWidth && sameFloat(s, targetType)) {
          return relabel(src, targetType);
        }
        return numericCast(src, targetType);
      case arrow.Type.Timestamp: {
        const unit = (s as arrow.Timestamp).unit;
        if (unit === arrow.TimeUnit.MICROSECOND) return relabel(src, targetType);
        const values = src.values as BigInt64Array;
        const out = new BigInt64Array(values.length);
        const factor = unitFactor(unit);
        for (let i = 0; i < values.length; i += 1) {
          out[i] = factor === 0n ? floorDiv(values[i]!, 1000n) : values[i]! * factor;
        }
        return arrow.makeData({
          ...base,
          type: targetType as arrow.Timestamp,
          data: out as unknown as Int32Array,
        });
      }
      case arrow.Type.Date: {
        if ((s as arrow.Date_).unit === arrow.DateUnit.DAY) return relabel(src, targetType);
        // Date64 (milliseconds) to days; arrow-js reads it as a number of milliseconds.
        const vector = arrow.makeVector(src);
        const days = new Int32Array(src.length);
        for (let i = 0; i < src.length; i += 1) days[i] = Math.floor(Number(vector.get(i) ?? 0) / 86_400_000);
        return arrow.makeData({ ...base, type: targetType as arrow.DateDay, data: days });
      }
      case arrow.Type.Decimal: {
        const sd = s as arrow.Decimal;
        const td = targetType as arrow.Decimal;
        if (sd.bitWidth === 128 && sd.scale === td.scale) return relabel(src, targetType);
        if (sd.bitWidth === 128 && sd.scale < td.scale) return rescaleDecimal(src, td, td.scale - sd.scale);
        break;
      }
      case arrow.Type.Utf8:
      case arrow.Type.Binary:
      case arrow.Type.Bool:
        return relabel(src, targetType);
    }
  }
  if (targetType.typeId === arrow.Type.Int || targetType.typeId === arrow.Type.Float) {
    if (s.typeId === arrow.Type.Int || s.typeId === arrow.Type.Float) return numericCast(src, targetType);
  }
  if (targetType.typeId === arrow.Type.Decimal && s.typeId === arrow.Type.Int) {
    // type widening byte/short/int/long → decimal(p, s): the integer times 10^s, unscaled
    return integerToDecimal(src, targetType as arrow.Decimal);
  }
  if (targetType.typeId === arrow.Type.Timestamp && s.typeId === arrow.Type.Date) {
    // type widening date → timestamp_ntz
    const values = src.values as Int32Array;
    const out = new BigInt64Array(values.length);
    for (let i = 0; i < out.length; i += 1) out[i] = BigInt(values[i] ?? 0) * 86_400_000_000n;
    return arrow.makeData({
      ...base,
      type: targetType as arrow.Timestamp,
      data: out as unknown as Int32Array,
    });
  }
  return fallback(src, targetType, where);
}

function sameFloat(a: arrow.DataType, b: arrow.DataType): boolean {
  if (a.typeId !== arrow.Type.Float) return true;
  return (a as arrow.Float).precision === (b as arrow.Float).precision;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function relabel(src: arrow.Data, type: arrow.DataType): arrow.Data {
  return src.clone(type);
}

/** Widening casts between integer and floating types (type widening, unsigned Parquet ints). */
function numericCast(src: arrow.Data, type: arrow.DataType): arrow.Data {
  const values = src.values as ArrayLike<number | bigint>;
  const Out = type.ArrayType as unknown as new (
    n: number,
  ) => ArrayLike<number | bigint> & Record<number, number | bigint>;
  const out = new Out(values.length);
  const toBig = out instanceof BigInt64Array || out instanceof BigUint64Array;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i]!;
    out[i] = toBig ? BigInt(v) : Number(v);
  }
  return arrow.makeData({
    type: type as arrow.Int32,
    offset: src.offset,
    length: src.length,
    nullCount: src.nullCount,
    nullBitmap: src.nullBitmap,
    data: out as unknown as Int32Array,
  });
}

/** Decimal widening to a larger scale: unscaled values times 10^by (type widening). */
function rescaleDecimal(src: arrow.Data, type: arrow.Decimal, by: number): arrow.Data {
  const words = src.values as Uint32Array;
  const out = new Uint32Array(words.length);
  const factor = 10n ** BigInt(by);
  for (let i = 0; i < words.length / 4; i += 1) {
    let v = 0n;
    for (let w = 3; w >= 0; w -= 1) v = (v << 32n) | BigInt(words[i * 4 + w]!);
    out.set(decimalWords(BigInt.asIntN(128, v) * factor), i * 4);
  }
  return arrow.makeData({
    type,
    offset: src.offset,
    length: src.length,
    nullCount: src.nullCount,
    nullBitmap: src.nullBitmap,
    data: out,
  });
}

/** Integer widening to a decimal (type widening): unscaled values are the integers times 10^scale. */
function integerToDecimal(src: arrow.Data, type: arrow.Decimal): arrow.Data {
  const values = src.values as ArrayLike<number | bigint>;
  const out = new Uint32Array(values.length * 4);
  const factor = 10n ** BigInt(type.scale);
  for (let i = 0; i < values.length; i += 1) out.set(decimalWords(BigInt(values[i]!) * factor), i * 4);
  return arrow.makeData({
    type,
    offset: src.offset,
    length: src.length,
    nullCount: src.nullCount,
    nullBitmap: src.nullBitmap,
    data: out,
  });
}

/** Layouts whose values convert exactly through JS values (decoded text and bytes). */
const FALLBACK_SOURCES = new Set<arrow.Type>([
  arrow.Type.Dictionary,
  arrow.Type.LargeUtf8,
  arrow.Type.LargeBinary,
  arrow.Type.FixedSizeBinary,
]);

/** Dictionary-encoded and large string/binary columns go through JS values: slow, exact, rare. */
function fallback(src: arrow.Data, type: arrow.DataType, where: string): arrow.Data {
  const textual = [arrow.Type.Utf8, arrow.Type.Binary].includes(type.typeId);
  if (!FALLBACK_SOURCES.has(src.typeId) || (src.typeId !== arrow.Type.Dictionary && !textual)) {
    // Anything else could lose precision on the way (timestamps, decimals): refuse rather than guess.
    throw new ArcuateError(
      "UNSUPPORTED_FEATURE",
      `delta: column ${where} holds ${String(src.type)}, which arcuate does not convert to ${String(type)}`,
    );
  }
  try {
    const vector = arrow.makeVector(src);
    const values: unknown[] = [];
    for (let i = 0; i < vector.length; i += 1) values.push(vector.get(i));
    return arrow.vectorFromArray(values, type).data[0]!;
  } catch (error) {
    throw new ArcuateError(
      "CORRUPT_TABLE",
      `delta: column ${where} holds ${String(src.type)}, which does not convert to ${String(type)}`,
      { cause: error },
    );
  }
}
