// How metric histories travel: one row per metric point of the `metrics` table (run or logged
// model, key, value, timestamp, step, dataset). Export streams the runs' histories into batches
// of typed columns and is incremental: a (run, key) whose exported count matches is skipped, one
// whose count differs is compared point by point. Import sends by log-batch what the recipient's
// run does not have yet (a point counted as a multiset of step|timestamp|value).
import type { RecordBatch } from "apache-arrow";
import { Schema } from "apache-arrow";
import type { MetricPoint, MlflowClient, Run } from "../../mlflow/index.js";
import { LIMITS, toNumber } from "../../mlflow/index.js";
import { buildBatch } from "../columns.js";
import { Pool } from "../concurrency.js";
import { type HistoryPoint, type RunHistory, runHistories } from "../histories.js";
import type { ExportTable } from "../tables.js";
import { exportSeq, float64, int64, utf8 } from "./fields.js";
import { upToSeq } from "./rows.js";
import { completeUpTo, type ImportStep } from "./targets.js";

export const METRIC_SCHEMAS = {
  metrics: new Schema([
    utf8("run_id", false),
    utf8("key", false),
    float64("value"),
    int64("timestamp", false),
    int64("step", false),
    utf8("model_id"),
    utf8("dataset_name"),
    utf8("dataset_digest"),
    exportSeq(),
  ]),
} as const;

const METRIC_BATCH_ROWS = 100_000;

// ---- export ---------------------------------------------------------------------------------

/** What the metrics table already holds: points per (run, key). */
async function existingMetricCounts(table: ExportTable): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const batch of table.scan(["run_id", "key"])) {
    const runIds = batch.getChild("run_id")!;
    const keys = batch.getChild("key")!;
    for (let i = 0; i < batch.numRows; i++) {
      const pair = `${runIds.get(i)}\u0000${keys.get(i)}`;
      counts.set(pair, (counts.get(pair) ?? 0) + 1);
    }
  }
  return counts;
}

/** The exported points of some (run, key) pairs, as "step|timestamp|value" multisets. */
async function existingPoints(
  table: ExportTable,
  pairs: Set<string>,
): Promise<Map<string, Map<string, number>>> {
  const points = new Map<string, Map<string, number>>();
  if (pairs.size === 0) return points;
  for await (const batch of table.scan(["run_id", "key", "step", "timestamp", "value"])) {
    const [runIds, keys, steps, times, values] = ["run_id", "key", "step", "timestamp", "value"].map(
      (name) => batch.getChild(name)!,
    );
    for (let i = 0; i < batch.numRows; i++) {
      const pair = `${runIds!.get(i)}\u0000${keys!.get(i)}`;
      if (!pairs.has(pair)) continue;
      const point = `${steps!.get(i)}|${times!.get(i)}|${values!.get(i)}`;
      let multiset = points.get(pair);
      if (!multiset) {
        multiset = new Map();
        points.set(pair, multiset);
      }
      multiset.set(point, (multiset.get(point) ?? 0) + 1);
    }
  }
  return points;
}

interface MetricColumns {
  run_id: string[];
  key: string[];
  value: Float64Array;
  timestamp: BigInt64Array;
  step: BigInt64Array;
  model_id: (string | null)[];
  dataset_name: (string | null)[];
  dataset_digest: (string | null)[];
}

/** New metric points of the runs, in batches of columns; counts them into `stats`. */
export async function* metricBatches(
  mlflow: MlflowClient,
  runs: Iterable<Run> | AsyncIterable<Run>,
  table: ExportTable,
  seq: number,
  stats: { points: number },
  progress: (message: string, done: number) => void,
): AsyncGenerator<RecordBatch> {
  const counts = await existingMetricCounts(table);
  // Histories of the next groups of runs are fetched while the current ones' points are written
  // (runHistories bounds them by points, not by the client's concurrency: a group is one bulk
  // request per key, already enough requests to keep the server busy).
  const histories = runHistories(mlflow, runs);
  // Pairs whose exported count differs: their exported points are compared one by one, after
  // one scan of the table. Only the runs that hold such pairs wait for it; the rest stream out.
  const pending: RunHistory[] = [];
  const changedPairs = new Set<string>();
  const rows = new MetricRows(seq, stats);
  let done = 0;
  for await (const history of histories) {
    let changed = false;
    for (const { key, points } of history.perKey) {
      const exported = counts.get(`${history.runId}\u0000${key}`) ?? 0;
      if (exported > 0 && exported !== points.length) {
        changedPairs.add(`${history.runId}\u0000${key}`);
        changed = true;
      }
    }
    done++;
    progress(`metrics: read ${done} runs`, done);
    if (changed) pending.push(history);
    else for (const batch of toMetricBatches([history], counts, undefined, rows)) yield batch;
  }
  if (pending.length > 0) {
    const exportedPoints = await existingPoints(table, changedPairs);
    for (const batch of toMetricBatches(pending, counts, exportedPoints, rows)) yield batch;
  }
  if (rows.length > 0) yield rows.take();
}

