// How results, progress and errors look in a notebook: Jupyter display bundles (one bundle holds
// an HTML rendering and its text/plain fallback, so nbconvert, consoles and JupyterLab each pick
// what they can show) and Jupyter `error` contents. Pure functions, no I/O.
import { inspect } from "node:util";
import { ArcuateError } from "../errors.js";
import type { ProgressEvent, StatementResult } from "../lang/index.js";

/** A Jupyter display_data / update_display_data content. */
export interface DisplayBundle {
  /** By MIME type: text, or a JSON value for the JSON types (a Vega-Lite spec is an object). */
  data: Record<string, string | object>;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}

/** A Jupyter `error` content (also the extra fields of an `execute_reply` with status error). */
export interface ErrorContent {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** A bundle of text only (tables, messages, progress). */
export interface TextBundle extends DisplayBundle {
  data: Record<string, string>;
}

/** Rows shown per table unless the notebook changes `arcuate.maxRows`. */
export const DEFAULT_MAX_ROWS = 50;
/** Longest cell value shown before it is cut with "…" (the full value stays in `arcuate.last`). */
const MAX_CELL_CHARS = 200;

type TableResult = Extract<StatementResult, { kind: "table" }>;
type ChartResult = Extract<StatementResult, { kind: "chart" }>;
type TraceResult = Extract<StatementResult, { kind: "trace" }>;

/** JupyterLab draws this MIME type with its built-in Vega renderer. */
export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One value as text: null as "null", dates as ISO, maps and objects as JSON, bytes by size. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  try {
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (v instanceof Map) return Object.fromEntries(v);
      if (v instanceof Uint8Array) return `<${v.byteLength} bytes>`;
      return v;
    });
  } catch {
    return inspect(value, { depth: 2, breakLength: Number.POSITIVE_INFINITY });
  }
}

