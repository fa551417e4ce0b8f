// The tables of traces (documented in docs/table-format.md): `spans` (one row per span, its
// content cut into chunks like artifacts), `assessments` (one row per feedback or expectation),
// `traces` (one row per trace: the index, committed last). Rows are appended; a trace or an
// assessment that changed at the provider is written again under a later export_seq and readers
// take the latest.
import { Schema } from "apache-arrow";
import { bool, exportSeq, int32, int64, stringMap, utf8 } from "../fields.js";

export const TRACE_SCHEMAS = {
  traces: new Schema([
    utf8("trace_id", false),
    utf8("experiment_id"),
    utf8("client_request_id"),
    int64("request_time"),
    int64("execution_duration_ms"),
    utf8("state"),
    utf8("request_preview"),
    utf8("response_preview"),
    stringMap("trace_metadata"),
    stringMap("tags"),
    utf8("source_run_id"),
    utf8("logged_model_id"),
    int32("span_count", false),
    utf8("record_sha256", false),
    exportSeq(),
  ]),
  spans: new Schema([
    utf8("trace_id", false),
    utf8("span_id", false),
    utf8("parent_span_id"),
    utf8("name"),
    utf8("span_type"),
    int64("start_time_unix_nano", false),
    int64("end_time_unix_nano"),
    utf8("status_code"),
    utf8("status_message"),
    int32("chunk_index", false),
    int32("chunk_count", false),
    utf8("content_json", false),
    exportSeq(),
  ]),
  assessments: new Schema([
    utf8("assessment_id", false),
    utf8("trace_id", false),
    utf8("span_id"),
    utf8("name", false),
    utf8("kind", false),
    utf8("value_json"),
    utf8("error_json"),
    utf8("source_type"),
    utf8("source_id"),
    utf8("rationale"),
    stringMap("metadata"),
    utf8("overrides"),
    bool("valid"),
    utf8("run_id"),
    int64("create_time"),
    int64("last_update_time"),
    utf8("record_sha256", false),
    exportSeq(),
  ]),
} as const;

/** Where an import keeps the provider's ids it had to rewrite (trace metadata). */
export const META_SOURCE_EXPERIMENT = "arcuate.source.experiment_id";
export const META_SOURCE_RUN = "arcuate.source.run_id";
export const META_SOURCE_MODEL = "arcuate.source.model_id";
/** MLflow's trace metadata linking a trace to its run and its logged model. */
export const META_RUN = "mlflow.sourceRun";
export const META_MODEL = "mlflow.modelId";
/** Set by MLflow's span store on a trace whose spans it holds (here: the OTLP write stored them). */
export const TAG_SPANS_LOCATION = "mlflow.trace.spansLocation";
