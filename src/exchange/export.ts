// Export: MLflow → the arcuate tables of one schema in a share. It orders the asset kinds (each a
// module of assets/: its columns, its export, its import): artifacts, metrics, logged models,
// runs, and for a registered model its files and versions. The runs (and versions) tables are the
// index an importer starts from, so they land last. Every kind is incremental: what the tables
// already hold (found by scanning them, so a crashed export is accounted for) is not written again.
import { ArcuateError } from "../errors.js";
import type { Experiment, LoggedModel, MlflowClient, RegisteredModel, Run } from "../mlflow/index.js";
import { PROMPT_TAG } from "../mlflow/index.js";
import { artifactBatches, existingArtifacts, type Owner } from "./assets/artifacts.js";
import { exportLoggedModels } from "./assets/logged-models.js";
import { metricBatches } from "./assets/metrics.js";
import { appendAll } from "./assets/rows.js";
import { exportRuns } from "./assets/runs.js";
import { exportVersions, loggedModelIdOf } from "./assets/versions.js";
import { type ExportKind, type TableName, tablesOf } from "./format.js";
import { type NotCarried, notCarried } from "./holdings.js";
import { exportModelFiles } from "./model-files.js";
import { ExportTable, exportLocation, lastExportSeq } from "./tables.js";

export interface ProgressEvent {
  step: string;
  message: string;
  done?: number;
  total?: number;
}

export interface ExportTarget {
  /** arcuate's working folder: tables go under `tables/<share>/<schema>/`. */
  workDir: string;
  share: string;
  /** The schema of the share that holds this export. */
  schema: string;
}

export interface ExportOptions {
  onProgress?: (event: ProgressEvent) => void;
  /** Runs whose histories and artifacts are fetched at once. Default 8. */
  concurrency?: number;
}

export interface ExportSummary {
  kind: ExportKind;
  schema: string;
  exportSeq: number;
  runs: number;
  changedRuns: number;
  metricPoints: number;
  artifactFiles: number;
  artifactBytes: number;
  loggedModels: number;
  versions: number;
  /** What the source holds that this export does not carry (traces, prompts, …), by kind. */
  notCarried: NotCarried[];
  /** Delta table locations, by table name. */
  locations: Record<string, string>;
}

/** The kinds an experiment export carries; what else the experiment holds is reported. */
const EXPERIMENT_CARRIES: ReadonlySet<string> = new Set(["runs", "metrics", "artifacts", "logged models"]);

/** The tables of one export, by name; created empty at the end when no data went to one. */
class ExportTables {
  readonly tables: Record<TableName, ExportTable>;
  constructor(kind: ExportKind, target: ExportTarget) {
    this.tables = Object.fromEntries(
      tablesOf(kind).map((name) => [
        name,
        new ExportTable(exportLocation(target.workDir, target.share, target.schema, name), kind, name),
      ]),
    ) as Record<TableName, ExportTable>;
  }

  /** Creates, empty, the tables no data went to: an export always has all of its tables. */
  async ensureAll(seq: number): Promise<void> {
    for (const table of Object.values(this.tables)) await table.create(seq);
  }

  locations(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.tables).map(([name, table]) => [name, table.location]));
  }
}

/** Runs and what they hold, in commit order: artifacts, metrics, logged models, runs. */
async function exportRunsAndModels(
  mlflow: MlflowClient,
  writer: ExportTables,
  runs: Run[],
  experiments: Map<string, Experiment>,
  loggedModels: LoggedModel[],
  options: ExportOptions,
  seq: number,
): Promise<Omit<ExportSummary, "kind" | "schema" | "exportSeq" | "versions" | "locations" | "notCarried">> {
  const progress = options.onProgress ?? (() => {});
  const concurrency = options.concurrency ?? 8;
  const { tables } = writer;
  const artifactStats = { files: 0, bytes: 0 };
  const owners: Owner[] = [
    ...runs.map((run) => ({
      kind: "run" as const,
      id: run.info.run_id,
      artifactRoot: run.info.artifact_uri,
    })),
    ...loggedModels.map((m) => ({
      kind: "logged_model" as const,
      id: m.info.model_id,
      artifactRoot: m.info.artifact_uri,
    })),
  ];
  const existing = await existingArtifacts(tables.artifacts);
  await appendAll(
    tables.artifacts,
    artifactBatches(
      mlflow,
      owners,
      existing,
      seq,
      artifactStats,
      (message) => progress({ step: "artifacts", message }),
      concurrency,
    ),
    seq,
  );
  const metricStats = { points: 0 };
  await appendAll(
    tables.metrics,
    metricBatches(mlflow, runs, tables.metrics, seq, concurrency, metricStats, (message, done, total) =>
      progress({ step: "metrics", message, done, total }),
    ),
    seq,
  );
  await exportLoggedModels(tables.logged_models, loggedModels, seq);
  const added = metricStats.points > 0 || artifactStats.files > 0;
  const changedRuns = await exportRuns(tables.runs, runs, experiments, seq, added);
  progress({ step: "runs", message: `runs: ${runs.length} (${changedRuns} new or changed)` });
  return {
    runs: runs.length,
    changedRuns,
    metricPoints: metricStats.points,
    artifactFiles: artifactStats.files,
    artifactBytes: artifactStats.bytes,
    loggedModels: loggedModels.length,
  };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

function notFound(what: string, name: string, mlflow: MlflowClient, error: unknown): never {
  if (error instanceof Error && "code" in error && error.code === "RESOURCE_DOES_NOT_EXIST") {
    throw new ArcuateError(
      "RESOURCE_DOES_NOT_EXIST",
      `exchange: ${what} '${name}' does not exist on ${mlflow.trackingUri}`,
      {
        cause: error,
      },
    );
  }
  throw error;
}

/** The experiment to export; a clear error when it does not exist (checked before anything changes). */
export function sourceExperiment(mlflow: MlflowClient, name: string): Promise<Experiment> {
  return mlflow.experiments.getByName(name).catch((e: unknown) => notFound("experiment", name, mlflow, e));
}

/**
 * The registered model to export; a clear error when it does not exist or is a prompt (MLflow
 * keeps prompts in the registry as models tagged `mlflow.prompt.is_prompt`, but a prompt's
 * versions are templates, not model files).
 */
export async function sourceModel(mlflow: MlflowClient, name: string): Promise<RegisteredModel> {
  const model = await mlflow.models
    .get(name)
    .catch((e: unknown) => notFound("registered model", name, mlflow, e));
  if (model.tags?.some((t) => t.key === PROMPT_TAG && t.value.toLowerCase() === "true")) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `exchange: '${name}' on ${mlflow.trackingUri} is a prompt, not a model; share it with \`WITH PROMPT '${name}'\` (ALTER SHARE … ADD PROMPT '${name}')`,
    );
  }
  return model;
}

