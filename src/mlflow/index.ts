// The MLflow REST client: tracking, registry, logged models and artifacts of MLflow 3.x.
export { type ArtifactFile, type ArtifactLocation, artifactPath, parseArtifactRoot } from "./artifacts.js";
export { LIMITS, type LogBatch, type MetricPoint, splitLogBatch, validateBatchInput } from "./batch.js";
export { majorVersion, type ServerCapabilities } from "./capabilities.js";
export { MlflowClient } from "./client.js";
export { type DatasetRecord, type EvaluationDataset, EvaluationDatasets } from "./datasets.js";
export {
  MlflowAuthError,
  type MlflowClientOptions,
  MlflowConflictError,
  MlflowError,
  MlflowNotFoundError,
} from "./http.js";
export { type Holdings, PROMPT_TAG } from "./inventory.js";
export { PROMPT_SOURCE, Prompts } from "./prompts.js";
export type { CreateVersionOptions } from "./registry.js";
export {
  type Assessment,
  type AssessmentSource,
  type OtelAnyValue,
  type OtelKeyValue,
  type OtelSpan,
  type OtlpSpan,
  quoteNanos,
  TRACES_PER_BATCH,
  type Trace,
  type TraceInfo,
  Traces,
} from "./traces.js";
export { allPages, BULK_HISTORY_POINTS, BULK_HISTORY_RUNS, type CreateRunOptions } from "./tracking.js";
export {
  type Dataset,
  type DatasetInput,
  type Experiment,
  type FileInfo,
  type LoggedModel,
  type LoggedModelInfo,
  type Metric,
  type MetricValue,
  type ModelVersion,
  metricValueToNumber,
  numberToMetricValue,
  type Page,
  type Param,
  type RegisteredModel,
  type Run,
  type RunInfo,
  type RunStatus,
  type Tag,
  toNumber,
} from "./types.js";
