// How traces travel: MLflow 3 traces of an experiment, with every span and every assessment.
//
// Tables (columns below, documented in docs/table-format.md): `spans` (one row per span, its
// content cut into chunks like artifacts), `assessments` (one row per feedback or expectation),
// `traces` (one row per trace: the index, committed last). Rows are appended; a trace or an
// assessment that changed at the provider is written again under a later export_seq and readers
// take the latest. Traces still IN_PROGRESS are left for a later export.
//
// Import keeps trace ids, span ids, parents, times, statuses, attributes and events (spans go in
// through MLflow's OTLP endpoint, which stores the ids it is given), then the trace's info
// through StartTraceV3: request time, duration, state, previews, metadata, tags, and the
// assessments with their own ids and times. A trace's link to a run (`mlflow.sourceRun`) and to a
// logged model (`mlflow.modelId`) is rewritten to the recipient's imported run and model; the
// provider's ids are kept as `arcuate.source.*` metadata. Idempotent: traces already complete at
// the recipient (metadata `arcuate.source.experiment_id`) get only their missing assessments and
// changed tags; a trace an interrupted import left half-made is sent again (spans are upserted).
import { createHash } from "node:crypto";
import { Schema } from "apache-arrow";
import type {
  Assessment,
  MlflowClient,
  OtelAnyValue,
  OtelKeyValue,
  OtelSpan,
  OtlpSpan,
  TraceInfo,
} from "../../mlflow/index.js";
import { buildBatch, columnValues } from "../columns.js";
import type { TableName } from "../format.js";
import type { ExportSource } from "../source.js";
import type { ExportTable } from "../tables.js";
import {
  type AssetExportContext,
  type AssetImportContext,
  type AssetKind,
  type AssetSummary,
  isMissingApi,
} from "./asset.js";
import { bool, exportSeq, int32, int64, stringMap, TEXT_CHUNK_CHARS, utf8 } from "./fields.js";

export const TRACE_SCHEMAS = {
  traces: new Schema([
    utf8("trace_id", false),
    utf8("experiment_id"),
    utf8("client_request_id"),
    int64("request_time"),
    int64("execution_duration_ms"),
    utf8("state"),
    utf8("request_preview"),
    utf8("response_preview"),
    stringMap("trace_metadata"),
    stringMap("tags"),
    utf8("source_run_id"),
    utf8("logged_model_id"),
    int32("span_count", false),
    utf8("record_sha256", false),
    exportSeq(),
  ]),
  spans: new Schema([
    utf8("trace_id", false),
    utf8("span_id", false),
    utf8("parent_span_id"),
    utf8("name"),
    utf8("span_type"),
    int64("start_time_unix_nano", false),
    int64("end_time_unix_nano"),
    utf8("status_code"),
    utf8("status_message"),
    int32("chunk_index", false),
    int32("chunk_count", false),
    utf8("content_json", false),
    exportSeq(),
  ]),
  assessments: new Schema([
    utf8("assessment_id", false),
    utf8("trace_id", false),
    utf8("span_id"),
    utf8("name", false),
    utf8("kind", false),
    utf8("value_json"),
    utf8("error_json"),
    utf8("source_type"),
    utf8("source_id"),
    utf8("rationale"),
    stringMap("metadata"),
    utf8("overrides"),
    bool("valid"),
    utf8("run_id"),
    int64("create_time"),
    int64("last_update_time"),
    utf8("record_sha256", false),
    exportSeq(),
  ]),
} as const;

export const META_SOURCE_EXPERIMENT = "arcuate.source.experiment_id";
export const META_SOURCE_RUN = "arcuate.source.run_id";
export const META_SOURCE_MODEL = "arcuate.source.model_id";
const META_RUN = "mlflow.sourceRun";
const META_MODEL = "mlflow.modelId";
/** Set by each server for its own artifact store; never carried. */
const SERVER_TAGS = new Set(["mlflow.artifactLocation"]);

