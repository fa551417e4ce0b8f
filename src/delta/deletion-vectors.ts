// Deletion vectors (PROTOCOL.md "Deletion Vectors"): which rows of a data file are deleted, as a
// 64-bit Roaring bitmap of row positions, stored inline (Z85) or in a `deletion_vector_<uuid>.bin`
// file beside the data. Decoded here into a sorted array of row positions.
import { ArcuateError } from "../errors.js";
import type { DeletionVectorDescriptor } from "./actions.js";
import { canonicalPath } from "./replay.js";
import { dataFileLocation } from "./scan-location.js";
import type { Storage } from "./storage.js";

const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const Z85_INDEX = new Map([...Z85].map((c, i) => [c, i]));
const MAGIC = 1681511377;

function corrupt(message: string): ArcuateError {
  return new ArcuateError("CORRUPT_TABLE", `delta: corrupt deletion vector: ${message}`);
}

/** Z85 (ZeroMQ base85) to bytes: every 5 characters are 4 big-endian bytes. */
export function decodeZ85(text: string): Uint8Array {
  if (text.length % 5 !== 0) throw corrupt(`Z85 text of length ${text.length}`);
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let k = 0; k < 5; k += 1) {
      const digit = Z85_INDEX.get(text[i + k]!);
      if (digit === undefined) throw corrupt(`bad Z85 character ${JSON.stringify(text[i + k])}`);
      value = value * 85 + digit;
    }
    out[o] = (value >>> 24) & 0xff;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}

function uuidOf(bytes: Uint8Array): string {
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Decodes a 32-bit Roaring bitmap in the portable format at `pos`; pushes `high + value`. */
function readRoaring32(view: DataView, start: number, high: number, out: number[]): number {
  let pos = start;
  const cookie = view.getUint32(pos, true);
  pos += 4;
  let size: number;
  let runFlags: Uint8Array | undefined;
  if ((cookie & 0xffff) === 12347) {
    size = (cookie >>> 16) + 1;
    runFlags = new Uint8Array(view.buffer, view.byteOffset + pos, Math.ceil(size / 8));
    pos += runFlags.length;
  } else if (cookie === 12346) {
    size = view.getUint32(pos, true);
    pos += 4;
  } else {
    throw corrupt(`unknown Roaring cookie ${cookie}`);
  }
  const keys: number[] = [];
  const cards: number[] = [];
  for (let i = 0; i < size; i += 1) {
    keys.push(view.getUint16(pos, true));
    cards.push(view.getUint16(pos + 2, true) + 1);
    pos += 4;
  }
  if (!runFlags || size >= 4) pos += 4 * size; // offset header: not needed when reading in order
  for (let i = 0; i < size; i += 1) {
    const base = high + keys[i]! * 65536;
    const isRun = runFlags ? ((runFlags[i >> 3]! >> (i & 7)) & 1) === 1 : false;
    if (isRun) {
      const runs = view.getUint16(pos, true);
      pos += 2;
      for (let r = 0; r < runs; r += 1) {
        const from = view.getUint16(pos, true);
        const length = view.getUint16(pos + 2, true);
        pos += 4;
        for (let v = from; v <= from + length; v += 1) out.push(base + v);
      }
    } else if (cards[i]! <= 4096) {
      for (let k = 0; k < cards[i]!; k += 1) out.push(base + view.getUint16(pos + 2 * k, true));
      pos += 2 * cards[i]!;
    } else {
      for (let w = 0; w < 1024; w += 1) {
        const lo = view.getUint32(pos + w * 8, true);
        const hi = view.getUint32(pos + w * 8 + 4, true);
        for (let b = 0; b < 32; b += 1) if ((lo >>> b) & 1) out.push(base + w * 64 + b);
        for (let b = 0; b < 32; b += 1) if ((hi >>> b) & 1) out.push(base + w * 64 + 32 + b);
      }
      pos += 8192;
    }
  }
  return pos;
}

/** Row positions in a serialized deletion vector (magic number, then a portable 64-bit Roaring bitmap). */
export function decodeDeletionVector(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw corrupt(`bad magic number ${view.getUint32(0, true)}`);
  const buckets = Number(view.getBigUint64(4, true));
  let pos = 12;
  const out: number[] = [];
  for (let b = 0; b < buckets; b += 1) {
    const key = view.getUint32(pos, true);
    pos += 4;
    pos = readRoaring32(view, pos, key * 2 ** 32, out);
  }
  return out;
}

/** The deleted row positions of a data file, sorted ascending. */
export async function readDeletionVector(storage: Storage, dv: DeletionVectorDescriptor): Promise<number[]> {
  let serialized: Uint8Array;
  if (dv.storageType === "i") {
    serialized = decodeZ85(dv.pathOrInlineDv).subarray(0, dv.sizeInBytes);
  } else {
    let path: string;
    if (dv.storageType === "u") {
      const encoded = dv.pathOrInlineDv;
      const prefix = encoded.slice(0, encoded.length - 20);
      const uuid = uuidOf(decodeZ85(encoded.slice(-20)));
      path = `${prefix ? `${prefix}/` : ""}deletion_vector_${uuid}.bin`;
    } else if (dv.storageType === "p") {
      path = canonicalPath(dv.pathOrInlineDv);
    } else {
      throw corrupt(`unknown storage type ${JSON.stringify(dv.storageType)}`);
    }
    const location = dataFileLocation(storage, path);
    const offset = dv.offset ?? 1;
    const bytes = await location.storage.read(location.path, { offset, length: 4 + dv.sizeInBytes });
    if (bytes.length < 4 + dv.sizeInBytes) throw corrupt(`${path} is shorter than its descriptor says`);
    const size = new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, false);
    if (size !== dv.sizeInBytes) throw corrupt(`${path}: size ${size}, descriptor says ${dv.sizeInBytes}`);
    serialized = bytes.subarray(4, 4 + size);
  }
  const rows = decodeDeletionVector(serialized);
  if (rows.length !== dv.cardinality) {
    throw corrupt(`${rows.length} rows decoded, descriptor says ${dv.cardinality}`);
  }
  return rows;
}
