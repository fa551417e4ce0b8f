// Shared by the Delta tests: read a table with arcuate and with delta-rs (one Python process for
// many tables) and compare schema and rows in the JSON rendering of src/delta/json.ts.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeltaTable } from "../../../src/delta/index.js";
import { batchRows } from "../../../src/delta/json.js";
import { isArcuateError, messageOf } from "../../../src/errors.js";
import { runPython } from "../../support/python.js";
import { canonical, digestRows } from "./canonical.js";

export type Outcome =
  | { schema?: unknown; count: number; digest: string; rows: string[] }
  | { error: string; code?: string };
export type TheirOutcome =
  | { schema?: unknown; count: number; digest: string; rows?: string[] }
  | { error: string };

export interface DeltaRsEntry {
  name: string;
  path: string;
  versions: Array<number | null>;
  /** Change data feed ranges [start, end] to read with load_cdf. */
  cdf?: Array<[number, number | null]>;
}

export function stripMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripMetadata);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => k !== "metadata")
        .map(([k, v]) => [k, stripMetadata(v)]),
    );
  }
  return value;
}

function outcomeOf(rows: string[], schema?: unknown): Outcome {
  return {
    ...(schema === undefined ? {} : { schema }),
    ...digestRows(rows),
    rows: rows.length <= 2000 ? rows.sort() : [],
  };
}

export async function readWithArcuate(path: string, version: number | null): Promise<Outcome> {
  try {
    const table = await DeltaTable.open(path);
    const snapshot = await table.snapshot(version === null ? {} : { version });
    const rows: string[] = [];
    for await (const batch of snapshot.scanBatches()) {
      for (const row of batchRows(batch, snapshot.schema)) rows.push(canonical(row));
    }
    return outcomeOf(rows, stripMetadata(snapshot.schema));
  } catch (error) {
    return { error: messageOf(error), ...(isArcuateError(error) ? { code: error.code } : {}) };
  }
}

/** arcuate's change data feed in the form deltars_read.py gives delta-rs's (_commit_timestamp in ms). */
export async function changesWithArcuate(path: string, start: number, end: number | null): Promise<Outcome> {
  try {
    const table = await DeltaTable.open(path);
    const schema = (await table.snapshot({ version: start })).schema;
    const fields = [
      ...schema.fields,
      { name: "_change_type", type: "string", nullable: false, metadata: {} },
      { name: "_commit_version", type: "long", nullable: false, metadata: {} },
      { name: "_commit_timestamp", type: "timestamp", nullable: false, metadata: {} },
    ];
    const rows: string[] = [];
    for await (const batch of table.changeBatches(start, end ?? undefined)) {
      for (const row of batchRows(batch, { type: "struct", fields })) {
        row._commit_timestamp = Date.parse(String(row._commit_timestamp));
        rows.push(canonical(row));
      }
    }
    return outcomeOf(rows);
  } catch (error) {
    return { error: messageOf(error), ...(isArcuateError(error) ? { code: error.code } : {}) };
  }
}

/** Runs deltars_read.py once for all entries; results keyed by table name, then version or "cdf:start:end". */
export async function readWithDeltaRs(
  entries: DeltaRsEntry[],
): Promise<Record<string, Record<string, TheirOutcome>>> {
  const dir = mkdtempSync(join(tmpdir(), "arcuate-deltars-"));
  writeFileSync(join(dir, "tables.json"), JSON.stringify(entries));
  const script = readFileSync(new URL("./deltars_read.py", import.meta.url), "utf8");
  await runPython(script, { args: [join(dir, "tables.json"), join(dir, "out.json")], timeoutMs: 600_000 });
  return JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as Record<
    string,
    Record<string, TheirOutcome>
  >;
}

/** Undefined when equal; else a description of the first difference. */
export function difference(ours: Outcome, theirs: TheirOutcome): string | undefined {
  if ("error" in ours || "error" in theirs) {
    return `ours: ${"error" in ours ? `error ${ours.error}` : "read"}; delta-rs: ${"error" in theirs ? `error ${theirs.error}` : "read"}`;
  }
  if (ours.schema !== undefined && canonical(ours.schema) !== canonical(theirs.schema)) {
    return `schema differs: ours ${canonical(ours.schema)} theirs ${canonical(theirs.schema)}`;
  }
  if (ours.count === theirs.count && ours.digest === theirs.digest) return undefined;
  const theirRows = theirs.rows ?? [];
  const i = theirRows.findIndex((r, k) => r !== ours.rows[k]);
  return `rows differ (${ours.count} vs ${theirs.count} rows); first: ours ${ours.rows[i]?.slice(0, 400)} theirs ${theirRows[i]?.slice(0, 400)}`;
}
