// SHOW TRACE's reading: a trace's spans from a shared experiment's `spans` table (through the
// Delta Sharing client, before anything is imported) or from an experiment in MLflow (its
// batchGet, after an import or at the provider). Both give the same TraceOutput; span-tree.ts
// nests and draws it.
import { ArcuateError, NotFoundError } from "../errors.js";
import type { MlflowClient, OtelAnyValue, OtelSpan } from "../mlflow/index.js";
import type { SharingClient } from "../sharing/client/index.js";
import { toJsonPredicate } from "./filter.js";
import type { ShowExperimentTraceArgs, ShowSharedTraceArgs } from "./plan.js";
import type { StepContext } from "./runtime.js";
import type { TraceOutput, TraceSpan } from "./span-tree.js";

type Row = Record<string, unknown>;

const text = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);

/** The rows of one shared table whose `trace_id` is the trace's (offered as a hint, filtered here). */
async function* traceRows(
  client: SharingClient,
  args: ShowSharedTraceArgs,
  table: string,
): AsyncGenerator<Row> {
  const { share, schema } = args.source;
  const hint = toJsonPredicate({ op: "compare", operator: "=", column: "trace_id", value: args.traceId });
  for await (const batch of client.queryTableBatches(
    { share, schema, name: table },
    hint ? { jsonPredicateHints: JSON.stringify(hint) } : {},
  )) {
    for (let i = 0; i < batch.numRows; i++) {
      const row = batch.get(i)?.toJSON() as Row | undefined;
      if (row && row["trace_id"] === args.traceId) yield row;
    }
  }
}

/**
 * A trace of a shared experiment: its spans from `spans` (the first chunk of each carries the
 * span's ids, times and status; a span written twice by a re-export counts once) and its state
 * from `traces` (the latest copy, by export_seq).
 */
export async function readSharedTrace(
  client: SharingClient,
  args: ShowSharedTraceArgs,
  context: StepContext,
): Promise<TraceOutput> {
  const { share, schema } = args.source;
  const where = `${share}.${schema}`;
  const tables = new Set((await client.listTables(share, schema)).map((t) => t.name));
  if (!tables.has("spans")) {
    throw new NotFoundError(
      `trace: ${where} has no spans table, so no traces (a model, or an experiment shared WITHOUT TRACES)`,
    );
  }
  const spans = new Map<string, TraceSpan>();
  for await (const row of traceRows(client, args, "spans")) {
    if (Number(row["chunk_index"] ?? 0) !== 0) continue;
    const spanId = String(row["span_id"]);
    if (spans.has(spanId)) continue;
    spans.set(spanId, {
      spanId,
      parentSpanId: text(row["parent_span_id"]),
      name: String(row["name"] ?? spanId),
      spanType: text(row["span_type"]),
      startNs: BigInt(row["start_time_unix_nano"] as bigint | number),
      endNs:
        row["end_time_unix_nano"] === null || row["end_time_unix_nano"] === undefined
          ? null
          : BigInt(row["end_time_unix_nano"] as bigint | number),
      statusCode: text(row["status_code"]),
      statusMessage: text(row["status_message"]),
    });
    context.progress(`read ${spans.size} spans`, spans.size);
  }
  if (spans.size === 0) throw new NotFoundError(`trace: '${args.traceId}' is not a trace of ${where}`);
  let state: string | null = null;
  if (tables.has("traces")) {
    let seq = -1;
    for await (const row of traceRows(client, args, "traces")) {
      const rowSeq = Number(row["export_seq"] ?? 0);
      if (rowSeq >= seq) {
        seq = rowSeq;
        state = text(row["state"]);
      }
    }
  }
  return { kind: "trace", traceId: args.traceId, from: where, state, spans: [...spans.values()] };
}

/** A trace of an experiment in MLflow, through batchGet (info and every span). */
export async function readExperimentTrace(
  mlflow: MlflowClient,
  args: ShowExperimentTraceArgs,
): Promise<TraceOutput> {
  const experiment = await mlflow.experiments.getByName(args.experiment);
  const from = `experiment '${args.experiment}'`;
  let found: Awaited<ReturnType<MlflowClient["traces"]["batchGet"]>>;
  try {
    found = await mlflow.traces.batchGet([args.traceId]);
  } catch (error) {
    // MLflow answers an unknown id with an error, not an empty list.
    if (error instanceof ArcuateError && /NOT_FOUND|DOES_NOT_EXIST|INVALID_PARAMETER/.test(error.code))
      found = [];
    else throw error;
  }
  const trace = found.find((t) => t.trace_info.trace_id === args.traceId);
  const location = trace?.trace_info.trace_location?.mlflow_experiment?.experiment_id;
  if (!trace || (location !== undefined && location !== experiment.experiment_id))
    throw new NotFoundError(`trace: '${args.traceId}' is not a trace of ${from}`);
  return {
    kind: "trace",
    traceId: args.traceId,
    from,
    state: trace.trace_info.state ?? null,
    spans: (trace.spans ?? []).map(otelSpan),
  };
}

/** MLflow's span (ids in base64, times as decimal strings) as a TraceSpan (ids in hex). */
function otelSpan(span: OtelSpan): TraceSpan {
  const hex = (id: string) => Buffer.from(id, "base64").toString("hex");
  const type = span.attributes?.find((a) => a.key === "mlflow.spanType")?.value;
  return {
    spanId: hex(span.span_id),
    parentSpanId: span.parent_span_id ? hex(span.parent_span_id) : null,
    name: span.name,
    spanType: type ? attributeText(type) : null,
    startNs: BigInt(span.start_time_unix_nano),
    endNs: span.end_time_unix_nano ? BigInt(span.end_time_unix_nano) : null,
    statusCode: span.status?.code ?? null,
    statusMessage: span.status?.message || null,
  };
}

/** A span attribute's text: MLflow stores attributes as JSON text ("\"AGENT\""). */
function attributeText(value: OtelAnyValue): string | null {
  const raw = value.string_value;
  if (raw === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === "string" ? parsed : raw;
  } catch {
    return raw;
  }
}
