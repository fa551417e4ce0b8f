// arcuate's public API: named exports only, no `export *` of internals. Everything here loads
// through require() as well (no top-level await in the graph), so notebook cells on the
// tslab-based kernel can import it.
export { DeltaTable, LocalStorage, type Snapshot, type Storage } from "./delta/index.js";
export {
  ArcuateError,
  AuthError,
  ConflictError,
  ERROR_STATUS,
  type ErrorCode,
  NotFoundError,
  ParseError,
  ProtocolError,
} from "./errors.js";
export {
  Exchange,
  type ExchangeOptions,
  type ExportOptions,
  type ExportSummary,
  exportExperiment,
  exportModel,
  FORMAT_VERSION,
  type ImportOptions,
  type ImportSource,
  type ImportSummary,
  importExperiment,
  importModel,
  SCHEMAS,
} from "./exchange/index.js";
export { createSession, type Session, type SessionOptions, type StatementResult } from "./lang/index.js";
export {
  type Experiment,
  type LoggedModel,
  type Metric,
  MlflowClient,
  type MlflowClientOptions,
  MlflowError,
  type ModelVersion,
  type RegisteredModel,
  type Run,
} from "./mlflow/index.js";
export {
  Catalog,
  loadProfile,
  parseCoordinate,
  SharingClient,
  type SharingServer,
  type SharingServerOptions,
  startSharingServer,
} from "./sharing/index.js";
export { resolveWorkDir } from "./workdir.js";
