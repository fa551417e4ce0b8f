// Trace infos and assessments as rows and back. Export keeps what MLflow's search returns, minus
// the tags each server sets for itself; import builds the trace info StartTraceV3 takes, located
// in the recipient's experiment, with the links to runs and logged models rewritten to the
// recipient's ids and the provider's kept as `arcuate.source.*` metadata.
import { createHash } from "node:crypto";
import type { Assessment, TraceInfo } from "../../../mlflow/index.js";
import type { Row } from "../rows.js";
import {
  META_MODEL,
  META_RUN,
  META_SOURCE_EXPERIMENT,
  META_SOURCE_MODEL,
  META_SOURCE_RUN,
} from "./columns.js";

/** Set by each server for its own artifact store; never carried. */
const SERVER_TAGS = new Set(["mlflow.artifactLocation"]);
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

const msOf = (time: string | undefined): number | null => (time ? Date.parse(time) : null);
const durationMs = (d: string | undefined): number | null =>
  d ? Math.round(Number.parseFloat(d.replace(/s$/, "")) * 1000) : null;

export function traceRecord(info: TraceInfo, spanCount: number): Row {
  const tags = Object.fromEntries(Object.entries(info.tags ?? {}).filter(([k]) => !SERVER_TAGS.has(k)));
  const metadata = info.trace_metadata ?? {};
  const record: Row = {
    trace_id: info.trace_id,
    experiment_id: info.trace_location?.mlflow_experiment?.experiment_id ?? null,
    client_request_id: info.client_request_id ?? null,
    request_time: msOf(info.request_time),
    execution_duration_ms: durationMs(info.execution_duration),
    state: info.state ?? null,
    request_preview: info.request_preview ?? null,
    response_preview: info.response_preview ?? null,
    trace_metadata: metadata,
    tags,
    source_run_id: metadata[META_RUN] ?? null,
    logged_model_id: metadata[META_MODEL] ?? null,
    span_count: spanCount,
  };
  const { span_count: _count, ...stable } = record;
  record.record_sha256 = sha256(JSON.stringify(stable));
  return record;
}

export function assessmentRecord(traceId: string, a: Assessment): Row {
  const kind = a.feedback ? "feedback" : a.expectation ? "expectation" : "issue";
  let value: string | null = null;
  if (a.feedback) value = a.feedback.value === undefined ? null : JSON.stringify(a.feedback.value);
  else if (a.expectation?.serialized_value) value = a.expectation.serialized_value.value;
  else if (a.expectation)
    value = a.expectation.value === undefined ? null : JSON.stringify(a.expectation.value);
  const record: Row = {
    assessment_id: a.assessment_id,
    trace_id: traceId,
    span_id: a.span_id ?? null,
    name: a.assessment_name,
    kind,
    value_json: value,
    error_json: a.feedback?.error ? JSON.stringify(a.feedback.error) : null,
    source_type: a.source?.source_type ?? null,
    source_id: a.source?.source_id ?? null,
    rationale: a.rationale ?? null,
    metadata: a.metadata ?? {},
    overrides: a.overrides ?? null,
    valid: a.valid ?? true,
    run_id: a.run_id ?? null,
    create_time: msOf(a.create_time),
    last_update_time: msOf(a.last_update_time),
  };
  record.record_sha256 = sha256(JSON.stringify(record));
  return record;
}

export function toAssessment(row: Row, traceId: string): Assessment {
  const value = row.value_json === null ? undefined : (JSON.parse(String(row.value_json)) as unknown);
  const assessment: Assessment = {
    assessment_id: String(row.assessment_id),
    assessment_name: String(row.name),
    trace_id: traceId,
    source: {
      source_type: String(row.source_type ?? "SOURCE_TYPE_UNSPECIFIED"),
      ...(row.source_id ? { source_id: String(row.source_id) } : {}),
    },
    ...(row.create_time !== null ? { create_time: new Date(Number(row.create_time)).toISOString() } : {}),
    ...(row.last_update_time !== null
      ? { last_update_time: new Date(Number(row.last_update_time)).toISOString() }
      : {}),
    ...(row.span_id ? { span_id: String(row.span_id) } : {}),
    ...(row.rationale !== null ? { rationale: String(row.rationale) } : {}),
    ...(row.metadata && Object.keys(row.metadata).length > 0
      ? { metadata: row.metadata as Record<string, string> }
      : {}),
    ...(row.overrides ? { overrides: String(row.overrides) } : {}),
    ...(row.run_id ? { run_id: String(row.run_id) } : {}),
  };
  if (row.kind === "feedback") {
    assessment.feedback = {
      ...(value !== undefined ? { value } : {}),
      ...(row.error_json ? { error: JSON.parse(String(row.error_json)) as Record<string, unknown> } : {}),
    };
  } else if (value !== null && typeof value === "object") {
    assessment.expectation = {
      serialized_value: { serialization_format: "JSON_FORMAT", value: String(row.value_json) },
    };
  } else {
    assessment.expectation = { value };
  }
  return assessment;
}

/** The trace info StartTraceV3 gets: the provider's, located in the recipient's experiment. */
export function toTraceInfo(
  row: Row,
  experimentId: string,
  assessments: Assessment[],
  ids: { runs: Map<string, string>; models: Map<string, string> },
): TraceInfo {
  const metadata: Record<string, string> = { ...(row.trace_metadata as Record<string, string>) };
  metadata[META_SOURCE_EXPERIMENT] = String(row.experiment_id ?? "");
  const run = metadata[META_RUN];
  if (run) {
    metadata[META_SOURCE_RUN] = run;
    const target = ids.runs.get(run);
    if (target) metadata[META_RUN] = target;
    else delete metadata[META_RUN];
  }
  const model = metadata[META_MODEL];
  if (model) {
    metadata[META_SOURCE_MODEL] = model;
    const target = ids.models.get(model);
    if (target) metadata[META_MODEL] = target;
    else delete metadata[META_MODEL];
  }
  return {
    trace_id: String(row.trace_id),
    ...(row.client_request_id ? { client_request_id: String(row.client_request_id) } : {}),
    trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } },
    ...(row.request_preview !== null ? { request_preview: String(row.request_preview) } : {}),
    ...(row.response_preview !== null ? { response_preview: String(row.response_preview) } : {}),
    ...(row.request_time !== null ? { request_time: new Date(Number(row.request_time)).toISOString() } : {}),
    ...(row.execution_duration_ms !== null
      ? { execution_duration: `${Number(row.execution_duration_ms) / 1000}s` }
      : {}),
    state: String(row.state ?? "OK"),
    trace_metadata: metadata,
    tags: row.tags as Record<string, string>,
    assessments,
  };
}
