// Per-file statistics for `add.stats` (PROTOCOL.md "Per-file Statistics"): numRecords, and per
// leaf column nullCount, minValues, maxValues. Readers use them to skip files; they must never
// claim a min above or a max below a value in the file.
import type * as arrow from "apache-arrow";
import { formatDate, formatDecimal, formatTimestampMicros } from "./json.js";
import { type DataType, decimalOf, type StructType } from "./schema.js";

type StatValue = number | string | boolean;
interface StatsTree {
  [key: string]: StatValue | StatsTree;
}
/** While merging batches: a column whose min/max must not be reported (a value was left out). */
const UNKNOWN = "\u0000unknown";

export interface FileStats {
  numRecords: number;
  minValues: StatsTree;
  maxValues: StatsTree;
  nullCount: StatsTree;
}

function isValidAt(data: arrow.Data, i: number): boolean {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return true;
  const bit = data.offset + i;
  return ((data.nullBitmap[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

function decimalAt(values: Uint32Array, i: number): bigint {
  let v = 0n;
  for (let w = 3; w >= 0; w -= 1) v = (v << 32n) | BigInt(values[i * 4 + w]!);
  return BigInt.asIntN(128, v);
}

/** min, max and null count of one flat column; min/max undefined when not collected for the type. */
function leafStats(
  data: arrow.Data,
  type: DataType,
): { nulls: number; min?: StatValue; max?: StatValue; unknown?: boolean } {
  const n = data.length;
  let nulls = 0;
  const values = data.values as ArrayLike<number | bigint>;
  const allValid = data.nullCount === 0;
  switch (type) {
    case "byte":
    case "short":
    case "integer":
    case "float":
    case "double":
    case "date":
    case "long":
    case "timestamp":
    case "timestamp_ntz": {
      let min: number | bigint | undefined;
      let max: number | bigint | undefined;
      if (values instanceof BigInt64Array) {
        const bounds = int64Bounds(values, data, allValid);
        nulls = bounds.nulls;
        min = bounds.min;
        max = bounds.max;
      } else {
        for (let i = 0; i < n; i += 1) {
          if (!allValid && !isValidAt(data, i)) {
            nulls += 1;
            continue;
          }
          const v = values[i]!;
          if (typeof v === "number" && Number.isNaN(v)) continue; // NaN is not ordered: leave it out
          if (min === undefined || v < min) min = v;
          if (max === undefined || v > max) max = v;
        }
      }
      if (min === undefined || max === undefined) return { nulls };
      if (type === "date") return { nulls, min: formatDate(Number(min)), max: formatDate(Number(max)) };
      if (type === "timestamp" || type === "timestamp_ntz") {
        // Millisecond precision, as Spark writes; the max is rounded up so it stays an upper bound.
        const lo = BigInt(min) - (((BigInt(min) % 1000n) + 1000n) % 1000n);
        const hiRaw = BigInt(max);
        const hi = hiRaw % 1000n === 0n ? hiRaw : hiRaw - (((hiRaw % 1000n) + 1000n) % 1000n) + 1000n;
        const utc = type === "timestamp";
        const fmt = (m: bigint) => formatTimestampMicros(m, utc).replace(/(\.\d{3})\d{3}/, "$1");
        return { nulls, min: fmt(lo), max: fmt(hi) };
      }
      if (typeof min === "bigint" || typeof max === "bigint") {
        const safe = (x: number | bigint) =>
          BigInt(x) >= BigInt(Number.MIN_SAFE_INTEGER) && BigInt(x) <= BigInt(Number.MAX_SAFE_INTEGER);
        if (!safe(min) || !safe(max)) return { nulls };
        return { nulls, min: Number(min), max: Number(max) };
      }
      if (!Number.isFinite(min) || !Number.isFinite(max)) return { nulls };
      return { nulls, min, max };
    }
    case "string": {
      // Compared as UTF-8 bytes (code point order, as Spark and delta-rs compare); only the two
      // winners are decoded.
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      let min = -1;
      let max = -1;
      for (let i = 0; i < n; i += 1) {
        if (!allValid && !isValidAt(data, i)) {
          nulls += 1;
          continue;
        }
        if (min < 0 || compareBytes(bytes, offsets, i, min) < 0) min = i;
        if (max < 0 || compareBytes(bytes, offsets, i, max) > 0) max = i;
      }
      if (min < 0) return { nulls };
      const decoder = new TextDecoder();
      const lo = decoder.decode(bytes.subarray(offsets[min]!, offsets[min + 1]!));
      const hi = decoder.decode(bytes.subarray(offsets[max]!, offsets[max + 1]!));
      // Long strings are left out rather than truncated: a truncated max would be too small.
      if (lo.length > 64 || hi.length > 64) return { nulls, unknown: true };
      return { nulls, min: lo, max: hi };
    }
  }
  const decimal = decimalOf(type);
  if (decimal && decimal.precision <= 15) {
    let min: bigint | undefined;
    let max: bigint | undefined;
    const words = data.values as Uint32Array;
    for (let i = 0; i < n; i += 1) {
      if (!allValid && !isValidAt(data, i)) {
        nulls += 1;
        continue;
      }
      const v = decimalAt(words, i);
      if (min === undefined || v < min) min = v;
      if (max === undefined || v > max) max = v;
    }
    if (min === undefined || max === undefined) return { nulls };
    return {
      nulls,
      min: Number(formatDecimal(min, decimal.scale)),
      max: Number(formatDecimal(max, decimal.scale)),
    };
  }
  for (let i = 0; i < n; i += 1) if (!isValidAt(data, i)) nulls += 1;
  return { nulls };
}

function collect(
  fields: StructType["fields"],
  children: arrow.Data[],
  out: { min: StatsTree; max: StatsTree; nulls: StatsTree },
): void {
  fields.forEach((field, k) => {
    const data = children[k]!;
    const type = field.type;
    if (typeof type === "object" && type.type === "struct") {
      const nested = { min: {}, max: {}, nulls: {} };
      collect(type.fields, data.children, nested);
      out.nulls[field.name] = nested.nulls;
      if (Object.keys(nested.min).length > 0) out.min[field.name] = nested.min;
      if (Object.keys(nested.max).length > 0) out.max[field.name] = nested.max;
      return;
    }
    const s = leafStats(data, type);
    out.nulls[field.name] = s.nulls;
    if (s.unknown) {
      out.min[field.name] = UNKNOWN;
      out.max[field.name] = UNKNOWN;
    }
    if (s.min !== undefined) out.min[field.name] = s.min;
    if (s.max !== undefined) out.max[field.name] = s.max;
  });
}

/** Stats of the record batches written into one data file (data columns only, in table order). */
export function computeStats(fields: StructType["fields"], batches: arrow.RecordBatch[]): FileStats {
  const numRecords = batches.reduce((n, b) => n + b.numRows, 0);
  const perBatch = batches.map((b) => {
    const out = { min: {} as StatsTree, max: {} as StatsTree, nulls: {} as StatsTree };
    collect(fields, b.data.children, out);
    return out;
  });
  const merged = { min: {} as StatsTree, max: {} as StatsTree, nulls: {} as StatsTree };
  for (const b of perBatch) {
    mergeTree(merged.nulls, b.nulls, (x, y) => (x as number) + (y as number));
    mergeTree(merged.min, b.min, (x, y) => pickBound(x, y, "min"));
    mergeTree(merged.max, b.max, (x, y) => pickBound(x, y, "max"));
  }
  dropUnknown(merged.min);
  dropUnknown(merged.max);
  return { numRecords, minValues: merged.min, maxValues: merged.max, nullCount: merged.nulls };
}

function mergeTree(into: StatsTree, from: StatsTree, pick: (a: StatValue, b: StatValue) => StatValue): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (cur === undefined) into[k] = typeof v === "object" ? structuredClone(v) : v;
    else if (typeof v === "object" && typeof cur === "object") mergeTree(cur, v, pick);
    else if (typeof v !== "object" && typeof cur !== "object") into[k] = pick(cur, v);
  }
}

function dropUnknown(tree: StatsTree): void {
  for (const [k, v] of Object.entries(tree)) {
    if (v === UNKNOWN) delete tree[k];
    else if (typeof v === "object") {
      dropUnknown(v);
      if (Object.keys(v).length === 0) delete tree[k];
    }
  }
}

/** The smaller (or larger) of two bounds of the same column; UNKNOWN wins (the bound is dropped). */
function pickBound(x: StatValue, y: StatValue, which: "min" | "max"): StatValue {
  if (x === UNKNOWN || y === UNKNOWN) return UNKNOWN;
  if (which === "min") return y < x ? y : x;
  return y > x ? y : x;
}

function compareBytes(bytes: Uint8Array, offsets: Int32Array, a: number, b: number): number {
  let i = offsets[a]!;
  let j = offsets[b]!;
  const endA = offsets[a + 1]!;
  const endB = offsets[b + 1]!;
  while (i < endA && j < endB) {
    const d = bytes[i]! - bytes[j]!;
    if (d !== 0) return d;
    i += 1;
    j += 1;
  }
  return endA - i - (endB - j);
}

/**
 * min and max of 64-bit integers without boxing every value as a BigInt: each is compared as its
 * (signed high, unsigned low) 32-bit halves, and only the two winners are read as BigInts.
 */
function int64Bounds(
  values: BigInt64Array,
  data: arrow.Data,
  allValid: boolean,
): { nulls: number; min?: bigint; max?: bigint } {
  const hi = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  const lo = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  let nulls = 0;
  let min = -1;
  let max = -1;
  for (let i = 0; i < data.length; i += 1) {
    if (!allValid && !isValidAt(data, i)) {
      nulls += 1;
      continue;
    }
    const h = hi[2 * i + 1]!;
    const l = lo[2 * i]!;
    if (min < 0 || h < hi[2 * min + 1]! || (h === hi[2 * min + 1]! && l < lo[2 * min]!)) min = i;
    if (max < 0 || h > hi[2 * max + 1]! || (h === hi[2 * max + 1]! && l > lo[2 * max]!)) max = i;
  }
  return min < 0 ? { nulls } : { nulls, min: values[min]!, max: values[max]! };
}
