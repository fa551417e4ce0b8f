// Export of traces: every finished trace of the experiment (traces still IN_PROGRESS are left
// for a later export), its spans read in batches and streamed into `spans`, its assessments, and
// last the `traces` index. Incremental: a trace already exported is not read again; one whose
// info changed (tags, say), and each new or changed assessment, is appended under this export_seq.
import type { RecordBatch } from "apache-arrow";
import { columnValues } from "../../columns.js";
import { mapOrdered } from "../../concurrency.js";
import type { ExportTable } from "../../tables.js";
import { type AssetExportContext, type AssetSummary, isMissingApi } from "../asset.js";
import { appendAll, latestShas, once, type Row, rowsToBatch } from "../rows.js";
import { TRACE_SCHEMAS } from "./columns.js";
import { spanRows } from "./otlp.js";
import { assessmentRecord, traceRecord } from "./records.js";

/** Traces whose spans one batchGet request reads (MLflow takes at most 50). */
const TRACES_PER_READ = 50;
/** batchGet requests in flight while the spans read before them are written. */
const READS_AHEAD = 4;
/** Span rows handed to the writer per record batch. */
const SPAN_BATCH_ROWS = 5_000;

export async function exportTraces(context: AssetExportContext): Promise<AssetSummary> {
  const { mlflow, tables, seq, experiment } = context;
  const progress = (message: string) => context.onProgress?.({ step: "traces", message });
  const summary: AssetSummary = { counts: { traces: 0, spans: 0, assessments: 0 }, skipped: [] };
  const exportedTraces = await latestShas(tables.traces!, "trace_id");
  const exportedAssessments = await latestShas(tables.assessments!, "assessment_id");
  const traceRows: Row[] = [];
  const assessmentRows: Row[] = [];
  const spanCounts = new Map<string, number>();
  let missingApi = false;
  const infos = mlflow.traces.searchAll([experiment!.experiment_id]);

  /** The ids of the new traces, in groups of one read; infos and assessments noted on the way. */
  async function* newTraces(): AsyncGenerator<string[]> {
    let group: string[] = [];
    try {
      for await (const info of infos) {
        if (info.state === "IN_PROGRESS") continue;
        for (const a of info.assessments ?? []) {
          const record = assessmentRecord(info.trace_id, a);
          if (exportedAssessments.get(a.assessment_id) !== record.record_sha256) assessmentRows.push(record);
        }
        const known = exportedTraces.has(info.trace_id);
        const record = traceRecord(info, 0);
        if (known) {
          if (exportedTraces.get(info.trace_id) !== record.record_sha256) traceRows.push(record);
          continue;
        }
        traceRows.push(record);
        summary.counts.traces!++;
        group.push(info.trace_id);
        if (group.length >= TRACES_PER_READ) {
          yield group;
          group = [];
        }
      }
    } catch (error) {
      if (!isMissingApi(error)) throw error;
      missingApi = true;
      return;
    }
    if (group.length > 0) yield group;
  }

  // The spans of the next groups are read side by side while the current ones are written.
  async function* spanBatches(): AsyncGenerator<RecordBatch> {
    let rows: Row[] = [];
    const reads = mapOrdered(newTraces(), READS_AHEAD, (ids) => mlflow.traces.batchGet(ids));
    for await (const traces of reads) {
      for (const trace of traces) {
        const spans = trace.spans ?? [];
        spanCounts.set(trace.trace_info.trace_id, spans.length);
        for (const span of spans) rows.push(...spanRows(span, trace.trace_info.trace_id));
        summary.counts.spans! += spans.length;
        if (rows.length >= SPAN_BATCH_ROWS) {
          yield rowsToBatch(TRACE_SCHEMAS.spans, rows, seq);
          rows = [];
        }
      }
      progress(`traces: ${summary.counts.traces} new, ${summary.counts.spans} spans`);
    }
    if (rows.length > 0) yield rowsToBatch(TRACE_SCHEMAS.spans, rows, seq);
  }

  await appendAll(tables.spans!, spanBatches(), seq);
  if (missingApi) {
    summary.skipped.push(
      `traces: ${mlflow.trackingUri} has no MLflow 3 trace API (POST /api/3.0/mlflow/traces/search); traces, spans and assessments were not exported`,
    );
    return summary;
  }
  summary.counts.assessments = assessmentRows.length;
  if (assessmentRows.length > 0)
    await appendAll(
      tables.assessments!,
      once(rowsToBatch(TRACE_SCHEMAS.assessments, assessmentRows, seq)),
      seq,
    );
  for (const row of traceRows) {
    const count = spanCounts.get(String(row.trace_id));
    if (count !== undefined) row.span_count = count;
  }
  // A changed trace (tags, say) keeps its span count from its first copy.
  const firstCounts = await spanCountsOf(
    tables.traces!,
    new Set(traceRows.filter((r) => !spanCounts.has(String(r.trace_id))).map((r) => String(r.trace_id))),
  );
  for (const row of traceRows) {
    if (!spanCounts.has(String(row.trace_id))) row.span_count = firstCounts.get(String(row.trace_id)) ?? 0;
  }
  if (traceRows.length > 0)
    await appendAll(tables.traces!, once(rowsToBatch(TRACE_SCHEMAS.traces, traceRows, seq)), seq);
  progress(
    `traces: ${summary.counts.traces} new, ${traceRows.length - summary.counts.traces!} changed, ${assessmentRows.length} assessments`,
  );
  return summary;
}

async function spanCountsOf(table: ExportTable, ids: Set<string>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (ids.size === 0) return counts;
  for await (const batch of table.scan(["trace_id", "span_count"])) {
    const traceIds = columnValues(batch, "trace_id");
    const spanCounts = columnValues(batch, "span_count");
    for (let i = 0; i < traceIds.length; i++)
      if (ids.has(String(traceIds[i]))) counts.set(String(traceIds[i]), Number(spanCounts[i]));
  }
  return counts;
}
