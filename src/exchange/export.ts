// Export: MLflow → the arcuate tables of one schema in a share. Reads through the MLflow client,
// streams metric points and artifact chunks into Delta commits, and is incremental: what the
// tables already hold (found by scanning them, so a crashed export is accounted for) is not
// written again. Commit order is artifacts, metrics, logged models, runs, versions: the runs (and
// versions) tables are the index an importer starts from, so they land last.
import { createHash } from "node:crypto";
import type { RecordBatch } from "apache-arrow";
import { ArcuateError } from "../errors.js";
import type {
  ArtifactFile,
  Experiment,
  LoggedModel,
  MlflowClient,
  ModelVersion,
  RegisteredModel,
  Run,
} from "../mlflow/index.js";
import { metricValueToNumber, PROMPT_TAG, toNumber } from "../mlflow/index.js";
import { buildBatch, columnValues } from "./columns.js";
import { mapOrdered } from "./concurrency.js";
import { CHUNK_BYTES, type ExportKind, SCHEMAS, type TableName, tablesOf } from "./format.js";
import { type HistoryPoint, type RunHistory, runHistories } from "./histories.js";
import { type NotCarried, notCarried } from "./holdings.js";
import { exportModelFiles } from "./model-files.js";
import { ExportTable, exportLocation, lastExportSeq } from "./tables.js";

export interface ProgressEvent {
  step: string;
  message: string;
  done?: number;
  total?: number;
}

export interface ExportTarget {
  /** arcuate's working folder: tables go under `tables/<share>/<schema>/`. */
  workDir: string;
  share: string;
  /** The schema of the share that holds this export. */
  schema: string;
}

export interface ExportOptions {
  onProgress?: (event: ProgressEvent) => void;
  /** Runs whose histories and artifacts are fetched at once. Default 8. */
  concurrency?: number;
}

export interface ExportSummary {
  kind: ExportKind;
  schema: string;
  exportSeq: number;
  runs: number;
  changedRuns: number;
  metricPoints: number;
  artifactFiles: number;
  artifactBytes: number;
  loggedModels: number;
  versions: number;
  /** What the source holds that this export does not carry (traces, prompts, …), by kind. */
  notCarried: NotCarried[];
  /** Delta table locations, by table name. */
  locations: Record<string, string>;
}

/** The kinds an experiment export carries; what else the experiment holds is reported. */
const EXPERIMENT_CARRIES: ReadonlySet<string> = new Set(["runs", "metrics", "artifacts", "logged models"]);

const METRIC_BATCH_ROWS = 100_000;
/** Chunk rows are handed to the writer once they hold this many bytes (one full chunk). */
const ARTIFACT_BATCH_BYTES = CHUNK_BYTES;

function sha256(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}

function tagMap(tags: Array<{ key: string; value: string }> | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.key, t.value]));
}

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

function recordsToBatch(table: TableName, records: Record<string, unknown>[], seq: number): RecordBatch {
  const columns: Record<string, unknown[]> = {};
  for (const field of SCHEMAS[table].fields) {
    columns[field.name] =
      field.name === "export_seq" ? records.map(() => seq) : records.map((r) => r[field.name] ?? null);
  }
  return buildBatch(SCHEMAS[table], columns);
}

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}

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

/** Files the artifacts table already holds completely: owner/path → size of the latest copy. */
async function existingArtifacts(table: ExportTable): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  for await (const batch of table.scan([
    "owner_kind",
    "owner_id",
    "path",
    "size",
    "chunk_index",
    "chunk_count",
  ])) {
    const [kinds, owners, paths, sizes, indexes, counts] = columnsOf(batch, [
      "owner_kind",
      "owner_id",
      "path",
      "size",
      "chunk_index",
      "chunk_count",
    ]);
    for (let i = 0; i < batch.numRows; i++) {
      if (indexes![i] === (counts![i] as number) - 1)
        files.set(`${kinds![i]}/${owners![i]}/${paths![i]}`, sizes![i] as number);
    }
  }
  return files;
}

