// their names, statuses, times, params, tags, inputs, nested-run links, every metric point and
// every artifact; ids the recipient's server assigns are recorded as `arcuate.source.*` tags,
// which is also how a second import (or one after a crash) finds what is already there and adds
// only what is missing. A run's status and end time are set last, so an interrupted import
// leaves it RUNNING until an import completes it.
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordBatch } from "apache-arrow";
import { ArcuateError } from "../errors.js";
import type {
  DatasetInput,
  Experiment,
  MetricPoint,
  MlflowClient,
  Run,
  RunStatus,
  ServerCapabilities,
} from "../mlflow/index.js";
import { toNumber } from "../mlflow/index.js";
import { columnValues } from "./columns.js";
import type { ProgressEvent } from "./export.js";
import type { TableName } from "./format.js";
import type { NotCarried } from "./holdings.js";
import { isMlmodelPath, rewriteMlmodel } from "./mlmodel.js";
import { checkExport, type ExportSource, readAll } from "./source.js";

export const TAG_SOURCE_RUN = "arcuate.source.run_id";
export const TAG_SOURCE_EXPERIMENT = "arcuate.source.experiment_id";
export const TAG_SOURCE_MODEL = "arcuate.source.model_id";
export const TAG_SOURCE_VERSION = "arcuate.source.version";
export const TAG_SOURCE_USER = "arcuate.source.user_id";

/**
 * Requests in flight at the recipient. A SQLite-backed MLflow serialises writes and times out
 * requests that wait behind more than its connection pool (15), so this stays modest.
 */
const DEFAULT_CONCURRENCY = 4;

/** Run tags MLflow writes itself or arcuate rewrites; not copied verbatim. */
const REWRITTEN_TAGS = new Set(["mlflow.parentRunId"]);

export interface ImportOptions {
  /** Read the export as of this version of its index table (runs, or versions for a model). */
  version?: number;
  /** Replace what a previous import brought (delete it first) rather than add to it. */
  replace?: boolean;
  onProgress?: (event: ProgressEvent) => void;
  /** log-batch and upload requests in flight. Default 4. */
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

/**
 * Where the files of a logged model go when the recipient's MLflow (2.x) has no logged models:
 * under its source run's artifacts, so a model version can still point at them.
 */
export const LOGGED_MODEL_FILES_IN_RUN = "arcuate-logged-models";

type Row = Record<string, unknown>;

function rowsOf(batches: RecordBatch[]): Row[] {
  const rows: Row[] = [];
  for (const batch of batches) {
    const names = batch.schema.fields.map((f) => f.name);
    const columns = names.map((name) => columnValues(batch, name));
    for (let i = 0; i < batch.numRows; i++)
      rows.push(Object.fromEntries(names.map((name, c) => [name, columns[c]![i]])));
  }
  return rows;
}

const asMap = (value: unknown): Record<string, string> => (value ?? {}) as Record<string, string>;

/** The rows of `table` written by exports up to `maxSeq` (the anchor's), batch by batch. */
async function* upToSeq(source: ExportSource, table: TableName, maxSeq: number): AsyncGenerator<RecordBatch> {
  for await (const batch of source.batches(table)) {
    const seqs = batch.getChild("export_seq")!;
    let keep = true;
    for (let i = 0; i < batch.numRows && keep; i++) keep = Number(seqs.get(i)) <= maxSeq;
    if (keep) {
      yield batch;
      continue;
    }
    const indexes: number[] = [];
    for (let i = 0; i < batch.numRows; i++) if (Number(seqs.get(i)) <= maxSeq) indexes.push(i);
    if (indexes.length === 0) continue;
    // Rare (time travel to an older export): rebuild the kept rows by slicing contiguous runs.
    let start = indexes[0]!;
    for (let k = 1; k <= indexes.length; k++) {
      if (k === indexes.length || indexes[k] !== indexes[k - 1]! + 1) {
        yield batch.slice(start, indexes[k - 1]! + 1);
        if (k < indexes.length) start = indexes[k]!;
      }
    }
  }
}

/** Bounded in-flight promises: `add` waits while `limit` are running. */
class Pool {
  private readonly running = new Set<Promise<void>>();
  private failure: unknown;
  constructor(private readonly limit: number) {}
  async add(task: () => Promise<void>): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.failure) throw this.failure;
    const promise: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }
  async drain(): Promise<void> {
    await Promise.all(this.running);
    if (this.failure) throw this.failure;
  }
}