type Row = Record<string, unknown>;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

// ---- OTLP values ⇄ JSON ---------------------------------------------------------------------

/** An OTLP AnyValue as plain JSON (what MLflow's Span.to_dict shows for an attribute). */
export function fromAnyValue(value: OtelAnyValue | undefined): unknown {
  if (!value) return null;
  if (value.string_value !== undefined) return value.string_value;
  if (value.bool_value !== undefined) return value.bool_value;
  if (value.int_value !== undefined) return Number(value.int_value);
  if (value.double_value !== undefined) return Number(value.double_value);
  if (value.bytes_value !== undefined) return value.bytes_value;
  if (value.array_value) return (value.array_value.values ?? []).map(fromAnyValue);
  if (value.kvlist_value) return fromKeyValues(value.kvlist_value.values);
  return null;
}

function fromKeyValues(values: OtelKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((values ?? []).map((kv) => [kv.key, fromAnyValue(kv.value)]));
}

/** JSON → OTLP AnyValue; integral numbers go as int_value, the others as double_value. */
export function toAnyValue(value: unknown): OtelAnyValue {
  if (value === null || value === undefined) return {};
  if (typeof value === "string") return { string_value: value };
  if (typeof value === "boolean") return { bool_value: value };
  if (typeof value === "number")
    return Number.isInteger(value) ? { int_value: String(value) } : { double_value: value };
  if (Array.isArray(value)) return { array_value: { values: value.map(toAnyValue) } };
  return { kvlist_value: { values: toKeyValues(value as Record<string, unknown>) } };
}

function toKeyValues(object: Record<string, unknown>): OtelKeyValue[] {
  return Object.entries(object).map(([key, v]) => ({ key, value: toAnyValue(v) }));
}

const b64ToHex = (b64: string) => Buffer.from(b64, "base64").toString("hex");

// ---- export ---------------------------------------------------------------------------------

const msOf = (time: string | undefined): number | null => (time ? Date.parse(time) : null);
const durationMs = (d: string | undefined): number | null =>
  d ? Math.round(Number.parseFloat(d.replace(/s$/, "")) * 1000) : null;

function traceRecord(info: TraceInfo, spanCount: number): Row {
  const tags = Object.fromEntries(Object.entries(info.tags ?? {}).filter(([k]) => !SERVER_TAGS.has(k)));
  const metadata = info.trace_metadata ?? {};
  const record: Row = {
    trace_id: info.trace_id,
    experiment_id: info.trace_location?.mlflow_experiment?.experiment_id ?? null,
    client_request_id: info.client_request_id ?? null,
    request_time: msOf(info.request_time),
    execution_duration_ms: durationMs(info.execution_duration),
    state: info.state ?? null,
    request_preview: info.request_preview ?? null,
    response_preview: info.response_preview ?? null,
    trace_metadata: metadata,
    tags,
    source_run_id: metadata[META_RUN] ?? null,
    logged_model_id: metadata[META_MODEL] ?? null,
    span_count: spanCount,
  };
  const { span_count: _count, ...stable } = record;
  record.record_sha256 = sha256(JSON.stringify(stable));
  return record;
}

function assessmentRecord(traceId: string, a: Assessment): Row {
  const kind = a.feedback ? "feedback" : a.expectation ? "expectation" : "issue";
  let value: string | null = null;
  if (a.feedback) value = a.feedback.value === undefined ? null : JSON.stringify(a.feedback.value);
  else if (a.expectation?.serialized_value) value = a.expectation.serialized_value.value;
  else if (a.expectation)
    value = a.expectation.value === undefined ? null : JSON.stringify(a.expectation.value);
  const record: Row = {
    assessment_id: a.assessment_id,
    trace_id: traceId,
    span_id: a.span_id ?? null,
    name: a.assessment_name,
    kind,
    value_json: value,
    error_json: a.feedback?.error ? JSON.stringify(a.feedback.error) : null,
    source_type: a.source?.source_type ?? null,
    source_id: a.source?.source_id ?? null,
    rationale: a.rationale ?? null,
    metadata: a.metadata ?? {},
    overrides: a.overrides ?? null,
    valid: a.valid ?? true,
    run_id: a.run_id ?? null,
    create_time: msOf(a.create_time),
    last_update_time: msOf(a.last_update_time),
  };
  record.record_sha256 = sha256(JSON.stringify(record));
  return record;
}

