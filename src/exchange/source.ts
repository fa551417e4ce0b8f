// Where an import reads an export from: a schema of a Delta Sharing share (through arcuate's
// client, from any standard server), or tables already loaded in memory. Both give the same
// three things: the tables' format properties, and their rows as record batches.
import type { RecordBatch, Table } from "apache-arrow";
import { ArcuateError } from "../errors.js";
import type { SharingClient } from "../sharing/client/index.js";
import {
  type ExportKind,
  FORMAT_VERSION,
  PROPERTY_FORMAT,
  PROPERTY_KIND,
  type TableName,
  tablesOf,
} from "./format.js";

export interface ExportSource {
  /** Says where the export is, for messages ("share s, schema x on http://…"). */
  readonly description: string;
  /** The format properties of a table; undefined when the table is not there. */
  properties(table: TableName): Promise<Record<string, string> | undefined>;
  /** The rows of a table, at a version when asked (only the anchor table is read at one). */
  batches(table: TableName, options?: { version?: number }): AsyncIterable<RecordBatch>;
}

/** An export in a share: `schema` of `share`, read with a Delta Sharing client. */
export class SharedExportSource implements ExportSource {
  readonly description: string;

  constructor(
    private readonly client: SharingClient,
    private readonly share: string,
    private readonly schema: string,
    endpoint = "",
  ) {
    this.description = `share '${share}', schema '${schema}'${endpoint ? ` on ${endpoint}` : ""}`;
  }

  async properties(table: TableName): Promise<Record<string, string> | undefined> {
    try {
      const info = await this.client.tableMetadata({ share: this.share, schema: this.schema, name: table });
      return info.metadata.configuration ?? {};
    } catch (error) {
      if (error instanceof ArcuateError && error.code === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw error;
    }
  }

  batches(table: TableName, options: { version?: number } = {}): AsyncIterable<RecordBatch> {
    return this.client.queryTableBatches(
      { share: this.share, schema: this.schema, name: table },
      options.version === undefined ? {} : { version: options.version },
    );
  }
}

/** An export whose tables are already in memory (e.g. loaded by other means). */
export class LoadedExportSource implements ExportSource {
  readonly description = "tables given in memory";

  constructor(
    private readonly tables: Partial<Record<TableName, Table>>,
    private readonly kind: ExportKind,
  ) {}

  async properties(table: TableName): Promise<Record<string, string> | undefined> {
    if (!this.tables[table]) return undefined;
    return { [PROPERTY_FORMAT]: String(FORMAT_VERSION), [PROPERTY_KIND]: this.kind };
  }

  async *batches(table: TableName): AsyncGenerator<RecordBatch> {
    for (const batch of this.tables[table]?.batches ?? []) yield batch;
  }
}

/**
 * Checks, before anything is written at the recipient, that every table of the export is there
 * and of a format and kind this arcuate reads.
 */
export async function checkExport(source: ExportSource, kind: ExportKind): Promise<void> {
  for (const table of tablesOf(kind)) {
    const properties = await source.properties(table);
    if (properties === undefined) {
      throw new ArcuateError(
        "RESOURCE_DOES_NOT_EXIST",
        `exchange: ${source.description} has no table '${table}': it is not an arcuate ${kind} export, or the profile's recipient has no access to it`,
      );
    }
    const format = properties[PROPERTY_FORMAT];
    if (format === undefined) {
      throw new ArcuateError(
        "UNSUPPORTED_FORMAT",
        `exchange: table '${table}' of ${source.description} is not an arcuate table (no ${PROPERTY_FORMAT} property)`,
      );
    }
    if (format !== String(FORMAT_VERSION)) {
      throw new ArcuateError(
        "UNSUPPORTED_FORMAT",
        `exchange: table '${table}' of ${source.description} is in arcuate format ${format}; this arcuate reads format ${FORMAT_VERSION}`,
      );
    }
    const actualKind = properties[PROPERTY_KIND];
    if (actualKind !== undefined && actualKind !== kind) {
      throw new ArcuateError(
        "UNSUPPORTED_FORMAT",
        `exchange: ${source.description} is an exported ${actualKind}, not a${kind === "experiment" ? "n" : ""} ${kind}`,
      );
    }
  }
}

/** All batches of a table as one Arrow table (for the small index tables only). */
export async function readAll(batches: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const all: RecordBatch[] = [];
  for await (const batch of batches) all.push(batch);
  return all;
}
