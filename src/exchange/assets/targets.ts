// What the recipient already has of an import, shared by the run-family asset kinds (runs,
// logged models, metrics, artifacts): the target experiment, and the recipient's ids of what an
// earlier import brought, by the provider's ids (kept in `arcuate.source.*` tags). A second
// import (or one after a crash) finds what is there through these and adds only what is missing.
import { ArcuateError } from "../../errors.js";
import type {
  Experiment,
  LoggedModel,
  MlflowClient,
  Param,
  Run,
  ServerCapabilities,
  Tag,
} from "../../mlflow/index.js";
import type { ExportSource } from "../source.js";

export const TAG_SOURCE_RUN = "arcuate.source.run_id";
export const TAG_SOURCE_EXPERIMENT = "arcuate.source.experiment_id";
export const TAG_SOURCE_MODEL = "arcuate.source.model_id";
export const TAG_SOURCE_VERSION = "arcuate.source.version";
export const TAG_SOURCE_USER = "arcuate.source.user_id";
/**
 * Written on a run (and on a logged model) as the last step of its import: every metric point and
 * artifact file of exports up to this sequence number is at the recipient. A re-import skips those
 * rows without reading the run's histories or listing its files back.
 */
export const TAG_IMPORT_COMPLETE = "arcuate.import.complete_seq";

/** What the recipient already has of an import: target ids by source id. */
export interface Targets {
  capabilities: ServerCapabilities;
  experiments: Map<string, Experiment>;
  runIds: Map<string, string>;
  runArtifactRoots: Map<string, string>;
  modelIds: Map<string, string>;
  modelArtifactRoots: Map<string, string>;
  createdRuns: Set<string>;
  createdModels: Set<string>;
  /** Runs already at the recipient, as its search returned them: compared, so unchanged ones cost no writes. */
  existingRuns: Map<string, Run>;
  /** Source run id → the export sequence its metrics and artifacts are complete up to (TAG_IMPORT_COMPLETE). */
  completeSeq: Map<string, number>;
  /** Logged models already at the recipient, as its search returned them, by source model id. */
  existingModels: Map<string, LoggedModel>;
  /** Source model id → the export sequence its files are complete up to (TAG_IMPORT_COMPLETE). */
  modelCompleteSeq: Map<string, number>;
  /**
   * Which export the sequence numbers are of (a hash of the source's description: share, schema
   * and endpoint): two exports of the same runs number their sequences independently, so a
   * marker counts only for the export that wrote it.
   */
  exportId: string;
  /**
   * Params and tags of runs still to be written, by target run id: the runs step leaves them to
   * ride in the run's first metrics log-batch (one request fewer a run), and what no metric took
   * is logged after the metrics (logPendingRunData).
   */
  pendingRunData: Map<string, { params: Param[]; tags: Tag[] }>;
}

/** True when the run's metrics and artifacts of exports up to `seq` are all at the recipient. */
export function completeUpTo(targets: Targets, sourceRun: string, seq: number): boolean {
  return (targets.completeSeq.get(sourceRun) ?? -1) >= seq;
}

/** True when the logged model's files of exports up to `seq` are all at the recipient. */
export function modelCompleteUpTo(targets: Targets, sourceModel: string, seq: number): boolean {
  return (targets.modelCompleteSeq.get(sourceModel) ?? -1) >= seq;
}

/** The sequence a TAG_IMPORT_COMPLETE value stands for, when it is of this import's export. */
function completeSeqOf(tags: Tag[] | undefined, exportId: string): number | undefined {
  const [seq, id] = (tags?.find((t) => t.key === TAG_IMPORT_COMPLETE)?.value ?? "").split("@");
  return id === exportId && Number.isSafeInteger(Number(seq)) ? Number(seq) : undefined;
}

/** What a run-family kind's import step reads from and writes to. */
export interface ImportStep {
  mlflow: MlflowClient;
  source: ExportSource;
  /** Rows of exports up to this sequence number (the anchor's) are imported. */
  maxSeq: number;
  targets: Targets;
  /** Requests in flight at the recipient. */
  concurrency: number;
  progress: (message: string) => void;
}

