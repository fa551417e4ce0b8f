// Import of an exported registered model: its runs and logged models (through import.ts), then
// every version in order, with stage, description, tags and aliases. Version numbers are kept:
// where the provider's numbering has gaps (deleted versions), placeholder versions are created
// and deleted again so the next real version gets the provider's number.
import { ArcuateError } from "../errors.js";
import type { MlflowClient, ModelVersion } from "../mlflow/index.js";
import {
  type ImportOptions,
  type ImportSummary,
  importRunsAndModels,
  readAnchor,
  TAG_SOURCE_MODEL,
  TAG_SOURCE_VERSION,
} from "./import.js";
import { checkExport, type ExportSource } from "./source.js";

type Row = Record<string, unknown>;
const asMap = (value: unknown): Record<string, string> => (value ?? {}) as Record<string, string>;
const toTags = (map: Record<string, string>) => Object.entries(map).map(([key, value]) => ({ key, value }));

async function readRuns(source: ExportSource, maxSeq: number): Promise<Row[]> {
  const { rows } = await readAnchor(source, "runs", undefined);
  return rows.filter((r) => Number(r.export_seq) <= maxSeq);
}

/** The source of a version at the recipient: its logged model, or the same path in its run. */
function targetSource(
  row: Row,
  runs: Map<string, Row>,
  ids: {
    runIds: Map<string, string>;
    modelIds: Map<string, string>;
    modelArtifactRoots: Map<string, string>;
  },
  runRoots: Map<string, string>,
): { source: string; runId?: string; modelId?: string } {
  const sourceRun = row.source_run_id ? String(row.source_run_id) : undefined;
  const runId = sourceRun ? ids.runIds.get(sourceRun) : undefined;
  const loggedModel = row.logged_model_id ? ids.modelIds.get(String(row.logged_model_id)) : undefined;
  if (loggedModel)
    return { source: `models:/${loggedModel}`, modelId: loggedModel, ...(runId ? { runId } : {}) };
  // An MLflow 2.x recipient: the logged model's files were put into its run (see import.ts).
  const filesInRun = row.logged_model_id
    ? ids.modelArtifactRoots.get(String(row.logged_model_id))
    : undefined;
  if (filesInRun && runId) return { source: filesInRun, runId };
  const original = String(row.source ?? "");
  if (sourceRun && runId) {
    const runsPrefix = `runs:/${sourceRun}/`;
    if (original.startsWith(runsPrefix))
      return { source: `runs:/${runId}/${original.slice(runsPrefix.length)}`, runId };
    const sourceRoot = String(runs.get(sourceRun)?.artifact_uri ?? "");
    const targetRoot = runRoots.get(sourceRun);
    if (sourceRoot && targetRoot && original.startsWith(sourceRoot)) {
      return { source: targetRoot + original.slice(sourceRoot.length), runId };
    }
  }
  throw new ArcuateError(
    "UNSUPPORTED_FEATURE",
    `exchange: version ${row.version} of model '${row.model_name}' comes from '${original}', which the export does not carry`,
  );
}

