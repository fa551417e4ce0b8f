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
import { appendAll, once } from "./assets/rows.js";
import { exportRunPages } from "./assets/runs.js";
import { exportVersions, loggedModelIdOf } from "./assets/versions.js";
import { broadcast } from "./concurrency.js";
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
  /**
   * Runs whose artifacts are listed and fetched at once. Default: as many as the MLflow client
   * lets requests in flight (its fan-out), so the client's limiter, not this, paces the server.
   */
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

/**
 * Runs and what they hold, in commit order: artifacts, metrics, logged models, runs. The runs
 * come page by page and are read once, by the three tables side by side (broadcast): memory
 * holds a page or two of runs and what is in flight, however many runs the experiment has.
 */
async function exportRunsAndModels(
  mlflow: MlflowClient,
  writer: ExportTables,
  pages: AsyncIterable<Run[]>,
  experiments: Map<string, Experiment>,
  loggedModels: LoggedModel[],
  options: ExportOptions,
  seq: number,
): Promise<Omit<ExportSummary, "kind" | "schema" | "exportSeq" | "versions" | "locations" | "notCarried">> {
  const progress = options.onProgress ?? (() => {});
  const concurrency = options.concurrency ?? mlflow.fanOut;
  const { tables } = writer;
  const artifactStats = { files: 0, bytes: 0 };
  const [artifactPages, metricPages, runPages] = broadcast(pages, 3) as [
    AsyncIterable<Run[]>,
    AsyncIterable<Run[]>,
    AsyncIterable<Run[]>,
  ];
  async function* owners(): AsyncGenerator<Owner> {
    for await (const page of artifactPages)
      for (const run of page) yield { kind: "run", id: run.info.run_id, artifactRoot: run.info.artifact_uri };
    for (const m of loggedModels)
      yield { kind: "logged_model", id: m.info.model_id, artifactRoot: m.info.artifact_uri };
  }
  async function* runs(): AsyncGenerator<Run> {
    for await (const page of metricPages) for (const run of page) yield run;
  }
  const existing = await existingArtifacts(tables.artifacts);
  const metricStats = { points: 0 };
  // Artifacts and metric histories side by side: two tables, two commits, both before the runs
  // table. One after the other, each left the server idle while the other's rows were encoded,
  // and neither alone offers enough requests to fill a PostgreSQL-backed server.
  const indexed = Promise.all([
    appendAll(
      tables.artifacts,
      artifactBatches(
        mlflow,
        owners(),
        existing,
        seq,
        artifactStats,
        (message) => progress({ step: "artifacts", message }),
        concurrency,
      ),
      seq,
    ),
    appendAll(
      tables.metrics,
      metricBatches(mlflow, runs(), tables.metrics, seq, metricStats, (message, done) =>
        progress({ step: "metrics", message, done }),
      ),
      seq,
    ),
  ])
    .then(() => exportLoggedModels(tables.logged_models, loggedModels, seq))
    // Points, files or logged models added or changed move the runs table even when no run record
    // changed (see exportRunPages): it is the import's horizon.
    .then((models) => models || metricStats.points > 0 || artifactStats.files > 0);
  // The runs table (the index an importer starts from) is encoded as its pages come, and
  // committed once the tables it indexes are.
  const [, runsResult] = await Promise.all([
    indexed,
    exportRunPages(tables.runs, runPages, experiments, seq, indexed),
  ]);
  progress({
    step: "runs",
    message: `runs: ${runsResult.runs} (${runsResult.changed} new or changed)`,
  });
  return {
    runs: runsResult.runs,
    changedRuns: runsResult.changed,
    metricPoints: metricStats.points,
    artifactFiles: artifactStats.files,
    artifactBytes: artifactStats.bytes,
    loggedModels: loggedModels.length,
  };
}

/** The experiment's active runs, a page (of up to 1000) at a time. */
async function* runPagesOf(mlflow: MlflowClient, experimentId: string): AsyncGenerator<Run[]> {
  let pageToken: string | undefined;
  do {
    const page = await mlflow.runs.search({
      experimentIds: [experimentId],
      orderBy: ["attributes.start_time ASC"],
      ...(pageToken ? { pageToken } : {}),
    });
    yield page.items;
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
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
  // MLflow 2.x has no logged models: nothing to read, and nothing left behind.
  const loggedModels = capabilities.loggedModels
    ? await collect(mlflow.loggedModels.searchAll({ experimentIds: [experiment.experiment_id] }))
    : [];
  const holdings = await mlflow.inventory.experiment(experiment.experiment_id, capabilities);
  const experiments = new Map([[experiment.experiment_id, experiment]]);
  const summary = await exportRunsAndModels(
    mlflow,
    writer,
    runPagesOf(mlflow, experiment.experiment_id),
    experiments,
    loggedModels,
    options,
    seq,
  );
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
  const summary = await exportRunsAndModels(
    mlflow,
    writer,
    once(runs),
    experiments,
    loggedModels,
    options,
    seq,
  );
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
