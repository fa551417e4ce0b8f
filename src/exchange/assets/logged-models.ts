// How logged models (MLflow 3) travel: one row per model of the `logged_models` table, with its
// params and tags; its files are artifacts (artifacts.ts, owner kind "logged_model"), its metrics
// points of the metrics table. Import creates each model PENDING with the provider's id kept as
// tag `arcuate.source.model_id`, and finalizes it once its files are uploaded (to the provider's
// status: a model still PENDING there stays PENDING). A model imported before gets what changed
// since: tags set or deleted, params added, its status. MLflow cannot change a logged model's
// name, type, source run or a param's value (neither at the provider), so those stay as created.
// An MLflow 2.x recipient has no logged models: their files go into their source run's artifacts
// instead.
import { createHash } from "node:crypto";
import { Schema } from "apache-arrow";
import type { Experiment, LoggedModel, MlflowClient, Tag } from "../../mlflow/index.js";
import { toNumber } from "../../mlflow/index.js";
import type { ExportTable } from "../tables.js";
import { exportSeq, int64, stringMap, utf8 } from "./fields.js";
import { type Row, replaceIfChanged } from "./rows.js";
import { asMap, tagMap } from "./runs.js";
import { modelCompleteUpTo, TAG_IMPORT_COMPLETE, TAG_SOURCE_MODEL, type Targets } from "./targets.js";

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

/**
 * Rewrites the logged_models table when a model is new, changed or gone; says whether it did (the
 * runs table, the import's horizon, must then move too, though no run changed).
 */
export async function exportLoggedModels(
  table: ExportTable,
  models: LoggedModel[],
  seq: number,
): Promise<boolean> {
  const { changed, removed } = await replaceIfChanged(
    table,
    LOGGED_MODEL_SCHEMAS.logged_models,
    "model_id",
    models.map(loggedModelRecord),
    seq,
  );
  return changed + removed > 0;
}

// ---- import ---------------------------------------------------------------------------------

/**
 * Tags the recipient's MLflow or arcuate writes on a model there: never copied over nor deleted
 * on a re-import (MLflow records the recipient's own registrations in `mlflow.modelVersions`).
 */
const RECIPIENT_TAGS = new Set(["mlflow.modelVersions"]);
const ownedByRecipient = (key: string) =>
  RECIPIENT_TAGS.has(key) || key.startsWith("arcuate.") || key.startsWith("mlflow.");

type LoggedModelStatus = NonNullable<LoggedModel["info"]["status"]>;

/** The status a model is finalized to: the provider's, READY when it has none. */
function wantedStatus(row: Row): LoggedModelStatus {
  return (row.status ? String(row.status) : "LOGGED_MODEL_READY") as LoggedModelStatus;
}

/**
 * Logged models (MLflow 3): those not imported yet are created PENDING (finalized after their
 * files); those imported before get the tags and params that changed since, compared with what the
 * recipient's search returned (an unchanged model costs no request).
 */
export async function importLoggedModels(
  mlflow: MlflowClient,
  models: Row[],
  targets: Targets,
  experimentFor: (row: Row) => Experiment,
): Promise<void> {
  for (const row of models) {
    const sourceId = String(row.model_id);
    if (targets.modelIds.has(sourceId)) {
      const existing = targets.existingModels.get(sourceId);
      if (existing) await updateLoggedModel(mlflow, row, existing);
      continue;
    }
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

/** What changed at the provider since a model was imported: tags set or deleted, params added. */
async function updateLoggedModel(mlflow: MlflowClient, row: Row, existing: LoggedModel): Promise<void> {
  const target = existing.info.model_id;
  const wanted = asMap(row.tags);
  const have = new Map((existing.info.tags ?? []).map((t) => [t.key, t.value]));
  const set: Tag[] = Object.entries(wanted)
    .filter(([key, value]) => !RECIPIENT_TAGS.has(key) && have.get(key) !== value)
    .map(([key, value]) => ({ key, value }));
  if (set.length > 0) await mlflow.loggedModels.setTags(target, set);
  for (const key of have.keys())
    if (!(key in wanted) && !ownedByRecipient(key)) await mlflow.loggedModels.deleteTag(target, key);
  // MLflow only adds a logged model's params (a key logged again is refused, at either side).
  const haveParams = new Set((existing.data?.params ?? []).map((p) => p.key));
  const newParams = Object.entries(asMap(row.params))
    .filter(([key]) => !haveParams.has(key))
    .map(([key, value]) => ({ key, value }));
  if (newParams.length > 0) await mlflow.loggedModels.logParams(target, newParams);
}

/**
 * The last step of the models' import, after their files: each model gets the provider's status
 * (one still PENDING there stays so until an import after it is finalized), then the marker that
 * its files are complete up to this export (TAG_IMPORT_COMPLETE), so a re-import skips them.
 */
export async function finishLoggedModels(
  mlflow: MlflowClient,
  models: Row[],
  targets: Targets,
  maxSeq: number,
): Promise<void> {
  if (!targets.capabilities.loggedModels) return;
  for (const row of models) {
    const source = String(row.model_id);
    const target = targets.modelIds.get(source);
    if (!target) continue;
    const status = targets.createdModels.has(source)
      ? "LOGGED_MODEL_PENDING"
      : targets.existingModels.get(source)?.info.status;
    const wanted = wantedStatus(row);
    if (wanted !== "LOGGED_MODEL_PENDING" && wanted !== status)
      await mlflow.loggedModels.finalize(target, wanted);
    if (!modelCompleteUpTo(targets, source, maxSeq)) {
      await mlflow.loggedModels.setTags(target, [
        { key: TAG_IMPORT_COMPLETE, value: `${maxSeq}@${targets.exportId}` },
      ]);
      targets.modelCompleteSeq.set(source, maxSeq);
    }
  }
}
