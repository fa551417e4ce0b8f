// Import of traces. Keeps trace ids, span ids, parents, times, statuses, attributes and events.
// Each trace goes in as MLflow's own client writes one, in the order that costs its server least:
// first the info through StartTraceV3 (request time, duration, state, previews, metadata, tags,
// and the assessments with their own ids and times; one request per trace, as MLflow has no batch
// route), then the spans of many traces in one request to the OTLP endpoint `POST /v1/traces`,
// which stores the ids it is given, then the links to the imported runs. Spans sent after the info
// cost the server about half what they cost before it (log_spans then finds the trace and leaves
// its finalised times alone; StartTraceV3 after the spans takes MLflow's conflict path).
//
// Idempotent: a trace is complete at the recipient once its info carries
// `arcuate.source.experiment_id` and the OTLP write that stored its spans tagged it
// `mlflow.trace.spansLocation` (in the same transaction as the spans; the import leaves that tag
// out of the info it sends). Complete traces get only their missing assessments and changed tags;
// a trace an interrupted import left half-made is sent again (infos and spans are upserted).
//
// Streamed: what it keeps for every trace is small (its latest export_seq and span count, and
// at the recipient whether it is complete); the rows themselves are read table by table, and the
// spans, trace and assessment rows of a trace are joined as the spans stream by, the index and
// assessments read ahead only as far as the trace wanted (the export writes all three in the
// same trace order; out of order, the read-ahead grows but the result is the same).
import type { MlflowClient, OtlpSpan } from "../../../mlflow/index.js";
import { Pool } from "../../concurrency.js";
import type { ExportSource } from "../../source.js";
import type { AssetImportContext, AssetSummary } from "../asset.js";
import type { Row } from "../rows.js";
import { META_RUN, META_SOURCE_EXPERIMENT, TAG_SPANS_LOCATION } from "./columns.js";
import { toOtlpSpan } from "./otlp.js";
import { toAssessment, toTraceInfo } from "./records.js";
import { KeyedReader, rowsOfBatches, sliced } from "./streams.js";

/** The recipient's ids of imported runs and logged models, by the provider's. */
async function importedIds(mlflow: MlflowClient, experimentId: string) {
  const runs = new Map<string, string>();
  for await (const run of mlflow.runs.searchAll({ experimentIds: [experimentId] })) {
    const source = run.data.tags?.find((t) => t.key === "arcuate.source.run_id")?.value;
    if (source) runs.set(source, run.info.run_id);
  }
  const models = new Map<string, string>();
  for await (const model of mlflow.loggedModels.searchAll({ experimentIds: [experimentId] })) {
    const source = model.info.tags?.find((t) => t.key === "arcuate.source.model_id")?.value;
    if (source) models.set(source, model.info.model_id);
  }
  return { runs, models };
}

/** Spans sent per OTLP request (whole traces: a trace's spans always travel together). */
const SPANS_PER_REQUEST = 500;
/** Groups of traces (their infos, then one OTLP request) written side by side, at most. */
const GROUPS_IN_FLIGHT = 4;

/** What the import keeps of every shared trace and assessment: which copy is the latest. */
interface Index {
  traces: Map<string, { seq: number; spans: number }>;
  assessments: Map<string, { seq: number; traceId: string }>;
  /** Latest assessments per trace. */
  assessmentCounts: Map<string, number>;
}

async function readIndex(source: ExportSource): Promise<Index> {
  const traces = new Map<string, { seq: number; spans: number }>();
  for await (const row of rowsOfBatches(source.batches("traces"))) {
    const id = String(row.trace_id);
    const seq = Number(row.export_seq);
    if ((traces.get(id)?.seq ?? -1) <= seq) traces.set(id, { seq, spans: Number(row.span_count) });
  }
  const assessments = new Map<string, { seq: number; traceId: string }>();
  for await (const row of rowsOfBatches(source.batches("assessments"))) {
    const id = String(row.assessment_id);
    const seq = Number(row.export_seq);
    if ((assessments.get(id)?.seq ?? -1) <= seq) assessments.set(id, { seq, traceId: String(row.trace_id) });
  }
  const assessmentCounts = new Map<string, number>();
  for (const { traceId } of assessments.values())
    assessmentCounts.set(traceId, (assessmentCounts.get(traceId) ?? 0) + 1);
  return { traces, assessments, assessmentCounts };
}

const isLatestTrace = (index: Index) => (row: Row) =>
  index.traces.get(String(row.trace_id))?.seq === Number(row.export_seq);
