// Results as plain text: aligned tables for the CLI and for the kernel's text/plain fallback.
import type { StatementResult } from "./executor.js";

/** A cell as text: strings as they are, JSON for structures, ISO for dates, "" for null. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (value instanceof Map) return JSON.stringify(Object.fromEntries(value), jsonSafe);
  return JSON.stringify(value, jsonSafe);
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? String(value) : value;
}

// Long cells are cut so one wide value does not push every other column off the screen.
const MAX_CELL = 60;

/**
 *   name   | comment
 *   -------+--------
 *   churn  | models
 *   (1 row)
 */
export function formatTable(columns: string[], rows: unknown[][], totalRows?: number): string {
  const cells = rows.map((row) => columns.map((_, i) => clip(cellText(row[i]).replace(/\s*\n\s*/g, " "))));
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...cells.map((row) => (row[i] as string).length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i] as number))
      .join(" | ")
      .trimEnd();
  const out = [line(columns), widths.map((width) => "-".repeat(width)).join("-+-")];
  for (const row of cells) out.push(line(row));
  const count = `${rows.length} row${rows.length === 1 ? "" : "s"}`;
  out.push(
    totalRows !== undefined && totalRows > rows.length ? `(showing ${count} of ${totalRows})` : `(${count})`,
  );
  return out.join("\n");
}

function clip(text: string): string {
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}

export function formatResult(result: StatementResult): string {
  if (result.kind !== "table") return result.text;
  const table = formatTable(result.columns, result.rows, result.totalRows);
  return result.title ? `${result.title}\n${table}` : table;
}
