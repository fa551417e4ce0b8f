// Import: an arcuate export → the recipient's MLflow, faithfully and idempotently. It orders the
// run-family asset kinds (assets/): the target experiments, runs (parents first), logged models,
// metric points and artifacts (side by side), and last each run's status and end time and each model's
// finalization, so an interrupted import leaves a run RUNNING until an import completes it. Ids
// the recipient's server assigns are recorded as `arcuate.source.*` tags (assets/targets.ts),
// which is also how a second import (or one after a crash) finds what is already there and adds
// only what is missing.
import { createHash, randomUUID } from "node:crypto";
import type { Experiment, MlflowClient } from "../mlflow/index.js";
import { importArtifacts } from "./assets/artifacts.js";
import { finishLoggedModels, importLoggedModels, LOGGED_MODEL_FILES_IN_RUN } from "./assets/logged-models.js";
import { importMetrics } from "./assets/metrics.js";
import { type Row, rowsOf, upToSeq } from "./assets/rows.js";
import { asMap, finishRuns, importRuns, logPendingRunData } from "./assets/runs.js";
import {
  clearImported,
  completeUpTo,
  indexExisting,
  modelCompleteUpTo,
  newTargets,
  type Targets,
  targetExperiment,
} from "./assets/targets.js";
import type { ProgressEvent } from "./export.js";
import type { TableName } from "./format.js";
import type { NotCarried } from "./holdings.js";
import { checkExport, type ExportSource, readAll } from "./source.js";

export { LOGGED_MODEL_FILES_IN_RUN } from "./assets/logged-models.js";
export {
  TAG_SOURCE_EXPERIMENT,
  TAG_SOURCE_MODEL,
  TAG_SOURCE_RUN,
  TAG_SOURCE_USER,
  TAG_SOURCE_VERSION,
} from "./assets/targets.js";

export interface ImportOptions {
  /** Read the export as of this version of its index table (runs, or versions for a model). */
  version?: number;
  /** Replace what a previous import brought (delete it first) rather than add to it. */
  replace?: boolean;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Runs, log-batch and upload requests in flight at the recipient: a fixed number. Default: as
   * many as the MLflow client's limiter lets through, which adapts to the server (a SQLite-backed
   * MLflow takes a few, a PostgreSQL-backed one many; src/mlflow/pacing.ts).
   */
  concurrency?: number;
}

export interface ImportSummary {
  experiment: string;
  experimentId: string;
  runs: number;
  createdRuns: number;
  metricPoints: number;
  artifactFiles: number;
  loggedModels: number;
  versions: number;
  createdVersions: number;
  /** What the export holds that the recipient's MLflow cannot (an MLflow 2.x has no logged models). */
  notCarried: NotCarried[];
}

