// The change data feed (PROTOCOL.md "Change Data Files" and "Reader Requirements for CDF"): the
// rows each commit in a range inserted or deleted, with `_change_type`, `_commit_version` and
// `_commit_timestamp`. A commit with `cdc` files is read from them; otherwise its data-changing
// `add` files are inserts and its data-changing `remove` files are deletes (appends and overwrites,
// which is what arcuate writes, carry no `cdc` files, as with Spark and delta-rs).
import * as arrow from "apache-arrow";
import { ArcuateError } from "../errors.js";
import type { MetadataAction } from "./actions.js";
import { columnMappingMode } from "./features.js";
import { listLog, readCommit } from "./log.js";
import { readParquetBatches } from "./parquet.js";
import { partitionColumn } from "./partitions.js";
import { commitTimestampFromActions, latestVersionOf, replay } from "./replay.js";
import { dataFileLocation } from "./scan-location.js";
import { deltaSchemaToArrow, parseSchemaString, type StructType } from "./schema.js";
import type { Storage } from "./storage.js";

export const CHANGE_COLUMNS = ["_change_type", "_commit_version", "_commit_timestamp"] as const;

function cdfEnabled(metadata: MetadataAction): boolean {
  return metadata.configuration?.["delta.enableChangeDataFeed"] === "true";
}

/** Streams the change rows of commits [fromVersion, toVersion] as record batches. */
export async function* changeBatches(
  storage: Storage,
  fromVersion: number,
  toVersion?: number,
): AsyncGenerator<arrow.RecordBatch> {
  const listing = await listLog(storage);
  const to = toVersion ?? latestVersionOf(listing);
  if (fromVersion < 0 || to < fromVersion) {
    throw new ArcuateError("INVALID_PARAMETER_VALUE", `delta: invalid version range ${fromVersion}..${to}`);
  }
  const start = await replay(storage, listing, fromVersion);
  let metadata = start.metadata;
  const schema = parseSchemaString(metadata.schemaString);
  const out = changeSchema(schema);
  for (let version = fromVersion; version <= to; version += 1) {
    if (!listing.commits.has(version)) {
      throw new ArcuateError(
        "INVALID_PARAMETER_VALUE",
        `delta: commit ${version} is not available for changes`,
      );
    }
    const actions = await readCommit(storage, version);
    for (const a of actions) {
      if (a.metaData) {
        if (a.metaData.schemaString !== metadata.schemaString && version > fromVersion) {
          throw new ArcuateError(
            "UNSUPPORTED_FEATURE",
            `delta: the schema changed at version ${version}; read changes before and after it separately`,
          );
        }
        metadata = a.metaData;
      }
    }
    if (!cdfEnabled(metadata)) {
      throw new ArcuateError(
        "INVALID_PARAMETER_VALUE",
        `delta: change data feed is not enabled at version ${version} (delta.enableChangeDataFeed)`,
      );
    }
    // As delta-rs's load_cdf: the commitInfo's timestamp (in-commit timestamp when there is one).
    const info = actions.find((a) => a.commitInfo)?.commitInfo;
    const fileTime = listing.commits.get(version)!.modificationTime;
    const timestamp = commitTimestampFromActions(
      actions,
      typeof info?.timestamp === "number" ? info.timestamp : fileTime,
    );
    const mapping = columnMappingMode(metadata);
    const partitionColumns = metadata.partitionColumns ?? [];
    const cdc = actions.filter((a) => a.cdc).map((a) => a.cdc!);
    const files: Array<{
      path: string;
      partitionValues: Record<string, string | null>;
      changeType?: string;
    }> =
      cdc.length > 0
        ? cdc.map((c) => ({ path: c.path, partitionValues: c.partitionValues ?? {} }))
        : [
            ...actions
              .filter((a) => a.remove?.dataChange)
              .map((a) => ({
                path: a.remove!.path,
                partitionValues: a.remove!.partitionValues ?? {},
                changeType: "delete",
              })),
            ...actions
              .filter((a) => a.add?.dataChange)
              .map((a) => ({
                path: a.add!.path,
                partitionValues: a.add!.partitionValues,
                changeType: "insert",
              })),
          ];
    for (const file of files) {
      const location = dataFileLocation(storage, file.path);
      const bytes = await location.storage.read(location.path);
      // cdc files carry their own _change_type column; add/remove files get a constant one.
      const fileSchema: StructType = file.changeType
        ? schema
        : {
            type: "struct",
            fields: [
              ...schema.fields,
              { name: "_change_type", type: "string", nullable: true, metadata: {} },
            ],
          };
      const batches = readParquetBatches(bytes, fileSchema, file.partitionValues, {
        columnMapping: mapping,
        partitionColumns,
      });
      for (const batch of batches) {
        const n = batch.numRows;
        const children = [
          ...batch.data.children.slice(0, schema.fields.length),
          file.changeType
            ? partitionColumn("string", file.changeType, n)
            : batch.data.children[schema.fields.length]!,
          partitionColumn("long", String(version), n),
          partitionColumn("timestamp", new Date(timestamp).toISOString(), n),
        ];
        yield new arrow.RecordBatch(
          out,
          arrow.makeData({ type: new arrow.Struct(out.fields), length: n, nullCount: 0, children }),
        );
      }
    }
  }
}

export function changeSchema(schema: StructType): arrow.Schema {
  return deltaSchemaToArrow({
    type: "struct",
    fields: [
      ...schema.fields,
      { name: "_change_type", type: "string", nullable: false, metadata: {} },
      { name: "_commit_version", type: "long", nullable: false, metadata: {} },
      { name: "_commit_timestamp", type: "timestamp", nullable: false, metadata: {} },
    ],
  });
}

/** All change rows of commits [fromVersion, toVersion] as one table. */
export async function readChanges(
  storage: Storage,
  fromVersion: number,
  toVersion?: number,
): Promise<arrow.Table> {
  const batches: arrow.RecordBatch[] = [];
  let schema: arrow.Schema | undefined;
  for await (const batch of changeBatches(storage, fromVersion, toVersion)) {
    schema = batch.schema;
    batches.push(batch);
  }
  if (!schema) {
    const state = await replay(storage, await listLog(storage), fromVersion);
    schema = changeSchema(parseSchemaString(state.metadata.schemaString));
  }
  return new arrow.Table(schema, batches);
}
