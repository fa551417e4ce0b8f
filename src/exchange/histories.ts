// The full metric histories of many runs, read with as few requests as MLflow allows: one
// `get-history-bulk` request per metric key for up to 100 runs, where one `get-history` per run
// and key would be 10,000 requests for 1,000 runs of 10 metrics (most of an export's time).
// Servers without the bulk endpoint (it lives under MLflow's /ajax-api, beside the UI), and
// single runs too long for one bulk answer, are read with `get-history` instead.
import {
  BULK_HISTORY_RUNS,
  type Metric,
  type MlflowClient,
  MlflowError,
  metricValueToNumber,
  type Run,
  toNumber,
} from "../mlflow/index.js";
import { mapOrdered } from "./concurrency.js";

export interface HistoryPoint {
  value: number;
  timestamp: number;
  step: number;
  model_id: string | null;
  dataset_name: string | null;
  dataset_digest: string | null;
}

export interface RunHistory {
  runId: string;
  /** Every metric key of the run (sorted) with all its points. */
  perKey: Array<{ key: string; points: HistoryPoint[] }>;
}

export interface HistoryOptions {
  /** Groups of runs read at once (each group is one bulk request per key). Default 2. */
  prefetch?: number;
  /** Points a group of runs may hold, judged from the runs' latest steps. Default 250,000. */
  groupPoints?: number;
}

function toPoint(m: Metric): HistoryPoint {
  return {
    value: metricValueToNumber(m.value),
    timestamp: toNumber(m.timestamp) ?? 0,
    step: toNumber(m.step) ?? 0,
    model_id: m.model_id || null,
    dataset_name: m.dataset_name || null,
    dataset_digest: m.dataset_digest || null,
  };
}

function keysOf(run: Run): string[] {
  return [...new Set((run.data.metrics ?? []).map((m) => m.key))].sort();
}

/**
 * Splits runs into groups for bulk reads: at most 100 runs, and about `groupPoints` points, judged
 * from each key's latest step (steps usually count up from 0), so a group's histories fit in memory.
 */
export function groupRuns(runs: Run[], groupPoints: number): Run[][] {
  const groups: Run[][] = [];
  const grouper = new RunGrouper(groupPoints);
  for (const run of runs) {
    const full = grouper.add(run);
    if (full) groups.push(full);
  }
  const last = grouper.take();
  if (last) groups.push(last);
  return groups;
}

/** groupRuns, as the runs come (a stream of an experiment's runs, never all of them at once). */
export async function* streamGroups(
  runs: Iterable<Run> | AsyncIterable<Run>,
  groupPoints: number,
): AsyncGenerator<Run[]> {
  const grouper = new RunGrouper(groupPoints);
  for await (const run of runs) {
    const full = grouper.add(run);
    if (full) yield full;
  }
  const last = grouper.take();
  if (last) yield last;
}

class RunGrouper {
  private group: Run[] = [];
  private points = 0;
  constructor(private readonly groupPoints: number) {}

  /** Adds a run; returns the group it closed, when it did not fit in it. */
  add(run: Run): Run[] | undefined {
    const estimate = (run.data.metrics ?? []).reduce((sum, m) => sum + (toNumber(m.step) ?? 0) + 1, 0);
    let full: Run[] | undefined;
    if (
      this.group.length > 0 &&
      (this.group.length === BULK_HISTORY_RUNS || this.points + estimate > this.groupPoints)
    ) {
      full = this.take();
    }
    this.group.push(run);
    this.points += estimate;
    return full;
  }

  take(): Run[] | undefined {
    const group = this.group;
    this.group = [];
    this.points = 0;
    return group.length > 0 ? group : undefined;
  }
}

/** The histories of `runs`, in their order; groups of runs are read ahead while earlier ones are used. */
export async function* runHistories(
  mlflow: MlflowClient,
  runs: Iterable<Run> | AsyncIterable<Run>,
  options: HistoryOptions = {},
): AsyncGenerator<RunHistory> {
  const reader = new HistoryReader(mlflow);
  const groups = streamGroups(runs, options.groupPoints ?? 250_000);
  for await (const histories of mapOrdered(groups, options.prefetch ?? 2, (group) => reader.read(group))) {
    for (const history of histories) yield history;
  }
}

class HistoryReader {
  /** Set once the server has no bulk endpoint: every later read goes run by run. */
  private bulkMissing = false;

  constructor(private readonly mlflow: MlflowClient) {}

  async read(group: Run[]): Promise<RunHistory[]> {
    const keys = group.map(keysOf);
    const points = new Map<string, HistoryPoint[]>();
    const pairId = (runId: string, key: string) => `${runId}\u0000${key}`;
    const allKeys = [...new Set(keys.flat())].sort();
    await Promise.all(
      allKeys.map(async (key) => {
        const runIds = group
          .filter((_, i) => keys[i]!.includes(key))
          .map((run) => run.info.run_id)
          .sort();
        for (const [runId, history] of await this.readKey(runIds, key)) {
          points.set(pairId(runId, key), history);
        }
      }),
    );
    return group.map((run, i) => ({
      runId: run.info.run_id,
      perKey: keys[i]!.map((key) => ({ key, points: points.get(pairId(run.info.run_id, key)) ?? [] })),
    }));
  }

  /** One key's histories for runs sorted by id: bulk answers, cut answers resumed where cut. */
  private async readKey(runIds: string[], key: string): Promise<Map<string, HistoryPoint[]>> {
    const out = new Map<string, HistoryPoint[]>(runIds.map((id) => [id, []]));
    let pending = runIds;
    while (pending.length > 0) {
      if (this.bulkMissing) {
        await Promise.all(pending.map(async (id) => out.set(id, await this.readOne(id, key))));
        break;
      }
      let answer: { metrics: Metric[]; truncated: boolean };
      try {
        answer = await this.mlflow.metrics.historyBulk(pending, key);
      } catch (error) {
        if (!isMissingEndpoint(error)) throw error;
        this.bulkMissing = true;
        continue;
      }
      const lastRun = answer.truncated ? answer.metrics[answer.metrics.length - 1]?.run_id : undefined;
      for (const m of answer.metrics) {
        if (m.run_id === undefined || m.run_id === lastRun) continue;
        out.get(m.run_id)?.push(toPoint(m));
      }
      if (lastRun === undefined) break;
      // Runs before the last one in a cut answer are whole; the last is read again from its start,
      // alone with get-history when it alone filled the answer.
      const from = pending.indexOf(lastRun);
      if (from <= 0) {
        out.set(pending[0]!, await this.readOne(pending[0]!, key));
        pending = pending.slice(1);
      } else {
        pending = pending.slice(from);
      }
    }
    return out;
  }

  private async readOne(runId: string, key: string): Promise<HistoryPoint[]> {
    const points: HistoryPoint[] = [];
    for await (const m of this.mlflow.metrics.history(runId, key)) points.push(toPoint(m));
    return points;
  }
}

/**
 * The server has no get-history-bulk: an older or a non-OSS MLflow, or a proxy that hides
 * /ajax-api (some answer unknown paths with the UI's HTML page, hence "200 but not JSON").
 */
function isMissingEndpoint(error: unknown): boolean {
  if (!(error instanceof MlflowError)) return false;
  const status = error.httpStatus ?? 0;
  return (
    status === 404 || status === 405 || status === 501 || (status < 300 && error.code === "INTERNAL_ERROR")
  );
}