/**
 * Metric points gathered into record batches of METRIC_BATCH_ROWS across runs. One per export:
 * typed columns of a whole batch are allocated per batch, not per run (per run, that was
 * 2.4 MB of garbage for a thousand points, gigabytes for a large experiment).
 */
class MetricRows {
  private columns = emptyMetricColumns(METRIC_BATCH_ROWS);
  private n = 0;

  constructor(
    private readonly seq: number,
    private readonly stats: { points: number },
  ) {}

  get length(): number {
    return this.n;
  }

  /** Adds one point; true when the batch is full and must be taken. */
  add(runId: string, key: string, point: HistoryPoint): boolean {
    const columns = this.columns;
    const n = this.n;
    columns.run_id[n] = runId;
    columns.key[n] = key;
    columns.value[n] = point.value;
    columns.timestamp[n] = BigInt(point.timestamp);
    columns.step[n] = BigInt(point.step);
    columns.model_id[n] = point.model_id;
    columns.dataset_name[n] = point.dataset_name;
    columns.dataset_digest[n] = point.dataset_digest;
    this.n++;
    this.stats.points++;
    return this.n === METRIC_BATCH_ROWS;
  }

  /** The points added so far as one batch; the typed columns go with it, fresh ones come. */
  take(): RecordBatch {
    const { columns, n } = this;
    const batch = buildBatch(METRIC_SCHEMAS.metrics, {
      run_id: columns.run_id.slice(0, n),
      key: columns.key.slice(0, n),
      value: columns.value.subarray(0, n),
      timestamp: columns.timestamp.subarray(0, n),
      step: columns.step.subarray(0, n),
      model_id: columns.model_id.slice(0, n),
      dataset_name: columns.dataset_name.slice(0, n),
      dataset_digest: columns.dataset_digest.slice(0, n),
      export_seq: new BigInt64Array(n).fill(BigInt(this.seq)),
    });
    this.columns = emptyMetricColumns(METRIC_BATCH_ROWS);
    this.n = 0;
    return batch;
  }
}

/** The new points of `histories` into `rows`, yielding each batch that fills up. */
function* toMetricBatches(
  histories: RunHistory[],
  counts: Map<string, number>,
  exportedPoints: Map<string, Map<string, number>> | undefined,
  rows: MetricRows,
): Generator<RecordBatch> {
  for (const { runId, perKey } of histories) {
    for (const { key, points } of perKey) {
      const pair = `${runId}\u0000${key}`;
      const exported = counts.get(pair) ?? 0;
      if (exported === points.length && !exportedPoints?.has(pair)) continue;
      const remaining = exportedPoints?.get(pair);
      for (const point of points) {
        if (remaining) {
          const id = `${point.step}|${point.timestamp}|${point.value}`;
          const left = remaining.get(id) ?? 0;
          if (left > 0) {
            remaining.set(id, left - 1);
            continue;
          }
        } else if (exported > 0) {
          continue;
        }
        if (rows.add(runId, key, point)) yield rows.take();
      }
    }
  }
}

function emptyMetricColumns(rows: number): MetricColumns {
  return {
    run_id: [],
    key: [],
    value: new Float64Array(rows),
    timestamp: new BigInt64Array(rows),
    step: new BigInt64Array(rows),
    model_id: [],
    dataset_name: [],
    dataset_digest: [],
  };
}

// ---- import ---------------------------------------------------------------------------------

/** Every metric point not at the recipient yet, by log-batch. Returns the points logged. */
export async function importMetrics(step: ImportStep): Promise<number> {
  const { mlflow, source, maxSeq, targets, concurrency, progress } = step;
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
    // The run's params and tags, left by the runs step, go in its first batch.
    const data = targets.pendingRunData.get(targetRun);
    targets.pendingRunData.delete(targetRun);
    await pool.add(async () => {
      await mlflow.runs.logBatch(targetRun, { ...data, metrics: points });
    });
  };
  /** Points a run's next batch takes: a log-batch holds 1,000 entities, params and tags among them. */
  const room = (targetRun: string) => {
    const data = targets.pendingRunData.get(targetRun);
    return LIMITS.entitiesPerBatch - (data ? data.params.length + data.tags.length : 0);
  };
  for await (const batch of upToSeq(source, "metrics", maxSeq)) {
    const [runIds, keys, values, times, steps, modelIds, datasetNames, datasetDigests, seqs] = [
      "run_id",
      "key",
      "value",
      "timestamp",
      "step",
      "model_id",
      "dataset_name",
      "dataset_digest",
      "export_seq",
    ].map((name) => batch.getChild(name));
    for (let i = 0; i < batch.numRows; i++) {
      const sourceRun = String(runIds!.get(i));
      const targetRun = targets.runIds.get(sourceRun);
      if (!targetRun) continue;
      // Points an earlier import brought completely (its marker): nothing to read back.
      if (completeUpTo(targets, sourceRun, Number(seqs!.get(i)))) continue;
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
      if (buffer.length >= room(targetRun)) {
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
