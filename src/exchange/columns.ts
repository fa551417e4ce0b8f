// Building Arrow record batches of the arcuate tables from columns (never from row objects), and
// reading columns back. The one place that knows apache-arrow's builder quirks: Int64 takes
// bigints, maps take JS Map objects.
import {
  type DataType,
  makeData,
  RecordBatch,
  type Schema,
  Struct,
  Type,
  type Vector,
  vectorFromArray,
} from "apache-arrow";
import { ArcuateError } from "../errors.js";

export type ColumnValues = ArrayLike<unknown>;

function toArrowValues(type: DataType, values: ColumnValues): ArrayLike<unknown> {
  if (
    type.typeId === Type.Int &&
    (type as { bitWidth?: number }).bitWidth === 64 &&
    !(values instanceof BigInt64Array)
  ) {
    return Array.from(values, (value) =>
      value === null || value === undefined
        ? null
        : typeof value === "bigint"
          ? value
          : BigInt(value as number),
    );
  }
  if (type.typeId === Type.Map) {
    return Array.from(values, (value) =>
      value === null || value === undefined
        ? null
        : value instanceof Map
          ? value
          : new Map(Object.entries(value as Record<string, unknown>)),
    );
  }
  return values;
}

/** One record batch with exactly `schema` (names, types, nullability) from equal-length columns. */
export function buildBatch(schema: Schema, columns: Record<string, ColumnValues>): RecordBatch {
  let length = -1;
  const children = schema.fields.map((field) => {
    const values = columns[field.name];
    if (values === undefined)
      throw new ArcuateError("INTERNAL_ERROR", `exchange: column '${field.name}' is missing`);
    if (length === -1) length = values.length;
    else if (values.length !== length) {
      throw new ArcuateError(
        "INTERNAL_ERROR",
        `exchange: column '${field.name}' has ${values.length} values, expected ${length}`,
      );
    }
    const vector = vectorFromArray(toArrowValues(field.type, values) as unknown[], field.type) as Vector;
    // vectorFromArray builds one chunk for an array input; more would need slicing into batches.
    if (vector.data.length !== 1) {
      throw new ArcuateError(
        "INTERNAL_ERROR",
        `exchange: column '${field.name}' built ${vector.data.length} chunks`,
      );
    }
    return vector.data[0]!;
  });
  const data = makeData({
    type: new Struct(schema.fields),
    length: Math.max(length, 0),
    nullCount: 0,
    children,
  });
  return new RecordBatch(schema, data);
}

/** A column's values as plain JS (bigints → numbers, maps → objects); undefined if absent. */
export function columnValues(batch: RecordBatch, name: string): unknown[] {
  const vector = batch.getChild(name);
  if (!vector) return [];
  const out: unknown[] = new Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = plain(vector.get(i));
  return out;
}

/** Arrow values → plain JS: bigint → number, Map rows → objects, lists → arrays. */
export function plain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) return value;
  if (
    typeof value === "object" &&
    value !== null &&
    "toJSON" in value &&
    typeof value.toJSON === "function"
  ) {
    const json = value.toJSON() as unknown;
    if (Array.isArray(json)) return json.map(plain);
    if (json && typeof json === "object") {
      return Object.fromEntries(
        Object.entries(json as Record<string, unknown>).map(([k, v]) => [k, plain(v)]),
      );
    }
    return json;
  }
  return value;
}
