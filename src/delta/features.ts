// Which table features arcuate reads and writes (PROTOCOL.md "Table Features"). A snapshot whose
// protocol needs a reader feature outside this list is refused with an error naming the feature,
// never read wrongly.
import { ArcuateError } from "../errors.js";
import type { MetadataAction, ProtocolAction } from "./actions.js";

/** Reader features arcuate implements. */
export const SUPPORTED_READER_FEATURES = new Set([
  "columnMapping",
  "timestampNtz",
  "v2Checkpoint",
  "vacuumProtocolCheck",
  "typeWidening",
  "typeWidening-preview",
  "deletionVectors",
  "variantType",
  "variantType-preview",
]);

export type ColumnMappingMode = "none" | "name" | "id";

export function columnMappingMode(metadata: MetadataAction): ColumnMappingMode {
  const mode = metadata.configuration?.["delta.columnMapping.mode"] ?? "none";
  if (mode === "none" || mode === "name" || mode === "id") return mode;
  throw new ArcuateError(
    "UNSUPPORTED_FEATURE",
    `delta: unsupported column mapping mode ${JSON.stringify(mode)}`,
  );
}

/** Throws UNSUPPORTED_FEATURE unless arcuate can read a table with this protocol. */
export function checkReadable(protocol: ProtocolAction): void {
  const reader = protocol.minReaderVersion;
  if (!Number.isInteger(reader) || reader < 1 || reader > 3) {
    throw new ArcuateError(
      "UNSUPPORTED_FEATURE",
      `delta: unsupported reader version ${reader} (arcuate reads reader versions 1 to 3)`,
    );
  }
  if (reader === 3) {
    const missing = (protocol.readerFeatures ?? []).filter((f) => !SUPPORTED_READER_FEATURES.has(f));
    if (missing.length > 0) {
      throw new ArcuateError(
        "UNSUPPORTED_FEATURE",
        `delta: unsupported reader feature ${missing.join(", ")}`,
      );
    }
  }
}
