// SHOW TRACE's span tree: a trace's spans nested under their parents, each with its duration,
// its offset from the trace's start and its status, rendered as nested HTML lists (with a small
// timeline bar per span) and as an indented text tree. Pure: no I/O (reading the spans is
// trace-runtime.ts).

/** One span as SHOW TRACE reads it, from a share's `spans` table or from MLflow. */
export interface TraceSpan {
  spanId: string;
  /** null for a root span. */
  parentSpanId: string | null;
  name: string;
  /** `mlflow.spanType`: AGENT, CHAT_MODEL, TOOL, … (null when unset). */
  spanType: string | null;
  /** Nanoseconds since the epoch: bigint, as a double loses sub-microsecond precision. */
  startNs: bigint;
  /** null while the span had not ended. */
  endNs: bigint | null;
  /** OpenTelemetry's code: STATUS_CODE_OK, STATUS_CODE_ERROR, STATUS_CODE_UNSET. */
  statusCode: string | null;
  statusMessage: string | null;
}

/** What a SHOW TRACE step returns: the trace's spans as stored, and where they came from. */
export interface TraceOutput {
  kind: "trace";
  traceId: string;
  /** Where the trace was read: "churn_share.agent" or "experiment 'agent'". */
  from: string;
  /** The trace's own state (OK, ERROR, IN_PROGRESS) when known. */
  state: string | null;
  spans: TraceSpan[];
}

/** A span in the tree. */
export interface SpanNode {
  spanId: string;
  name: string;
  spanType: string | null;
  /** OK, ERROR or UNSET. */
  status: string;
  statusMessage: string | null;
  /** From the trace's first start; null when the span has no end. */
  startMs: number;
  durationMs: number | null;
  children: SpanNode[];
}

/** A trace as the notebook shows it. */
export interface TraceResult {
  kind: "trace";
  traceId: string;
  from: string;
  state: string | null;
  spans: number;
  /** Spans whose status is ERROR. */
  errors: number;
  /** From the first span's start to the last span's end. */
  durationMs: number | null;
  roots: SpanNode[];
  html: string;
  text: string;
}

/** OpenTelemetry's status code as a word: STATUS_CODE_ERROR → ERROR; none → UNSET. */
export function statusWord(code: string | null): string {
  if (!code) return "UNSET";
  return code.replace(/^STATUS_CODE_/, "");
}

const nsToMs = (ns: bigint): number => Number(ns) / 1e6;

/**
 * The spans nested under their parents, siblings in order of start (then name). A span whose
 * parent is not among the spans (a trace cut short, a parent never exported) is shown as a root
 * rather than lost; a parent cycle, which a well-formed trace never has, is broken the same way.
 */
export function spanTree(spans: TraceSpan[]): SpanNode[] {
  const start = spans.reduce<bigint | null>(
    (min, s) => (min === null || s.startNs < min ? s.startNs : min),
    null,
  );
  const ids = new Set(spans.map((s) => s.spanId));
  const byParent = new Map<string | null, TraceSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanId !== null && ids.has(span.parentSpanId) ? span.parentSpanId : null;
    const siblings = byParent.get(parent) ?? [];
    siblings.push(span);
    byParent.set(parent, siblings);
  }
  const placed = new Set<string>();
  const build = (span: TraceSpan): SpanNode => {
    placed.add(span.spanId);
    const children = ordered(byParent.get(span.spanId) ?? [])
      .filter((child) => !placed.has(child.spanId))
      .map(build);
    return {
      spanId: span.spanId,
      name: span.name,
      spanType: span.spanType,
      status: statusWord(span.statusCode),
      statusMessage: span.statusMessage,
      startMs: nsToMs(span.startNs - (start ?? span.startNs)),
      durationMs: span.endNs === null ? null : nsToMs(span.endNs - span.startNs),
      children,
    };
  };
  const roots = ordered(byParent.get(null) ?? []).map(build);
  // Spans only reachable through a cycle: shown as roots too.
  for (const span of ordered(spans)) if (!placed.has(span.spanId)) roots.push(build(span));
  return roots;
}

function ordered(spans: TraceSpan[]): TraceSpan[] {
  return [...spans].sort((a, b) =>
    a.startNs === b.startNs ? a.name.localeCompare(b.name) : a.startNs < b.startNs ? -1 : 1,
  );
}

