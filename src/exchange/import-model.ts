// Import of an exported registered model, in order: its runs and logged models (through
// import.ts), the registered model itself (refused when of another origin, unless OR REPLACE),
// then its versions (assets/versions.ts: in order, with the provider's numbers, stages, tags and
// aliases).
import { ArcuateError } from "../errors.js";
import type { MlflowClient } from "../mlflow/index.js";
import { importVersions } from "./assets/versions.js";
import {
  type ImportOptions,
  type ImportSummary,
  importRunsAndModels,
  readAnchor,
  TAG_SOURCE_MODEL,
} from "./import.js";
import { checkExport, type ExportSource } from "./source.js";

type Row = Record<string, unknown>;
const asMap = (value: unknown): Record<string, string> => (value ?? {}) as Record<string, string>;
const toTags = (map: Record<string, string>) => Object.entries(map).map(([key, value]) => ({ key, value }));

async function readRuns(source: ExportSource, maxSeq: number): Promise<Row[]> {
  const { rows } = await readAnchor(source, "runs", undefined);
  return rows.filter((r) => Number(r.export_seq) <= maxSeq);
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

  const created = await importVersions(
    mlflow,
    modelName,
    versions,
    runs,
    result.targets,
    existing,
    options.onProgress,
  );
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

export { skipToVersion } from "./assets/versions.js";