const isLatestAssessment = (index: Index) => (row: Row) =>
  index.assessments.get(String(row.assessment_id))?.seq === Number(row.export_seq);
const byCreateTime = (a: Row, b: Row) => Number(a.create_time) - Number(b.create_time);

/** A trace already at the recipient: complete (its info written), its assessments and tags. */
interface Existing {
  complete: boolean;
  assessmentIds: Set<string>;
  tags: Record<string, string>;
}

export async function importTraces(context: AssetImportContext): Promise<AssetSummary> {
  const { mlflow, source, experiment } = context;
  const summary: AssetSummary = { counts: { traces: 0, spans: 0, assessments: 0 }, skipped: [] };
  for (const table of ["traces", "spans", "assessments"] as const) {
    if ((await source.properties(table)) === undefined) {
      summary.skipped.push(
        `traces: ${source.description} has no '${table}' table (exported without traces); none imported`,
      );
      return summary;
    }
  }
  const progress = (message: string) => context.onProgress?.({ step: "traces", message });
  const experimentId = experiment!.experiment_id;
  // An MLflow 2.x recipient has no MLflow 3 trace API to write into: say so, import the rest.
  const capabilities = await mlflow.capabilities();
  const index = await readIndex(source);
  if (!capabilities.tracesV3) {
    if (index.traces.size > 0)
      summary.skipped.push(
        `traces: ${mlflow.trackingUri} has no MLflow 3 trace API (MLflow ${capabilities.version ?? "2.x"}); ${index.traces.size} traces were not imported`,
      );
    return summary;
  }
  const existing = new Map<string, Existing>();
  for await (const info of mlflow.traces.searchAll([experimentId])) {
    if (!index.traces.has(info.trace_id)) continue;
    const spans = index.traces.get(info.trace_id)!.spans;
    existing.set(info.trace_id, {
      complete:
        info.trace_metadata?.[META_SOURCE_EXPERIMENT] !== undefined &&
        (spans === 0 || info.tags?.[TAG_SPANS_LOCATION] !== undefined),
      assessmentIds: new Set((info.assessments ?? []).map((a) => a.assessment_id)),
      tags: info.tags ?? {},
    });
  }
  const ids = await importedIds(mlflow, experimentId);
  const complete = (id: string) => existing.get(id)?.complete === true;
  await completeExisting(context, index, existing, summary);

  // New (or half-made) traces: spans through OTLP, then the info with its assessments.
  const wanted = new Set([...index.traces.keys()].filter((id) => !complete(id)));
  if (wanted.size === 0) return summary;
  const traceRows = new KeyedReader(
    rowsOfBatches(source.batches("traces")),
    "trace_id",
    () => 1,
    isLatestTrace(index),
  );
  const assessmentRows = new KeyedReader(
    rowsOfBatches(source.batches("assessments")),
    "trace_id",
    (id) => index.assessmentCounts.get(id) ?? 0,
    isLatestAssessment(index),
  );
  const spansOf = new Map<string, Map<string, Row[]>>();
  let batch: OtlpSpan[] = [];
  let ready: string[] = [];
  const groups = new Pool(Math.max(1, Math.min(GROUPS_IN_FLIGHT, context.concurrency)));
  const flush = async () => {
    const spans = batch;
    const infos: Array<{ traceId: string; row: Row; assessments: Row[] }> = [];
    for (const traceId of ready) {
      const [row] = await traceRows.take(traceId);
      const assessments = (await assessmentRows.take(traceId)).sort(byCreateTime);
      infos.push({ traceId, row: row!, assessments });
    }
    batch = [];
    ready = [];
    await groups.add(() => writeGroup(infos, spans));
  };
  const writeGroup = async (
    infos: Array<{ traceId: string; row: Row; assessments: Row[] }>,
    spans: OtlpSpan[],
  ) => {
    // Infos side by side: one StartTraceV3 request each, the trace's own assessments inline.
    const pool = new Pool(context.concurrency);
    for (const { traceId, row, assessments } of infos) {
      await pool.add(async () => {
        const inline = assessments.filter((a) => !a.overrides).map((a) => toAssessment(a, traceId));
        const info = toTraceInfo(row, experimentId, inline, ids);
        // Set by the OTLP write below, the mark of a complete trace.
        if (Number(row.span_count) > 0)
          info.tags = Object.fromEntries(
            Object.entries(info.tags ?? {}).filter(([key]) => key !== TAG_SPANS_LOCATION),
          );
        await mlflow.traces.start(info);
        for (const a of assessments.filter((r) => r.overrides))
          await mlflow.traces.createAssessment(traceId, toAssessment(a, traceId));
      });
    }
    await pool.drain();
    // Infos stored, spans not yet: the point a crash leaves traces half-made (see import tests).
    progress(`traces: infos of ${infos.length} traces stored`);
    await mlflow.traces.logSpans(experimentId, spans);
    const runs = new Map<string, string[]>();
    for (const { traceId, row } of infos) {
      const run = (row.trace_metadata as Record<string, string>)[META_RUN];
      const target = run ? ids.runs.get(run) : undefined;
      if (target) runs.set(target, [...(runs.get(target) ?? []), traceId]);
    }
    for (const [run, traceIds] of runs) await mlflow.traces.linkToRun(traceIds, run);
    summary.counts.spans! += spans.length;
    summary.counts.traces! += infos.length;
    for (const { assessments } of infos) summary.counts.assessments! += assessments.length;
    progress(`traces: ${summary.counts.traces} imported, ${summary.counts.spans} spans`);
  };
  try {
    for await (const b of sliced(source.batches("spans"))) {
      // Nanosecond times exceed 2^53: read them exactly, as bigints.
      const starts = b.getChild("start_time_unix_nano")!;
      const ends = b.getChild("end_time_unix_nano")!;
      let i = 0;
      for await (const row of rowsOfBatches(once(b))) {
        const at = i++;
        const traceId = String(row.trace_id);
        if (!wanted.has(traceId)) continue;
        row.start_time_unix_nano_exact = String(starts.get(at));
        const end = ends.get(at);
        row.end_time_unix_nano_exact = end === null ? null : String(end);
        let spans = spansOf.get(traceId);
        if (!spans) {
          spans = new Map();
          spansOf.set(traceId, spans);
        }
        const chunks = spans.get(String(row.span_id)) ?? [];
        // A span exported twice (a re-export after a crash) keeps one copy.
        if (chunks.some((c) => c.chunk_index === row.chunk_index)) continue;
        chunks.push(row);
        spans.set(String(row.span_id), chunks);
        const expected = index.traces.get(traceId)?.spans ?? 0;
        const whole = [...spans.values()].filter((c) => c.length === Number(c[0]!.chunk_count));
        if (whole.length === expected) {
          for (const c of whole)
            batch.push(toOtlpSpan(c.sort((x, y) => Number(x.chunk_index) - Number(y.chunk_index))));
          spansOf.delete(traceId);
          wanted.delete(traceId);
          ready.push(traceId);
          if (batch.length >= SPANS_PER_REQUEST) await flush();
        }
      }
    }
    // Traces without spans (or whose spans did not all arrive) still get their info.
    for (const traceId of wanted) {
      const spans = spansOf.get(traceId);
      for (const c of spans?.values() ?? [])
        if (c.length === Number(c[0]!.chunk_count)) batch.push(toOtlpSpan(c));
      ready.push(traceId);
    }
    if (batch.length > 0 || ready.length > 0) await flush();
    await groups.drain();
  } finally {
    await Promise.all([traceRows.close(), assessmentRows.close()]);
  }
  return summary;
}

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}