/** Exports an MLflow experiment (its active runs, histories, artifacts, logged models). */
export async function exportExperiment(
  mlflow: MlflowClient,
  experimentName: string,
  target: ExportTarget,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const experiment = await sourceExperiment(mlflow, experimentName);
  const capabilities = await mlflow.capabilities();
  const writer = new ExportTables("experiment", target);
  const seq = (await lastExportSeq(Object.values(writer.tables))) + 1;
  options.onProgress?.({
    step: "read",
    message: `reading experiment '${experimentName}' from ${mlflow.trackingUri}`,
  });
  const runs = await collect(
    mlflow.runs.searchAll({
      experimentIds: [experiment.experiment_id],
      orderBy: ["attributes.start_time ASC"],
    }),
  );
  // MLflow 2.x has no logged models: nothing to read, and nothing left behind.
  const loggedModels = capabilities.loggedModels
    ? await collect(mlflow.loggedModels.searchAll({ experimentIds: [experiment.experiment_id] }))
    : [];
  const holdings = await mlflow.inventory.experiment(experiment.experiment_id, capabilities);
  const experiments = new Map([[experiment.experiment_id, experiment]]);
  const summary = await exportRunsAndModels(mlflow, writer, runs, experiments, loggedModels, options, seq);
  await writer.ensureAll(seq);
  return {
    kind: "experiment",
    schema: target.schema,
    exportSeq: seq,
    versions: 0,
    notCarried: notCarried(holdings, EXPERIMENT_CARRIES),
    locations: writer.locations(),
    ...summary,
  };
}

/** Exports a registered model: every version, and the runs and logged models they come from. */
export async function exportModel(
  mlflow: MlflowClient,
  modelName: string,
  target: ExportTarget,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const model = await sourceModel(mlflow, modelName);
  const writer = new ExportTables("model", target);
  const seq = (await lastExportSeq(Object.values(writer.tables))) + 1;
  const versions = await mlflow.versions.listAll(modelName);
  const loggedModelIds = [
    ...new Set(versions.map(loggedModelIdOf).filter((id): id is string => id !== null)),
  ];
  const loggedModels = await Promise.all(loggedModelIds.map((id) => mlflow.loggedModels.get(id)));
  const runIds = [
    ...new Set([
      ...versions.map((v) => v.run_id).filter((id): id is string => Boolean(id)),
      ...loggedModels.map((m) => m.info.source_run_id).filter((id): id is string => Boolean(id)),
    ]),
  ];
  const runs = await Promise.all(runIds.map((id) => mlflow.runs.get(id)));
  const experiments = new Map<string, Experiment>();
  for (const id of new Set(runs.map((r) => r.info.experiment_id)))
    experiments.set(id, await mlflow.experiments.get(id));
  const summary = await exportRunsAndModels(mlflow, writer, runs, experiments, loggedModels, options, seq);
  // Model files before the versions commit, so a listed version's files are complete (issue 16).
  await exportModelFiles(mlflow, versions, runs, loggedModels, writer.locations().versions!);
  await exportVersions(writer.tables.versions, model, versions, seq);
  await writer.ensureAll(seq);
  options.onProgress?.({ step: "versions", message: `versions: ${versions.length}` });
  return {
    kind: "model",
    schema: target.schema,
    exportSeq: seq,
    versions: versions.length,
    notCarried: [],
    locations: writer.locations(),
    ...summary,
  };
}
