// MLflow 3 traces: trace infos (v3 search and batch get), their spans, assessments and tags.
//
// Where MLflow 3.17 keeps what: a trace's info, tags, metadata and assessments are rows of the
// tracking store; its spans are rows too (`mlflow.trace.spansLocation = TRACKING_STORE`) and come
// back whole, as OpenTelemetry spans, from `GET /api/3.0/mlflow/traces/batchGet`. Writing, the
// OTLP endpoint `POST /v1/traces` stores spans with the ids of the payload (an MLflow trace id is
// `tr-` + the OTel trace id in hex), and `POST /api/3.0/mlflow/traces` (StartTraceV3) then sets
// the trace's info: request time, duration, state, previews, metadata, tags and assessments with
// their own ids and times. That is the order MLflow's own Python client uses; see decisions.md.
import type { Http, Query } from "./http.js";
import { MlflowError } from "./http.js";
import { encodeOtlpSpans } from "./otlp-protobuf.js";
import { allPages } from "./tracking.js";
import type { Page } from "./types.js";

/** An OTLP AnyValue as protobuf JSON (snake_case or camelCase field names). */
export interface OtelAnyValue {
  string_value?: string;
  bool_value?: boolean;
  int_value?: string | number;
  double_value?: number | string;
  bytes_value?: string;
  array_value?: { values?: OtelAnyValue[] };
  kvlist_value?: { values?: OtelKeyValue[] };
}
export interface OtelKeyValue {
  key: string;
  value?: OtelAnyValue;
}

/** An OpenTelemetry span as MLflow returns it (ids base64, times as decimal strings). */
export interface OtelSpan {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  name: string;
  kind?: string;
  start_time_unix_nano: string;
  end_time_unix_nano?: string;
  attributes?: OtelKeyValue[];
  events?: Array<{ time_unix_nano?: string; name: string; attributes?: OtelKeyValue[] }>;
  status?: { code?: string; message?: string };
}

export interface AssessmentSource {
  source_type: string;
  source_id?: string;
}

export interface Assessment {
  assessment_id: string;
  assessment_name: string;
  trace_id?: string;
  span_id?: string;
  source?: AssessmentSource;
  create_time?: string;
  last_update_time?: string;
  feedback?: { value?: unknown; error?: Record<string, unknown> };
  expectation?: { value?: unknown; serialized_value?: { serialization_format: string; value: string } };
  rationale?: string;
  metadata?: Record<string, string>;
  overrides?: string;
  valid?: boolean;
  run_id?: string;
}

export interface TraceInfo {
  trace_id: string;
  client_request_id?: string;
  trace_location?: { type?: string; mlflow_experiment?: { experiment_id: string } };
  request_preview?: string;
  response_preview?: string;
  /** RFC 3339, e.g. 2026-12-01T11:00:00.939Z */
  request_time?: string;
  /** Protobuf duration, e.g. "0.317s". */
  execution_duration?: string;
  state?: string;
  trace_metadata?: Record<string, string>;
  assessments?: Assessment[];
  tags?: Record<string, string>;
}

export interface Trace {
  trace_info: TraceInfo;
  spans?: OtelSpan[];
}

/** An OTLP/JSON span to log: ids in lowercase hex, as the OTLP spec writes them. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano?: string;
  attributes: OtelKeyValue[];
  events: Array<{ timeUnixNano: string; name: string; attributes: OtelKeyValue[] }>;
  status: { code: string; message?: string };
}

/** Trace ids fetched per batchGet request (ids go in the query string). */
export const TRACES_PER_BATCH = 50;

/**
 * MLflow writes nanosecond times as JSON numbers beyond 2^53; JSON.parse would round them.
 * Quoted first, they are read as exact decimal strings.
 */
export function quoteNanos(text: string): string {
  return text.replace(/"(\w*(?:_unix_nano|UnixNano))":\s*(-?\d+)/g, '"$1":"$2"');
}

