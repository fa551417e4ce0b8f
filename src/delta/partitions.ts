// Partition values (PROTOCOL.md "Partition Value Serialization"): the strings in `add.partitionValues`
// to Arrow columns, and typed values back to those strings; plus Hive-style path escaping for the
// folders a writer creates.
import * as arrow from "apache-arrow";
import { ArcuateError } from "../errors.js";
import { type DataType, decimalOf, deltaTypeToArrow } from "./schema.js";

const MICROS_PER_DAY = 86_400_000_000n;

/** Microseconds since the epoch of a partition timestamp ("2021-01-01 00:00:00[.ffffff]" or ISO 8601). */
export function parseTimestampMicros(value: string): bigint {
  const m =
    /^(-?\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(
      value.trim(),
    );
  if (!m)
    throw new ArcuateError(
      "CORRUPT_TABLE",
      `delta: invalid timestamp partition value ${JSON.stringify(value)}`,
    );
  const days = BigInt(daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])));
  const seconds = BigInt(Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]));
  const fraction = BigInt((m[7] ?? "").padEnd(6, "0").slice(0, 6) || "0");
  let micros = days * MICROS_PER_DAY + seconds * 1_000_000n + fraction;
  const zone = m[8];
  if (zone && zone !== "Z") {
    const sign = zone.startsWith("-") ? -1n : 1n;
    const digits = zone.slice(1).replace(":", "");
    const offset = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
    micros -= sign * offset * 60_000_000n;
  }
  return micros;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function parseDateDays(value: string): number {
  const m = /^(-?\d{4,})-(\d{2})-(\d{2})/.exec(value.trim());
  if (!m)
    throw new ArcuateError("CORRUPT_TABLE", `delta: invalid date partition value ${JSON.stringify(value)}`);
  return daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** The unscaled integer of a decimal string at `scale`. */
export function parseDecimalUnscaled(value: string, scale: number): bigint {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(value.trim());
  if (!m)
    throw new ArcuateError(
      "CORRUPT_TABLE",
      `delta: invalid decimal partition value ${JSON.stringify(value)}`,
    );
  let digits = (m[2] ?? "") + (m[3] ?? "");
  let exp = -(m[3] ?? "").length + Number(m[4] ?? 0) + scale;
  if (exp >= 0) digits += "0".repeat(exp);
  else {
    // Round half up on the dropped digits, as Spark does when it casts.
    const keep = digits.length + exp;
    const dropped = keep >= 0 ? digits.slice(keep) : digits;
    digits = keep > 0 ? digits.slice(0, keep) : "0";
    exp = 0;
    if (dropped.length > 0 && Number(dropped[0]) >= 5) digits = (BigInt(digits) + 1n).toString();
  }
  const unscaled = BigInt(digits === "" ? "0" : digits);
  return m[1] === "-" ? -unscaled : unscaled;
}

function fill<T extends { fill(v: never): T }>(array: T, value: unknown): T {
  return array.fill(value as never);
}

/** A column of `length` copies of a partition value (null when the value is null or empty). */
export function partitionColumn(
  type: DataType,
  value: string | null | undefined,
  length: number,
): arrow.Data {
  const arrowType = deltaTypeToArrow(type);
  // The protocol stores a null partition value as null; an empty string also reads as null.
  const isNull = value === null || value === undefined || value === "";
  if (isNull) return nullColumn(arrowType, length);
  const v = value as string;
  switch (type) {
    case "string":
    case "binary": {
      const bytes =
        type === "string" ? new TextEncoder().encode(v) : Uint8Array.from(v, (c) => c.charCodeAt(0));
      const data = new Uint8Array(bytes.length * length);
      const offsets = new Int32Array(length + 1);
      for (let i = 0; i < length; i += 1) {
        data.set(bytes, i * bytes.length);
        offsets[i + 1] = (i + 1) * bytes.length;
      }
      return arrow.makeData({
        type: arrowType as arrow.Utf8,
        length,
        nullCount: 0,
        valueOffsets: offsets,
        data,
      });
    }
    case "boolean": {
      const bits = new Uint8Array(Math.ceil(length / 8));
      if (v === "true") bits.fill(0xff);
      else if (v !== "false") {
        throw new ArcuateError(
          "CORRUPT_TABLE",
          `delta: invalid boolean partition value ${JSON.stringify(v)}`,
        );
      }
      return arrow.makeData({ type: arrowType as arrow.Bool, length, nullCount: 0, data: bits });
    }
    case "long": {
      if (!/^[+-]?\d+$/.test(v.trim())) {
        throw new ArcuateError("CORRUPT_TABLE", `delta: invalid long partition value ${JSON.stringify(v)}`);
      }
      return arrow.makeData({
        type: arrowType as arrow.Int64,
        length,
        data: fill(new BigInt64Array(length), BigInt(v.trim())),
      });
    }
    case "integer":
    case "short":
    case "byte":
    case "float":
    case "double": {
      const n = Number(v);
      if (Number.isNaN(n) && v !== "NaN") {
        throw new ArcuateError(
          "CORRUPT_TABLE",
          `delta: invalid ${type} partition value ${JSON.stringify(v)}`,
        );
      }
      const data = new (arrowType.ArrayType as Float64ArrayConstructor)(length).fill(n);
      return arrow.makeData({ type: arrowType as arrow.Float64, length, data });
    }
    case "date":
      return arrow.makeData({
        type: arrowType as arrow.DateDay,
        length,
        data: new Int32Array(length).fill(parseDateDays(v)),
      });
    case "timestamp":
    case "timestamp_ntz":
      return arrow.makeData({
        type: arrowType as arrow.TimestampMicrosecond,
        length,
        data: fill(new BigInt64Array(length), parseTimestampMicros(v)) as unknown as Int32Array,
      });
  }
  const decimal = decimalOf(type);
  if (decimal) {
    const words = decimalWords(parseDecimalUnscaled(v, decimal.scale));
    const data = new Uint32Array(length * 4);
    for (let i = 0; i < length; i += 1) data.set(words, i * 4);
    return arrow.makeData({ type: arrowType as arrow.Decimal, length, data });
  }
  throw new ArcuateError("UNSUPPORTED_FEATURE", `delta: partition column of type ${JSON.stringify(type)}`);
}

/** A 128-bit two's complement integer as four little-endian 32-bit words (Arrow's Decimal128 layout). */
export function decimalWords(value: bigint): Uint32Array {
  let v = BigInt.asUintN(128, value);
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i += 1) {
    words[i] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
  return words;
}

/** Characters Hive (and Spark, and delta-rs) escape in partition folder names, besides control characters. */
const ESCAPED_CHARS = new Set([..."\"#%'*/:=?\\{[]^"]);

export function escapePartitionValue(value: string): string {
  let out = "";
  for (const c of value) {
    const code = c.charCodeAt(0);
    out +=
      code < 0x20 || code === 0x7f || ESCAPED_CHARS.has(c)
        ? `%${code.toString(16).toUpperCase().padStart(2, "0")}`
        : c;
  }
  return out;
}

/** `length` nulls of a flat type, without going through the builders. */
function nullColumn(type: arrow.DataType, length: number): arrow.Data {
  const nullBitmap = new Uint8Array(Math.ceil(length / 8));
  if (type.typeId === arrow.Type.Utf8 || type.typeId === arrow.Type.Binary) {
    return arrow.makeData({
      type: type as arrow.Utf8,
      length,
      nullCount: length,
      nullBitmap,
      valueOffsets: new Int32Array(length + 1),
      data: new Uint8Array(0),
    });
  }
  if (type.typeId === arrow.Type.Bool) {
    return arrow.makeData({
      type: type as arrow.Bool,
      length,
      nullCount: length,
      nullBitmap,
      data: nullBitmap,
    });
  }
  const width = type.typeId === arrow.Type.Decimal ? 4 : 1;
  const Ctor = type.ArrayType as unknown as new (n: number) => Int32Array;
  return arrow.makeData({
    type: type as arrow.Int32,
    length,
    nullCount: length,
    nullBitmap,
    data: new Ctor(length * width),
  });
}
