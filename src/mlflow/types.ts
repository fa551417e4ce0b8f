// Wire types of MLflow's REST API 2.0 (MLflow 3.x), names verbatim from mlflow/protos/service.proto
// and model_registry.proto: these are exactly what the server sends and accepts as JSON.
// int64 fields (timestamps, steps) arrive as JSON numbers or strings depending on the server's
// serializer, so readers normalise them with `toNumber` where they need numbers.

export type RunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";
export type LifecycleStage = "active" | "deleted";
export type ViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";

export interface Tag {
  key: string;
  value: string;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: LifecycleStage;
  last_update_time?: number | string;
  creation_time?: number | string;
  tags?: Tag[];
}

/** A metric value; JSON has no NaN or ±Infinity, so MLflow sends those as the strings below. */
export type MetricValue = number | "NaN" | "Infinity" | "-Infinity";

export interface Metric {
  key: string;
  value: MetricValue;
  timestamp: number | string;
  step?: number | string;
  dataset_name?: string;
  dataset_digest?: string;
  model_id?: string;
  run_id?: string;
}

export interface Param {
  key: string;
  value: string;
}

export interface RunInfo {
  run_id: string;
  run_uuid?: string;
  run_name?: string;
  experiment_id: string;
  user_id?: string;
  status: RunStatus;
  start_time?: number | string;
  end_time?: number | string;
  artifact_uri?: string;
  lifecycle_stage?: LifecycleStage;
}

export interface RunData {
  metrics?: Metric[];
  params?: Param[];
  tags?: Tag[];
}

export interface Dataset {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
}

export interface DatasetInput {
  tags?: Tag[];
  dataset: Dataset;
}

export interface ModelInput {
  model_id: string;
}

export interface ModelOutput {
  model_id: string;
  step: number | string;
}

export interface RunInputs {
  dataset_inputs?: DatasetInput[];
  model_inputs?: ModelInput[];
}

export interface RunOutputs {
  model_outputs?: ModelOutput[];
}

export interface Run {
  info: RunInfo;
  data: RunData;
  inputs?: RunInputs;
  outputs?: RunOutputs;
}

export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number | string;
}

export type ModelVersionStatus = "PENDING_REGISTRATION" | "FAILED_REGISTRATION" | "READY";
export type ModelStage = "None" | "Staging" | "Production" | "Archived";

export interface RegisteredModelAlias {
  alias: string;
  version: string;
}

export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number | string;
  last_updated_timestamp?: number | string;
  user_id?: string;
  current_stage?: ModelStage | string;
  description?: string;
  source?: string;
  run_id?: string;
  status?: ModelVersionStatus;
  status_message?: string;
  tags?: Tag[];
  run_link?: string;
  aliases?: string[];
  model_id?: string;
}

export interface RegisteredModel {
  name: string;
  creation_timestamp?: number | string;
  last_updated_timestamp?: number | string;
  user_id?: string;
  description?: string;
  latest_versions?: ModelVersion[];
  tags?: Tag[];
  aliases?: RegisteredModelAlias[];
}

export type LoggedModelStatus = "LOGGED_MODEL_PENDING" | "LOGGED_MODEL_READY" | "LOGGED_MODEL_UPLOAD_FAILED";

export interface LoggedModelInfo {
  model_id: string;
  experiment_id: string;
  name: string;
  creation_timestamp_ms?: number | string;
  last_updated_timestamp_ms?: number | string;
  artifact_uri?: string;
  status?: LoggedModelStatus;
  creator_id?: number | string;
  model_type?: string;
  source_run_id?: string;
  status_message?: string;
  tags?: Tag[];
  registrations?: Array<{ name: string; version: string }>;
}

export interface LoggedModelData {
  params?: Param[];
  metrics?: Metric[];
}

export interface LoggedModel {
  info: LoggedModelInfo;
  data?: LoggedModelData;
}

/** A page of results and the token of the next page, if any. */
export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/** int64 fields come as numbers or strings; this makes them numbers (undefined stays). */
export function toNumber(value: number | string | undefined | null): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  return typeof value === "number" ? value : Number(value);
}

/** MLflow's JSON for a metric value → a JS number, NaN and ±Infinity included. */
export function metricValueToNumber(value: MetricValue | string): number {
  return typeof value === "number" ? value : Number(value);
}

/** A JS number → MLflow's JSON for a metric value (NaN and ±Infinity as strings). */
export function numberToMetricValue(value: number): MetricValue {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "Infinity";
  if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
  return value;
}