/** Imports an exported registered model as `modelName` at the recipient's MLflow. */
export async function importModel(
  mlflow: MlflowClient,
  source: ExportSource,
  modelName: string,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  await checkExport(source, "model");
  const { rows: versions, maxSeq } = await readAnchor(source, "versions", options.version);
  if (versions.length === 0) {
    throw new ArcuateError(
      "RESOURCE_DOES_NOT_EXIST",
      `exchange: ${source.description} holds no model versions`,
    );
  }
  versions.sort((a, b) => Number(a.version) - Number(b.version));
  const first = versions[0]!;
  const runs = await readRuns(source, maxSeq);
  // The registered model: of another origin, refused before anything is written.
  let existing = await mlflow.models.get(modelName).catch((error: unknown) => {
    if (error instanceof ArcuateError && error.code === "RESOURCE_DOES_NOT_EXIST") return undefined;
    throw error;
  });
  if (existing && !options.replace) {
    const theirs = existing.tags?.find((t) => t.key === TAG_SOURCE_MODEL)?.value;
    const foreign =
      theirs !== undefined
        ? theirs !== String(first.model_name)
        : (await mlflow.versions.listAll(modelName)).length > 0;
    if (foreign) {
      throw new ArcuateError(
        "CONFLICT",
        `exchange: model '${modelName}' at ${mlflow.trackingUri} ${theirs !== undefined ? `was imported from another model ('${theirs}', this export's is '${first.model_name}')` : "holds versions that were not imported from this export"}; import under another name, or use CREATE OR REPLACE MODEL to replace it`,
      );
    }
  }
  const result = await importRunsAndModels(
    mlflow,
    source,
    runs,
    maxSeq,
    (row) => String(row.experiment_name || `${modelName} runs`),
    // OR REPLACE replaces the registered model, never the experiments its runs land in: those
    // may hold an experiment imported on its own (its runs are reused, matched by source id).
    { ...options, replace: false },
    false,
  );

  // The registered model: replaced, reused, or created.
  if (existing && options.replace) {
    await mlflow.models.delete(modelName);
    existing = undefined;
  }
  if (!existing) {
    await mlflow.models.create(modelName, {
      ...(first.model_description ? { description: String(first.model_description) } : {}),
      tags: toTags({ ...asMap(first.model_tags), [TAG_SOURCE_MODEL]: String(first.model_name) }),
    });
  } else {
    if (first.model_description && existing.description !== first.model_description) {
      await mlflow.models.setDescription(modelName, String(first.model_description));
    }
    for (const [key, value] of Object.entries(asMap(first.model_tags))) {
      if (existing.tags?.find((t) => t.key === key)?.value !== value)
        await mlflow.models.setTag(modelName, key, value);
    }
  }

  const present = new Map<string, ModelVersion>();
  for (const version of await mlflow.versions.listAll(modelName)) {
    const sourceVersion = version.tags?.find((t) => t.key === TAG_SOURCE_VERSION)?.value;
    if (sourceVersion) present.set(sourceVersion, version);
  }
  const runsById = new Map(runs.map((r) => [String(r.run_id), r]));
  let created = 0;
  for (const row of versions) {
    const number = String(row.version);
    if (present.has(number)) continue;
    const target = targetSource(row, runsById, result.targets, result.targets.runArtifactRoots);
    const placeholders = await skipToVersion(
      mlflow,
      modelName,
      Number(row.version),
      target.source,
      target.runId,
    );
    const version = await mlflow.versions.create(modelName, {
      source: target.source,
      ...(target.runId ? { runId: target.runId } : {}),
      ...(target.modelId ? { modelId: target.modelId } : {}),
      ...(row.description ? { description: String(row.description) } : {}),
      tags: toTags({ ...asMap(row.tags), [TAG_SOURCE_VERSION]: number }),
    });
    for (const placeholder of placeholders) await mlflow.versions.delete(modelName, placeholder);
    present.set(number, version);
    created++;
    options.onProgress?.({
      step: "versions",
      message: `versions: ${created} created`,
      done: created,
      total: versions.length,
    });
  }
  // Stages, descriptions, tags and aliases: set on every import, so a re-import converges.
  for (const row of versions) {
    const version = present.get(String(row.version))!;
    const stage = String(row.stage ?? "None");
    if ((version.current_stage ?? "None") !== stage) {
      await mlflow.versions.transitionStage(modelName, version.version, stage);
    }
    for (const [key, value] of Object.entries(asMap(row.tags))) {
      if (version.tags?.find((t) => t.key === key)?.value !== value)
        await mlflow.versions.setTag(modelName, version.version, key, value);
    }
    for (const alias of (row.aliases as string[] | null) ?? []) {
      const current = existing?.aliases?.find((a) => a.alias === alias)?.version;
      if (current !== version.version) await mlflow.models.setAlias(modelName, alias, version.version);
    }
  }
  return {
    experiment: result.experiments.map((e) => e.name).join(", "),
    experimentId: result.experiments[0]?.experiment_id ?? "",
    runs: runs.length,
    createdRuns: result.targets.createdRuns.size,
    metricPoints: result.metricPoints,
    artifactFiles: result.artifactFiles,
    loggedModels: result.loggedModels,
    versions: versions.length,
    createdVersions: created,
    notCarried: result.notCarried,
  };
}

/**
 * Creates placeholder versions until the next version MLflow assigns is `wanted`; returns them
 * for deletion once the real version exists. A model that already went past `wanted` keeps
 * MLflow's numbering (the source number stays in the `arcuate.source.version` tag).
 */
export async function skipToVersion(
  mlflow: MlflowClient,
  modelName: string,
  wanted: number,
  source: string,
  runId: string | undefined,
): Promise<string[]> {
  const existing = await mlflow.versions.listAll(modelName);
  let next = existing.reduce((max, v) => Math.max(max, Number(v.version)), 0) + 1;
  const placeholders: string[] = [];
  while (next < wanted) {
    const placeholder = await mlflow.versions.create(modelName, {
      source,
      ...(runId ? { runId } : {}),
      description: "arcuate placeholder, deleted once the next version exists",
    });
    placeholders.push(placeholder.version);
    next = Number(placeholder.version) + 1;
  }
  return placeholders;
}
