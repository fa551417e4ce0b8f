// The one interface of the exchange's asset kinds. An asset kind is everything about one kind of
// MLflow asset travelling through a share: its tables (columns defined in its module), how it is
// exported from the provider's MLflow into them, and how it is imported from them into the
// recipient's MLflow. The exchange only orders the kinds (exchange.ts); a new kind is a new
// module beside this one.
import type { Experiment, MlflowClient } from "../../mlflow/index.js";
import type { ProgressEvent } from "../export.js";
import type { TableName } from "../format.js";
import type { ExportSource } from "../source.js";
import type { ExportTable } from "../tables.js";

/** Counts an asset kind reports (traces, spans, …), and what it had to leave out and why. */
export interface AssetSummary {
  counts: Record<string, number>;
  skipped: string[];
}

export interface AssetExportContext {
  mlflow: MlflowClient;
  /** The tables of this kind, by name, in the export's schema. */
  tables: Record<string, ExportTable>;
  /** The export sequence number this export writes (at least one above what the tables hold). */
  seq: number;
  /** The experiment being exported (experiment kinds), or the name of the prompt (prompt kinds). */
  experiment?: Experiment;
  name: string;
  onProgress?: (event: ProgressEvent) => void;
}

export interface AssetImportContext {
  mlflow: MlflowClient;
  source: ExportSource;
  /** The recipient's experiment (experiment kinds); the prompt's name at the recipient otherwise. */
  experiment?: Experiment;
  name: string;
  replace: boolean;
  concurrency: number;
  onProgress?: (event: ProgressEvent) => void;
}

export interface AssetKind {
  /** "traces", "datasets", "prompts". */
  readonly name: string;
  /** Its tables, in the order an export commits them (the last is its index). */
  readonly tables: readonly TableName[];
  export(context: AssetExportContext): Promise<AssetSummary>;
  import(context: AssetImportContext): Promise<AssetSummary>;
}

/** True for MLflow's "no such endpoint" replies (an older server lacks the API). */
export function isMissingApi(error: unknown): boolean {
  if (!(error instanceof Error) || !("httpStatus" in error)) return false;
  const { httpStatus, mlflowErrorCode } = error as { httpStatus?: number; mlflowErrorCode?: string };
  // A missing route answers with Flask's or FastAPI's page, without MLflow's error_code.
  return mlflowErrorCode === undefined && (httpStatus === 404 || httpStatus === 405 || httpStatus === 501);
}