function columnsOf(batch: RecordBatch, names: string[]): unknown[][] {
  return names.map((name) => columnValues(batch, name));
}

interface Owner {
  kind: "run" | "logged_model";
  id: string;
  artifactRoot: string | undefined;
}

/** Every artifact of the owners not yet exported, as batches of chunk rows (files streamed). */
async function* artifactBatches(
  mlflow: MlflowClient,
  owners: Owner[],
  existing: Map<string, number>,
  seq: number,
  stats: { files: number; bytes: number },
  progress: (message: string) => void,
  concurrency: number,
): AsyncGenerator<RecordBatch> {
  let rows: Record<string, unknown>[] = [];
  let rowBytes = 0;
  const flush = () => {
    const batch = recordsToBatch("artifacts", rows, seq);
    rows = [];
    rowBytes = 0;
    return batch;
  };
  // Owners are listed, and their small files read, a few at a time ahead of the one being
  // written: thousands of small files otherwise cost a round trip each, one after another.
  const listed = mapOrdered(
    owners.filter((owner) => owner.artifactRoot),
    concurrency,
    async (owner) => {
      const root = owner.artifactRoot!;
      const files = (await mlflow.artifacts.listFiles(root)).filter(
        (file) => existing.get(`${owner.kind}/${owner.id}/${file.path}`) !== file.size,
      );
      return { owner, root, files: await prefetchSmallFiles(mlflow, root, files) };
    },
  );
  for await (const { owner, root, files } of listed) {
    for (const { file, bytes } of files) {
      const chunkCount = Math.max(1, Math.ceil(file.size / CHUNK_BYTES));
      const fileHash = createHash("sha256");
      let index = 0;
      let size = 0;
      for await (const chunk of chunked(
        bytes ? once(bytes) : await mlflow.artifacts.download(root, file.path),
        CHUNK_BYTES,
      )) {
        fileHash.update(chunk);
        size += chunk.length;
        rows.push({
          owner_kind: owner.kind,
          owner_id: owner.id,
          path: file.path,
          chunk_index: index,
          chunk_count: chunkCount,
          size: file.size,
          chunk_sha256: sha256(chunk),
          file_sha256: index === chunkCount - 1 ? "" : null,
          bytes: chunk,
        });
        rowBytes += chunk.length;
        index++;
        if (index === chunkCount) break;
        if (rowBytes >= ARTIFACT_BATCH_BYTES) yield flush();
      }
      if (file.size === 0 && index === 0) {
        rows.push({
          owner_kind: owner.kind,
          owner_id: owner.id,
          path: file.path,
          chunk_index: 0,
          chunk_count: 1,
          size: 0,
          chunk_sha256: sha256(new Uint8Array(0)),
          file_sha256: "",
          bytes: new Uint8Array(0),
        });
        index = 1;
      }
      if (index !== chunkCount || size !== file.size) {
        throw new ArcuateError(
          "CONFLICT",
          `exchange: artifact '${file.path}' of ${owner.kind} ${owner.id} changed while it was exported (${size} bytes read, ${file.size} listed); export again`,
        );
      }
      rows[rows.length - 1]!.file_sha256 = fileHash.digest("hex");
      stats.files++;
      stats.bytes += size;
      progress(`artifacts: ${stats.files} files, ${(stats.bytes / 1048576).toFixed(1)} MiB`);
      if (rowBytes >= ARTIFACT_BATCH_BYTES) yield flush();
    }
  }
  if (rows.length > 0) yield flush();
}

/** Bytes of an owner's files read ahead: small files, up to this much per owner. */
const PREFETCH_BYTES_PER_OWNER = 4 * 1024 * 1024;

/**
 * Reads the owner's small files into memory side by side (at most PREFETCH_BYTES_PER_OWNER in
 * all); bigger files are left to be streamed when their turn comes.
 */
