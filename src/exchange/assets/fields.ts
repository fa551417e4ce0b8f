// Column builders shared by the asset kinds' schemas, and the size rules every kind keeps.
import { Binary, Bool, Field, Float64, Int32, Int64, List, Map_, Struct, Utf8 } from "apache-arrow";

export const utf8 = (name: string, nullable = true) => new Field(name, new Utf8(), nullable);
export const int64 = (name: string, nullable = true) => new Field(name, new Int64(), nullable);
export const int32 = (name: string, nullable = true) => new Field(name, new Int32(), nullable);
export const float64 = (name: string, nullable = true) => new Field(name, new Float64(), nullable);
export const bool = (name: string, nullable = true) => new Field(name, new Bool(), nullable);
export const binary = (name: string, nullable = true) => new Field(name, new Binary(), nullable);
export const stringList = (name: string) =>
  new Field(name, new List(new Field("element", new Utf8(), true)), true);
function mapField<V extends Utf8 | Float64>(name: string, valueType: V): Field {
  const entries = new Struct<{ key: Utf8; value: V }>([
    new Field("key", new Utf8(), false),
    new Field("value", valueType, true),
  ]);
  return new Field(name, new Map_<Utf8, V>(new Field("key_value", entries, false)), true);
}
export const stringMap = (name: string) => mapField(name, new Utf8());
export const numberMap = (name: string) => mapField(name, new Float64());
/** Every table carries the export sequence number that wrote each row. */
export const exportSeq = () => new Field("export_seq", new Int64(), false);

/** Artifacts are split into chunks of this size, so no row holds a whole model. */
export const CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Large text payloads (span contents) are cut into pieces of at most this many UTF-16 code
 * units, so a piece is at most 8 MiB of UTF-8 (CHUNK_BYTES, the artifacts rule).
 */
export const TEXT_CHUNK_CHARS = CHUNK_BYTES / 4;
