// Selecting rows of Arrow data by index, for every layout the Delta types use (arrow-js has no
// compute kernels). Used to split a batch by partition and to drop deleted rows. Exact: values
// are copied as stored, never through JS numbers (timestamps keep their microseconds).
import * as arrow from "apache-arrow";

function validAt(data: arrow.Data, i: number): boolean {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return true;
  const bit = data.offset + i;
  return ((data.nullBitmap[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

function takeBitmap(data: arrow.Data, indices: ArrayLike<number>): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(Math.ceil(indices.length / 8));
  let nulls = 0;
  for (let k = 0; k < indices.length; k += 1) {
    if (validAt(data, indices[k]!)) bitmap[k >> 3]! |= 1 << (k & 7);
    else nulls += 1;
  }
  return { bitmap, nulls };
}

/** The rows `indices` (positions in `data`) of `data`, as new data of the same type. */
export function takeData(data: arrow.Data, indices: ArrayLike<number>): arrow.Data {
  const n = indices.length;
  const { bitmap, nulls } = takeBitmap(data, indices);
  const base = { type: data.type, length: n, nullCount: nulls, nullBitmap: nulls > 0 ? bitmap : undefined };
  switch (data.typeId) {
    case arrow.Type.Struct:
      return arrow.makeData({
        ...base,
        type: data.type as arrow.Struct,
        children: data.children.map((c) => takeData(c, indices)),
      });
    case arrow.Type.List:
    case arrow.Type.Map: {
      const offsets = data.valueOffsets as Int32Array;
      const newOffsets = new Int32Array(n + 1);
      const childIndices: number[] = [];
      for (let k = 0; k < n; k += 1) {
        const i = indices[k]!;
        for (let j = offsets[i]!; j < offsets[i + 1]!; j += 1) childIndices.push(j);
        newOffsets[k + 1] = childIndices.length;
      }
      const child = takeData(data.children[0]!, childIndices);
      return arrow.makeData({ ...base, type: data.type as arrow.List, valueOffsets: newOffsets, child });
    }
    case arrow.Type.Utf8:
    case arrow.Type.Binary: {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      let total = 0;
      for (let k = 0; k < n; k += 1) total += offsets[indices[k]! + 1]! - offsets[indices[k]!]!;
      const out = new Uint8Array(total);
      const newOffsets = new Int32Array(n + 1);
      let pos = 0;
      for (let k = 0; k < n; k += 1) {
        const i = indices[k]!;
        out.set(bytes.subarray(offsets[i]!, offsets[i + 1]!), pos);
        pos += offsets[i + 1]! - offsets[i]!;
        newOffsets[k + 1] = pos;
      }
      return arrow.makeData({ ...base, type: data.type as arrow.Utf8, valueOffsets: newOffsets, data: out });
    }
    case arrow.Type.Bool: {
      const bits = new Uint8Array(Math.ceil(n / 8));
      const values = data.values as Uint8Array;
      for (let k = 0; k < n; k += 1) {
        const bit = data.offset + indices[k]!;
        if ((values[bit >> 3]! >> (bit & 7)) & 1) bits[k >> 3]! |= 1 << (k & 7);
      }
      return arrow.makeData({ ...base, type: data.type as arrow.Bool, data: bits });
    }
    case arrow.Type.Null:
      return arrow.makeData({ type: data.type as arrow.Null, length: n });
    default: {
      // Fixed width: stride elements per value (4 words for Decimal128).
      const values = data.values as unknown as { length: number } & Record<number, number | bigint>;
      const stride = data.stride;
      const Ctor = values.constructor as new (len: number) => typeof values;
      const out = new Ctor(n * stride);
      for (let k = 0; k < n; k += 1) {
        const i = indices[k]!;
        for (let s = 0; s < stride; s += 1) out[k * stride + s] = values[i * stride + s]!;
      }
      return arrow.makeData({ ...base, type: data.type as arrow.Int32, data: out as unknown as Int32Array });
    }
  }
}
