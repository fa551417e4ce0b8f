// The `arcuate` object that TypeScript cells see: the results of %arcuate statements, so a later
// cell can compute with them (`arcuate.last`, `arcuate.results`, `arcuate.records()`).
//
// tslab type-checks every cell, so the object needs a declaration as well as a value: the kernel
// runs DECLARATION once, hidden, as the first cell (tslab then carries it into every later
// cell's declarations like any top-level name) and puts the value into tslab's locals.

import { DEFAULT_MAX_ROWS, type DisplayBundle, tableBundle } from "./display.js";
import type { StatementResult } from "./language.js";

export interface NotebookResults {
  /** Every result of every %arcuate statement run in this kernel, oldest first. */
  readonly results: StatementResult[];
  /** The result of the most recent %arcuate statement, or undefined before the first. */
  readonly last: StatementResult | undefined;
  /** The rows of a table result (default: the last one) as objects keyed by column name. */
  records(result?: StatementResult): Record<string, unknown>[];
  /** How many rows a table shows before "showing N of M rows" (the data itself is never cut). */
  maxRows: number;
  /** Shows records (objects, one per row) as a table in the cell, the way %arcuate shows its tables. */
  display(records: Record<string, unknown>[], title?: string): void;
}

/** The declaration tslab compiles once so cells may use `arcuate` (kept in step with NotebookResults). */
export const DECLARATION = `declare const arcuate: {
  readonly results: ArcuateResult[];
  readonly last: ArcuateResult | undefined;
  records(result?: ArcuateResult): Record<string, unknown>[];
  maxRows: number;
  display(records: Record<string, unknown>[], title?: string): void;
};
type ArcuateResult =
  | { kind: "table"; title?: string; columns: string[]; rows: unknown[][]; totalRows?: number }
  | { kind: "message"; text: string }
  | { kind: "plan"; text: string }
  | { kind: "chart"; title: string; metric: string; x: "step" | "time"; runs: number; points: number; drawnPoints: number; spec: Record<string, unknown>; svg: string; text: string }
  | { kind: "trace"; traceId: string; from: string; state: string | null; spans: number; errors: number; durationMs: number | null; roots: ArcuateSpan[]; html: string; text: string };
type ArcuateSpan = { spanId: string; name: string; spanType: string | null; status: string; statusMessage: string | null; startMs: number; durationMs: number | null; children: ArcuateSpan[] };
`;

export class Results implements NotebookResults {
  readonly results: StatementResult[] = [];
  maxRows = DEFAULT_MAX_ROWS;

  /** `show` writes a display bundle into the running cell (the kernel passes tslab's display writer). */
  constructor(private readonly show: (bundle: DisplayBundle) => void = () => {}) {}

  get last(): StatementResult | undefined {
    return this.results.at(-1);
  }

  add(result: StatementResult): void {
    this.results.push(result);
  }

  records(result: StatementResult | undefined = this.last): Record<string, unknown>[] {
    if (result === undefined) throw new Error("arcuate: no %arcuate result yet");
    if (result.kind !== "table") throw new Error(`arcuate: the result is a ${result.kind}, not a table`);
    return result.rows.map((row) => Object.fromEntries(result.columns.map((column, i) => [column, row[i]])));
  }

  display(records: Record<string, unknown>[], title?: string): void {
    const columns = [...new Set(records.flatMap((record) => Object.keys(record)))];
    const rows = records.map((record) => columns.map((column) => record[column]));
    this.show(
      tableBundle({ kind: "table", columns, rows, ...(title === undefined ? {} : { title }) }, this.maxRows),
    );
  }
}
