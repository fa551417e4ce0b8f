// Splitting log-batch requests within the tracking server's limits (mlflow/utils/validation.py):
// at most 1000 metrics, 100 params and 100 tags, 1000 entities in all, and 1 MB of JSON per
// request. Values are validated here, before anything is sent, so an over-long param fails with
// an error naming the key and the limit instead of a half-logged run. Pure: no I/O.
import { ArcuateError } from "../errors.js";
import { type MetricValue, numberToMetricValue, type Param, type Tag } from "./types.js";

export const LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  entitiesPerBatch: 1000,
  /** MLflow refuses bodies over 1e6 bytes; keep a margin for the envelope. */
  bytesPerBatch: 950_000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
} as const;

/** A metric point to log: a JS number value (NaN and ±Infinity allowed). */
export interface MetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  /** MLflow 3: the logged model this metric belongs to, and the dataset it was computed on. */
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}

export interface WireMetric {
  key: string;
  value: MetricValue;
  timestamp: number;
  step: number;
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}

export interface LogBatch {
  metrics: WireMetric[];
  params: Param[];
  tags: Tag[];
}

function checkLength(what: string, key: string, value: string, limit: number): void {
  if (value.length > limit) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `mlflow: ${what} '${key.slice(0, 100)}' is ${value.length} characters long; MLflow's limit is ${limit}`,
      { details: { key, length: value.length, limit } },
    );
  }
}

export function validateBatchInput(input: { metrics?: MetricPoint[]; params?: Param[]; tags?: Tag[] }): void {
  for (const metric of input.metrics ?? [])
    checkLength("metric key", metric.key, metric.key, LIMITS.keyLength);
  for (const param of input.params ?? []) {
    checkLength("param key", param.key, param.key, LIMITS.keyLength);
    checkLength("value of param", param.key, param.value, LIMITS.paramValueLength);
  }
  for (const tag of input.tags ?? []) {
    checkLength("tag key", tag.key, tag.key, LIMITS.keyLength);
    checkLength("value of tag", tag.key, tag.value, LIMITS.tagValueLength);
  }
}

function toWire(metric: MetricPoint): WireMetric {
  const wire: WireMetric = {
    key: metric.key,
    value: numberToMetricValue(metric.value),
    timestamp: metric.timestamp,
    step: metric.step,
  };
  if (metric.model_id) wire.model_id = metric.model_id;
  if (metric.dataset_name) wire.dataset_name = metric.dataset_name;
  if (metric.dataset_digest) wire.dataset_digest = metric.dataset_digest;
  return wire;
}

/**
 * Splits metrics, params and tags into requests within the limits, preserving the order within
 * each kind (MLflow applies them in order). Params and tags go first, so a run's metadata lands
 * before its long metric histories.
 */
export function* splitLogBatch(input: {
  metrics?: MetricPoint[];
  params?: Param[];
  tags?: Tag[];
}): Generator<LogBatch> {
  validateBatchInput(input);
  let batch: LogBatch = { metrics: [], params: [], tags: [] };
  let bytes = 0;
  const entities = () => batch.metrics.length + batch.params.length + batch.tags.length;
  const flush = function* (): Generator<LogBatch> {
    if (entities() > 0) yield batch;
    batch = { metrics: [], params: [], tags: [] };
    bytes = 0;
  };
  const fits = (kindCount: number, kindLimit: number, size: number) =>
    kindCount < kindLimit && entities() < LIMITS.entitiesPerBatch && bytes + size <= LIMITS.bytesPerBatch;

  for (const param of input.params ?? []) {
    const size = JSON.stringify(param).length + 1;
    if (!fits(batch.params.length, LIMITS.paramsPerBatch, size)) yield* flush();
    batch.params.push(param);
    bytes += size;
  }
  for (const tag of input.tags ?? []) {
    const size = JSON.stringify(tag).length + 1;
    if (!fits(batch.tags.length, LIMITS.tagsPerBatch, size)) yield* flush();
    batch.tags.push(tag);
    bytes += size;
  }
  for (const metric of input.metrics ?? []) {
    const wire = toWire(metric);
    const size = JSON.stringify(wire).length + 1;
    if (!fits(batch.metrics.length, LIMITS.metricsPerBatch, size)) yield* flush();
    batch.metrics.push(wire);
    bytes += size;
  }
  yield* flush();
}