function cut(text: string, max = MAX_CELL_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** "3 rows", or "showing 50 of 1,234 rows" when the table was capped. */
export function rowsCaption(shown: number, total: number): string {
  const noun = total === 1 ? "row" : "rows";
  return shown < total
    ? `showing ${shown.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} ${noun}`
    : `${total.toLocaleString("en-US")} ${noun}`;
}

/** A table result as one bundle: an HTML table and an aligned text table, both capped at `maxRows`. */
export function tableBundle(result: TableResult, maxRows = DEFAULT_MAX_ROWS): TextBundle {
  const limit = Math.max(0, Math.floor(maxRows));
  const rows = result.rows.slice(0, limit);
  const total = Math.max(result.totalRows ?? result.rows.length, result.rows.length);
  const caption = rowsCaption(rows.length, total);
  const cells = rows.map((row) => result.columns.map((_, i) => cut(formatValue(row[i]))));

  const html = [
    `<div class="arcuate-result">`,
    `<table class="dataframe arcuate-table">`,
    result.title === undefined ? "" : `<caption>${escapeHtml(result.title)}</caption>`,
    `<thead><tr>${result.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead>`,
    `<tbody>`,
    ...cells.map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`),
    `</tbody>`,
    `</table>`,
    `<p class="arcuate-rows"><small>${escapeHtml(caption)}</small></p>`,
    `</div>`,
  ]
    .filter((line) => line !== "")
    .join("\n");

  return {
    data: { "text/html": html, "text/plain": textTable(result, cells, caption) },
    metadata: {},
    transient: {},
  };
}

function textTable(result: TableResult, cells: string[][], caption: string): string {
  const plain = cells.map((row) => row.map((c) => cut(c.replace(/\s+/g, " "), 60)));
  const widths = result.columns.map((c, i) => Math.max(c.length, ...plain.map((row) => row[i]?.length ?? 0)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join(" | ")
      .trimEnd();
  const lines = [line(result.columns), widths.map((w) => "-".repeat(w)).join("-+-"), ...plain.map(line)];
  if (result.title !== undefined) lines.unshift(result.title);
  lines.push(`(${caption})`);
  return lines.join("\n");
}

/** A message or a plan: preformatted text, with an HTML <pre> so it keeps its layout. */
export function textBundle(text: string, className = "arcuate-message"): TextBundle {
  return {
    data: { "text/html": `<pre class="${className}">${escapeHtml(text)}</pre>`, "text/plain": text },
    metadata: {},
    transient: {},
  };
}

/**
 * A chart as one bundle: the Vega-Lite spec (JupyterLab draws it, interactive, as SVG: its
 * renderer reads `embed_options` from the metadata), the same spec rendered to SVG in Node (what
 * nbconvert's HTML and GitHub show), and a text saying what it shows.
 */
export function chartBundle(result: ChartResult): DisplayBundle {
  return {
    data: { [VEGA_LITE_MIME]: result.spec, "image/svg+xml": result.svg, "text/plain": result.text },
    metadata: { [VEGA_LITE_MIME]: { embed_options: { renderer: "svg", actions: false } } },
    transient: {},
  };
}

/** A trace's span tree as one bundle: nested HTML lists, and the same tree drawn in text. */
export function traceBundle(result: TraceResult): TextBundle {
  return { data: { "text/html": result.html, "text/plain": result.text }, metadata: {}, transient: {} };
}

export function resultBundle(result: StatementResult, maxRows = DEFAULT_MAX_ROWS): DisplayBundle {
  switch (result.kind) {
    case "trace":
      return traceBundle(result);
    case "chart":
      return chartBundle(result);
    case "table":
      return tableBundle(result, maxRows);
    case "plan":
      return textBundle(result.text, "arcuate-plan");
    case "message":
      return textBundle(result.text);
  }
}

/** The progress line of one event: "step: message (done/total)". */
export function progressText(event: ProgressEvent): string {
  const count =
    event.done === undefined
      ? ""
      : event.total === undefined
        ? ` (${event.done})`
        : ` (${event.done}/${event.total})`;
  return `${event.step}: ${event.message}${count}`;
}

export function progressBundle(event: ProgressEvent, displayId: string): DisplayBundle {
  const bar =
    event.done !== undefined && event.total !== undefined && event.total > 0
      ? `<progress value="${event.done}" max="${event.total}"></progress> `
      : "";
  return {
    data: {
      "text/html": `<div class="arcuate-progress">${bar}<b>${escapeHtml(event.step)}</b>: ${escapeHtml(event.message)}${
        event.done === undefined
          ? ""
          : ` <small>(${event.done}${event.total === undefined ? "" : `/${event.total}`})</small>`
      }</div>`,
      "text/plain": progressText(event),
    },
    metadata: {},
    transient: { display_id: displayId },
  };
}

export function progressDoneBundle(summary: string, displayId: string): DisplayBundle {
  return {
    data: {
      "text/html": `<div class="arcuate-progress">${escapeHtml(summary)}</div>`,
      "text/plain": summary,
    },
    metadata: {},
    transient: { display_id: displayId },
  };
}

/**
 * A thrown value as a Jupyter error. arcuate's own errors (ArcuateError and its subclasses, whose
 * messages already say what went wrong, with a caret under a syntax error) show their message
 * only; anything else is a bug or a user's TypeScript error and keeps its stack.
 */
export function errorContent(error: unknown): ErrorContent {
  const content = rawErrorContent(error);
  return {
    ename: wellFormed(content.ename),
    evalue: wellFormed(content.evalue),
    traceback: content.traceback.map(wellFormed),
  };
}

/**
 * Text with every lone UTF-16 surrogate replaced by U+FFFD. Messages can hold one (V8's JSON.parse
 * error quotes a few characters of its input, cutting an emoji in half), and Jupyter then cannot
 * save the notebook ("surrogates not allowed").
 */
export function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
}

function rawErrorContent(error: unknown): ErrorContent {
  if (!(error instanceof Error)) {
    const text = typeof error === "string" ? error : inspect(error);
    return { ename: "Error", evalue: text, traceback: [`Error: ${text}`] };
  }
  const ename = error.name || "Error";
  const evalue = error.message;
  if (error instanceof ArcuateError) return { ename, evalue, traceback: `${ename}: ${evalue}`.split("\n") };
  return { ename, evalue, traceback: cellStack(error) };
}

/** The stack of an error thrown by cell code, without the kernel's and Node's own frames below it. */
export function cellStack(error: Error): string[] {
  const lines = (error.stack ?? `${error.name}: ${error.message}`).split("\n");
  const internal = lines.findIndex((line) => /^\s+at .*(node:vm|node:internal|tslab[\\/]dist)/.test(line));
  return internal === -1 ? lines : lines.slice(0, internal);
}

/** A TypeScript diagnostic of a cell as an error: the message, the cell line and a caret under the column. */
export function diagnosticsError(
  code: string,
  diagnostics: { line: number; column: number; message: string }[],
): ErrorContent {
  const sourceLines = code.split("\n");
  const traceback: string[] = [];
  for (const d of diagnostics) {
    traceback.push(`${d.line}:${d.column} - ${d.message}`);
    const source = sourceLines[d.line - 1];
    if (source !== undefined) traceback.push(`  ${source}`, `  ${" ".repeat(Math.max(0, d.column - 1))}^`);
  }
  const first = diagnostics[0];
  return {
    ename: "CompileError",
    evalue: first === undefined ? "" : `${first.line}:${first.column} - ${first.message}`,
    traceback: [`CompileError: ${traceback[0] ?? ""}`, ...traceback.slice(1)],
  };
}
