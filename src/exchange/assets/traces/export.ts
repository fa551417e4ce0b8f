// Export of traces: every finished trace of the experiment (traces still IN_PROGRESS are left
// for a later export), its spans read in batches and streamed into `spans`, its assessments, and
// last the `traces` index. Incremental: a trace already exported is not read again; one whose
// info changed (tags, say), and each new or changed assessment, is appended under this export_seq.
//
// Streamed, whatever the number of traces: the three tables are written side by side as the
// traces are read (each writer turns rows into files as they come), and committed in order,
// spans, then assessments, then the index, so a crash leaves no index row without its spans.
// Rows go in the same trace order in all three, which lets the import join them with a small
// read-ahead (import.ts).
import type { RecordBatch } from "apache-arrow";
import { columnValues } from "../../columns.js";
import { mapOrdered } from "../../concurrency.js";
import type { ExportTable } from "../../tables.js";
import { type AssetExportContext, type AssetSummary, isMissingApi } from "../asset.js";
import { appendAll, type Row, rowsToBatch } from "../rows.js";
import { TRACE_SCHEMAS } from "./columns.js";
import { spanRows } from "./otlp.js";
import { assessmentRecord, traceRecord } from "./records.js";
import { Channel } from "./streams.js";

/** Traces whose spans one batchGet request reads (MLflow takes at most 50). */
const TRACES_PER_READ = 50;
/** batchGet requests in flight while the spans read before them are written. */
const READS_AHEAD = 4;
/** Span rows handed to the writer per record batch. */
const SPAN_BATCH_ROWS = 5_000;
/** Trace and assessment rows handed to their writers per record batch. */
const INDEX_BATCH_ROWS = 1_000;

/** What an earlier export wrote of each trace: its latest record's sha256 and its span count. */
async function exportedTraces(table: ExportTable): Promise<Map<string, { sha: string; spans: number }>> {
  const latest = new Map<string, { seq: number; sha: string; spans: number }>();
  for await (const batch of table.scan(["trace_id", "record_sha256", "span_count", "export_seq"])) {
    const ids = columnValues(batch, "trace_id");
    const shas = columnValues(batch, "record_sha256");
    const counts = columnValues(batch, "span_count");
    const seqs = columnValues(batch, "export_seq");
    for (let i = 0; i < ids.length; i++) {
      const id = String(ids[i]);
      const seq = Number(seqs[i]);
      const previous = latest.get(id);
      // A changed trace's later copy carries the span count of its first.
      if (!previous || previous.seq <= seq)
        latest.set(id, { seq, sha: String(shas[i]), spans: previous?.spans ?? Number(counts[i]) });
    }
  }
  return new Map([...latest].map(([id, v]) => [id, { sha: v.sha, spans: v.spans }]));
}

async function exportedAssessments(table: ExportTable): Promise<Map<string, string>> {
  const latest = new Map<string, { seq: number; sha: string }>();
  for await (const batch of table.scan(["assessment_id", "record_sha256", "export_seq"])) {
    const ids = columnValues(batch, "assessment_id");
    const shas = columnValues(batch, "record_sha256");
    const seqs = columnValues(batch, "export_seq");
    for (let i = 0; i < ids.length; i++) {
      const seq = Number(seqs[i]);
      if ((latest.get(String(ids[i]))?.seq ?? -1) <= seq)
        latest.set(String(ids[i]), { seq, sha: String(shas[i]) });
    }
  }
  return new Map([...latest].map(([id, v]) => [id, v.sha]));
}

/** Rows gathered into record batches of `schema` and pushed into a channel. */
class BatchedRows {
  private rows: Row[] = [];
  count = 0;
  constructor(
    private readonly out: Channel<RecordBatch>,
    private readonly schema: (typeof TRACE_SCHEMAS)[keyof typeof TRACE_SCHEMAS],
    private readonly seq: number,
    private readonly size: number,
  ) {}
  async add(rows: Row[]): Promise<void> {
    this.rows.push(...rows);
    this.count += rows.length;
    if (this.rows.length >= this.size) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.rows.length === 0) return;
    const batch = rowsToBatch(this.schema, this.rows, this.seq);
    this.rows = [];
    await this.out.push(batch);
  }
}

