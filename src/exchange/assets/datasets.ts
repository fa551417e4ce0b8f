// How evaluation datasets travel: the MLflow 3 evaluation datasets linked to an exported
// experiment, with their records. Tables: `dataset_records` (one row per record) and
// `evaluation_datasets` (one row per dataset: the index, committed last). A record changed at
// the provider is written again under a later export_seq; readers take the latest.
//
// Import creates each dataset (matched by name in the recipient's experiment, the provider's id
// kept as tag `arcuate.source.dataset_id`) and upserts its records. MLflow matches records by
// their inputs, so sending them again adds nothing. Record ids, and the creation times and users
// of datasets and records, are the recipient's (MLflow sets them); the table keeps the provider's.
import { createHash } from "node:crypto";
import { Schema } from "apache-arrow";
import type { DatasetRecord } from "../../mlflow/index.js";
import {
  type AssetExportContext,
  type AssetImportContext,
  type AssetKind,
  type AssetSummary,
  isMissingApi,
} from "./asset.js";
import { exportSeq, int64, stringMap, utf8 } from "./fields.js";
import { appendAll, groupBy, latestRows, latestShas, once, type Row, rowsToBatch } from "./rows.js";

export const DATASET_SCHEMAS = {
  evaluation_datasets: new Schema([
    utf8("dataset_id", false),
    utf8("name", false),
    stringMap("tags"),
    utf8("schema_json"),
    utf8("profile_json"),
    utf8("digest"),
    int64("created_time"),
    int64("last_update_time"),
    utf8("created_by"),
    utf8("last_updated_by"),
    utf8("record_sha256", false),
    exportSeq(),
  ]),
  dataset_records: new Schema([
    utf8("dataset_id", false),
    utf8("dataset_record_id", false),
    utf8("inputs_json"),
    utf8("expectations_json"),
    utf8("outputs_json"),
    stringMap("tags"),
    utf8("source_type"),
    utf8("source_json"),
    int64("created_time"),
    int64("last_update_time"),
    utf8("created_by"),
    utf8("last_updated_by"),
    utf8("record_sha256", false),
    exportSeq(),
  ]),
} as const;

export const TAG_SOURCE_DATASET = "arcuate.source.dataset_id";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
const num = (value: unknown) => (value === undefined || value === null ? null : Number(value));

function recordRow(datasetId: string, r: DatasetRecord): Row {
  const row: Row = {
    dataset_id: datasetId,
    dataset_record_id: r.dataset_record_id,
    inputs_json: json(r.inputs),
    expectations_json: json(r.expectations),
    outputs_json: json(r.outputs),
    tags: r.tags ?? {},
    source_type: r.source_type ?? r.source?.source_type ?? null,
    source_json: json(r.source),
    created_time: num(r.created_time),
    last_update_time: num(r.last_update_time),
    created_by: r.created_by ?? null,
    last_updated_by: r.last_updated_by ?? null,
  };
  const { last_update_time: _t, ...stable } = row;
  row.record_sha256 = sha256(JSON.stringify(stable));
  return row;
}

async function exportDatasets(context: AssetExportContext): Promise<AssetSummary> {
  const { mlflow, tables, seq, experiment } = context;
  const summary: AssetSummary = { counts: { datasets: 0, records: 0 }, skipped: [] };
  let datasets: Awaited<ReturnType<typeof mlflow.evaluationDatasets.searchAll>>;
  try {
    datasets = await mlflow.evaluationDatasets.searchAll([experiment!.experiment_id]);
  } catch (error) {
    if (!isMissingApi(error)) throw error;
    summary.skipped.push(
      `evaluation datasets: ${mlflow.trackingUri} has no MLflow 3 dataset API (POST /api/3.0/mlflow/datasets/search); none exported`,
    );
    return summary;
  }
  const exportedRecords = await latestShas(tables.dataset_records!, "dataset_record_id");
  const datasetRows: Row[] = datasets.map((d) => {
    const row: Row = {
      dataset_id: d.dataset_id,
      name: d.name,
      tags: JSON.parse(d.tags || "{}") as Record<string, string>,
      schema_json: d.schema ?? null,
      profile_json: d.profile ?? null,
      digest: d.digest ?? null,
      created_time: num(d.created_time),
      last_update_time: num(d.last_update_time),
      created_by: d.created_by ?? null,
      last_updated_by: d.last_updated_by ?? null,
    };
    const { last_update_time: _t, profile_json: _p, digest: _d, ...stable } = row;
    row.record_sha256 = sha256(JSON.stringify(stable));
    return row;
  });
  const counts = summary.counts;
  async function* recordBatches() {
    for (const d of datasets) {
      let rows: Row[] = [];
      for await (const record of mlflow.evaluationDatasets.records(d.dataset_id)) {
        const row = recordRow(d.dataset_id, record);
        if (exportedRecords.get(record.dataset_record_id) === row.record_sha256) continue;
        rows.push(row);
        counts.records!++;
        if (rows.length >= 1000) {
          yield rowsToBatch(DATASET_SCHEMAS.dataset_records, rows, seq);
          rows = [];
        }
      }
      if (rows.length > 0) yield rowsToBatch(DATASET_SCHEMAS.dataset_records, rows, seq);
    }
  }
  await appendAll(tables.dataset_records!, recordBatches(), seq);
  const exportedDatasets = await latestShas(tables.evaluation_datasets!, "dataset_id");
  const changed = datasetRows.filter((r) => exportedDatasets.get(String(r.dataset_id)) !== r.record_sha256);
  counts.datasets = changed.length;
  if (changed.length > 0) {
    await appendAll(
      tables.evaluation_datasets!,
      once(rowsToBatch(DATASET_SCHEMAS.evaluation_datasets, changed, seq)),
      seq,
    );
  }
  context.onProgress?.({
    step: "datasets",
    message: `evaluation datasets: ${datasets.length} (${counts.records} new or changed records)`,
  });
  return summary;
}