/** "0.42 ms", "12.3 ms", "1.25 s"; "not ended" for a span without an end. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "not ended";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function* walk(nodes: SpanNode[]): Generator<SpanNode> {
  for (const node of nodes) {
    yield node;
    yield* walk(node.children);
  }
}

/** The trace's tree with its HTML and text renderings. */
export function traceResult(trace: TraceOutput): TraceResult {
  const roots = spanTree(trace.spans);
  const nodes = [...walk(roots)];
  const errors = nodes.filter((n) => n.status === "ERROR").length;
  const ends = nodes.map((n) => (n.durationMs === null ? null : n.startMs + n.durationMs));
  const durationMs = nodes.length === 0 || ends.includes(null) ? null : Math.max(...(ends as number[]));
  const result = {
    kind: "trace" as const,
    traceId: trace.traceId,
    from: trace.from,
    state: trace.state,
    spans: nodes.length,
    errors,
    durationMs,
    roots,
  };
  return { ...result, html: traceHtml(result), text: traceText(result) };
}

type TraceSummary = Omit<TraceResult, "html" | "text">;

function headline(t: TraceSummary): string {
  const parts = [
    t.state ?? undefined,
    `${t.spans} ${t.spans === 1 ? "span" : "spans"}`,
    t.errors > 0 ? `${t.errors} ${t.errors === 1 ? "error" : "errors"}` : undefined,
    t.durationMs === null ? undefined : formatDuration(t.durationMs),
  ].filter((p) => p !== undefined);
  return `trace ${t.traceId} in ${t.from} (${parts.join(", ")})`;
}

function nodeLabel(node: SpanNode): string {
  const type = node.spanType ? ` [${node.spanType}]` : "";
  const status = node.statusMessage ? `${node.status}: ${node.statusMessage}` : node.status;
  return `${node.name}${type}  ${formatDuration(node.durationMs)}  ${status}`;
}

/** The tree drawn with box-drawing lines, one span a line. */
export function traceText(t: TraceSummary): string {
  const lines = [headline(t)];
  const draw = (nodes: SpanNode[], prefix: string, top: boolean) => {
    nodes.forEach((node, i) => {
      const last = i === nodes.length - 1;
      const branch = top ? "" : last ? "└─ " : "├─ ";
      lines.push(`${prefix}${branch}${nodeLabel(node)}`);
      draw(node.children, top ? prefix : `${prefix}${last ? "   " : "│  "}`, false);
    });
  };
  draw(t.roots, "", true);
  if (t.roots.length === 0) lines.push("  no spans");
  return lines.join("\n");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Inline styles: a notebook output carries no stylesheet, and nbconvert's HTML keeps them.
const STATUS_COLOUR: Record<string, string> = { OK: "#2e7d32", ERROR: "#c62828", UNSET: "#757575" };

/** Nested lists, a span an item: name, type, duration, status, and a bar placing it in time. */
export function traceHtml(t: TraceSummary): string {
  const total = t.durationMs !== null && t.durationMs > 0 ? t.durationMs : null;
  const bar = (node: SpanNode): string => {
    if (total === null || node.durationMs === null) return "";
    const left = Math.min(100, (node.startMs / total) * 100);
    const width = Math.max(0.5, Math.min(100 - left, (node.durationMs / total) * 100));
    const colour = node.status === "ERROR" ? STATUS_COLOUR["ERROR"] : "#1976d2";
    return `<span class="arcuate-span-bar" style="display:inline-block;position:relative;width:12em;height:0.6em;background:#eee;margin-left:0.5em"><span style="position:absolute;left:${left.toFixed(2)}%;width:${width.toFixed(2)}%;height:100%;background:${colour}"></span></span>`;
  };
  const item = (node: SpanNode): string => {
    const colour = STATUS_COLOUR[node.status] ?? STATUS_COLOUR["UNSET"];
    const message = node.statusMessage
      ? ` <span class="arcuate-span-message">${escapeHtml(node.statusMessage)}</span>`
      : "";
    const children = node.children.length > 0 ? list(node.children) : "";
    return [
      `<li class="arcuate-span" data-span-id="${escapeHtml(node.spanId)}" data-status="${escapeHtml(node.status)}">`,
      `<span class="arcuate-span-name"><b>${escapeHtml(node.name)}</b></span>`,
      node.spanType
        ? ` <span class="arcuate-span-type"><small>${escapeHtml(node.spanType)}</small></span>`
        : "",
      ` <span class="arcuate-span-duration">${escapeHtml(formatDuration(node.durationMs))}</span>`,
      ` <span class="arcuate-span-status" style="color:${colour}">${escapeHtml(node.status)}</span>${message}`,
      bar(node),
      children,
      `</li>`,
    ].join("");
  };
  const list = (nodes: SpanNode[]): string =>
    `<ul class="arcuate-span-tree" style="list-style:none;padding-left:1.2em;margin:0">${nodes.map(item).join("")}</ul>`;
  return [
    `<div class="arcuate-result arcuate-trace">`,
    `<p class="arcuate-trace-title">${escapeHtml(headline(t))}</p>`,
    t.roots.length > 0 ? list(t.roots) : `<p><small>no spans</small></p>`,
    `</div>`,
  ].join("\n");
}
