// How model versions travel: one row per version of a registered model in the `versions` table
// (the index of a model export, committed last): stage, aliases, description, tags, source, source
// run and logged model, status. Import creates the versions in order with the provider's numbers
// (a gap left by a deleted version is filled by a placeholder that is deleted again), pointing at
// the recipient's imported run or logged model, then sets stages, tags and aliases on every
// import so a re-import converges. The provider's number is kept as tag `arcuate.source.version`.
import { createHash } from "node:crypto";
import { Schema } from "apache-arrow";
import { ArcuateError } from "../../errors.js";
import type { MlflowClient, ModelVersion, RegisteredModel } from "../../mlflow/index.js";
import { toNumber } from "../../mlflow/index.js";
import type { ProgressEvent } from "../export.js";
import type { ExportTable } from "../tables.js";
import { exportSeq, int64, stringList, stringMap, utf8 } from "./fields.js";
import { type Row, replaceIfChanged } from "./rows.js";
import { asMap, tagMap } from "./runs.js";
import { TAG_SOURCE_VERSION, type Targets } from "./targets.js";

export const VERSION_SCHEMAS = {
  versions: new Schema([
    utf8("model_name", false),
    utf8("model_description"),
    stringMap("model_tags"),
    int64("version", false),
    utf8("stage"),
    stringList("aliases"),
    utf8("description"),
    stringMap("tags"),
    utf8("source"),
    utf8("source_run_id"),
    utf8("logged_model_id"),
    utf8("status"),
    utf8("user_id"),
    int64("creation_timestamp"),
    int64("last_updated_timestamp"),
    utf8("record_sha256", false),
    exportSeq(),
  ]),
} as const;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const toTags = (map: Record<string, string>) => Object.entries(map).map(([key, value]) => ({ key, value }));

// ---- export ---------------------------------------------------------------------------------

function versionRecord(
  model: RegisteredModel,
  version: ModelVersion,
  loggedModelId: string | null,
): Record<string, unknown> {
  const record: Record<string, unknown> = {
    model_name: model.name,
    model_description: model.description ?? null,
    model_tags: tagMap(model.tags),
    version: Number(version.version),
    stage: version.current_stage ?? "None",
    // Search results of versions leave aliases out; the registered model lists them all.
    aliases: (model.aliases ?? [])
      .filter((a) => a.version === version.version)
      .map((a) => a.alias)
      .sort(),
    description: version.description ?? null,
    tags: tagMap(version.tags),
    source: version.source ?? null,
    source_run_id: version.run_id || null,
    logged_model_id: loggedModelId,
    status: version.status ?? null,
    user_id: version.user_id ?? null,
    creation_timestamp: toNumber(version.creation_timestamp) ?? null,
    last_updated_timestamp: toNumber(version.last_updated_timestamp) ?? null,
  };
  const { last_updated_timestamp: _ignored, ...stable } = record;
  record.record_sha256 = sha256(JSON.stringify(stable));
  return record;
}

/** The logged model behind a version: its `model_id`, or a `models:/m-…` source. */
export function loggedModelIdOf(version: ModelVersion): string | null {
  if (version.model_id) return version.model_id;
  const match = /^models:\/(m-[0-9a-f]+)$/.exec(version.source ?? "");
  return match ? match[1]! : null;
}

/** Rewrites the versions table when a version is new, changed or gone. */
export async function exportVersions(
  table: ExportTable,
  model: RegisteredModel,
  versions: ModelVersion[],
  seq: number,
): Promise<void> {
  const records = versions.map((v) => versionRecord(model, v, loggedModelIdOf(v)));
  await replaceIfChanged(table, VERSION_SCHEMAS.versions, "version", records, seq);
}

// ---- import ---------------------------------------------------------------------------------

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

/**
 * Creates the versions the recipient's model lacks, in order, then sets every version's stage,
 * tags and aliases. `existing` is the registered model as it was before (its aliases).
 */
export async function importVersions(
  mlflow: MlflowClient,
  modelName: string,
  versions: Row[],
  runs: Row[],
  targets: Targets,
  existing: RegisteredModel | undefined,
  onProgress?: (event: ProgressEvent) => void,
): Promise<number> {
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
    const target = targetSource(row, runsById, targets, targets.runArtifactRoots);
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
    onProgress?.({
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
  return created;
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
