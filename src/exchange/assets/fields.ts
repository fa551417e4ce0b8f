// Column builders shared by the asset kinds' schemas (the same shapes as format.ts's own).
import { Bool, Field, Int32, Int64, Map_, Struct, Utf8 } from "apache-arrow";

export const utf8 = (name: string, nullable = true) => new Field(name, new Utf8(), nullable);
export const int64 = (name: string, nullable = true) => new Field(name, new Int64(), nullable);
export const int32 = (name: string, nullable = true) => new Field(name, new Int32(), nullable);
export const bool = (name: string, nullable = true) => new Field(name, new Bool(), nullable);
export function stringMap(name: string): Field {
  const entries = new Struct<{ key: Utf8; value: Utf8 }>([
    new Field("key", new Utf8(), false),
    new Field("value", new Utf8(), true),
  ]);
  return new Field(name, new Map_<Utf8, Utf8>(new Field("key_value", entries, false)), true);
}
/** Every table carries the export sequence number that wrote each row. */
export const exportSeq = () => new Field("export_seq", new Int64(), false);

/**
 * Large text payloads (span contents) are cut into pieces of at most this many UTF-16 code
 * units, so a piece is at most 8 MiB of UTF-8 (CHUNK_BYTES, the artifacts rule).
 */
export const TEXT_CHUNK_CHARS = (8 * 1024 * 1024) / 4;