async function prefetchSmallFiles(
  mlflow: MlflowClient,
  root: string,
  files: ArtifactFile[],
): Promise<Array<{ file: ArtifactFile; bytes?: Uint8Array }>> {
  let budget = PREFETCH_BYTES_PER_OWNER;
  return Promise.all(
    files.map(async (file) => {
      if (file.size > budget) return { file };
      budget -= file.size;
      return {
        file,
        bytes: Buffer.concat(await (await mlflow.artifacts.download(root, file.path)).toArray()),
      };
    }),
  );
}

/**
 * Re-chunks a byte stream into pieces of exactly `size` bytes (the last may be shorter). Pieces
 * are joined only at chunk boundaries, so a small file costs its own size, not a whole chunk
 * (a fresh 8 MiB buffer per file was gigabytes of garbage over thousands of small artifacts).
 */
export async function* chunked(
  stream: AsyncIterable<Uint8Array | string>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let pieces: Uint8Array[] = [];
  let filled = 0;
  for await (const piece of stream) {
    let bytes = typeof piece === "string" ? new TextEncoder().encode(piece) : piece;
    while (bytes.length > 0) {
      const take = Math.min(size - filled, bytes.length);
      pieces.push(take === bytes.length ? bytes : bytes.subarray(0, take));
      filled += take;
      bytes = bytes.subarray(take);
      if (filled === size) {
        yield joined(pieces, filled);
        pieces = [];
        filled = 0;
      }
    }
  }
  if (filled > 0) yield joined(pieces, filled);
}