/** Imports runs, logged models, metrics and artifacts of an export (both kinds share this). */
export async function importRunsAndModels(
  mlflow: MlflowClient,
  source: ExportSource,
  runs: Row[],
  maxSeq: number,
  experimentNameFor: (row: Row) => string,
  options: ImportOptions,
  /** Refuse target experiments of another origin (experiment imports; a model's runs may join any). */
  checkOrigin = true,
): Promise<{
  targets: Targets;
  metricPoints: number;
  artifactFiles: number;
  loggedModels: number;
  experiments: Experiment[];
  notCarried: NotCarried[];
}> {
  const progress = (step: string) => (message: string) => options.onProgress?.({ step, message });
  const exportId = createHash("sha256").update(source.description).digest("hex").slice(0, 16);
  const targets = newTargets(await mlflow.capabilities(), exportId);
  const models = rowsOf(await readAll(upToSeq(source, "logged_models", maxSeq)));
  const runById = new Map(runs.map((r) => [String(r.run_id), r]));
  // One target experiment per source experiment name.
  const experimentFor = (row: Row) => targets.experiments.get(experimentNameFor(row))!;
  const created: Experiment[] = [];
  try {
    return await importInto();
  } catch (error) {
    // Nothing of the import landed: the experiments it made go again (a rerun makes them anew).
    // MLflow's REST API only soft-deletes, and a deleted experiment keeps its name from being
    // made again ("already exists in deleted state"), so it is renamed out of the way first.
    if (targets.createdRuns.size === 0) {
      for (const experiment of created) {
        const aside = `${experiment.name} (failed import ${randomUUID().slice(0, 8)})`;
        await mlflow.experiments
          .rename(experiment.experiment_id, aside)
          .then(() => mlflow.experiments.delete(experiment.experiment_id))
          .catch(() => {});
      }
    }
    throw error;
  }

  async function importInto() {
    const concurrency = options.concurrency ?? mlflow.fanOut;
    for (const row of [...runs, ...models.map((m) => ({ ...runById.get(String(m.source_run_id)), ...m }))]) {
      const name = experimentNameFor(row);
      if (targets.experiments.has(name)) continue;
      const target = await targetExperiment(
        mlflow,
        name,
        asMap(row.experiment_tags),
        row.experiment_id ? String(row.experiment_id) : null,
        { check: checkOrigin, replace: options.replace === true },
      );
      const experiment = target.experiment;
      if (target.created) created.push(experiment);
      if (options.replace) await clearImported(mlflow, experiment, targets);
      else await indexExisting(mlflow, experiment, targets);
      targets.experiments.set(name, experiment);
    }
    options.onProgress?.({ step: "runs", message: `runs: ${runs.length}` });
    await importRuns(mlflow, runs, targets, experimentFor, concurrency);
    const modelExperiment = (row: Row) =>
      experimentFor({ ...runById.get(String(row.source_run_id)), ...row });
    await importLoggedModels(mlflow, models, targets, modelExperiment);
    const step = { mlflow, source, maxSeq, targets, concurrency };
    // Every run complete up to this export (an unchanged share imported again): the metrics and
    // artifacts tables need not even be read.
    const complete =
      runs.every((row) => completeUpTo(targets, String(row.run_id), maxSeq)) &&
      models.every((row) => modelCompleteUpTo(targets, String(row.model_id), maxSeq));
    // Metrics and artifacts side by side: they write different things of the same runs, and one
    // kind's pauses (decoding the share's next batch, joining a file's chunks) leave the server
    // the other's requests. Both settle before a failure is reported, so nothing is still being
    // written when it is.
    const [metrics, artifacts] = await Promise.allSettled([
      (async () => {
        const points = complete ? 0 : await importMetrics({ ...step, progress: progress("metrics") });
        await logPendingRunData(mlflow, targets, concurrency);
        return points;
      })(),
      complete ? Promise.resolve(0) : importArtifacts({ ...step, progress: progress("artifacts") }),
    ]);
    if (metrics.status === "rejected") throw metrics.reason;
    if (artifacts.status === "rejected") throw artifacts.reason;
    const metricPoints = metrics.value;
    const artifactFiles = artifacts.value;
    await finishRuns(mlflow, runs, targets, concurrency, maxSeq);
    await finishLoggedModels(mlflow, models, targets, maxSeq);
    const notCarried: NotCarried[] = [];
    if (!targets.capabilities.loggedModels && models.length > 0) {
      notCarried.push({
        kind: "logged models",
        count: models.length,
        reason: `MLflow ${targets.capabilities.version ?? "2.x"} at ${mlflow.trackingUri} has none; their files are in their runs' artifacts under ${LOGGED_MODEL_FILES_IN_RUN}/`,
      });
    }
    return {
      targets,
      metricPoints,
      artifactFiles,
      loggedModels: targets.capabilities.loggedModels ? models.length : 0,
      experiments: [...targets.experiments.values()],
      notCarried,
    };
  }
}

/** The anchor table's rows at the requested version, and the export sequence they end at. */
export async function readAnchor(
  source: ExportSource,
  table: TableName,
  version: number | undefined,
): Promise<{ rows: Row[]; maxSeq: number }> {
  const rows = rowsOf(await readAll(source.batches(table, version === undefined ? {} : { version })));
  const maxSeq = rows.reduce((max, r) => Math.max(max, Number(r.export_seq)), 0);
  return { rows, maxSeq: rows.length === 0 ? Number.MAX_SAFE_INTEGER : maxSeq };
}

/** Imports an exported experiment into `experimentName` at the recipient's MLflow. */
export async function importExperiment(
  mlflow: MlflowClient,
  source: ExportSource,
  experimentName: string,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  await checkExport(source, "experiment");
  const { rows, maxSeq } = await readAnchor(source, "runs", options.version);
  const result = await importRunsAndModels(mlflow, source, rows, maxSeq, () => experimentName, options);
  const experiment =
    result.experiments[0] ??
    (await targetExperiment(mlflow, experimentName, {}, null, { check: false, replace: false })).experiment;
  return {
    experiment: experimentName,
    experimentId: experiment.experiment_id,
    runs: rows.length,
    createdRuns: result.targets.createdRuns.size,
    metricPoints: result.metricPoints,
    artifactFiles: result.artifactFiles,
    loggedModels: result.loggedModels,
    versions: 0,
    createdVersions: 0,
    notCarried: result.notCarried,
  };
}
