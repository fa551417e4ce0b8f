// The `variant` type (PROTOCOL.md "Variant Data Type"): in Parquet an unshredded variant is a
// struct of two binaries, `metadata` (a string dictionary) and `value`, in the Parquet Variant
// binary encoding (parquet-format VariantEncoding.md). arcuate reads a variant as its JSON text
// in an Arrow Utf8 column (the protocol's "convert the struct-of-binary to a string" choice), so
// every Arrow and JSON consumer can take it: objects and arrays as JSON, integers and decimals as
// exact JSON numbers (a decimal keeps its scale: `1.50`), doubles and floats as JavaScript writes
// them (NaN and ±Infinity as strings), dates, timestamps (`…Z`), timestamp_ntz, times and UUIDs
// as strings in the forms of src/delta/json.ts, binary as base64.
import * as arrow from "apache-arrow";
import { ArcuateError } from "../errors.js";
import { formatDate, formatDecimal, formatTimestampMicros } from "./json.js";

function corrupt(where: string, why: string): ArcuateError {
  return new ArcuateError(
    "CORRUPT_TABLE",
    `delta: variant column ${where} is not valid Variant data: ${why}`,
  );
}

/** A variant's string dictionary (the `metadata` binary). */
class VariantMetadata {
  private readonly view: DataView;
  private readonly offsetSize: number;
  readonly size: number;
  private readonly cache = new Map<number, string>();

  constructor(
    private readonly bytes: Uint8Array,
    private readonly where: string,
  ) {
    if (bytes.length < 1) throw corrupt(where, "empty metadata");
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const header = bytes[0]!;
    if ((header & 0x0f) !== 1) throw corrupt(where, `metadata version ${header & 0x0f}`);
    this.offsetSize = ((header >> 6) & 3) + 1;
    this.size = this.uint(1, this.offsetSize);
  }

  private uint(at: number, size: number): number {
    if (at + size > this.bytes.length) throw corrupt(this.where, "metadata is cut short");
    let v = 0;
    for (let k = size - 1; k >= 0; k -= 1) v = v * 256 + this.view.getUint8(at + k);
    return v;
  }

  key(id: number): string {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached;
    if (id >= this.size) throw corrupt(this.where, `field id ${id} outside a dictionary of ${this.size}`);
    const offsets = 1 + this.offsetSize;
    const data = offsets + (this.size + 1) * this.offsetSize;
    const begin = this.uint(offsets + id * this.offsetSize, this.offsetSize);
    const end = this.uint(offsets + (id + 1) * this.offsetSize, this.offsetSize);
    if (data + end > this.bytes.length || begin > end)
      throw corrupt(this.where, "dictionary string out of range");
    const key = new TextDecoder().decode(this.bytes.subarray(data + begin, data + end));
    this.cache.set(id, key);
    return key;
  }
}

