// Deletion vectors in the `delta` response format: a vector kept in a file of the table
// (storage type `u`, a relative UUID path, or `p`, an absolute path) is rewritten to storage type
// `p` with a pre-signed URL, as the reference server does, so the recipient's Delta reader fetches
// it like a data file. Inline vectors (`i`) travel as they are.
// PROTOCOL.md of delta-io/delta, "Deletion Vector Descriptor Schema".
import type { DeletionVectorDescriptor } from "../../delta/actions.js";

const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const Z85_VALUE = new Map([...Z85].map((c, i) => [c, i]));

/** The file of a stored vector, as a path the table's file URLs accept (relative, or a file: URL); undefined for inline vectors. */
export function deletionVectorPath(dv: DeletionVectorDescriptor): string | undefined {
  if (dv.storageType === "p") return dv.pathOrInlineDv;
  if (dv.storageType !== "u") return undefined;
  const encoded = dv.pathOrInlineDv;
  if (encoded.length < 20) throw new Error(`deletion vector '${encoded}' is too short`);
  const prefix = encoded.slice(0, encoded.length - 20);
  const uuid = formatUuid(decodeZ85(encoded.slice(-20)));
  const name = `deletion_vector_${uuid}.bin`;
  return prefix === "" ? name : `${prefix}/${name}`;
}

export function withSignedPath(dv: DeletionVectorDescriptor, url: string): DeletionVectorDescriptor {
  return { ...dv, storageType: "p", pathOrInlineDv: url };
}

function decodeZ85(text: string): Uint8Array {
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0; i < text.length; i += 5) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const digit = Z85_VALUE.get(text[i + j]!);
      if (digit === undefined)
        throw new Error(`deletion vector path has a non-Z85 character '${text[i + j]}'`);
      value = value * 85 + digit;
    }
    const o = (i / 5) * 4;
    out[o] = (value >>> 24) & 0xff;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}

function formatUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
