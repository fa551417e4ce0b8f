// Test data for the writer tests: record batches with every type the writer supports, built
// column by column so values keep their full precision (microseconds, 128-bit decimals).
import * as arrow from "apache-arrow";
import { decimalWords } from "../../../src/delta/partitions.js";
import { deltaSchemaToArrow, type StructType } from "../../../src/delta/schema.js";

export const ALL_TYPES_SCHEMA: StructType = {
  type: "struct",
  fields: [
    { name: "id", type: "long", nullable: false, metadata: {} },
    { name: "name", type: "string", nullable: true, metadata: {} },
    { name: "part", type: "string", nullable: true, metadata: {} },
    { name: "bucket", type: "integer", nullable: true, metadata: {} },
    { name: "flag", type: "boolean", nullable: true, metadata: {} },
    { name: "small", type: "short", nullable: true, metadata: {} },
    { name: "tiny", type: "byte", nullable: true, metadata: {} },
    { name: "ratio", type: "float", nullable: true, metadata: {} },
    { name: "score", type: "double", nullable: true, metadata: {} },
    { name: "price", type: "decimal(20,4)", nullable: true, metadata: {} },
    { name: "day", type: "date", nullable: true, metadata: {} },
    { name: "at", type: "timestamp", nullable: true, metadata: {} },
    { name: "local", type: "timestamp_ntz", nullable: true, metadata: {} },
    { name: "blob", type: "binary", nullable: true, metadata: {} },
    {
      name: "info",
      type: {
        type: "struct",
        fields: [
          { name: "a", type: "integer", nullable: true, metadata: {} },
          { name: "b", type: "string", nullable: true, metadata: {} },
          {
            name: "c",
            type: { type: "struct", fields: [{ name: "d", type: "double", nullable: true, metadata: {} }] },
            nullable: true,
            metadata: {},
          },
        ],
      },
      nullable: true,
      metadata: {},
    },
    {
      name: "list",
      type: { type: "array", elementType: "long", containsNull: true },
      nullable: true,
      metadata: {},
    },
    {
      name: "tags",
      type: { type: "map", keyType: "string", valueType: "string", valueContainsNull: true },
      nullable: true,
      metadata: {},
    },
  ],
};

const PARTS = ["plain", "with space", "a=b/c%d", null, "ünï"];

function fixed(type: arrow.DataType, values: Array<bigint | null>, width = 1): arrow.Data {
  const n = values.length;
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  const data = width === 4 ? new Uint32Array(n * 4) : new BigInt64Array(n);
  let nulls = 0;
  values.forEach((v, i) => {
    if (v === null) {
      nulls += 1;
      return;
    }
    bitmap[i >> 3]! |= 1 << (i & 7);
    if (width === 4) (data as Uint32Array).set(decimalWords(v), i * 4);
    else (data as BigInt64Array)[i] = v;
  });
  return arrow.makeData({
    type: type as arrow.Int64,
    length: n,
    nullCount: nulls,
    nullBitmap: bitmap,
    data: data as unknown as BigInt64Array,
  });
}

/** `rows` rows whose ids start at `start`; row values cycle through edge cases (nulls, NaN, ±∞, far dates). */
export function allTypesBatch(start: number, rows: number, partition?: string | null): arrow.Table {
  const schema = deltaSchemaToArrow(ALL_TYPES_SCHEMA);
  const ids = Array.from({ length: rows }, (_, i) => start + i);
  const col = (name: string) => schema.fields.find((f) => f.name === name)!.type;
  const v = (name: string, values: unknown[]) => arrow.vectorFromArray(values, col(name)).data[0]!;
  const children: Record<string, arrow.Data> = {
    id: fixed(col("id"), ids.map(BigInt)),
    name: v(
      "name",
      ids.map((i) => (i % 7 === 3 ? null : `name-${i}-${"é".repeat(i % 3)}`)),
    ),
    part: v(
      "part",
      ids.map((i) => (partition !== undefined ? partition : PARTS[i % PARTS.length]!)),
    ),
    bucket: v(
      "bucket",
      ids.map((i) => (i % 11 === 5 ? null : i % 3)),
    ),
    flag: v(
      "flag",
      ids.map((i) => (i % 5 === 0 ? null : i % 2 === 0)),
    ),
    small: v(
      "small",
      ids.map((i) => (i % 2 ? -i : i)),
    ),
    tiny: v(
      "tiny",
      ids.map((i) => (i % 256) - 128),
    ),
    ratio: v(
      "ratio",
      ids.map((i) => i / 8),
    ),
    score: v(
      "score",
      ids.map(
        (i) => [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null][i % 9] ?? i * 1.5 - 7,
      ),
    ),
    price: fixed(
      col("price"),
      ids.map((i) => (i % 6 === 0 ? null : BigInt(i) * 123456789n - 5000n)),
      4,
    ),
    day: v(
      "day",
      ids.map((i) => (i % 4 === 0 ? null : new Date(Date.UTC(1900 + (i % 200), i % 12, 1 + (i % 28))))),
    ),
    at: fixed(
      col("at"),
      ids.map((i) => (i % 5 === 1 ? null : BigInt(i) * 86_400_123_457n - 10n ** 12n)),
    ),
    local: fixed(
      col("local"),
      ids.map((i) => (i % 5 === 2 ? null : BigInt(i) * 3_600_000_001n)),
    ),
    blob: v(
      "blob",
      ids.map((i) => (i % 3 === 0 ? null : Uint8Array.from([i & 255, 0, 255, (i * 7) & 255]))),
    ),
    info: v(
      "info",
      ids.map((i) =>
        i % 8 === 0 ? null : { a: i % 4 === 1 ? null : i, b: `b${i}`, c: i % 3 === 0 ? null : { d: i / 4 } },
      ),
    ),
    list: v(
      "list",
      ids.map((i) =>
        i % 10 === 0 ? null : Array.from({ length: i % 4 }, (_, k) => (k === 1 ? null : BigInt(i * k))),
      ),
    ),
    tags: v(
      "tags",
      ids.map((i) =>
        i % 9 === 0
          ? null
          : new Map<string, string | null>(
              i % 2
                ? [
                    ["k", `v${i}`],
                    ["n", null],
                  ]
                : [],
            ),
      ),
    ),
  };
  return new arrow.Table(
    schema,
    new arrow.RecordBatch(
      schema,
      arrow.makeData({
        type: new arrow.Struct(schema.fields),
        length: rows,
        nullCount: 0,
        children: schema.fields.map((f) => children[f.name]!),
      }),
    ),
  );
}
