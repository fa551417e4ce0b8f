// Seeding for bench/traces.ts: N traces × S spans with 2 assessments each, written straight
// through MLflow's own write routes (what its Python client sends, minus the tracing machinery):
// StartTraceV3 with the trace's info and assessments, then the spans through OTLP. Groups of
// traces go side by side, so seeding 10,000 traces takes minutes rather than the hour MLflow's
// Python API needs.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Assessment, MlflowClient, OtlpSpan, Trace } from "../src/mlflow/index.js";

const execFileP = promisify(execFile);

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const str = (value: string) => ({ string_value: value });

/** Traces per group: one OTLP request carries all their spans. */
const GROUP = 50;

function group(first: number, count: number, spansPerTrace: number, experimentId: string) {
  const start = BigInt(Date.now() - 3_600_000) * 1_000_000n;
  const spans: OtlpSpan[] = [];
  const infos = [];
  for (let t = first; t < first + count; t++) {
    const traceId = hex(16);
    const root = hex(8);
    const time = start + BigInt(t) * 1_000_000_000n;
    const at = new Date(Number(time / 1_000_000n)).toISOString();
    for (let s = 0; s < spansPerTrace; s++) {
      const spanStart = time + BigInt(s) * 1_000_000n;
      spans.push({
        traceId,
        spanId: s === 0 ? root : hex(8),
        ...(s === 0 ? {} : { parentSpanId: root }),
        name: s === 0 ? "agent" : `step-${s}`,
        startTimeUnixNano: String(spanStart),
        endTimeUnixNano: String(spanStart + 900_000n),
        attributes: [
          { key: "mlflow.spanType", value: str(s === 0 ? "AGENT" : "TOOL") },
          { key: "mlflow.spanInputs", value: str(JSON.stringify({ question: `q${t}`, step: s })) },
          { key: "mlflow.spanOutputs", value: str(JSON.stringify({ answer: "x".repeat(200) })) },
        ],
        events: [],
        status: { code: "STATUS_CODE_OK" },
      });
    }
    const assessments: Assessment[] = [
      {
        assessment_id: `a-${hex(16)}`,
        assessment_name: "helpful",
        source: { source_type: "HUMAN", source_id: "bench" },
        create_time: at,
        last_update_time: at,
        feedback: { value: true },
        rationale: "fine",
      },
      {
        assessment_id: `a-${hex(16)}`,
        assessment_name: "expected",
        source: { source_type: "HUMAN", source_id: "bench" },
        create_time: at,
        last_update_time: at,
        expectation: { value: "x" },
      },
    ];
    infos.push({
      trace_id: `tr-${traceId}`,
      trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } },
      request_time: at,
      execution_duration: `${spansPerTrace / 1000}s`,
      state: "OK",
      request_preview: JSON.stringify({ question: `q${t}` }),
      response_preview: JSON.stringify({ answer: "x".repeat(20) }),
      trace_metadata: {},
      tags: { "mlflow.traceName": "agent" },
      assessments,
    });
  }
  return { spans, infos };
}

/** Seeds `traces` traces into the experiment, `parallel` groups at a time. */
export async function seedTraces(
  mlflow: MlflowClient,
  experimentId: string,
  traces: number,
  options: {
    spans: number;
    parallel?: number;
    order?: "start-first" | "otlp-first";
    log?: (message: string) => void;
  },
): Promise<void> {
  const parallel = options.parallel ?? 4;
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < traces) {
      const first = next;
      const count = Math.min(GROUP, traces - first);
      next += count;
      const { spans, infos } = group(first, count, options.spans, experimentId);
      if (options.order === "otlp-first") {
        await mlflow.traces.logSpans(experimentId, spans);
        await Promise.all(infos.map((info) => mlflow.traces.start(info)));
      } else {
        await Promise.all(infos.map((info) => mlflow.traces.start(info)));
        await mlflow.traces.logSpans(experimentId, spans);
      }
      done += count;
      if (done % 1000 === 0 || done === traces) options.log?.(`seeded ${done} traces`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/**
 * Grows the experiment to `total` traces by cloning the ones it holds at the store level
 * (python/bench_clone_traces.py, on the provider's SQLite file), then checks one clone through
 * MLflow's REST API: read back with batchGet, it equals its template but for its ids and times.
 */
export async function cloneTraces(
  mlflow: MlflowClient,
  dbPath: string,
  experimentId: string,
  total: number,
  python: string,
): Promise<{ cloned: number }> {
  const script = join(import.meta.dirname, "..", "python", "bench_clone_traces.py");
  const { stdout } = await execFileP(python, [script, dbPath, experimentId, String(total)], {
    maxBuffer: 1 << 20,
  });
  const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
    cloned: number;
    example: [string, string] | null;
  };
  if (result.example) {
    const [template, clone] = await mlflow.traces.batchGet(result.example);
    if (!template || !clone || JSON.stringify(traceShape(template)) !== JSON.stringify(traceShape(clone)))
      throw new Error(
        `bench: clone ${result.example[1]} of ${result.example[0]} does not read back as its template:\n${JSON.stringify(template && traceShape(template))}\n${JSON.stringify(clone && traceShape(clone))}`,
      );
  }
  return { cloned: result.cloned };
}

/** A trace with its ids numbered in order and its times relative to its request time. */
export function traceShape(trace: Trace): unknown {
  const info = trace.trace_info;
  const spans = [...(trace.spans ?? [])].sort((a, b) =>
    BigInt(a.start_time_unix_nano) < BigInt(b.start_time_unix_nano) ? -1 : 1,
  );
  const t0 = BigInt(Date.parse(info.request_time!)) * 1_000_000n;
  const spanIds = new Map(spans.map((s, i) => [s.span_id, `span-${i}`]));
  const rel = (nanos: string | undefined) => (nanos === undefined ? null : String(BigInt(nanos) - t0));
  const text = (value: unknown) => JSON.stringify(value).replaceAll(info.trace_id, "TRACE");
  return {
    info: text({
      ...info,
      trace_id: undefined,
      request_time: undefined,
      assessments: (info.assessments ?? []).map((a) => ({
        ...a,
        assessment_id: undefined,
        create_time: Date.parse(a.create_time!) - Date.parse(info.request_time!),
        last_update_time: Date.parse(a.last_update_time!) - Date.parse(info.request_time!),
      })),
    }),
    spans: spans.map((s) =>
      text({
        ...s,
        trace_id: undefined,
        span_id: spanIds.get(s.span_id),
        parent_span_id: s.parent_span_id ? spanIds.get(s.parent_span_id) : null,
        start_time_unix_nano: rel(s.start_time_unix_nano),
        end_time_unix_nano: rel(s.end_time_unix_nano),
        events: (s.events ?? []).map((e) => ({ ...e, time_unix_nano: rel(e.time_unix_nano) })),
      }),
    ),
  };
}