/** A span's rows: its scalars, and its attributes and events as JSON text in chunks. */
function spanRows(span: OtelSpan, traceId: string): Row[] {
  const attributes = fromKeyValues(span.attributes);
  const content = JSON.stringify({
    attributes,
    events: (span.events ?? []).map((e) => ({
      name: e.name,
      time_unix_nano: e.time_unix_nano ?? "0",
      attributes: fromKeyValues(e.attributes),
    })),
  });
  const pieces = splitText(content, TEXT_CHUNK_CHARS);
  const base = {
    trace_id: traceId,
    span_id: b64ToHex(span.span_id),
    parent_span_id: span.parent_span_id ? b64ToHex(span.parent_span_id) : null,
    name: span.name,
    span_type: typeof attributes["mlflow.spanType"] === "string" ? attributes["mlflow.spanType"] : null,
    start_time_unix_nano: BigInt(span.start_time_unix_nano),
    end_time_unix_nano: span.end_time_unix_nano ? BigInt(span.end_time_unix_nano) : null,
    status_code: span.status?.code ?? "STATUS_CODE_UNSET",
    status_message: span.status?.message || null,
  };
  const rows: Row[] = [];
  pieces.forEach((piece, i) => {
    rows.push({ ...base, chunk_index: i, chunk_count: pieces.length, content_json: piece });
  });
  return rows;
}

/** Pieces of at most `size` code units, never cutting a surrogate pair in two. */
export function splitText(text: string, size: number): string[] {
  if (text.length <= size) return [text];
  const pieces: string[] = [];
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

function toBatch(table: keyof typeof TRACE_SCHEMAS, rows: Row[], seq: number) {
  const schema = TRACE_SCHEMAS[table];
  const columns: Record<string, unknown[]> = {};
  for (const field of schema.fields)
    columns[field.name] =
      field.name === "export_seq" ? rows.map(() => seq) : rows.map((r) => r[field.name] ?? null);
  return buildBatch(schema, columns);
}

/** key → record_sha256 of the latest copy of each row of a table. */
async function latestShas(table: ExportTable, key: string): Promise<Map<string, string>> {
  const latest = new Map<string, { seq: number; sha: string }>();
  for await (const batch of table.scan([key, "record_sha256", "export_seq"])) {
    const keys = columnValues(batch, key);
    const shas = columnValues(batch, "record_sha256");
    const seqs = columnValues(batch, "export_seq");
    for (let i = 0; i < keys.length; i++) {
      const k = String(keys[i]);
      const seq = Number(seqs[i]);
      if ((latest.get(k)?.seq ?? -1) <= seq) latest.set(k, { seq, sha: String(shas[i]) });
    }
  }
  return new Map([...latest].map(([k, v]) => [k, v.sha]));
}

/** Spans are read for this many new traces at a time (batchGet takes 50 per request). */
const TRACES_PER_READ = 200;
/** Span rows handed to the writer per record batch. */
const SPAN_BATCH_ROWS = 5_000;

async function exportTraces(context: AssetExportContext): Promise<AssetSummary> {
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

  async function* spanBatches() {
    let pending: TraceInfo[] = [];
    let rows: Row[] = [];
    const readPending = async function* () {
      const traces = await mlflow.traces.batchGet(pending.map((t) => t.trace_id));
      pending = [];
      for (const trace of traces) {
        const spans = trace.spans ?? [];
        spanCounts.set(trace.trace_info.trace_id, spans.length);
        for (const span of spans) rows.push(...spanRows(span, trace.trace_info.trace_id));
        summary.counts.spans! += spans.length;
        if (rows.length >= SPAN_BATCH_ROWS) {
          yield toBatch("spans", rows, seq);
          rows = [];
        }
      }
      progress(`traces: ${summary.counts.traces} new, ${summary.counts.spans} spans`);
    };
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
        pending.push(info);
        if (pending.length >= TRACES_PER_READ) yield* readPending();
      }
    } catch (error) {
      if (!isMissingApi(error)) throw error;
      missingApi = true;
      return;
    }
    if (pending.length > 0) yield* readPending();
    if (rows.length > 0) yield toBatch("spans", rows, seq);
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
    await appendAll(tables.assessments!, once(toBatch("assessments", assessmentRows, seq)), seq);
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
  if (traceRows.length > 0) await appendAll(tables.traces!, once(toBatch("traces", traceRows, seq)), seq);
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

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}