/** Calls an MLflow endpoint outside /api/2.0 (v3 traces, OTLP) and parses its JSON reply. */
export async function callJson<T>(
  http: Http,
  method: string,
  path: string,
  options: { query?: Query; body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  const response = await http.send(method, path, {
    query: options.query,
    headers: {
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  if (!text || !(response.headers.get("content-type") ?? "").includes("json")) return {} as T;
  try {
    return JSON.parse(quoteNanos(text)) as T;
  } catch (error) {
    throw new MlflowError("INTERNAL_ERROR", `mlflow: ${method} ${path} returned a body that is not JSON`, {
      endpoint: path,
      httpStatus: response.status,
      cause: error,
    });
  }
}

const V3 = "/api/3.0/mlflow/traces";

export class Traces {
  constructor(private readonly http: Http) {}

  /** One page of trace infos (with assessments) of the experiments, oldest first. */
  async search(
    experimentIds: string[],
    options: { pageToken?: string; maxResults?: number; filter?: string } = {},
  ): Promise<Page<TraceInfo>> {
    const reply = await callJson<{ traces?: TraceInfo[]; next_page_token?: string }>(
      this.http,
      "POST",
      `${V3}/search`,
      {
        body: {
          locations: experimentIds.map((id) => ({
            type: "MLFLOW_EXPERIMENT",
            mlflow_experiment: { experiment_id: id },
          })),
          max_results: options.maxResults ?? 500,
          order_by: ["timestamp_ms ASC"],
          ...(options.filter ? { filter: options.filter } : {}),
          ...(options.pageToken ? { page_token: options.pageToken } : {}),
        },
      },
    );
    return { items: reply.traces ?? [], nextPageToken: reply.next_page_token };
  }

  searchAll(experimentIds: string[], options: { filter?: string } = {}): AsyncGenerator<TraceInfo> {
    return allPages((pageToken) => this.search(experimentIds, { ...options, pageToken }));
  }

  /** Whole traces (info and every span) of the ids, at most TRACES_PER_BATCH per request. */
  async batchGet(traceIds: string[]): Promise<Trace[]> {
    const traces: Trace[] = [];
    for (let i = 0; i < traceIds.length; i += TRACES_PER_BATCH) {
      const reply = await callJson<{ traces?: Trace[] }>(this.http, "GET", `${V3}/batchGet`, {
        query: { trace_ids: traceIds.slice(i, i + TRACES_PER_BATCH) },
      });
      traces.push(...(reply.traces ?? []));
    }
    return traces;
  }

  async getInfo(traceId: string): Promise<TraceInfo> {
    const reply = await callJson<{ trace: { trace_info: TraceInfo } }>(
      this.http,
      "GET",
      `${V3}/${encodeURIComponent(traceId)}`,
    );
    return reply.trace.trace_info;
  }

  /** Stores spans through MLflow's OTLP endpoint, with the ids they carry (binary protobuf). */
  async logSpans(experimentId: string, spans: OtlpSpan[]): Promise<void> {
    if (spans.length === 0) return;
    const response = await this.http.send("POST", "/v1/traces", {
      headers: { "x-mlflow-experiment-id": experimentId, "content-type": "application/x-protobuf" },
      body: encodeOtlpSpans(spans),
    });
    await response.arrayBuffer();
  }

  /** Creates (or completes, when its spans came first) a trace's info: StartTraceV3. */
  async start(info: TraceInfo): Promise<TraceInfo> {
    const reply = await callJson<{ trace: { trace_info: TraceInfo } }>(this.http, "POST", V3, {
      body: { trace: { trace_info: info } },
    });
    return reply.trace.trace_info;
  }

  async setTag(traceId: string, key: string, value: string): Promise<void> {
    await this.http.call("PATCH", `/mlflow/traces/${encodeURIComponent(traceId)}/tags`, {
      body: { key, value },
    });
  }

  /** Creates an assessment; its id and times are kept when given. */
  async createAssessment(traceId: string, assessment: Assessment): Promise<Assessment> {
    const reply = await callJson<{ assessment: Assessment }>(
      this.http,
      "POST",
      `${V3}/${encodeURIComponent(traceId)}/assessments`,
      { body: { assessment: { ...assessment, trace_id: traceId } } },
    );
    return reply.assessment;
  }

  async linkToRun(traceIds: string[], runId: string): Promise<void> {
    if (traceIds.length === 0) return;
    await this.http.call("POST", "/mlflow/traces/link-to-run", {
      body: { trace_ids: traceIds, run_id: runId },
    });
  }
}