export function newTargets(capabilities: ServerCapabilities, exportId = ""): Targets {
  return {
    capabilities,
    experiments: new Map(),
    runIds: new Map(),
    runArtifactRoots: new Map(),
    modelIds: new Map(),
    modelArtifactRoots: new Map(),
    createdRuns: new Set(),
    createdModels: new Set(),
    existingRuns: new Map(),
    completeSeq: new Map(),
    existingModels: new Map(),
    modelCompleteSeq: new Map(),
    exportId,
    pendingRunData: new Map(),
  };
}

/**
 * The experiment to import into: found (restored if deleted) or created. One of another origin
 * (its `arcuate.source.experiment_id` differs, or it holds runs arcuate did not bring) is refused
 * unless `replace`: merging two sources' runs silently would be worse than an error.
 */
export async function targetExperiment(
  mlflow: MlflowClient,
  name: string,
  tags: Record<string, string>,
  sourceId: string | null,
  origin: { check: boolean; replace: boolean },
): Promise<{ experiment: Experiment; created: boolean }> {
  const existing = await mlflow.experiments.findByName(name);
  if (existing) {
    if (origin.check && sourceId) {
      const theirs = existing.tags?.find((t) => t.key === TAG_SOURCE_EXPERIMENT)?.value;
      const foreign =
        theirs !== undefined
          ? theirs !== sourceId
          : (await mlflow.runs.search({ experimentIds: [existing.experiment_id], maxResults: 1 })).items
              .length > 0;
      if (foreign && !origin.replace) {
        throw new ArcuateError(
          "CONFLICT",
          `exchange: experiment '${name}' at ${mlflow.trackingUri} ${theirs !== undefined ? `was imported from another source (experiment ${theirs}, this export's is ${sourceId})` : "holds runs that were not imported from this export"}; import into another name, or use CREATE OR REPLACE EXPERIMENT to replace it`,
        );
      }
      if (foreign) await mlflow.experiments.setTag(existing.experiment_id, TAG_SOURCE_EXPERIMENT, sourceId);
    }
    if (existing.lifecycle_stage === "deleted") await mlflow.experiments.restore(existing.experiment_id);
    return { experiment: existing, created: false };
  }
  const experimentTags = Object.entries(tags).map(([key, value]) => ({ key, value }));
  if (sourceId) experimentTags.push({ key: TAG_SOURCE_EXPERIMENT, value: sourceId });
  const id = await mlflow.experiments.create(name, { tags: experimentTags });
  return { experiment: await mlflow.experiments.get(id), created: true };
}

/** Finds what earlier imports brought into the experiment (by source id). */
export async function indexExisting(
  mlflow: MlflowClient,
  experiment: Experiment,
  targets: Targets,
): Promise<void> {
  for await (const run of mlflow.runs.searchAll({ experimentIds: [experiment.experiment_id] })) {
    const source = run.data.tags?.find((t) => t.key === TAG_SOURCE_RUN)?.value;
    if (source && !targets.runIds.has(source)) {
      targets.runIds.set(source, run.info.run_id);
      targets.runArtifactRoots.set(source, run.info.artifact_uri ?? "");
      targets.existingRuns.set(source, run);
      const seq = completeSeqOf(run.data.tags, targets.exportId);
      if (seq !== undefined) targets.completeSeq.set(source, seq);
    }
  }
  if (!targets.capabilities.loggedModels) return;
  for await (const model of mlflow.loggedModels.searchAll({ experimentIds: [experiment.experiment_id] })) {
    const source = model.info.tags?.find((t) => t.key === TAG_SOURCE_MODEL)?.value;
    if (source && !targets.modelIds.has(source)) {
      targets.modelIds.set(source, model.info.model_id);
      targets.modelArtifactRoots.set(source, model.info.artifact_uri ?? "");
      targets.existingModels.set(source, model);
      const seq = completeSeqOf(model.info.tags, targets.exportId);
      if (seq !== undefined) targets.modelCompleteSeq.set(source, seq);
    }
  }
}

/** Soft-deletes every run and logged model a previous import brought into the experiment. */
export async function clearImported(
  mlflow: MlflowClient,
  experiment: Experiment,
  targets: Targets,
): Promise<void> {
  for await (const run of mlflow.runs.searchAll({ experimentIds: [experiment.experiment_id] })) {
    await mlflow.runs.delete(run.info.run_id);
  }
  if (!targets.capabilities.loggedModels) return;
  for await (const model of mlflow.loggedModels.searchAll({ experimentIds: [experiment.experiment_id] })) {
    await mlflow.loggedModels.delete(model.info.model_id);
  }
}
