// OTLP spans in protobuf's binary encoding (opentelemetry-proto `ExportTraceServiceRequest`), the
// body MLflow's `POST /v1/traces` reads fastest: its JSON path parses the payload three times in
// Python (json.loads, a hex→base64 rewrite, protobuf's pure-Python JSON mapping), which costs it
// about as much as storing the spans, while the binary one is a single C parse. Only the fields
// arcuate sends are written. Field numbers: opentelemetry/proto/trace/v1/trace.proto and
// common/v1/common.proto.
import type { OtelAnyValue, OtelKeyValue, OtlpSpan } from "./traces.js";

/** Protobuf wire types. */
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;

/** Bytes of one message, fields appended in order. */
class Message {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  private tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  private varint(value: bigint): void {
    // Negative int64 values go as their 64-bit two's complement (ten bytes).
    let v = BigInt.asUintN(64, value);
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.push(Uint8Array.from(bytes));
  }

  uint(field: number, value: bigint | number): this {
    this.tag(field, VARINT);
    this.varint(BigInt(value));
    return this;
  }

  fixed64(field: number, value: bigint): this {
    this.tag(field, FIXED64);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    this.push(bytes);
    return this;
  }

  double(field: number, value: number): this {
    this.tag(field, FIXED64);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, true);
    this.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, LEN);
    this.varint(BigInt(value.length));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, "utf8"));
  }

  message(field: number, value: Message): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts, this.size);
  }
}

function anyValue(value: OtelAnyValue | undefined): Message {
  const m = new Message();
  if (!value) return m;
  if (value.string_value !== undefined) m.string(1, value.string_value);
  else if (value.bool_value !== undefined) m.uint(2, value.bool_value ? 1 : 0);
  else if (value.int_value !== undefined) m.uint(3, BigInt(value.int_value));
  else if (value.double_value !== undefined) m.double(4, Number(value.double_value));
  else if (value.array_value) {
    const array = new Message();
    for (const item of value.array_value.values ?? []) array.message(1, anyValue(item));
    m.message(5, array);
  } else if (value.kvlist_value) {
    const list = new Message();
    for (const kv of value.kvlist_value.values ?? []) list.message(1, keyValue(kv));
    m.message(6, list);
  } else if (value.bytes_value !== undefined) m.bytes(7, Buffer.from(value.bytes_value, "base64"));
  return m;
}

function keyValue(kv: OtelKeyValue): Message {
  return new Message().string(1, kv.key).message(2, anyValue(kv.value));
}

const STATUS_CODES: Record<string, number> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

function span(s: OtlpSpan): Message {
  const m = new Message().bytes(1, Buffer.from(s.traceId, "hex")).bytes(2, Buffer.from(s.spanId, "hex"));
  if (s.parentSpanId) m.bytes(4, Buffer.from(s.parentSpanId, "hex"));
  m.string(5, s.name).fixed64(7, BigInt(s.startTimeUnixNano));
  if (s.endTimeUnixNano) m.fixed64(8, BigInt(s.endTimeUnixNano));
  for (const kv of s.attributes) m.message(9, keyValue(kv));
  for (const e of s.events) {
    const event = new Message().fixed64(1, BigInt(e.timeUnixNano)).string(2, e.name);
    for (const kv of e.attributes) event.message(3, keyValue(kv));
    m.message(11, event);
  }
  const status = new Message();
  if (s.status.message) status.string(2, s.status.message);
  const code = STATUS_CODES[s.status.code] ?? 0;
  if (code !== 0) status.uint(3, code);
  return m.message(15, status);
}

/** An ExportTraceServiceRequest of one resource (no attributes) and one scope holding `spans`. */
export function encodeOtlpSpans(spans: readonly OtlpSpan[]): Uint8Array {
  const scope = new Message();
  for (const s of spans) scope.message(2, span(s));
  const resource = new Message().message(1, new Message()).message(2, scope);
  return new Message().message(1, resource).finish();
}
