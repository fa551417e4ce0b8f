// MLflow ⇄ Delta: the arcuate table format, export into a share, import from one.
export {
  type AssetKind,
  type AssetSummary,
  datasetsAsset,
  promptsAsset,
  tracesAsset,
} from "./assets/index.js";
export {
  type AssetsSummary,
  Exchange,
  type ExchangeOptions,
  type ExperimentExportOptions,
  type ImportSource,
  openSource,
} from "./exchange.js";
export {
  type ExportOptions,
  type ExportSummary,
  type ExportTarget,
  exportExperiment,
  exportModel,
  type ProgressEvent,
  sourceExperiment,
  sourceModel,
} from "./export.js";
export {
  CHUNK_BYTES,
  EXPERIMENT_TABLES,
  type ExportKind,
  FORMAT_VERSION,
  MODEL_TABLES,
  SCHEMAS,
  type TableName,
  tableProperties,
} from "./format.js";
export { describeNotCarried, type NotCarried, notCarried } from "./holdings.js";
export {
  type ImportOptions,
  type ImportSummary,
  importExperiment,
  LOGGED_MODEL_FILES_IN_RUN,
  TAG_SOURCE_EXPERIMENT,
  TAG_SOURCE_MODEL,
  TAG_SOURCE_RUN,
  TAG_SOURCE_VERSION,
} from "./import.js";
export { importModel } from "./import-model.js";
export { rewriteMlmodel } from "./mlmodel.js";
export { type ExportSource, LoadedExportSource, SharedExportSource } from "./source.js";
export { exportLocation } from "./tables.js";
