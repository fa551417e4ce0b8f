// Arrow values of a Delta table as JSON, the one rendering used by `arcuate delta cat` and by
// the conformance tests: binary as base64, timestamps ISO 8601 with microseconds (UTC "Z" for
// `timestamp`, none for `timestamp_ntz`), decimals as strings, NaN and infinities as strings,
// 64-bit integers as numbers when exact and strings otherwise, maps with string keys as objects.
import * as arrow from "apache-arrow";
import { type DataType, decimalOf, type StructType } from "./schema.js";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

function isValid(data: arrow.Data, i: number): boolean {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return true;
  const bit = data.offset + i;
  return ((data.nullBitmap[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

function pad(n: number | bigint, width: number): string {
  const s = String(n < 0 ? -n : n).padStart(width, "0");
  return n < 0 ? `-${s}` : s;
}

/** Proleptic Gregorian civil date of days since the epoch (Howard Hinnant's algorithm). */
function civilFromDays(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const year = y >= 0 && y <= 9999 ? pad(y, 4) : y < 0 ? `-${pad(-y, 4)}` : `+${y}`;
  return `${year}-${pad(m, 2)}-${pad(d, 2)}`;
}

export function formatDate(days: number): string {
  return civilFromDays(days);
}

export function formatTimestampMicros(micros: bigint, utc: boolean): string {
  const perDay = 86_400_000_000n;
  let days = micros / perDay;
  let rest = micros % perDay;
  if (rest < 0n) {
    rest += perDay;
    days -= 1n;
  }
  const secs = rest / 1_000_000n;
  const frac = rest % 1_000_000n;
  const h = secs / 3600n;
  const m = (secs % 3600n) / 60n;
  const s = secs % 60n;
  return `${civilFromDays(Number(days))}T${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(frac, 6)}${utc ? "Z" : ""}`;
}

export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0) {
    digits += "0".repeat(-scale);
  }
  return negative ? `-${digits}` : digits;
}

function decimalAt(values: Uint32Array, i: number): bigint {
  let v = 0n;
  for (let w = 3; w >= 0; w -= 1) v = (v << 32n) | BigInt(values[i * 4 + w]!);
  return BigInt.asIntN(128, v);
}

function floatJson(n: number): JsonValue {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "Infinity";
  if (n === Number.NEGATIVE_INFINITY) return "-Infinity";
  return n;
}

function bigJson(n: bigint): JsonValue {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(n)
    : n.toString();
}

/** The JSON value at row `i` of `data`, read as Delta type `type`. */
export function jsonValueAt(data: arrow.Data, i: number, type: DataType): JsonValue {
  if (!isValid(data, i)) return null;
  if (typeof type === "object") {
    if (type.type === "struct") {
      const out: { [key: string]: JsonValue } = {};
      type.fields.forEach((f, k) => {
        out[f.name] = jsonValueAt(data.children[k]!, i, f.type);
      });
      return out;
    }
    const offsets = data.valueOffsets as Int32Array;
    const begin = offsets[i]!;
    const end = offsets[i + 1]!;
    if (type.type === "array") {
      const child = data.children[0]!;
      const out: JsonValue[] = [];
      for (let j = begin; j < end; j += 1) out.push(jsonValueAt(child, j, type.elementType));
      return out;
    }
    const entries = data.children[0]!;
    const keys = entries.children[0]!;
    const values = entries.children[1]!;
    if (type.keyType === "string") {
      const out: { [key: string]: JsonValue } = {};
      for (let j = begin; j < end; j += 1) {
        out[String(jsonValueAt(keys, j, type.keyType))] = jsonValueAt(values, j, type.valueType);
      }
      return out;
    }
    const pairs: JsonValue[] = [];
    for (let j = begin; j < end; j += 1) {
      pairs.push([jsonValueAt(keys, j, type.keyType), jsonValueAt(values, j, type.valueType)]);
    }
    return pairs;
  }
  const values = data.values;
  switch (type) {
    case "string":
    case "variant":
    case "binary": {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = (values as Uint8Array).subarray(offsets[i]!, offsets[i + 1]!);
      return type !== "binary" ? new TextDecoder().decode(bytes) : Buffer.from(bytes).toString("base64");
    }
    case "boolean": {
      const bit = data.offset + i;
      return (((values as Uint8Array)[bit >> 3]! >> (bit & 7)) & 1) === 1;
    }
    case "long":
      return bigJson((values as BigInt64Array)[i]!);
    case "integer":
    case "short":
    case "byte":
      return (values as Int32Array)[i]!;
    case "float":
    case "double":
      return floatJson((values as Float64Array)[i]!);
    case "date":
      return formatDate((values as Int32Array)[i]!);
    case "timestamp":
    case "timestamp_ntz":
      return formatTimestampMicros((values as BigInt64Array)[i]!, type === "timestamp");
  }
  const decimal = decimalOf(type);
  if (decimal) return formatDecimal(decimalAt(values as Uint32Array, i), decimal.scale);
  return String(arrow.makeVector(data).get(i));
}

/** Every row of a record batch as a JSON object keyed by column name. */
export function* batchRows(
  batch: arrow.RecordBatch,
  schema: StructType,
): Generator<{ [key: string]: JsonValue }> {
  const columns = schema.fields.map((f) => {
    const index = batch.schema.fields.findIndex((af) => af.name === f.name);
    return { field: f, data: batch.data.children[index]! };
  });
  for (let i = 0; i < batch.numRows; i += 1) {
    const row: { [key: string]: JsonValue } = {};
    for (const { field, data } of columns) row[field.name] = jsonValueAt(data, i, field.type);
    yield row;
  }
}