/** Appends the batches as one commit, or commits nothing when there are none. */
export async function appendAll(
  table: ExportTable,
  batches: AsyncIterable<import("apache-arrow").RecordBatch>,
  seq: number,
): Promise<void> {
  const iterator = batches[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  async function* rest() {
    yield first.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  await table.write(rest(), "append", seq);
}

// ---- import ---------------------------------------------------------------------------------

/** The latest copy of each row of a table, keyed by `key`. */
export async function latestRows(
  source: ExportSource,
  table: TableName,
  key: string,
): Promise<Map<string, Row>> {
  const latest = new Map<string, Row>();
  for await (const batch of source.batches(table)) {
    const names = batch.schema.fields.map((f) => f.name);
    const columns = names.map((n) => columnValues(batch, n));
    for (let i = 0; i < batch.numRows; i++) {
      const row = Object.fromEntries(names.map((n, c) => [n, columns[c]![i]]));
      const k = String(row[key]);
      const previous = latest.get(k);
      if (!previous || Number(previous.export_seq) <= Number(row.export_seq)) latest.set(k, row);
    }
  }
  return latest;
}

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

function toAssessment(row: Row, traceId: string): Assessment {
  const value = row.value_json === null ? undefined : (JSON.parse(String(row.value_json)) as unknown);
  const assessment: Assessment = {
    assessment_id: String(row.assessment_id),
    assessment_name: String(row.name),
    trace_id: traceId,
    source: {
      source_type: String(row.source_type ?? "SOURCE_TYPE_UNSPECIFIED"),
      ...(row.source_id ? { source_id: String(row.source_id) } : {}),
    },
    ...(row.create_time !== null ? { create_time: new Date(Number(row.create_time)).toISOString() } : {}),
    ...(row.last_update_time !== null
      ? { last_update_time: new Date(Number(row.last_update_time)).toISOString() }
      : {}),
    ...(row.span_id ? { span_id: String(row.span_id) } : {}),
    ...(row.rationale !== null ? { rationale: String(row.rationale) } : {}),
    ...(row.metadata && Object.keys(row.metadata).length > 0
      ? { metadata: row.metadata as Record<string, string> }
      : {}),
    ...(row.overrides ? { overrides: String(row.overrides) } : {}),
    ...(row.run_id ? { run_id: String(row.run_id) } : {}),
  };
  if (row.kind === "feedback") {
    assessment.feedback = {
      ...(value !== undefined ? { value } : {}),
      ...(row.error_json ? { error: JSON.parse(String(row.error_json)) as Record<string, unknown> } : {}),
    };
  } else if (value !== null && typeof value === "object") {
    assessment.expectation = {
      serialized_value: { serialization_format: "JSON_FORMAT", value: String(row.value_json) },
    };
  } else {
    assessment.expectation = { value };
  }
  return assessment;
}

function toOtlpSpan(rows: Row[]): OtlpSpan {
  const first = rows[0]!;
  const content = JSON.parse(rows.map((r) => String(r.content_json)).join("")) as {
    attributes: Record<string, unknown>;
    events: Array<{ name: string; time_unix_nano: string; attributes: Record<string, unknown> }>;
  };
  return {
    traceId: String(first.trace_id).replace(/^tr-/, ""),
    spanId: String(first.span_id),
    ...(first.parent_span_id ? { parentSpanId: String(first.parent_span_id) } : {}),
    name: String(first.name ?? ""),
    startTimeUnixNano: String(first.start_time_unix_nano_exact),
    ...(first.end_time_unix_nano_exact ? { endTimeUnixNano: String(first.end_time_unix_nano_exact) } : {}),
    attributes: toKeyValues(content.attributes),
    events: content.events.map((e) => ({
      name: e.name,
      timeUnixNano: e.time_unix_nano,
      attributes: toKeyValues(e.attributes),
    })),
    status: {
      code: String(first.status_code ?? "STATUS_CODE_UNSET"),
      ...(first.status_message ? { message: String(first.status_message) } : {}),
    },
  };
}

/** The trace info StartTraceV3 gets: the provider's, located in the recipient's experiment. */
function toTraceInfo(
  row: Row,
  experimentId: string,
  assessments: Assessment[],
  ids: { runs: Map<string, string>; models: Map<string, string> },
): TraceInfo {
  const metadata: Record<string, string> = { ...(row.trace_metadata as Record<string, string>) };
  metadata[META_SOURCE_EXPERIMENT] = String(row.experiment_id ?? "");
  const run = metadata[META_RUN];
  if (run) {
    metadata[META_SOURCE_RUN] = run;
    const target = ids.runs.get(run);
    if (target) metadata[META_RUN] = target;
    else delete metadata[META_RUN];
  }
  const model = metadata[META_MODEL];
  if (model) {
    metadata[META_SOURCE_MODEL] = model;
    const target = ids.models.get(model);
    if (target) metadata[META_MODEL] = target;
    else delete metadata[META_MODEL];
  }
  return {
    trace_id: String(row.trace_id),
    ...(row.client_request_id ? { client_request_id: String(row.client_request_id) } : {}),
    trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } },
    ...(row.request_preview !== null ? { request_preview: String(row.request_preview) } : {}),
    ...(row.response_preview !== null ? { response_preview: String(row.response_preview) } : {}),
    ...(row.request_time !== null ? { request_time: new Date(Number(row.request_time)).toISOString() } : {}),
    ...(row.execution_duration_ms !== null
      ? { execution_duration: `${Number(row.execution_duration_ms) / 1000}s` }
      : {}),
    state: String(row.state ?? "OK"),
    trace_metadata: metadata,
    tags: row.tags as Record<string, string>,
    assessments,
  };
}

/** Spans sent per OTLP request. */
const SPANS_PER_REQUEST = 500;

async function importTraces(context: AssetImportContext): Promise<AssetSummary> {
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
  const byTrace = new Map<string, Row[]>();
  for (const row of [...assessments.values()].sort((a, b) => Number(a.create_time) - Number(b.create_time))) {
    const list = byTrace.get(String(row.trace_id)) ?? [];
    list.push(row);
    byTrace.set(String(row.trace_id), list);
  }
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
    for (const traceId of ready) {
      const rows = byTrace.get(traceId) ?? [];
      const inline = rows.filter((a) => !a.overrides).map((a) => toAssessment(a, traceId));
      await mlflow.traces.start(toTraceInfo(traces.get(traceId)!, experimentId, inline, ids));
      for (const a of rows.filter((r) => r.overrides))
        await mlflow.traces.createAssessment(traceId, toAssessment(a, traceId));
      summary.counts.assessments! += rows.length;
      summary.counts.traces!++;
    }
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

export const tracesAsset: AssetKind = {
  name: "traces",
  tables: ["spans", "assessments", "traces"],
  export: exportTraces,
  import: importTraces,
};
