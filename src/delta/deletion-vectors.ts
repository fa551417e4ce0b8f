// Deletion vectors (PROTOCOL.md "Deletion Vectors"): not read yet; a table that has them is
// refused by name rather than read with deleted rows showing.
import { ArcuateError } from "../errors.js";
import type { DeletionVectorDescriptor } from "./actions.js";
import type { Storage } from "./storage.js";

export async function readDeletionVector(
  _storage: Storage,
  _dv: DeletionVectorDescriptor,
): Promise<Uint32Array> {
  throw new ArcuateError("UNSUPPORTED_FEATURE", "delta: unsupported reader feature deletionVectors");
}
