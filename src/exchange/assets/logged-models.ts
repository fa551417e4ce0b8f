// How logged models (MLflow 3) travel: one row per model of the `logged_models` table, with its
// params and tags; its files are artifacts (artifacts.ts, owner kind "logged_model"), its metrics
// points of the metrics table. Import creates each model PENDING with the provider's id kept as
// tag `arcuate.source.model_id`, and finalizes it once its files are uploaded. An MLflow 2.x
// recipient has no logged models: their files go into their source run's artifacts instead.
import { createHash } from "node:crypto";
import { Schema } from "apache-arrow";
import type { Experiment, LoggedModel, MlflowClient } from "../../mlflow/index.js";
import { toNumber } from "../../mlflow/index.js";
import type { ExportTable } from "../tables.js";
import { exportSeq, int64, stringMap, utf8 } from "./fields.js";
import { type Row, replaceIfChanged } from "./rows.js";
import { asMap, tagMap } from "./runs.js";
import { TAG_SOURCE_MODEL, type Targets } from "./targets.js";

export const LOGGED_MODEL_SCHEMAS = {
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
    exportSeq(),
  ]),
} as const;

/**
 * Where the files of a logged model go when the recipient's MLflow (2.x) has no logged models:
 * under its source run's artifacts, so a model version can still point at them.
 */
export const LOGGED_MODEL_FILES_IN_RUN = "arcuate-logged-models";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

// ---- export ---------------------------------------------------------------------------------

function loggedModelRecord(model: LoggedModel): Record<string, unknown> {
  const info = model.info;
  const record: Record<string, unknown> = {
    model_id: info.model_id,
    experiment_id: info.experiment_id,
    name: info.name,
    model_type: info.model_type ?? null,
    source_run_id: info.source_run_id ?? null,
    status: info.status ?? null,
    creation_timestamp: toNumber(info.creation_timestamp_ms) ?? null,
    params: Object.fromEntries((model.data?.params ?? []).map((p) => [p.key, p.value])),
    tags: tagMap(info.tags),
  };
  record.record_sha256 = sha256(JSON.stringify(record));
  return record;
}

/** Rewrites the logged_models table when a model is new, changed or gone. */
export async function exportLoggedModels(
  table: ExportTable,
  models: LoggedModel[],
  seq: number,
): Promise<void> {
  await replaceIfChanged(
    table,
    LOGGED_MODEL_SCHEMAS.logged_models,
    "model_id",
    models.map(loggedModelRecord),
    seq,
  );
}

// ---- import ---------------------------------------------------------------------------------

/** Logged models (MLflow 3) not imported yet: created PENDING, finalized after their files. */
export async function importLoggedModels(
  mlflow: MlflowClient,
  models: Row[],
  targets: Targets,
  experimentFor: (row: Row) => Experiment,
): Promise<void> {
  for (const row of models) {
    const sourceId = String(row.model_id);
    if (targets.modelIds.has(sourceId)) continue;
    const sourceRun = row.source_run_id ? targets.runIds.get(String(row.source_run_id)) : undefined;
    if (!targets.capabilities.loggedModels) {
      // MLflow 2.x: the model's files go into its run, where a model version can find them.
      const runRoot = row.source_run_id ? targets.runArtifactRoots.get(String(row.source_run_id)) : undefined;
      if (runRoot)
        targets.modelArtifactRoots.set(sourceId, `${runRoot}/${LOGGED_MODEL_FILES_IN_RUN}/${sourceId}`);
      continue;
    }
    const created = await mlflow.loggedModels.create(experimentFor(row).experiment_id, {
      name: String(row.name ?? "model"),
      ...(row.model_type ? { modelType: String(row.model_type) } : {}),
      ...(sourceRun ? { sourceRunId: sourceRun } : {}),
      params: Object.entries(asMap(row.params)).map(([key, value]) => ({ key, value })),
      tags: [
        ...Object.entries(asMap(row.tags)).map(([key, value]) => ({ key, value })),
        { key: TAG_SOURCE_MODEL, value: sourceId },
      ],
    });
    targets.modelIds.set(sourceId, created.info.model_id);
    targets.createdModels.add(sourceId);
    targets.modelArtifactRoots.set(sourceId, created.info.artifact_uri ?? "");
  }
}

/** Finalizes the imported logged models (after their files are uploaded). */
export async function finishLoggedModels(
  mlflow: MlflowClient,
  models: Row[],
  targets: Targets,
): Promise<void> {
  if (!targets.capabilities.loggedModels) return;
  for (const row of models) {
    const target = targets.modelIds.get(String(row.model_id));
    if (!target) continue;
    const model = await mlflow.loggedModels.get(target);
    if (model.info.status !== "LOGGED_MODEL_READY") await mlflow.loggedModels.finalize(target);
  }
}
