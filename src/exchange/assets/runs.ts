// How runs travel: one row per run of the `runs` table (the index of an experiment export,
// committed last), with its params, tags, latest metrics, dataset inputs and logged-model links;
// its metric histories and artifacts are kinds of their own (metrics.ts, artifacts.ts).
//
// Import creates the runs not there yet, parents before children (the parent link rewritten to
// the recipient's run), with their names, start times, users and dataset inputs; their params and
// tags ride in their first metrics log-batch. The provider's run id is kept as tag
// `arcuate.source.run_id` (given at create), which is how a re-import finds them. A run's status
// and end time are set last (finishRuns), after its metrics and artifacts.
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { type RecordBatch, Schema } from "apache-arrow";
import type { AddAction, DeltaTable } from "../../delta/index.js";
import { ArcuateError } from "../../errors.js";
import type { DatasetInput, Experiment, MlflowClient, Run, RunStatus } from "../../mlflow/index.js";
import { metricValueToNumber, toNumber } from "../../mlflow/index.js";
import { columnValues } from "../columns.js";
import { Pool } from "../concurrency.js";
import type { ExportTable } from "../tables.js";
import { exportSeq, int64, numberMap, stringMap, utf8 } from "./fields.js";
import { type Row, rowsToBatch } from "./rows.js";
import {
  completeUpTo,
  TAG_IMPORT_COMPLETE,
  TAG_SOURCE_RUN,
  TAG_SOURCE_USER,
  type Targets,
} from "./targets.js";

export const RUN_SCHEMAS = {
  runs: new Schema([
    utf8("run_id", false),
    utf8("experiment_id"),
    utf8("experiment_name"),
    /** The experiment's tags, repeated on each of its runs. */
    stringMap("experiment_tags"),
    utf8("run_name"),
    utf8("status"),
    int64("start_time"),
    int64("end_time"),
    utf8("lifecycle_stage"),
    utf8("user_id"),
    utf8("artifact_uri"),
    utf8("parent_run_id"),
    stringMap("params"),
    stringMap("tags"),
    /** Latest value of each metric, for a quick look without the metrics table. */
    numberMap("latest_metrics"),
    utf8("dataset_inputs_json"),
    utf8("model_inputs_json"),
    utf8("model_outputs_json"),
    /** sha256 of the run's record (everything above but the metrics), to find changed runs. */
    utf8("record_sha256", false),
    exportSeq(),
  ]),
} as const;

/** Run tags MLflow writes itself or arcuate rewrites; not copied verbatim. */
const REWRITTEN_TAGS = new Set(["mlflow.parentRunId"]);

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export function tagMap(tags: Array<{ key: string; value: string }> | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.key, t.value]));
}

export const asMap = (value: unknown): Record<string, string> => (value ?? {}) as Record<string, string>;

// ---- export ---------------------------------------------------------------------------------

/** One run's record: everything of the run but its metric histories and artifacts. */
export function runRecord(run: Run, experiment: Experiment): Record<string, unknown> {
  const tags = tagMap(run.data.tags);
  const record: Record<string, unknown> = {
    run_id: run.info.run_id,
    experiment_id: run.info.experiment_id,
    experiment_name: experiment.name,
    experiment_tags: tagMap(experiment.tags),
    run_name: run.info.run_name ?? tags["mlflow.runName"] ?? null,
    status: run.info.status,
    start_time: toNumber(run.info.start_time) ?? null,
    end_time: toNumber(run.info.end_time) ?? null,
    lifecycle_stage: run.info.lifecycle_stage ?? "active",
    user_id: run.info.user_id ?? null,
    artifact_uri: run.info.artifact_uri ?? null,
    parent_run_id: tags["mlflow.parentRunId"] ?? null,
    params: Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value])),
    tags,
    latest_metrics: Object.fromEntries(
      (run.data.metrics ?? []).map((m) => [m.key, metricValueToNumber(m.value)]),
    ),
    dataset_inputs_json: JSON.stringify(run.inputs?.dataset_inputs ?? []),
    model_inputs_json: JSON.stringify(run.inputs?.model_inputs ?? []),
    model_outputs_json: JSON.stringify(
      (run.outputs?.model_outputs ?? []).map((o) => ({ model_id: o.model_id, step: toNumber(o.step) ?? 0 })),
    ),
  };
  record.record_sha256 = sha256(
    JSON.stringify(record, (_, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)),
  );
  return record;
}

/** Thrown by the runs table's beforeCommit when nothing changed: the files written go again. */
class Unchanged extends Error {}

/**
 * Rewrites the runs table when a run is new, changed or gone, or when this export added metric
 * points or files (`ready` resolves to whether it did): the runs table is the import's horizon
 * (an import reads the other tables up to its highest export_seq), so a point backfilled at an
 * older step or a file added to a run whose record stayed the same must still move it. Returns
 * how many runs there are and how many of them changed (or went). The runs come page by page (an
 * experiment of any size): each page's records are encoded as it comes, into a new copy of the
 * table committed only once `ready` (the tables the runs index, committed first) resolves. What
 * is held is a page and the exported runs' ids with their record hashes.
 */
