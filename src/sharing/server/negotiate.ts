// The response format and protocol of a table answer, from what the client declared in
// `delta-sharing-capabilities` (PROTOCOL.md #delta-sharing-capabilities-header), as the reference
// server decides them: one requested format is honoured; with both, parquet when the table needs
// nothing parquet cannot carry. A client that declared no reader features gets the table as a
// reader-version-1 table (its other features change nothing in how its data files read), unless
// the table truly needs a feature to be read right (column mapping, deletion vectors, timestamp
// without time zone, type widening) or to be parsed at all (variant); then the request is refused
// with a message naming the feature and how to ask for it. A client that declared reader features
// is handed the table's own protocol, and its engine checks the features there itself; it must
// only have declared column mapping and deletion vectors when the table needs them, as the
// reference server asks, since those change which columns and rows a file holds. (The official
// Python connector declares neither type widening nor variant, yet its engine reads both.)
import type { MetadataAction, ProtocolAction } from "../../delta/actions.js";
import { ArcuateError } from "../../errors.js";
import type { Capabilities, ResponseFormat } from "../protocol.js";

export interface Negotiated {
  format: ResponseFormat;
  /** The protocol to report: the table's, or reader version 1 for a client of no reader features. */
  protocol: ProtocolAction;
}

/** What about the table decides the answer. */
export interface TableNeeds {
  protocol: ProtocolAction;
  metadata: MetadataAction;
  /** A file of the answer has a deletion vector (its deleted rows must not be shown). */
  deletionVectors: boolean;
}

const VALUE_FEATURES = new Set(["timestampNtz", "typeWidening", "typeWidening-preview"]);
/**
 * Features whose types a reader that declared no reader features cannot parse in the schema (the
 * Python connector's parquet path fails with "Could not parse datatype: variant"). A delta-format
 * client is handed the table's own protocol and checks these itself, so only a parquet answer,
 * which reports reader version 1, is refused for them.
 */
const SCHEMA_FEATURES = new Set(["variantType", "variantType-preview"]);
/** Features a client handed the table's own protocol must still have declared (the reference server's check). */
const DECLARED_FEATURES = new Set(["columnMapping", "deletionVectors"]);

/** Reader features whose absence in a client would make it read wrong rows or wrong columns. */
export function neededReaderFeatures(table: TableNeeds): string[] {
  const needed: string[] = [];
  const mode = table.metadata.configuration?.["delta.columnMapping.mode"];
  if (mode !== undefined && mode !== "none") needed.push("columnMapping");
  if (table.deletionVectors) needed.push("deletionVectors");
  // Types a reader without the feature cannot parse (timestamp_ntz) or reads narrower than the
  // schema says (data files written before a type was widened).
  for (const feature of table.protocol.readerFeatures ?? []) {
    if (VALUE_FEATURES.has(feature)) needed.push(feature);
  }
  return needed;
}

export function negotiate(caps: Capabilities, table: TableNeeds, name: string): Negotiated {
  const requested: ResponseFormat[] = caps.responseFormat.length > 0 ? caps.responseFormat : ["parquet"];
  // Reader features are only for the delta format: a parquet answer cannot carry any.
  const declared = requested.includes("delta") ? caps.readerFeatures : [];
  let needed = neededReaderFeatures(table);
  if (declared.length === 0) {
    for (const feature of table.protocol.readerFeatures ?? []) {
      if (SCHEMA_FEATURES.has(feature)) needed.push(feature);
    }
  } else {
    needed = needed.filter((f) => DECLARED_FEATURES.has(f));
  }
  const missing = needed.filter((f) => !declared.includes(f.toLowerCase()));
  if (missing.length > 0) {
    const what = missing.length === 1 ? "feature" : "features";
    throw new ArcuateError(
      "UNSUPPORTED_FEATURE",
      `sharing: table ${name} needs the reader ${what} ${missing.join(" and ")}, which the request did not declare; ` +
        `ask with delta-sharing-capabilities: responseformat=delta;readerfeatures=${missing.map((f) => f.toLowerCase()).join(",")}`,
    );
  }
  const protocol = declared.length > 0 ? table.protocol : readerVersionOne(table.protocol);
  let format: ResponseFormat;
  if (requested.length === 1) format = requested[0]!;
  else format = protocol.minReaderVersion === 1 && requested.includes("parquet") ? "parquet" : "delta";
  return { format, protocol };
}

/**
 * The table as a client of no reader features may read it: reader version 1, no features, and a
 * writer version below the one that lists features (the reference server reports 2 then).
 */
function readerVersionOne(protocol: ProtocolAction): ProtocolAction {
  return {
    minReaderVersion: 1,
    minWriterVersion: protocol.minWriterVersion < 7 ? protocol.minWriterVersion : 2,
  };
}
