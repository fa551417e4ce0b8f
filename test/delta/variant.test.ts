// The Variant binary encoding (parquet-format VariantEncoding.md) to JSON text, on hand-encoded
// values: the golden test covers what Spark writes; these pin the forms docs/delta.md promises.
import { describe, expect, it } from "vitest";
import { variantToJson } from "../../src/delta/variant.js";

/** Metadata: version 1, 1-byte offsets, the given dictionary. */
function metadata(keys: string[]): Uint8Array {
  const bytes = keys.map((k) => new TextEncoder().encode(k));
  const offsets = [0];
  for (const b of bytes) offsets.push(offsets.at(-1)! + b.length);
  return Uint8Array.from([0x01, keys.length, ...offsets, ...bytes.flatMap((b) => [...b])]);
}

const primitive = (id: number, ...payload: number[]) => [id << 2, ...payload];
const le = (n: bigint, width: number) =>
  Array.from({ length: width }, (_, k) => Number((n >> BigInt(8 * k)) & 0xffn));

describe("variant values as JSON", () => {
  const empty = metadata([]);
  it("renders primitives in arcuate's JSON forms", () => {
    const cases: Array<[number[], string]> = [
      [primitive(0), "null"],
      [primitive(1), "true"],
      [primitive(3, 0xf9), "-7"],
      [primitive(6, ...le(9007199254740993n, 8)), "9007199254740993"],
      [primitive(8, 2, ...le(-150n, 4)), "-1.50"],
      [primitive(10, 3, ...le(123456789012345678901234567890123n, 16)), "123456789012345678901234567890.123"],
      [primitive(11, ...le(19782n, 4)), '"2024-02-29"'],
      [primitive(12, ...le(1709296496123456n, 8)), '"2024-03-01T12:34:56.123456Z"'],
      [primitive(13, ...le(-1n, 8)), '"1969-12-31T23:59:59.999999"'],
      [primitive(15, 3, 0, 0, 0, 0x00, 0xff, 0x10), '"AP8Q"'],
      [primitive(16, 2, 0, 0, 0, 0x68, 0x69), '"hi"'],
      [[(2 << 2) | 1, 0x22, 0x0a], '"\\"\\n"'],
    ];
    for (const [value, json] of cases) expect(variantToJson(empty, Uint8Array.from(value))).toBe(json);
    const nan = new Uint8Array(9);
    nan[0] = 7 << 2;
    new DataView(nan.buffer).setFloat64(1, Number.NaN, true);
    expect(variantToJson(empty, nan)).toBe('"NaN"');
  });

  it("renders objects (keys from the dictionary, in stored order) and arrays", () => {
    // {"a": 1, "b": [true, "x"]}: object header 0b000010 (1-byte ids and offsets), 2 fields.
    const array = [0b11, 2, 0, 1, 3, ...primitive(1), (1 << 2) | 1, 0x78];
    const value = [0b10, 2, 0, 1, 0, 2, 2 + array.length, ...primitive(3, 1), ...array];
    expect(variantToJson(metadata(["a", "b"]), Uint8Array.from(value))).toBe('{"a":1,"b":[true,"x"]}');
  });

  it("refuses bytes that are cut short, naming the column", () => {
    expect(() => variantToJson(empty, Uint8Array.from(primitive(6, 1, 2)), "t.v")).toThrow(
      /variant column t\.v is not valid Variant data: value is cut short/,
    );
  });
});
