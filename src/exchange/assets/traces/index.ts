// How traces travel: MLflow 3 traces of an experiment, with every span and every assessment.
// columns.ts holds the tables, otlp.ts and records.ts turn spans, trace infos and assessments
// into rows and back, export.ts and import.ts move them (each says what it keeps and how it
// stays idempotent).
import type { AssetKind } from "../asset.js";
import { exportTraces } from "./export.js";
import { importTraces } from "./import.js";

export { META_SOURCE_EXPERIMENT, META_SOURCE_MODEL, META_SOURCE_RUN, TRACE_SCHEMAS } from "./columns.js";
export { splitText } from "./otlp.js";

export const tracesAsset: AssetKind = {
  name: "traces",
  tables: ["spans", "assessments", "traces"],
  export: exportTraces,
  import: importTraces,
};