/** What the recipient already has of an import: target ids by source id. */
interface Targets {
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
}

/**
 * The experiment to import into: found (restored if deleted) or created. One of another origin
 * (its `arcuate.source.experiment_id` differs, or it holds runs arcuate did not bring) is refused
 * unless `replace`: merging two sources' runs silently would be worse than an error.
 */
async function targetExperiment(
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

async function indexExisting(mlflow: MlflowClient, experiment: Experiment, targets: Targets): Promise<void> {
  for await (const run of mlflow.runs.searchAll({ experimentIds: [experiment.experiment_id] })) {
    const source = run.data.tags?.find((t) => t.key === TAG_SOURCE_RUN)?.value;
    if (source && !targets.runIds.has(source)) {
      targets.runIds.set(source, run.info.run_id);
      targets.runArtifactRoots.set(source, run.info.artifact_uri ?? "");
      targets.existingRuns.set(source, run);
    }
  }
  if (!targets.capabilities.loggedModels) return;
  for await (const model of mlflow.loggedModels.searchAll({ experimentIds: [experiment.experiment_id] })) {
    const source = model.info.tags?.find((t) => t.key === TAG_SOURCE_MODEL)?.value;
    if (source && !targets.modelIds.has(source)) {
      targets.modelIds.set(source, model.info.model_id);
      targets.modelArtifactRoots.set(source, model.info.artifact_uri ?? "");
    }
  }
}

/** Soft-deletes every run and logged model a previous import brought into the experiment. */
async function clearImported(mlflow: MlflowClient, experiment: Experiment, targets: Targets): Promise<void> {
  for await (const run of mlflow.runs.searchAll({ experimentIds: [experiment.experiment_id] })) {
    await mlflow.runs.delete(run.info.run_id);
  }
  if (!targets.capabilities.loggedModels) return;
  for await (const model of mlflow.loggedModels.searchAll({ experimentIds: [experiment.experiment_id] })) {
    await mlflow.loggedModels.delete(model.info.model_id);
  }
}

/** Creates the runs not imported yet, parents before children; params, tags and inputs. */
async function importRuns(
  mlflow: MlflowClient,
  runs: Row[],
  targets: Targets,
  experimentFor: (row: Row) => Experiment,
  concurrency: number,
): Promise<void> {
  const byId = new Map(runs.map((r) => [String(r.run_id), r]));
  const depth = (row: Row, seen = 0): number => {
    const parent = row.parent_run_id ? byId.get(String(row.parent_run_id)) : undefined;
    return parent && seen < 100 ? 1 + depth(parent, seen + 1) : 0;
  };
  // Parents before children: one level at a time, the runs of a level side by side.
  const levels = new Map<number, Row[]>();
  for (const row of runs) {
    const level = depth(row);
    levels.set(level, [...(levels.get(level) ?? []), row]);
  }
  for (const level of [...levels.keys()].sort((a, b) => a - b)) {
    const pool = new Pool(concurrency);
    for (const row of levels.get(level)!)
      await pool.add(() => importRun(mlflow, row, targets, experimentFor));
    await pool.drain();
  }
}

async function importRun(
  mlflow: MlflowClient,
  row: Row,
  targets: Targets,
  experimentFor: (row: Row) => Experiment,
): Promise<void> {
  const sourceId = String(row.run_id);
  const tags = Object.entries(asMap(row.tags))
    .filter(([key]) => !REWRITTEN_TAGS.has(key))
    .map(([key, value]) => ({ key, value }));
  const parent = row.parent_run_id ? targets.runIds.get(String(row.parent_run_id)) : undefined;
  if (parent) tags.push({ key: "mlflow.parentRunId", value: parent });
  tags.push({ key: TAG_SOURCE_RUN, value: sourceId });
  if (row.user_id) tags.push({ key: TAG_SOURCE_USER, value: String(row.user_id) });
  const params = Object.entries(asMap(row.params)).map(([key, value]) => ({ key, value }));
  let targetId = targets.runIds.get(sourceId);
  if (!targetId) {
    const created: Run = await mlflow.runs.create(experimentFor(row).experiment_id, {
      ...(row.run_name ? { runName: String(row.run_name) } : {}),
      ...(row.start_time !== null ? { startTime: Number(row.start_time) } : {}),
      ...(row.user_id ? { userId: String(row.user_id) } : {}),
      tags: [{ key: TAG_SOURCE_RUN, value: sourceId }],
    });
    targetId = created.info.run_id;
    targets.runIds.set(sourceId, targetId);
    targets.runArtifactRoots.set(sourceId, created.info.artifact_uri ?? "");
    targets.createdRuns.add(sourceId);
  }
  const existing = targets.createdRuns.has(sourceId)
    ? undefined
    : (targets.existingRuns.get(sourceId) ?? (await mlflow.runs.get(targetId)));
  const haveParams = new Set((existing?.data.params ?? []).map((p) => p.key));
  const haveTags = new Map((existing?.data.tags ?? []).map((t) => [t.key, t.value]));
  // Only what differs is written: a re-import of an unchanged run sends nothing.
  const newParams = params.filter((p) => !haveParams.has(p.key));
  const newTags = tags.filter((t) => haveTags.get(t.key) !== t.value);
  if (newParams.length > 0 || newTags.length > 0)
    await mlflow.runs.logBatch(targetId, { params: newParams, tags: newTags });
  const datasets = JSON.parse(String(row.dataset_inputs_json ?? "[]")) as DatasetInput[];
  const haveDatasets = new Set(
    (existing?.inputs?.dataset_inputs ?? []).map((d) => `${d.dataset.name}|${d.dataset.digest}`),
  );
  const missing = datasets.filter((d) => !haveDatasets.has(`${d.dataset.name}|${d.dataset.digest}`));
  // Two runs that share a new dataset race to create it in MLflow's SQL store; the MLflow client
  // sends the loser again (see DATASET_RACE in src/mlflow/http.ts).
  if (missing.length > 0) await mlflow.runs.logInputs(targetId, { datasets: missing });
}

/** Logged models (MLflow 3) not imported yet: created PENDING, finalized after their files. */
async function importLoggedModels(
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

/** Every metric point not at the recipient yet, by log-batch. Returns the points logged. */
async function importMetrics(
  mlflow: MlflowClient,
  source: ExportSource,
  maxSeq: number,
  targets: Targets,
  concurrency: number,
  progress: (message: string) => void,
): Promise<number> {
  // Existing points of runs that were there before this import, fetched once each.
  const existing = new Map<string, Map<string, number>>();
  const existingFor = async (
    sourceRun: string,
    targetRun: string,
    key: string,
  ): Promise<Map<string, number>> => {
    const id = `${sourceRun}\u0000${key}`;
    let multiset = existing.get(id);
    if (!multiset) {
      multiset = new Map();
      if (!targets.createdRuns.has(sourceRun)) {
        for await (const m of mlflow.metrics.history(targetRun, key)) {
          const point = `${toNumber(m.step) ?? 0}|${toNumber(m.timestamp)}|${Number(m.value)}`;
          multiset.set(point, (multiset.get(point) ?? 0) + 1);
        }
      }
      existing.set(id, multiset);
    }
    return multiset;
  };
  const pool = new Pool(concurrency);
  const buffers = new Map<string, MetricPoint[]>();
  let logged = 0;
  const flush = async (targetRun: string) => {
    const points = buffers.get(targetRun);
    if (!points || points.length === 0) return;
    buffers.delete(targetRun);
    await pool.add(async () => {
      await mlflow.runs.logBatch(targetRun, { metrics: points });
    });
  };
  for await (const batch of upToSeq(source, "metrics", maxSeq)) {
    const [runIds, keys, values, times, steps, modelIds, datasetNames, datasetDigests] = [
      "run_id",
      "key",
      "value",
      "timestamp",
      "step",
      "model_id",
      "dataset_name",
      "dataset_digest",
    ].map((name) => batch.getChild(name));
    for (let i = 0; i < batch.numRows; i++) {
      const sourceRun = String(runIds!.get(i));
      const targetRun = targets.runIds.get(sourceRun);
      if (!targetRun) continue;
      const key = String(keys!.get(i));
      const value = Number(values!.get(i) ?? Number.NaN);
      const timestamp = Number(times!.get(i));
      const step = Number(steps!.get(i));
      const multiset = await existingFor(sourceRun, targetRun, key);
      const point = `${step}|${timestamp}|${value}`;
      const left = multiset.get(point) ?? 0;
      if (left > 0) {
        multiset.set(point, left - 1);
        continue;
      }
      const modelId = modelIds?.get(i) as string | null;
      const metric: MetricPoint = { key, value, timestamp, step };
      if (modelId && targets.capabilities.loggedModels) {
        const mapped = targets.modelIds.get(modelId);
        if (mapped) metric.model_id = mapped;
      }
      const datasetName = datasetNames?.get(i) as string | null;
      const datasetDigest = datasetDigests?.get(i) as string | null;
      if (datasetName) metric.dataset_name = datasetName;
      if (datasetDigest) metric.dataset_digest = datasetDigest;
      let buffer = buffers.get(targetRun);
      if (!buffer) {
        buffer = [];
        buffers.set(targetRun, buffer);
      }
      buffer.push(metric);
      logged++;
      if (buffer.length >= 1000) {
        await flush(targetRun);
        progress(`metrics: ${logged} points`);
      }
    }
  }
  for (const targetRun of [...buffers.keys()]) await flush(targetRun);
  await pool.drain();
  progress(`metrics: ${logged} points`);
  return logged;
}

interface FileKey {
  owner: string;
  path: string;
}

/** The export_seq of the latest complete copy of each file (a changed file is exported again). */
async function latestFileCopies(source: ExportSource, maxSeq: number): Promise<Map<string, number>> {
  const latest = new Map<string, number>();
  for await (const batch of upToSeq(source, "artifacts", maxSeq)) {
    const kinds = columnValues(batch, "owner_kind");
    const owners = columnValues(batch, "owner_id");
    const paths = columnValues(batch, "path");
    const seqs = columnValues(batch, "export_seq");
    for (let i = 0; i < batch.numRows; i++) {
      const id = `${kinds[i]}/${owners[i]}/${paths[i]}`;
      latest.set(id, Math.max(latest.get(id) ?? 0, Number(seqs[i])));
    }
  }
  return latest;
}

/** Every artifact not at the recipient yet: chunks joined on disk, checked, then uploaded. */
async function importArtifacts(
  mlflow: MlflowClient,
  source: ExportSource,
  maxSeq: number,
  targets: Targets,
  concurrency: number,
  progress: (message: string) => void,
): Promise<number> {
  const latest = await latestFileCopies(source, maxSeq);
  const listed = new Map<string, Map<string, number>>();
  const existingFiles = async (root: string): Promise<Map<string, number>> => {
    let files = listed.get(root);
    if (!files) {
      files = new Map((await mlflow.artifacts.listFiles(root)).map((f) => [f.path, f.size]));
      listed.set(root, files);
    }
    return files;
  };
  const temp = await mkdtemp(join(tmpdir(), "arcuate-import-"));
  const ids = { runIds: targets.runIds, modelIds: targets.modelIds };
  let uploaded = 0;
  let assembled = 0;
  const uploads = new Pool(concurrency);
  let current:
    | {
        key: FileKey;
        root: string;
        file: string;
        out: ReturnType<typeof createWriteStream>;
        hash: ReturnType<typeof createHash>;
        next: number;
        count: number;
        size: number;
        sha: string | null;
      }
    | undefined;
  const finish = async () => {
    if (!current) return;
    const file = current;
    current = undefined;
    await new Promise<void>((resolve, reject) =>
      file.out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    if (file.next !== file.count) {
      throw new ArcuateError(
        "CORRUPT_TABLE",
        `exchange: artifact '${file.key.path}' of ${file.key.owner} has ${file.next} of its ${file.count} chunks`,
      );
    }
    const digest = file.hash.digest("hex");
    if (file.sha !== null && digest !== file.sha) {
      throw new ArcuateError(
        "CORRUPT_TABLE",
        `exchange: artifact '${file.key.path}' of ${file.key.owner} has sha256 ${digest}, the export says ${file.sha}`,
      );
    }
    // Uploads go on in the background (a few at a time) while the next files are assembled.
    await uploads.add(async () => {
      if (isMlmodelPath(file.key.path)) {
        const text = rewriteMlmodel(await readFile(file.file, "utf8"), ids);
        await mlflow.artifacts.upload(file.root, file.key.path, async function* () {
          yield new TextEncoder().encode(text);
        });
      } else {
        await mlflow.artifacts.uploadFile(file.root, file.key.path, file.file);
      }
      await rm(file.file, { force: true });
      uploaded++;
      progress(`artifacts: ${uploaded} files`);
    });
  };
  try {
    for await (const batch of upToSeq(source, "artifacts", maxSeq)) {
      const names = [
        "owner_kind",
        "owner_id",
        "path",
        "chunk_index",
        "chunk_count",
        "size",
        "file_sha256",
        "export_seq",
      ];
      const [kinds, owners, paths, indexes, counts, sizes, shas, seqs] = names.map((name) =>
        columnValues(batch, name),
      );
      const bytes = batch.getChild("bytes")!;
      for (let i = 0; i < batch.numRows; i++) {
        const kind = String(kinds![i]);
        const owner = String(owners![i]);
        const path = String(paths![i]);
        const id = `${kind}/${owner}/${path}`;
        if (latest.get(id) !== Number(seqs![i])) continue;
        const root =
          kind === "run" ? targets.runArtifactRoots.get(owner) : targets.modelArtifactRoots.get(owner);
        if (!root) continue;
        const index = Number(indexes![i]);
        if (index === 0) {
          await finish();
          const size = Number(sizes![i]);
          const present = (await existingFiles(root)).get(path);
          // An MLmodel is uploaded rewritten (other ids, so another size): present is enough,
          // unless this import created its owner.
          const createdOwner = (kind === "run" ? targets.createdRuns : targets.createdModels).has(owner);
          if (present === size && !isMlmodelPath(path)) continue;
          if (present !== undefined && isMlmodelPath(path) && !createdOwner) continue;
          current = {
            key: { owner: `${kind} ${owner}`, path },
            root,
            file: join(temp, `${assembled}.part`),
            out: createWriteStream(join(temp, `${assembled++}.part`)),
            hash: createHash("sha256"),
            next: 0,
            count: Number(counts![i]),
            size,
            sha: null,
          };
        }
        if (!current || current.key.path !== path || current.key.owner !== `${kind} ${owner}`) continue;
        if (index !== current.next) {
          throw new ArcuateError(
            "CORRUPT_TABLE",
            `exchange: artifact '${path}' of ${kind} ${owner}: chunk ${index} came where chunk ${current.next} was expected`,
          );
        }
        const chunk = bytes.get(i) as Uint8Array;
        current.hash.update(chunk);
        if (!current.out.write(chunk)) {
          const out = current.out;
          await new Promise<void>((resolve) => out.once("drain", () => resolve()));
        }
        current.next++;
        if (shas![i]) current.sha = String(shas![i]);
        if (current.next === current.count) await finish();
      }
    }
    await finish();
    await uploads.drain();
  } finally {
    current?.out.destroy();
    await uploads.drain().catch(() => {});
    await rm(temp, { recursive: true, force: true });
  }
  return uploaded;
}

/** Sets each run's final status and end time, and finalizes logged models (last step). */
async function finishRuns(
  mlflow: MlflowClient,
  runs: Row[],
  models: Row[],
  targets: Targets,
  concurrency: number,
): Promise<void> {
  const pool = new Pool(concurrency);
  for (const row of runs) await pool.add(() => finishRun(mlflow, row, targets));
  await pool.drain();
  if (!targets.capabilities.loggedModels) return;
  for (const row of models) {
    const target = targets.modelIds.get(String(row.model_id));
    if (!target) continue;
    const model = await mlflow.loggedModels.get(target);
    if (model.info.status !== "LOGGED_MODEL_READY") await mlflow.loggedModels.finalize(target);
  }
}

async function finishRun(mlflow: MlflowClient, row: Row, targets: Targets): Promise<void> {
  const target = targets.runIds.get(String(row.run_id));
  if (!target) return;
  const endTime = row.end_time !== null && row.end_time !== undefined ? Number(row.end_time) : undefined;
  const existing = targets.existingRuns.get(String(row.run_id));
  const unchanged =
    existing !== undefined &&
    existing.info.status === String(row.status) &&
    (endTime === undefined || toNumber(existing.info.end_time) === endTime);
  if (!unchanged) {
    await mlflow.runs.update(target, {
      status: String(row.status) as RunStatus,
      ...(endTime !== undefined ? { endTime } : {}),
    });
  }
  const outputs = JSON.parse(String(row.model_outputs_json ?? "[]")) as Array<{
    model_id: string;
    step: number;
  }>;
  const mapped = outputs
    .filter((o) => targets.modelIds.has(o.model_id))
    .map((o) => ({ model_id: targets.modelIds.get(o.model_id)!, step: o.step }));
  const modelInputs = JSON.parse(String(row.model_inputs_json ?? "[]")) as Array<{ model_id: string }>;
  if (mapped.length === 0 && modelInputs.length === 0) return;
  if (!targets.capabilities.loggedModels) return;
  const current = existing ?? (await mlflow.runs.get(target));
  const have = new Set((current.outputs?.model_outputs ?? []).map((o) => o.model_id));
  const missing = mapped.filter((o) => !have.has(o.model_id));
  if (missing.length > 0) await mlflow.runs.logOutputs(target, missing);
  const inputs = modelInputs
    .map((i) => targets.modelIds.get(i.model_id))
    .filter(
      (id): id is string =>
        id !== undefined && !(current.inputs?.model_inputs ?? []).some((m) => m.model_id === id),
    );
  if (inputs.length > 0) await mlflow.runs.logInputs(target, { modelIds: inputs });
}

function newTargets(capabilities: ServerCapabilities): Targets {
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
  };
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
  const targets = newTargets(await mlflow.capabilities());
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
    await importRuns(mlflow, runs, targets, experimentFor, options.concurrency ?? DEFAULT_CONCURRENCY);
    const modelExperiment = (row: Row) =>
      experimentFor({ ...runById.get(String(row.source_run_id)), ...row });
    await importLoggedModels(mlflow, models, targets, modelExperiment);
    const metricPoints = await importMetrics(
      mlflow,
      source,
      maxSeq,
      targets,
      options.concurrency ?? DEFAULT_CONCURRENCY,
      progress("metrics"),
    );
    const artifactFiles = await importArtifacts(
      mlflow,
      source,
      maxSeq,
      targets,
      options.concurrency ?? DEFAULT_CONCURRENCY,
      progress("artifacts"),
    );
    await finishRuns(mlflow, runs, models, targets, options.concurrency ?? DEFAULT_CONCURRENCY);
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