async function importDatasets(context: AssetImportContext): Promise<AssetSummary> {
  const { mlflow, source, experiment } = context;
  const summary: AssetSummary = { counts: { datasets: 0, records: 0 }, skipped: [] };
  for (const table of ["evaluation_datasets", "dataset_records"] as const) {
    if ((await source.properties(table)) === undefined) {
      summary.skipped.push(
        `evaluation datasets: ${source.description} has no '${table}' table; none imported`,
      );
      return summary;
    }
  }
  const experimentId = experiment!.experiment_id;
  const latest = await latestRows(source, "evaluation_datasets", "dataset_id");
  if (latest.size === 0) return summary;
  const capabilities = await mlflow.capabilities();
  if (!capabilities.evaluationDatasets) {
    summary.skipped.push(
      `evaluation datasets: ${mlflow.trackingUri} has no evaluation dataset API (MLflow ${capabilities.version ?? "2.x"}); ${latest.size} datasets were not imported`,
    );
    return summary;
  }
  const existing = await mlflow.evaluationDatasets.searchAll([experimentId]);
  const targets = new Map<string, string>();
  for (const [sourceId, row] of latest) {
    const tags = { ...(row.tags as Record<string, string>) };
    const found = existing.find(
      (d) => (JSON.parse(d.tags || "{}") as Record<string, string>)[TAG_SOURCE_DATASET] === sourceId,
    );
    if (found) {
      targets.set(sourceId, found.dataset_id);
      continue;
    }
    const created = await mlflow.evaluationDatasets.create(String(row.name), [experimentId], {
      ...tags,
      [TAG_SOURCE_DATASET]: sourceId,
    });
    targets.set(sourceId, created.dataset_id);
    summary.counts.datasets!++;
  }
  // Latest copy of each record, then upserted a thousand at a time per dataset.
  const records = await latestRows(source, "dataset_records", "dataset_record_id");
  const perDataset = groupBy(
    [...records.values()].sort((a, b) => Number(a.created_time) - Number(b.created_time)),
    "dataset_id",
  );
  for (const [sourceId, rows] of perDataset) {
    const target = targets.get(sourceId);
    if (!target) continue;
    for (let i = 0; i < rows.length; i += 1000) {
      const upserted = await mlflow.evaluationDatasets.upsertRecords(
        target,
        rows.slice(i, i + 1000).map((r) => ({
          inputs: JSON.parse(String(r.inputs_json ?? "{}")) as Record<string, unknown>,
          ...(r.expectations_json
            ? { expectations: JSON.parse(String(r.expectations_json)) as Record<string, unknown> }
            : {}),
          ...(r.outputs_json ? { outputs: JSON.parse(String(r.outputs_json)) as unknown } : {}),
          tags: r.tags as Record<string, string>,
          ...(r.source_json ? { source: JSON.parse(String(r.source_json)) as DatasetRecord["source"] } : {}),
        })),
      );
      summary.counts.records! += upserted.inserted;
    }
  }
  context.onProgress?.({
    step: "datasets",
    message: `evaluation datasets: ${latest.size} (${summary.counts.records} records added)`,
  });
  return summary;
}

export const datasetsAsset: AssetKind = {
  name: "datasets",
  tables: ["dataset_records", "evaluation_datasets"],
  export: exportDatasets,
  import: importDatasets,
};