function jsNumber(n: number): string {
  if (Number.isNaN(n)) return '"NaN"';
  if (!Number.isFinite(n)) return n > 0 ? '"Infinity"' : '"-Infinity"';
  return String(n);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The JSON text of one variant value. */
export function variantToJson(metadata: Uint8Array, value: Uint8Array, where = "variant"): string {
  const dictionary = new VariantMetadata(metadata, where);
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const need = (at: number, n: number) => {
    if (at + n > value.length) throw corrupt(where, "value is cut short");
  };
  const uint = (at: number, size: number) => {
    need(at, size);
    let v = 0;
    for (let k = size - 1; k >= 0; k -= 1) v = v * 256 + view.getUint8(at + k);
    return v;
  };
  const text = (at: number, n: number) => {
    need(at, n);
    return JSON.stringify(new TextDecoder().decode(value.subarray(at, at + n)));
  };
  const decimal = (at: number, width: number) => {
    need(at, 1 + width);
    const scale = view.getUint8(at);
    let unscaled = 0n;
    for (let k = width - 1; k >= 0; k -= 1) unscaled = (unscaled << 8n) | BigInt(view.getUint8(at + 1 + k));
    return formatDecimal(BigInt.asIntN(width * 8, unscaled), scale);
  };

  const render = (at: number, depth: number): string => {
    if (depth > 1000) throw corrupt(where, "nested too deeply");
    need(at, 1);
    const header = view.getUint8(at);
    const basic = header & 3;
    const info = header >> 2;
    if (basic === 1) return text(at + 1, info); // short string
    if (basic === 2) {
      const large = (info >> 4) & 1;
      const idSize = ((info >> 2) & 3) + 1;
      const offsetSize = (info & 3) + 1;
      const count = uint(at + 1, large ? 4 : 1);
      const ids = at + 1 + (large ? 4 : 1);
      const offsets = ids + count * idSize;
      const values = offsets + (count + 1) * offsetSize;
      const parts: string[] = [];
      for (let k = 0; k < count; k += 1) {
        const key = dictionary.key(uint(ids + k * idSize, idSize));
        parts.push(
          `${JSON.stringify(key)}:${render(values + uint(offsets + k * offsetSize, offsetSize), depth + 1)}`,
        );
      }
      return `{${parts.join(",")}}`;
    }
    if (basic === 3) {
      const large = (info >> 2) & 1;
      const offsetSize = (info & 3) + 1;
      const count = uint(at + 1, large ? 4 : 1);
      const offsets = at + 1 + (large ? 4 : 1);
      const values = offsets + (count + 1) * offsetSize;
      const parts: string[] = [];
      for (let k = 0; k < count; k += 1)
        parts.push(render(values + uint(offsets + k * offsetSize, offsetSize), depth + 1));
      return `[${parts.join(",")}]`;
    }
    const p = at + 1;
    switch (info) {
      case 0:
        return "null";
      case 1:
        return "true";
      case 2:
        return "false";
      case 3:
        need(p, 1);
        return String(view.getInt8(p));
      case 4:
        need(p, 2);
        return String(view.getInt16(p, true));
      case 5:
        need(p, 4);
        return String(view.getInt32(p, true));
      case 6:
        need(p, 8);
        return String(view.getBigInt64(p, true));
      case 7:
        need(p, 8);
        return jsNumber(view.getFloat64(p, true));
      case 8:
        return decimal(p, 4);
      case 9:
        return decimal(p, 8);
      case 10:
        return decimal(p, 16);
      case 11:
        need(p, 4);
        return JSON.stringify(formatDate(view.getInt32(p, true)));
      case 12:
      case 13:
        need(p, 8);
        return JSON.stringify(formatTimestampMicros(view.getBigInt64(p, true), info === 12));
      case 14:
        need(p, 4);
        return jsNumber(view.getFloat32(p, true));
      case 15: {
        const n = uint(p, 4);
        need(p + 4, n);
        return JSON.stringify(Buffer.from(value.subarray(p + 4, p + 4 + n)).toString("base64"));
      }
      case 16:
        return text(p + 4, uint(p, 4));
      case 17: {
        // time without time zone, microseconds since midnight
        need(p, 8);
        const micros = view.getBigInt64(p, true);
        return JSON.stringify(formatTimestampMicros(micros, false).slice(11));
      }
      case 18:
      case 19: {
        // timestamps in nanoseconds: microseconds plus the remaining digits
        need(p, 8);
        const nanos = view.getBigInt64(p, true);
        const micros = nanos / 1000n - (nanos % 1000n < 0n ? 1n : 0n);
        const rest = ((nanos % 1000n) + 1000n) % 1000n;
        const formatted = formatTimestampMicros(micros, false) + String(rest).padStart(3, "0");
        return JSON.stringify(info === 18 ? `${formatted}Z` : formatted);
      }
      case 20: {
        need(p, 16);
        const h = hex(value.subarray(p, p + 16));
        return JSON.stringify(
          `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
        );
      }
      default:
        throw new ArcuateError(
          "UNSUPPORTED_FEATURE",
          `delta: variant column ${where} holds a value of unknown primitive type ${info}`,
        );
    }
  };
  return render(0, 0);
}

function isValid(data: arrow.Data, i: number): boolean {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return true;
  const bit = data.offset + i;
  return ((data.nullBitmap[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

function bytesAt(data: arrow.Data, i: number): Uint8Array {
  const offsets = data.valueOffsets as Int32Array;
  return (data.values as Uint8Array).subarray(offsets[data.offset + i]!, offsets[data.offset + i + 1]!);
}

/**
 * A decoded Parquet variant column (a struct with binary `metadata` and `value`) as a Utf8 column
 * of JSON text; null where the struct is null. Shredded variants (a `typed_value` field) are
 * refused: they need the variantShredding reader feature, which arcuate lacks.
 */
export function variantColumnToJson(src: arrow.Data, where: string): arrow.Data<arrow.Utf8> {
  const fields = src.typeId === arrow.Type.Struct ? (src.type as arrow.Struct).children : [];
  const mi = fields.findIndex((f) => f.name === "metadata");
  const vi = fields.findIndex((f) => f.name === "value");
  if (fields.some((f) => f.name === "typed_value")) {
    throw new ArcuateError(
      "UNSUPPORTED_FEATURE",
      `delta: variant column ${where} is shredded (reader feature variantShredding)`,
    );
  }
  if (mi < 0 || vi < 0)
    throw corrupt(where, `expected a struct of metadata and value, found ${String(src.type)}`);
  const metadata = src.children[mi]!;
  const value = src.children[vi]!;
  for (const child of [metadata, value]) {
    if (child.typeId !== arrow.Type.Binary)
      throw corrupt(where, `a field holds ${String(child.type)}, not binary`);
  }
  const texts: Array<string | null> = [];
  for (let i = 0; i < src.length; i += 1) {
    // Struct children are aligned with the parent's rows (each applies its own offset).
    if (!isValid(src, i) || !isValid(value, i) || !isValid(metadata, i)) {
      texts.push(null);
      continue;
    }
    texts.push(variantToJson(bytesAt(metadata, i), bytesAt(value, i), where));
  }
  return arrow.vectorFromArray(texts, new arrow.Utf8()).data[0]! as arrow.Data<arrow.Utf8>;
}