export async function exportRunPages(
  table: ExportTable,
  pages: AsyncIterable<Run[]>,
  experiments: Map<string, Experiment>,
  seq: number,
  ready: Promise<boolean>,
): Promise<{ runs: number; changed: number }> {
  const previous = new Map<string, string>();
  let exists = (await table.open()) !== undefined;
  for await (const batch of table.scan(["run_id", "record_sha256"])) {
    exists = true;
    const ids = columnValues(batch, "run_id");
    const shas = columnValues(batch, "record_sha256");
    for (let i = 0; i < ids.length; i++) previous.set(String(ids[i]), String(shas[i]));
  }
  let runs = 0;
  let changed = 0;
  let kept = 0;
  async function* batches(): AsyncGenerator<RecordBatch> {
    for await (const page of pages) {
      if (page.length === 0) continue;
      const records = page.map((run) => {
        const record = runRecord(run, experiments.get(run.info.experiment_id)!);
        const before = previous.get(run.info.run_id);
        if (before !== undefined) kept++;
        if (before !== record.record_sha256) changed++;
        return record;
      });
      runs += records.length;
      yield rowsToBatch(RUN_SCHEMAS.runs, records, seq);
    }
  }
  try {
    await table.write(batches(), "overwrite", seq, async (delta, files) => {
      let added: boolean;
      try {
        added = await ready;
      } catch (error) {
        await dropFiles(delta, files);
        throw error;
      }
      const removed = previous.size - kept;
      // Nothing new, changed or gone (or no runs, and no table yet: the export creates it empty).
      if ((exists && changed === 0 && removed === 0 && !added) || (!exists && runs === 0)) {
        await dropFiles(delta, files);
        throw new Unchanged();
      }
    });
  } catch (error) {
    if (!(error instanceof Unchanged)) throw error;
  }
  return { runs, changed: changed + previous.size - kept };
}

/** Deletes data files written for a commit that is not made (no log entry names them). */
async function dropFiles(delta: DeltaTable, files: AddAction[]): Promise<void> {
  for (const file of files) await delta.storage.delete(decodeURIComponent(file.path));
}

// ---- import ---------------------------------------------------------------------------------

/** Creates the runs not imported yet, parents before children; params, tags and inputs. */
export async function importRuns(
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
    const created = await createRun(mlflow, experimentFor(row).experiment_id, sourceId, {
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
  // Sent with the run's first metrics (importMetrics), or after them (logPendingRunData).
  if (newParams.length > 0 || newTags.length > 0)
    targets.pendingRunData.set(targetId, { params: newParams, tags: newTags });
  const datasets = JSON.parse(String(row.dataset_inputs_json ?? "[]")) as DatasetInput[];
  const haveDatasets = new Set(
    (existing?.inputs?.dataset_inputs ?? []).map((d) => `${d.dataset.name}|${d.dataset.digest}`),
  );
  const missing = datasets.filter((d) => !haveDatasets.has(`${d.dataset.name}|${d.dataset.digest}`));
  // Two runs that share a new dataset race to create it in MLflow's SQL store; the MLflow client
  // sends the loser again (see DATASET_RACE in src/mlflow/http.ts).
  if (missing.length > 0) await mlflow.runs.logInputs(targetId, { datasets: missing });
}

/** Logs the params and tags no metrics log-batch took along (runs with no new points). */
export async function logPendingRunData(
  mlflow: MlflowClient,
  targets: Targets,
  concurrency: number,
): Promise<void> {
  const pool = new Pool(concurrency);
  for (const [targetId, data] of [...targets.pendingRunData]) {
    targets.pendingRunData.delete(targetId);
    await pool.add(async () => void (await mlflow.runs.logBatch(targetId, data)));
  }
  await pool.drain();
}

/**
 * Creates the run of `sourceId`. A create whose connection broke (a worker of a loaded server
 * cut it) may or may not have made the run, so the MLflow client does not send it again; the
 * import can tell, by the source tag the run is created with: found, it is that run; not found,
 * it is created again.
 */
async function createRun(
  mlflow: MlflowClient,
  experimentId: string,
  sourceId: string,
  options: Parameters<MlflowClient["runs"]["create"]>[1],
): Promise<Run> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await mlflow.runs.create(experimentId, options);
    } catch (error) {
      if (!(error instanceof ArcuateError && error.code === "CONNECTION_FAILED") || attempt >= 4) throw error;
    }
    // Give a create still in the server's hands the time to commit before looking for it.
    await sleep(1000 * attempt);
    const found = await mlflow.runs.search({
      experimentIds: [experimentId],
      filter: `tags.\`${TAG_SOURCE_RUN}\` = '${sourceId}'`,
      maxResults: 1,
    });
    if (found.items[0]) return found.items[0];
  }
}

/**
 * Sets each run's final status and end time, and links it to its logged models (the last step of
 * an import: until then an interrupted import leaves the run RUNNING).
 */
export async function finishRuns(
  mlflow: MlflowClient,
  runs: Row[],
  targets: Targets,
  concurrency: number,
  /** The export sequence this import brought every run up to (its runs' TAG_IMPORT_COMPLETE). */
  maxSeq: number,
): Promise<void> {
  const pool = new Pool(concurrency);
  for (const row of runs) {
    await pool.add(async () => {
      await finishRun(mlflow, row, targets);
      const source = String(row.run_id);
      const target = targets.runIds.get(source);
      // Last of all the run's writes, so an interrupted import leaves no marker behind.
      if (target && !completeUpTo(targets, source, maxSeq)) {
        await mlflow.runs.setTag(target, TAG_IMPORT_COMPLETE, `${maxSeq}@${targets.exportId}`);
        targets.completeSeq.set(source, maxSeq);
      }
    });
  }
  await pool.drain();
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
