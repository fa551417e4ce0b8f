// The arcuate table format, defined once: the tables of an exported experiment or registered
// model, their columns (as Arrow schemas), and their table properties. docs/table-format.md
// documents the same thing for people; `test/exchange/format.test.ts` keeps the two in step.
//
// Nothing here holds code to execute: params and tags are string maps, structured MLflow fields
// (dataset inputs, model outputs) are JSON text, and artifacts are raw bytes in chunks. A
// recipient can import without running anything the provider wrote.
import type { Schema } from "apache-arrow";
import { ARTIFACT_SCHEMAS } from "./assets/artifacts.js";
import { DATASET_SCHEMAS } from "./assets/datasets.js";
import { LOGGED_MODEL_SCHEMAS } from "./assets/logged-models.js";
import { METRIC_SCHEMAS } from "./assets/metrics.js";
import { PROMPT_SCHEMAS } from "./assets/prompts.js";
import { RUN_SCHEMAS } from "./assets/runs.js";
import { TRACE_SCHEMAS } from "./assets/traces/index.js";
import { VERSION_SCHEMAS } from "./assets/versions.js";

export { CHUNK_BYTES } from "./assets/fields.js";

/** Bumped on any change a reader of the previous version could not read correctly. */
export const FORMAT_VERSION = 1;
export const PROPERTY_FORMAT = "arcuate.format";
export const PROPERTY_KIND = "arcuate.kind";
export const PROPERTY_TABLE = "arcuate.table";

/** What an export holds: one MLflow experiment, or one registered model with what it needs. */
export type ExportKind = "experiment" | "model" | "prompt";

export type TableName =
  | keyof typeof RUN_SCHEMAS
  | keyof typeof METRIC_SCHEMAS
  | keyof typeof ARTIFACT_SCHEMAS
  | keyof typeof LOGGED_MODEL_SCHEMAS
  | keyof typeof VERSION_SCHEMAS
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

/** Every table's columns, defined by its asset kind's module (assets/). */
export const SCHEMAS: Record<TableName, Schema> = {
  ...RUN_SCHEMAS,
  ...METRIC_SCHEMAS,
  ...ARTIFACT_SCHEMAS,
  ...LOGGED_MODEL_SCHEMAS,
  ...VERSION_SCHEMAS,
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
