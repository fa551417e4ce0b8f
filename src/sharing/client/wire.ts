// Arrow data across a worker boundary without re-encoding: a batch travels as its buffers (moved
// by transfer, not copied) and the shape of its tree; the receiver rebuilds the Data with the
// Arrow types it already knows (the table's schema), so no type travels. Replaces an Arrow IPC
// round trip (encode in the worker, decode on the main thread) that cost about as much as the
// Parquet decoding itself.
import * as arrow from "apache-arrow";

/** One Arrow Data node: its place, its buffers (`Data.buffers` order) and its children. */
export interface WireData {
  offset: number;
  length: number;
  nullCount: number;
  buffers: Array<ArrayBufferView | undefined>;
  children: WireData[];
}

/** A record batch on the wire: the struct Data of its columns. */
export type WireBatch = WireData;

/** `data` as WireData; the ArrayBuffers to transfer are added to `transfer`. */
export function toWire(data: arrow.Data, transfer: Set<ArrayBuffer>): WireData {
  if (data.dictionary) {
    // The Delta reader conforms every column to its Delta type; none is dictionary-encoded.
    throw new Error(`sharing: a decoded column of type ${String(data.type)} cannot cross to the main thread`);
  }
  const buffers: Array<ArrayBufferView | undefined> = [
    data.valueOffsets,
    data.values,
    data.nullBitmap,
    data.typeIds,
  ];
  for (const view of buffers) {
    // Empty arrays may be shared constants of apache-arrow: moving one would break the worker.
    if (view && view.byteLength > 0 && view.buffer instanceof ArrayBuffer) transfer.add(view.buffer);
  }
  return {
    offset: data.offset,
    length: data.length,
    nullCount: data.nullCount,
    buffers,
    children: data.children.map((child) => toWire(child, transfer)),
  };
}

/** Rebuilds Data of `type` (the type the sender's Data had) from its wire form. */
export function fromWire<T extends arrow.DataType>(type: T, wire: WireData): arrow.Data<T> {
  const children = wire.children.map((child, i) => {
    const field = type.children[i];
    if (!field) throw new Error(`sharing: decoded data has more children than its type ${String(type)}`);
    return fromWire(field.type, child);
  });
  const buffers = wire.buffers as unknown as arrow.Data<T>["buffers"];
  return new arrow.Data(type, wire.offset, wire.length, wire.nullCount, buffers, children);
}

/** A batch of `schema` from its wire form. */
export function batchFromWire(schema: arrow.Schema, wire: WireBatch): arrow.RecordBatch {
  return new arrow.RecordBatch(schema, fromWire(new arrow.Struct(schema.fields), wire));
}
