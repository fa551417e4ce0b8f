// The Delta tables of one export, over src/delta. Each write is one Delta commit carrying the
// export's sequence number in its commitInfo (`arcuate.exportSeq`), so a failed export leaves
// every table at its previous version, and the next export can tell what a crashed one left.
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { RecordBatch } from "apache-arrow";
import { type AddAction, arrowSchemaToDelta, DeltaTable, isS3Location } from "../delta/index.js";
import { CHUNK_BYTES, type ExportKind, SCHEMAS, type TableName, tableProperties } from "./format.js";

export const COMMIT_SEQ_KEY = "arcuate.exportSeq";

/**
 * Data files of at most this many rows. The writer holds one file's rows in memory while it
 * encodes them, and a reader decodes a file whole: metrics files of 250,000 points, and
 * artifacts files of at most one 8 MiB chunk's worth of bytes (FILE_BYTES) keep both flat
 * however large the experiment or an artifact is.
 */
const FILE_ROWS: Partial<Record<TableName, number>> = {
  artifacts: 10_000,
  metrics: 250_000,
  spans: 50_000,
  traces: 5_000,
  assessments: 10_000,
  // Runs stream in pages of 1000: files of a few pages, not one file holding every run.
  runs: 5_000,
};
const FILE_BYTES: Partial<Record<TableName, number>> = { artifacts: CHUNK_BYTES, spans: CHUNK_BYTES };

/**
 * Where an export's tables live: under $ARCUATE_TABLES when it is set (a folder, or
 * `s3://bucket/prefix` so that a provider's whole share lives in a bucket), else under arcuate's
 * working folder.
 */
export function exportLocation(workDir: string, share: string, schema: string, table: TableName): string {
  const base = process.env.ARCUATE_TABLES;
  if (base && isS3Location(base)) return `${base.replace(/\/+$/, "")}/${share}/${schema}/${table}`;
  if (base) return join(resolve(base), share, schema, table);
  return join(workDir, "tables", share, schema, table);
}

export class ExportTable {
  private table: DeltaTable | undefined;

  constructor(
    readonly location: string,
    readonly kind: ExportKind,
    readonly name: TableName,
  ) {}

  /** The table, or undefined when no export has created it yet. */
  async open(): Promise<DeltaTable | undefined> {
    if (this.table) return this.table;
    try {
      this.table = await DeltaTable.open(this.location);
    } catch (error) {
      if (error instanceof Error && "code" in error && error.code === "RESOURCE_DOES_NOT_EXIST")
        return undefined;
      throw error;
    }
    return this.table;
  }

  /** Batches of the latest snapshot (only `columns`), nothing when the table does not exist. */
  async *scan(columns?: string[]): AsyncGenerator<RecordBatch> {
    const table = await this.open();
    if (!table) return;
    const snapshot = await table.snapshot();
    for await (const batch of snapshot.scanBatches(columns ? { columns } : {})) yield batch;
  }

  /** The table, created empty (version 0, schema and properties only) when it does not exist. */
  async create(seq: number): Promise<DeltaTable> {
    const existing = await this.open();
    if (existing) return existing;
    if (!isS3Location(this.location)) await mkdir(this.location, { recursive: true });
    this.table = await DeltaTable.create(this.location, {
      schema: arrowSchemaToDelta(SCHEMAS[this.name]),
      configuration: tableProperties(this.kind, this.name),
      name: this.name,
      description: `arcuate ${this.kind} export: ${this.name}`,
      commitInfo: { [COMMIT_SEQ_KEY]: seq },
    });
    return this.table;
  }

  /**
   * Commits `batches` (append or overwrite) as one new version; creates the table first when
   * needed. Returns the new version. `beforeCommit` runs once the data files are written: it may
   * wait (for other tables to commit first) or throw, and then nothing is committed.
   */
  async write(
    batches: AsyncIterable<RecordBatch>,
    mode: "append" | "overwrite",
    seq: number,
    beforeCommit?: (table: DeltaTable, files: AddAction[]) => Promise<void>,
  ): Promise<number> {
    let table = await this.open();
    if (!table) {
      if (!isS3Location(this.location)) await mkdir(this.location, { recursive: true });
      table = await DeltaTable.create(this.location, {
        schema: arrowSchemaToDelta(SCHEMAS[this.name]),
        configuration: tableProperties(this.kind, this.name),
        name: this.name,
        description: `arcuate ${this.kind} export: ${this.name}`,
      });
      this.table = table;
    }
    const target = table;
    return target.write(batches, {
      mode,
      commitInfo: { [COMMIT_SEQ_KEY]: seq },
      ...(FILE_ROWS[this.name] ? { targetFileRows: FILE_ROWS[this.name] } : {}),
      ...(FILE_BYTES[this.name] ? { targetFileBytes: FILE_BYTES[this.name] } : {}),
      ...(beforeCommit ? { beforeCommit: (files: AddAction[]) => beforeCommit(target, files) } : {}),
    });
  }
}

/** The highest export sequence number committed to any of the tables (0 for a new export). */
export async function lastExportSeq(tables: ExportTable[]): Promise<number> {
  let seq = 0;
  for (const table of tables) {
    const delta = await table.open();
    if (!delta) continue;
    for (const commit of await delta.history()) {
      const value = Number((commit.commitInfo as Record<string, unknown> | undefined)?.[COMMIT_SEQ_KEY]);
      if (Number.isFinite(value)) seq = Math.max(seq, value);
    }
  }
  return seq;
}