/** Traces already complete at the recipient: their missing assessments and changed tags only. */
async function completeExisting(
  context: AssetImportContext,
  index: Index,
  existing: Map<string, Existing>,
  summary: AssetSummary,
): Promise<void> {
  const { mlflow, source } = context;
  const complete = (id: string) => existing.get(id)?.complete === true;
  if (![...existing.values()].some((e) => e.complete)) return;
  const latestTrace = isLatestTrace(index);
  for await (const row of rowsOfBatches(source.batches("traces"))) {
    const traceId = String(row.trace_id);
    if (!complete(traceId) || !latestTrace(row)) continue;
    const have = existing.get(traceId)!.tags;
    for (const [key, value] of Object.entries(row.tags as Record<string, string>))
      if (have[key] !== value && key !== TAG_SPANS_LOCATION) await mlflow.traces.setTag(traceId, key, value);
  }
  const latestAssessment = isLatestAssessment(index);
  const missing: Row[] = [];
  for await (const row of rowsOfBatches(source.batches("assessments"))) {
    const traceId = String(row.trace_id);
    if (!complete(traceId) || !latestAssessment(row)) continue;
    if (existing.get(traceId)!.assessmentIds.has(String(row.assessment_id))) continue;
    // Few (what changed since the last import): kept to be written oldest first.
    missing.push(row);
  }
  for (const a of missing.sort(byCreateTime)) {
    await mlflow.traces.createAssessment(String(a.trace_id), toAssessment(a, String(a.trace_id)));
    summary.counts.assessments!++;
  }
}
