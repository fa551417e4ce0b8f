// Import of traces. Keeps trace ids, span ids, parents, times, statuses, attributes and events:
// spans go in through MLflow's OTLP endpoint, which stores the ids it is given; then the trace's
// info through StartTraceV3 (request time, duration, state, previews, metadata, tags, and the
// assessments with their own ids and times), then the links to the imported runs. Idempotent:
// traces already complete at the recipient (metadata `arcuate.source.experiment_id`) get only
// their missing assessments and changed tags; a trace an interrupted import left half-made is
// sent again (spans are upserted).
import type { MlflowClient, OtlpSpan, TraceInfo } from "../../../mlflow/index.js";
import { columnValues } from "../../columns.js";
import { Pool } from "../../concurrency.js";
import type { AssetImportContext, AssetSummary } from "../asset.js";
import { groupBy, latestRows, type Row } from "../rows.js";
import { META_RUN, META_SOURCE_EXPERIMENT } from "./columns.js";
import { toOtlpSpan } from "./otlp.js";
import { toAssessment, toTraceInfo } from "./records.js";

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

/** Spans sent per OTLP request. */
const SPANS_PER_REQUEST = 500;

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
  const traces = await latestRows(source, "traces", "trace_id");
  // An MLflow 2.x recipient has no MLflow 3 trace API to write into: say so, import the rest.
  const capabilities = await mlflow.capabilities();
  if (!capabilities.tracesV3) {
    if (traces.size > 0)
      summary.skipped.push(
        `traces: ${mlflow.trackingUri} has no MLflow 3 trace API (MLflow ${capabilities.version ?? "2.x"}); ${traces.size} traces were not imported`,
      );
    return summary;
  }
  const assessments = await latestRows(source, "assessments", "assessment_id");
  const byTrace = groupBy(
    [...assessments.values()].sort((a, b) => Number(a.create_time) - Number(b.create_time)),
    "trace_id",
  );
  const existing = new Map<string, TraceInfo>();
  for await (const info of mlflow.traces.searchAll([experimentId])) existing.set(info.trace_id, info);
  const ids = await importedIds(mlflow, experimentId);
  const complete = (id: string) => existing.get(id)?.trace_metadata?.[META_SOURCE_EXPERIMENT] !== undefined;

  // Complete traces: missing assessments and changed tags only.
  for (const [traceId, row] of traces) {
    if (!complete(traceId)) continue;
    const info = existing.get(traceId)!;
    const have = new Set((info.assessments ?? []).map((a) => a.assessment_id));
    for (const a of byTrace.get(traceId) ?? []) {
      if (have.has(String(a.assessment_id))) continue;
      await mlflow.traces.createAssessment(traceId, toAssessment(a, traceId));
      summary.counts.assessments!++;
    }
    for (const [key, value] of Object.entries(row.tags as Record<string, string>)) {
      if (info.tags?.[key] !== value) await mlflow.traces.setTag(traceId, key, value);
    }
  }

  // New (or half-made) traces: spans through OTLP, then the info with its assessments.
  const wanted = new Set([...traces.keys()].filter((id) => !complete(id)));
  if (wanted.size === 0) return summary;
  const spansOf = new Map<string, Map<string, Row[]>>();
  let batch: OtlpSpan[] = [];
  let ready: string[] = [];
  const flush = async () => {
    await mlflow.traces.logSpans(experimentId, batch);
    summary.counts.spans! += batch.length;
    batch = [];
    // Spans stored, infos not yet: the point a crash leaves traces half-made (see import tests).
    progress(`traces: spans of ${ready.length} traces stored`);
    // Infos side by side: one StartTraceV3 request each, the trace's own assessments inline.
    const infos = new Pool(context.concurrency);
    for (const traceId of ready) {
      await infos.add(async () => {
        const rows = byTrace.get(traceId) ?? [];
        const inline = rows.filter((a) => !a.overrides).map((a) => toAssessment(a, traceId));
        await mlflow.traces.start(toTraceInfo(traces.get(traceId)!, experimentId, inline, ids));
        for (const a of rows.filter((r) => r.overrides))
          await mlflow.traces.createAssessment(traceId, toAssessment(a, traceId));
        summary.counts.assessments! += rows.length;
        summary.counts.traces!++;
      });
    }
    await infos.drain();
    const runs = new Map<string, string[]>();
    for (const traceId of ready) {
      const run = (traces.get(traceId)!.trace_metadata as Record<string, string>)[META_RUN];
      const target = run ? ids.runs.get(run) : undefined;
      if (target) runs.set(target, [...(runs.get(target) ?? []), traceId]);
    }
    for (const [run, traceIds] of runs) await mlflow.traces.linkToRun(traceIds, run);
    ready = [];
    progress(`traces: ${summary.counts.traces} imported, ${summary.counts.spans} spans`);
  };
  for await (const b of source.batches("spans")) {
    const names = b.schema.fields.map((f) => f.name);
    const columns = names.map((n) => columnValues(b, n));
    // Nanosecond times exceed 2^53: read them exactly, as bigints.
    const starts = b.getChild("start_time_unix_nano")!;
    const ends = b.getChild("end_time_unix_nano")!;
    for (let i = 0; i < b.numRows; i++) {
      const row = Object.fromEntries(names.map((n, c) => [n, columns[c]![i]]));
      const traceId = String(row.trace_id);
      if (!wanted.has(traceId)) continue;
      row.start_time_unix_nano_exact = String(starts.get(i));
      const end = ends.get(i);
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
      const expected = Number(traces.get(traceId)?.span_count ?? 0);
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
  return summary;
}
