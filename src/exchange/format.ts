// The arcuate table format, defined once: the tables of an exported experiment or registered
// model, their columns (as Arrow schemas), and their table properties. docs/table-format.md
// documents the same thing for people; `test/exchange/format.test.ts` keeps the two in step.
//
// Nothing here holds code to execute: params and tags are string maps, structured MLflow fields
// (dataset inputs, model outputs) are JSON text, and artifacts are raw bytes in chunks. A
// recipient can import without running anything the provider wrote.
import { Binary, Field, Float64, Int32, Int64, List, Map_, Schema, Struct, Utf8 } from "apache-arrow";
import { DATASET_SCHEMAS } from "./assets/datasets.js";
import { PROMPT_SCHEMAS } from "./assets/prompts.js";
import { TRACE_SCHEMAS } from "./assets/traces.js";

/** Bumped on any change a reader of the previous version could not read correctly. */
export const FORMAT_VERSION = 1;
export const PROPERTY_FORMAT = "arcuate.format";
export const PROPERTY_KIND = "arcuate.kind";
export const PROPERTY_TABLE = "arcuate.table";

/** What an export holds: one MLflow experiment, or one registered model with what it needs. */
export type ExportKind = "experiment" | "model" | "prompt";

export type TableName =
  | "runs"
  | "metrics"
  | "artifacts"
  | "logged_models"
  | "versions"
  | keyof typeof TRACE_SCHEMAS
  | keyof typeof DATASET_SCHEMAS
  | keyof typeof PROMPT_SCHEMAS;

export const EXPERIMENT_TABLES: readonly TableName[] = ["runs", "metrics", "artifacts", "logged_models"];
export const MODEL_TABLES: readonly TableName[] = [
  "versions",
  "runs",
  "metrics",
  "artifacts",
  "logged_models",
];

/** The tables every export of the kind has (the GenAI asset kinds add theirs; see assets/). */
export function tablesOf(kind: ExportKind): readonly TableName[] {
  return kind === "experiment" ? EXPERIMENT_TABLES : kind === "model" ? MODEL_TABLES : ["prompt_versions"];
}

/** Artifacts are split into chunks of this size, so no row holds a whole model. */
export const CHUNK_BYTES = 8 * 1024 * 1024;

const utf8 = (name: string, nullable = true) => new Field(name, new Utf8(), nullable);
const int64 = (name: string, nullable = true) => new Field(name, new Int64(), nullable);
function mapField<V extends Utf8 | Float64 | Int64>(name: string, valueType: V): Field {
  const entries = new Struct<{ key: Utf8; value: V }>([
    new Field("key", new Utf8(), false),
    new Field("value", valueType, true),
  ]);
  return new Field(name, new Map_<Utf8, V>(new Field("key_value", entries, false)), true);
}
const stringMap = (name: string) => mapField(name, new Utf8());

/** Every table carries the export sequence number that wrote each row (see export.ts). */
const exportSeq = new Field("export_seq", new Int64(), false);

export const SCHEMAS: Record<TableName, Schema> = {
  runs: new Schema([
    utf8("run_id", false),
    utf8("experiment_id"),
    utf8("experiment_name"),
    /** The experiment's tags, repeated on each of its runs. */
    stringMap("experiment_tags"),
    utf8("run_name"),
    utf8("status"),
    int64("start_time"),
    int64("end_time"),
    utf8("lifecycle_stage"),
    utf8("user_id"),
    utf8("artifact_uri"),
    utf8("parent_run_id"),
    stringMap("params"),
    stringMap("tags"),
    /** Latest value of each metric, for a quick look without the metrics table. */
    mapField("latest_metrics", new Float64()),
    utf8("dataset_inputs_json"),
    utf8("model_inputs_json"),
    utf8("model_outputs_json"),
    /** sha256 of the run's record (everything above but the metrics), to find changed runs. */
    utf8("record_sha256", false),
    exportSeq,
  ]),
  metrics: new Schema([
    utf8("run_id", false),
    utf8("key", false),
    new Field("value", new Float64(), true),
    int64("timestamp", false),
    int64("step", false),
    utf8("model_id"),
    utf8("dataset_name"),
    utf8("dataset_digest"),
    exportSeq,
  ]),
  artifacts: new Schema([
    /** "run" or "logged_model". */
    utf8("owner_kind", false),
    utf8("owner_id", false),
    utf8("path", false),
    new Field("chunk_index", new Int32(), false),
    new Field("chunk_count", new Int32(), false),
    int64("size", false),
    utf8("chunk_sha256", false),
    /** sha256 of the whole file, on the file's last chunk (null on the others). */
    utf8("file_sha256"),
    new Field("bytes", new Binary(), false),
    exportSeq,
  ]),
  logged_models: new Schema([
    utf8("model_id", false),
    utf8("experiment_id"),
    utf8("name"),
    utf8("model_type"),
    utf8("source_run_id"),
    utf8("status"),
    int64("creation_timestamp"),
    stringMap("params"),
    stringMap("tags"),
    utf8("record_sha256", false),
    exportSeq,
  ]),
  versions: new Schema([
    utf8("model_name", false),
    utf8("model_description"),
    stringMap("model_tags"),
    new Field("version", new Int64(), false),
    utf8("stage"),
    new Field("aliases", new List(new Field("element", new Utf8(), true)), true),
    utf8("description"),
    stringMap("tags"),
    utf8("source"),
    utf8("source_run_id"),
    utf8("logged_model_id"),
    utf8("status"),
    utf8("user_id"),
    int64("creation_timestamp"),
    int64("last_updated_timestamp"),
    utf8("record_sha256", false),
    exportSeq,
  ]),
  ...TRACE_SCHEMAS,
  ...DATASET_SCHEMAS,
  ...PROMPT_SCHEMAS,
};

/** Table properties (Delta `configuration`) of an arcuate table. */
export function tableProperties(kind: ExportKind, table: TableName): Record<string, string> {
  return {
    [PROPERTY_FORMAT]: String(FORMAT_VERSION),
    [PROPERTY_KIND]: kind,
    [PROPERTY_TABLE]: table,
  };
}
