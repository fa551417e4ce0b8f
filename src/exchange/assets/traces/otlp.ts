// Spans as rows and back. Export reads spans as MLflow stores them (OTLP protobuf-JSON: ids in
// base64, values as AnyValue); a row holds the span's scalars, its attributes and events as JSON
// text cut into chunks (TEXT_CHUNK_CHARS, the artifacts rule), so a large payload does not make
// a row unbounded. Import puts the chunks together into the OTLP span MLflow's /v1/traces takes.
import type { OtelAnyValue, OtelKeyValue, OtelSpan, OtlpSpan } from "../../../mlflow/index.js";
import { TEXT_CHUNK_CHARS } from "../fields.js";
import type { Row } from "../rows.js";

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

/** A span's rows: its scalars, and its attributes and events as JSON text in chunks. */
export function spanRows(span: OtelSpan, traceId: string): Row[] {
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

/** One span from its rows, chunks in order (times as exact decimal strings, see import.ts). */
export function toOtlpSpan(rows: Row[]): OtlpSpan {
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
