// OTLP spans in protobuf's binary encoding (opentelemetry-proto `ExportTraceServiceRequest`), the
// body MLflow's `POST /v1/traces` reads fastest: its JSON path parses the payload three times in
// Python (json.loads, a hex→base64 rewrite, protobuf's pure-Python JSON mapping), which costs it
// about as much as storing the spans, while the binary one is a single C parse. Only the fields
// arcuate sends are written. Field numbers: opentelemetry/proto/trace/v1/trace.proto and
// common/v1/common.proto.
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { OtelAnyValue, OtelKeyValue, OtlpSpan } from "./traces.js";

// Buf's wire-level writer (the one its generated code uses) does the encoding; what is written by
// hand here is only the mapping from arcuate's span objects to field numbers, which saves
// generating and shipping the whole opentelemetry-proto schema for the eight messages sent.

const LEN = WireType.LengthDelimited;

function anyValue(w: BinaryWriter, value: OtelAnyValue | undefined): void {
  if (!value) return;
  if (value.string_value !== undefined) w.tag(1, LEN).string(value.string_value);
  else if (value.bool_value !== undefined) w.tag(2, WireType.Varint).bool(value.bool_value);
  else if (value.int_value !== undefined) w.tag(3, WireType.Varint).int64(value.int_value);
  else if (value.double_value !== undefined) w.tag(4, WireType.Bit64).double(Number(value.double_value));
  else if (value.array_value) {
    w.tag(5, LEN).fork();
    for (const item of value.array_value.values ?? []) {
      w.tag(1, LEN).fork();
      anyValue(w, item);
      w.join();
    }
    w.join();
  } else if (value.kvlist_value) {
    w.tag(6, LEN).fork();
    for (const kv of value.kvlist_value.values ?? []) keyValue(w, 1, kv);
    w.join();
  } else if (value.bytes_value !== undefined) w.tag(7, LEN).bytes(Buffer.from(value.bytes_value, "base64"));
}

/** A KeyValue as field `field` of the enclosing message. */
function keyValue(w: BinaryWriter, field: number, kv: OtelKeyValue): void {
  w.tag(field, LEN).fork().tag(1, LEN).string(kv.key);
  w.tag(2, LEN).fork();
  anyValue(w, kv.value);
  w.join().join();
}

const STATUS_CODES: Record<string, number> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

function span(w: BinaryWriter, s: OtlpSpan): void {
  w.tag(1, LEN).bytes(Buffer.from(s.traceId, "hex"));
  w.tag(2, LEN).bytes(Buffer.from(s.spanId, "hex"));
  if (s.parentSpanId) w.tag(4, LEN).bytes(Buffer.from(s.parentSpanId, "hex"));
  w.tag(5, LEN).string(s.name);
  w.tag(7, WireType.Bit64).fixed64(s.startTimeUnixNano);
  if (s.endTimeUnixNano) w.tag(8, WireType.Bit64).fixed64(s.endTimeUnixNano);
  for (const kv of s.attributes) keyValue(w, 9, kv);
  for (const e of s.events) {
    w.tag(11, LEN).fork();
    w.tag(1, WireType.Bit64).fixed64(e.timeUnixNano);
    w.tag(2, LEN).string(e.name);
    for (const kv of e.attributes) keyValue(w, 3, kv);
    w.join();
  }
  w.tag(15, LEN).fork();
  if (s.status.message) w.tag(2, LEN).string(s.status.message);
  const code = STATUS_CODES[s.status.code] ?? 0;
  if (code !== 0) w.tag(3, WireType.Varint).int32(code);
  w.join();
}

/** An ExportTraceServiceRequest of one resource (no attributes) and one scope holding `spans`. */
export function encodeOtlpSpans(spans: readonly OtlpSpan[]): Uint8Array {
  const w = new BinaryWriter();
  // ExportTraceServiceRequest.resource_spans(1) → ResourceSpans{resource(1) empty, scope_spans(2)}.
  w.tag(1, LEN).fork();
  w.tag(1, LEN).fork().join();
  w.tag(2, LEN).fork();
  for (const s of spans) {
    // ScopeSpans.spans(2)
    w.tag(2, LEN).fork();
    span(w, s);
    w.join();
  }
  w.join().join();
  return w.finish();
}
