// The binary OTLP body arcuate sends to MLflow's `POST /v1/traces`, parsed by the protobuf classes
// MLflow itself parses it with (opentelemetry-proto in the peers' Python): every field a span
// carries must come out as it went in, ids, nanosecond times beyond 2^53, every attribute value
// type, events and status.
import { describe, expect, it } from "vitest";
import { encodeOtlpSpans } from "../../src/mlflow/otlp-protobuf.js";
import type { OtlpSpan } from "../../src/mlflow/traces.js";
import { runPythonJson } from "../support/python.js";

const PARSE = `
import base64, json, sys
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
request = ExportTraceServiceRequest.FromString(base64.b64decode(sys.argv[1]))
print(json.dumps(MessageToDict(request, preserving_proto_field_name=True)))
`;

const hex = (id: string) => Buffer.from(id, "hex").toString("base64");

describe("encodeOtlpSpans", () => {
  it("writes spans that MLflow's protobuf classes read back field for field", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const spans: OtlpSpan[] = [
      {
        traceId,
        spanId: "b7ad6b7169203331",
        name: "agent",
        startTimeUnixNano: "1764586800123456789",
        endTimeUnixNano: "1764586801987654321",
        attributes: [
          { key: "mlflow.spanType", value: { string_value: '"AGENT"' } },
          { key: "ok", value: { bool_value: true } },
          { key: "tokens", value: { int_value: "-42" } },
          { key: "big", value: { int_value: "9007199254740993" } },
          { key: "score", value: { double_value: 0.125 } },
          { key: "raw", value: { bytes_value: Buffer.from([0, 1, 255]).toString("base64") } },
          {
            key: "list",
            value: { array_value: { values: [{ string_value: "a" }, { int_value: 7 }] } },
          },
          {
            key: "map",
            value: { kvlist_value: { values: [{ key: "inner", value: { bool_value: false } }] } },
          },
        ],
        events: [
          {
            timeUnixNano: "1764586801000000001",
            name: "exception",
            attributes: [{ key: "exception.message", value: { string_value: "boom" } }],
          },
        ],
        status: { code: "STATUS_CODE_ERROR", message: "boom" },
      },
      {
        traceId,
        spanId: "00f067aa0ba902b7",
        parentSpanId: "b7ad6b7169203331",
        name: "retrieve",
        startTimeUnixNano: "1764586800200000000",
        endTimeUnixNano: "1764586800300000000",
        attributes: [],
        events: [],
        status: { code: "STATUS_CODE_OK" },
      },
    ];
    const body = Buffer.from(encodeOtlpSpans(spans)).toString("base64");
    const parsed = await runPythonJson<{
      resource_spans: Array<{ scope_spans: Array<{ spans: unknown[] }> }>;
    }>(PARSE, { args: [body] });

    expect(parsed.resource_spans).toHaveLength(1);
    expect(parsed.resource_spans[0]!.scope_spans).toHaveLength(1);
    expect(parsed.resource_spans[0]!.scope_spans[0]!.spans).toEqual([
      {
        trace_id: hex(traceId),
        span_id: hex("b7ad6b7169203331"),
        name: "agent",
        start_time_unix_nano: "1764586800123456789",
        end_time_unix_nano: "1764586801987654321",
        attributes: [
          { key: "mlflow.spanType", value: { string_value: '"AGENT"' } },
          { key: "ok", value: { bool_value: true } },
          { key: "tokens", value: { int_value: "-42" } },
          { key: "big", value: { int_value: "9007199254740993" } },
          { key: "score", value: { double_value: 0.125 } },
          { key: "raw", value: { bytes_value: Buffer.from([0, 1, 255]).toString("base64") } },
          { key: "list", value: { array_value: { values: [{ string_value: "a" }, { int_value: "7" }] } } },
          {
            key: "map",
            value: { kvlist_value: { values: [{ key: "inner", value: { bool_value: false } }] } },
          },
        ],
        events: [
          {
            time_unix_nano: "1764586801000000001",
            name: "exception",
            attributes: [{ key: "exception.message", value: { string_value: "boom" } }],
          },
        ],
        status: { code: "STATUS_CODE_ERROR", message: "boom" },
      },
      {
        trace_id: hex(traceId),
        span_id: hex("00f067aa0ba902b7"),
        parent_span_id: hex("b7ad6b7169203331"),
        name: "retrieve",
        start_time_unix_nano: "1764586800200000000",
        end_time_unix_nano: "1764586800300000000",
        status: { code: "STATUS_CODE_OK" },
      },
    ]);
  });
});