export async function exportTraces(context: AssetExportContext): Promise<AssetSummary> {
  const { mlflow, tables, seq, experiment } = context;
  const progress = (message: string) => context.onProgress?.({ step: "traces", message });
  const summary: AssetSummary = { counts: { traces: 0, spans: 0, assessments: 0 }, skipped: [] };
  const known = await exportedTraces(tables.traces!);
  const knownAssessments = await exportedAssessments(tables.assessments!);

  const channels = {
    spans: new Channel<RecordBatch>(2),
    assessments: new Channel<RecordBatch>(2),
    traces: new Channel<RecordBatch>(2),
  };
  // Each writer starts now and writes files as batches come; each commits when its channel ends.
  const writes = {
    spans: appendAll(tables.spans!, channels.spans, seq),
    assessments: appendAll(tables.assessments!, channels.assessments, seq),
    traces: appendAll(tables.traces!, channels.traces, seq),
  };
  // A writer that fails stops its producer at the next push, with the writer's error.
  for (const [name, write] of Object.entries(writes))
    write.catch((error: unknown) => channels[name as keyof typeof channels].close(error));
  const spans = new BatchedRows(channels.spans, TRACE_SCHEMAS.spans, seq, SPAN_BATCH_ROWS);
  const assessments = new BatchedRows(channels.assessments, TRACE_SCHEMAS.assessments, seq, INDEX_BATCH_ROWS);
  const traces = new BatchedRows(channels.traces, TRACE_SCHEMAS.traces, seq, INDEX_BATCH_ROWS);
  let changed = 0;
  let missingApi = false;

  /** Groups of new traces' records (one read each); changed traces and assessments go out on the way. */
  async function* newTraces(): AsyncGenerator<Row[]> {
    let group: Row[] = [];
    try {
      for await (const info of mlflow.traces.searchAll([experiment!.experiment_id])) {
        if (info.state === "IN_PROGRESS") continue;
        const fresh = (info.assessments ?? [])
          .map((a) => assessmentRecord(info.trace_id, a))
          .filter((record) => knownAssessments.get(String(record.assessment_id)) !== record.record_sha256);
        await assessments.add(fresh);
        const previous = known.get(info.trace_id);
        const record = traceRecord(info, previous?.spans ?? 0);
        if (previous) {
          if (previous.sha !== record.record_sha256) {
            await traces.add([record]);
            changed++;
          }
          continue;
        }
        group.push(record);
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

  try {
    // The spans of the next groups are read side by side while the current ones are written.
    const reads = mapOrdered(newTraces(), READS_AHEAD, async (records) => ({
      records,
      read: await mlflow.traces.batchGet(records.map((r) => String(r.trace_id))),
    }));
    for await (const { records, read } of reads) {
      const byId = new Map(read.map((t) => [t.trace_info.trace_id, t.spans ?? []]));
      for (const record of records) {
        const traceSpans = byId.get(String(record.trace_id)) ?? [];
        const rows: Row[] = [];
        for (const span of traceSpans) rows.push(...spanRows(span, String(record.trace_id)));
        await spans.add(rows);
        record.span_count = traceSpans.length;
        summary.counts.spans! += traceSpans.length;
        summary.counts.traces!++;
      }
      await traces.add(records);
      progress(`traces: ${summary.counts.traces} new, ${summary.counts.spans} spans`);
    }
    await spans.flush();
    await assessments.flush();
    await traces.flush();
  } catch (error) {
    for (const channel of Object.values(channels)) channel.close(error);
    await Promise.allSettled(Object.values(writes));
    throw error;
  }
  // Committed in order: spans, assessments, the index.
  channels.spans.close();
  await writes.spans;
  channels.assessments.close();
  await writes.assessments;
  channels.traces.close();
  await writes.traces;
  if (missingApi) {
    summary.skipped.push(
      `traces: ${mlflow.trackingUri} has no MLflow 3 trace API (POST /api/3.0/mlflow/traces/search); traces, spans and assessments were not exported`,
    );
    return summary;
  }
  summary.counts.assessments = assessments.count;
  progress(`traces: ${summary.counts.traces} new, ${changed} changed, ${assessments.count} assessments`);
  return summary;
}