function joined(pieces: Uint8Array[], length: number): Uint8Array {
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, length);
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
async function* metricBatches(
  mlflow: MlflowClient,
  runs: Run[],
  table: ExportTable,
  seq: number,
  concurrency: number,
  stats: { points: number },
  progress: (message: string, done: number, total: number) => void,
): AsyncGenerator<RecordBatch> {
  const counts = await existingMetricCounts(table);
  // Histories of the next groups of runs are fetched while the current ones' points are written.
  const histories = runHistories(mlflow, runs, { prefetch: Math.max(1, Math.ceil(concurrency / 4)) });
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
    progress(`metrics: read ${done} of ${runs.length} runs`, done, runs.length);
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
    const batch = buildBatch(SCHEMAS.metrics, {
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

/** Runs the writes of one export: tables created on demand, each table one commit. */
class ExportWriter {
  readonly tables: Record<TableName, ExportTable>;
  constructor(
    kind: ExportKind,
    readonly target: ExportTarget,
  ) {
    this.tables = Object.fromEntries(
      tablesOf(kind).map((name) => [
        name,
        new ExportTable(exportLocation(target.workDir, target.share, target.schema, name), kind, name),
      ]),
    ) as Record<TableName, ExportTable>;
  }

  /** Appends the batches as one commit, or commits nothing when there are none. */
  async append(name: TableName, batches: AsyncIterable<RecordBatch>, seq: number): Promise<void> {
    const iterator = batches[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done) return;
    async function* rest(): AsyncGenerator<RecordBatch> {
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    }
    await this.tables[name].write(rest(), "append", seq);
  }

  /** Overwrites a small index table when its records changed (by record_sha256), or the table is new. */
  async replaceIfChanged(
    name: TableName,
    key: string,
    records: Record<string, unknown>[],
    seq: number,
  ): Promise<number> {
    const previous = new Map<string, string>();
    let exists = false;
    for await (const batch of this.tables[name].scan([key, "record_sha256"])) {
      exists = true;
      const keys = columnValues(batch, key);
      const shas = columnValues(batch, "record_sha256");
      for (let i = 0; i < keys.length; i++) previous.set(String(keys[i]), String(shas[i]));
    }
    const changed = records.filter((r) => previous.get(String(r[key])) !== r.record_sha256).length;
    const removed = [...previous.keys()].filter((k) => !records.some((r) => String(r[key]) === k)).length;
    if (exists && changed === 0 && removed === 0) return 0;
    if (!exists && records.length === 0) {
      await this.tables[name].create(seq);
      return 0;
    }
    await this.tables[name].write(once(recordsToBatch(name, records, seq)), "overwrite", seq);
    return changed + removed;
  }

  /** Creates, empty, the tables no data went to: an export always has all of its tables. */
  async ensureAll(seq: number): Promise<void> {
    for (const table of Object.values(this.tables)) await table.create(seq);
  }

  locations(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.tables).map(([name, table]) => [name, table.location]));
  }
}

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

async function exportRunsAndModels(
  mlflow: MlflowClient,
  writer: ExportWriter,
  runs: Run[],
  experiments: Map<string, Experiment>,
  loggedModels: LoggedModel[],
  options: ExportOptions,
  seq: number,
): Promise<Omit<ExportSummary, "kind" | "schema" | "exportSeq" | "versions" | "locations" | "notCarried">> {
  const progress = options.onProgress ?? (() => {});
  const concurrency = options.concurrency ?? 8;
  const artifactStats = { files: 0, bytes: 0 };
  const owners: Owner[] = [
    ...runs.map((run) => ({
      kind: "run" as const,
      id: run.info.run_id,
      artifactRoot: run.info.artifact_uri,
    })),
    ...loggedModels.map((m) => ({
      kind: "logged_model" as const,
      id: m.info.model_id,
      artifactRoot: m.info.artifact_uri,
    })),
  ];
  const existing = await existingArtifacts(writer.tables.artifacts);
  await writer.append(
    "artifacts",
    artifactBatches(
      mlflow,
      owners,
      existing,
      seq,
      artifactStats,
      (message) => progress({ step: "artifacts", message }),
      concurrency,
    ),
    seq,
  );
  const metricStats = { points: 0 };
  await writer.append(
    "metrics",
    metricBatches(
      mlflow,
      runs,
      writer.tables.metrics,
      seq,
      concurrency,
      metricStats,
      (message, done, total) => progress({ step: "metrics", message, done, total }),
    ),
    seq,
  );
  const modelRecords = loggedModels.map(loggedModelRecord);
  await writer.replaceIfChanged("logged_models", "model_id", modelRecords, seq);
  const records = runs.map((run) => runRecord(run, experiments.get(run.info.experiment_id)!));
  const changedRuns = await writer.replaceIfChanged("runs", "run_id", records, seq);
  progress({ step: "runs", message: `runs: ${runs.length} (${changedRuns} new or changed)` });
  return {
    runs: runs.length,
    changedRuns,
    metricPoints: metricStats.points,
    artifactFiles: artifactStats.files,
    artifactBytes: artifactStats.bytes,
    loggedModels: loggedModels.length,
  };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

function notFound(what: string, name: string, mlflow: MlflowClient, error: unknown): never {
  if (error instanceof Error && "code" in error && error.code === "RESOURCE_DOES_NOT_EXIST") {
    throw new ArcuateError(
      "RESOURCE_DOES_NOT_EXIST",
      `exchange: ${what} '${name}' does not exist on ${mlflow.trackingUri}`,
      {
        cause: error,
      },
    );
  }
  throw error;
}

/** The experiment to export; a clear error when it does not exist (checked before anything changes). */
export function sourceExperiment(mlflow: MlflowClient, name: string): Promise<Experiment> {
  return mlflow.experiments.getByName(name).catch((e: unknown) => notFound("experiment", name, mlflow, e));
}

/**
 * The registered model to export; a clear error when it does not exist or is a prompt (MLflow
 * keeps prompts in the registry as models tagged `mlflow.prompt.is_prompt`, but a prompt's
 * versions are templates, not model files).
 */
export async function sourceModel(mlflow: MlflowClient, name: string): Promise<RegisteredModel> {
  const model = await mlflow.models
    .get(name)
    .catch((e: unknown) => notFound("registered model", name, mlflow, e));
  if (model.tags?.some((t) => t.key === PROMPT_TAG && t.value.toLowerCase() === "true")) {
    throw new ArcuateError(
      "INVALID_PARAMETER_VALUE",
      `exchange: '${name}' on ${mlflow.trackingUri} is a prompt, not a model; share it with \`WITH PROMPT '${name}'\` (ALTER SHARE … ADD PROMPT '${name}')`,
    );
  }
  return model;
}

/** Exports an MLflow experiment (its active runs, histories, artifacts, logged models). */
export async function exportExperiment(
  mlflow: MlflowClient,
  experimentName: string,
  target: ExportTarget,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const experiment = await sourceExperiment(mlflow, experimentName);
  const capabilities = await mlflow.capabilities();
  const writer = new ExportWriter("experiment", target);
  const seq = (await lastExportSeq(Object.values(writer.tables))) + 1;
  options.onProgress?.({
    step: "read",
    message: `reading experiment '${experimentName}' from ${mlflow.trackingUri}`,
  });
  const runs = await collect(
    mlflow.runs.searchAll({
      experimentIds: [experiment.experiment_id],
      orderBy: ["attributes.start_time ASC"],
    }),
  );
  // MLflow 2.x has no logged models: nothing to read, and nothing left behind.
  const loggedModels = capabilities.loggedModels
    ? await collect(mlflow.loggedModels.searchAll({ experimentIds: [experiment.experiment_id] }))
    : [];
  const holdings = await mlflow.inventory.experiment(experiment.experiment_id, capabilities);
  const experiments = new Map([[experiment.experiment_id, experiment]]);
  const summary = await exportRunsAndModels(mlflow, writer, runs, experiments, loggedModels, options, seq);
  await writer.ensureAll(seq);
  return {
    kind: "experiment",
    schema: target.schema,
    exportSeq: seq,
    versions: 0,
    notCarried: notCarried(holdings, EXPERIMENT_CARRIES),
    locations: writer.locations(),
    ...summary,
  };
}

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

/** Exports a registered model: every version, and the runs and logged models they come from. */
export async function exportModel(
  mlflow: MlflowClient,
  modelName: string,
  target: ExportTarget,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const model = await sourceModel(mlflow, modelName);
  const writer = new ExportWriter("model", target);
  const seq = (await lastExportSeq(Object.values(writer.tables))) + 1;
  const versions = await mlflow.versions.listAll(modelName);
  const loggedModelIds = [
    ...new Set(versions.map(loggedModelIdOf).filter((id): id is string => id !== null)),
  ];
  const loggedModels = await Promise.all(loggedModelIds.map((id) => mlflow.loggedModels.get(id)));
  const runIds = [
    ...new Set([
      ...versions.map((v) => v.run_id).filter((id): id is string => Boolean(id)),
      ...loggedModels.map((m) => m.info.source_run_id).filter((id): id is string => Boolean(id)),
    ]),
  ];
  const runs = await Promise.all(runIds.map((id) => mlflow.runs.get(id)));
  const experiments = new Map<string, Experiment>();
  for (const id of new Set(runs.map((r) => r.info.experiment_id)))
    experiments.set(id, await mlflow.experiments.get(id));
  const summary = await exportRunsAndModels(mlflow, writer, runs, experiments, loggedModels, options, seq);
  // Model files before the versions commit, so a listed version's files are complete (issue 16).
  await exportModelFiles(mlflow, versions, runs, loggedModels, writer.locations().versions!);
  const records = versions.map((v) => versionRecord(model, v, loggedModelIdOf(v)));
  await writer.replaceIfChanged("versions", "version", records, seq);
  await writer.ensureAll(seq);
  options.onProgress?.({ step: "versions", message: `versions: ${versions.length}` });
  return {
    kind: "model",
    schema: target.schema,
    exportSeq: seq,
    versions: versions.length,
    notCarried: [],
    locations: writer.locations(),
    ...summary,
  };
}
