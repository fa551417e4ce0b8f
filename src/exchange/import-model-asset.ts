// Import of an OpenSharing model asset (ML_MODELS.md) from any OpenSharing server into the
// recipient's MLflow, through the model endpoints alone: each READY version's files are downloaded
// from its storage location (with the credentials the server vends), logged as an MLflow 3 logged
// model, and registered as a version of the target model, in version order, with the provider's
// numbers where it can (placeholders fill gaps, as the table import does) and its aliases where
// the server tells them. Idempotent: versions are matched by their source version tag.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArcuateError } from "../errors.js";
import type { MlflowClient, ModelVersion } from "../mlflow/index.js";
import type { ModelRef, ModelSharingClient } from "../sharing/client/models.js";
import type { ModelVersionInfo } from "../sharing/models.js";
import type { ProgressEvent } from "./export.js";
import { type ImportSummary, TAG_SOURCE_MODEL, TAG_SOURCE_VERSION } from "./import.js";
import { skipToVersion } from "./import-model.js";
import { rewriteMlmodel } from "./mlmodel.js";

/** Tag on the registered model: the asset it was imported from, `share.schema.model`. */
export const TAG_SOURCE_ASSET = "arcuate.source.opensharing_model";

export interface ModelAssetImportOptions {
  /** Only this version (default: every READY version). */
  version?: number;
  /** Replace what an earlier import brought (`OR REPLACE`). */
  replace?: boolean;
  /** Experiment the logged models go to. Default `opensharing:<share>.<schema>.<model>`. */
  experiment?: string;
  onProgress?: (event: ProgressEvent) => void;
}

export async function importModelAsset(
  mlflow: MlflowClient,
  client: ModelSharingClient,
  ref: ModelRef,
  modelName: string,
  options: ModelAssetImportOptions = {},
): Promise<ImportSummary> {
  const asset = `${ref.share}.${ref.schema}.${ref.model}`;
  const info = await client.getModel(ref);
  let versions = await client.listVersions(ref);
  if (options.version !== undefined) {
    const wanted = options.version;
    versions = versions.filter((v) => v.version === wanted);
    if (versions.length === 0) versions = [await client.getVersion(ref, wanted)];
    if (versions[0]!.status !== "READY")
      throw new ArcuateError(
        "INVALID_PARAMETER_VALUE",
        `exchange: version ${wanted} of ${asset} is ${versions[0]!.status}, not READY`,
      );
  }
  if (versions.length === 0)
    throw new ArcuateError("RESOURCE_DOES_NOT_EXIST", `exchange: model ${asset} has no READY versions`);

  let existing = await mlflow.models.get(modelName).catch((error: unknown) => {
    if (error instanceof ArcuateError && error.code === "RESOURCE_DOES_NOT_EXIST") return undefined;
    throw error;
  });
  if (existing && options.replace) {
    await mlflow.models.delete(modelName);
    existing = undefined;
  }
  if (!existing) {
    await mlflow.models.create(modelName, {
      ...(info.comment ? { description: info.comment } : {}),
      tags: [{ key: TAG_SOURCE_ASSET, value: asset }],
    });
  } else if (info.comment && existing.description !== info.comment) {
    await mlflow.models.setDescription(modelName, info.comment);
  }

  const present = new Map<number, ModelVersion>();
  for (const version of await mlflow.versions.listAll(modelName)) {
    const source = version.tags?.find((t) => t.key === TAG_SOURCE_VERSION)?.value;
    if (source !== undefined) present.set(Number(source), version);
  }
  const experimentName = options.experiment ?? `opensharing:${asset}`;
  let experimentId: string | undefined;
  let created = 0;
  let files = 0;
  for (const version of versions) {
    if (present.has(version.version)) continue;
    experimentId ??=
      (await mlflow.experiments.findByName(experimentName))?.experiment_id ??
      (await mlflow.experiments.create(experimentName));
    const registered = await importVersion(mlflow, client, ref, version, modelName, experimentId);
    files += registered.files;
    present.set(version.version, registered.version);
    created++;
    options.onProgress?.({
      step: "versions",
      message: `versions: ${created} created`,
      done: created,
      total: versions.length,
    });
  }
  // Aliases where the server tells them (arcuate's extension), set on every import so it converges.
  for (const version of versions) {
    for (const alias of version.aliases ?? [])
      await mlflow.models.setAlias(modelName, alias, present.get(version.version)!.version);
  }
  return {
    experiment: experimentId === undefined ? "" : experimentName,
    experimentId: experimentId ?? "",
    runs: 0,
    createdRuns: 0,
    metricPoints: 0,
    artifactFiles: files,
    loggedModels: created,
    versions: versions.length,
    notCarried: [],
    createdVersions: created,
  };
}

async function importVersion(
  mlflow: MlflowClient,
  client: ModelSharingClient,
  ref: ModelRef,
  version: ModelVersionInfo,
  modelName: string,
  experimentId: string,
): Promise<{ version: ModelVersion; files: number }> {
  const dir = await mkdtemp(join(tmpdir(), "arcuate-model-"));
  try {
    const paths = await client.downloadVersion(ref, version, dir);
    if (!paths.includes("MLmodel"))
      throw new ArcuateError(
        "UNSUPPORTED_FORMAT",
        `exchange: version ${version.version} of ${ref.share}.${ref.schema}.${ref.model} holds no MLmodel file at its storage location`,
      );
    const mlmodelPath = join(dir, "MLmodel");
    const mlmodel = await readFile(mlmodelPath, "utf8");
    const sourceModelId = /^model_id:\s*['"]?(m-[0-9a-f]+)/m.exec(mlmodel)?.[1];
    const logged = await mlflow.loggedModels.create(experimentId, {
      // MLflow 3 writes the artifact URI as `artifact_path`; a plain name is kept, else "model".
      name: /^artifact_path:\s*([A-Za-z0-9_-]+)\s*$/m.exec(mlmodel)?.[1] ?? "model",
      tags: [
        { key: TAG_SOURCE_VERSION, value: String(version.version) },
        ...(sourceModelId ? [{ key: TAG_SOURCE_MODEL, value: sourceModelId }] : []),
      ],
    });
    const modelId = logged.info.model_id;
    if (sourceModelId)
      await writeFile(
        mlmodelPath,
        rewriteMlmodel(mlmodel, { runIds: new Map(), modelIds: new Map([[sourceModelId, modelId]]) }),
      );
    await mlflow.artifacts.uploadDir(logged.info.artifact_uri!, "", dir);
    await mlflow.loggedModels.finalize(modelId);
    const source = `models:/${modelId}`;
    const placeholders = await skipToVersion(mlflow, modelName, version.version, source, undefined);
    const registered = await mlflow.versions.create(modelName, {
      source,
      modelId,
      ...(version.comment ? { description: version.comment } : {}),
      tags: [{ key: TAG_SOURCE_VERSION, value: String(version.version) }],
    });
    for (const placeholder of placeholders) await mlflow.versions.delete(modelName, placeholder);
    return { version: registered, files: paths.length };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
