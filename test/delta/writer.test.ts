// Tables written by arcuate, read back by delta-rs: every version identical (schema and rows),
// through appends, an overwrite, a checkpoint, nested types and partitions; and the change data
// feed equal to delta-rs's load_cdf.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { describe, expect, it } from "vitest";
import { DeltaTable } from "../../src/delta/index.js";
import { ConflictError } from "../../src/errors.js";
import { changesWithArcuate, difference, readWithArcuate, readWithDeltaRs } from "./support/compare.js";
import { ALL_TYPES_SCHEMA, allTypesBatch } from "./support/data.js";

const root = mkdtempSync(join(tmpdir(), "arcuate-delta-writer-"));

describe("arcuate-written tables read by delta-rs", () => {
  it("reads identically at every version, through appends, an overwrite and a checkpoint", {
    timeout: 180_000,
  }, async () => {
    const nested = join(root, "nested");
    const table = await DeltaTable.create(nested, {
      schema: ALL_TYPES_SCHEMA,
      partitionColumns: ["part", "bucket"],
      configuration: { "arcuate.test": "yes" },
    });
    let next = 0;
    for (let commit = 1; commit <= 12; commit += 1) {
      const rows = commit === 6 ? 40 : 15;
      const version = await table.write(allTypesBatch(next, rows), {
        mode: commit === 6 ? "overwrite" : "append",
        commitInfo: { arcuateTest: commit },
      });
      expect(version).toBe(commit);
      next += rows;
    }
    // An unpartitioned table, with CDF, for the change data feed.
    const cdf = join(root, "cdf");
    const feed = await DeltaTable.create(cdf, {
      schema: ALL_TYPES_SCHEMA,
      partitionColumns: ["part"],
      configuration: { "delta.enableChangeDataFeed": "true", "delta.checkpointInterval": "3" },
    });
    await feed.write(allTypesBatch(0, 10, "p1"), { mode: "append" });
    await feed.write(allTypesBatch(10, 10, "p2"), { mode: "append" });
    await feed.write(allTypesBatch(20, 5, null), { mode: "overwrite" });
    await feed.write(allTypesBatch(25, 5, "p1"), { mode: "append" });

    // Partitioned by every primitive type delta-rs partitions by.
    const typed = join(root, "typed-partitions");
    const byType = await DeltaTable.create(typed, {
      schema: ALL_TYPES_SCHEMA,
      partitionColumns: ["flag", "tiny", "price", "day", "at", "local"],
    });
    await byType.write(allTypesBatch(0, 12), { mode: "append" });

    // The checkpoint at version 10 is there, with _last_checkpoint pointing at it.
    expect(existsSync(join(nested, "_delta_log", "00000000000000000010.checkpoint.parquet"))).toBe(true);
    expect(JSON.parse(readFileSync(join(nested, "_delta_log", "_last_checkpoint"), "utf8")).version).toBe(10);
    expect(existsSync(join(cdf, "_delta_log", "00000000000000000003.checkpoint.parquet"))).toBe(true);

    const versions = Array.from({ length: 13 }, (_, v) => v);
    const theirs = await readWithDeltaRs([
      { name: "nested", path: nested, versions },
      { name: "typed", path: typed, versions: [1] },
      {
        name: "cdf",
        path: cdf,
        versions: [0, 1, 2, 3, 4],
        cdf: [
          [0, null],
          [2, 3],
          [4, 4],
        ],
      },
    ]);
    const failures: string[] = [];
    for (const v of versions) {
      const diff = difference(await readWithArcuate(nested, v), theirs.nested![String(v)]!);
      if (diff) failures.push(`nested@${v}: ${diff}`);
    }
    const typedDiff = difference(await readWithArcuate(typed, 1), theirs.typed!["1"]!);
    if (typedDiff) failures.push(`typed partitions: ${typedDiff}`);
    for (const v of [0, 1, 2, 3, 4]) {
      const diff = difference(await readWithArcuate(cdf, v), theirs.cdf![String(v)]!);
      if (diff) failures.push(`cdf@${v}: ${diff}`);
    }
    for (const [start, end] of [
      [0, null],
      [2, 3],
      [4, 4],
    ] as const) {
      const ours = await changesWithArcuate(cdf, start, end);
      const diff = difference(ours, theirs.cdf![`cdf:${start}:${end}`]!);
      if (diff) failures.push(`changes ${start}..${end}: ${diff}`);
      if (start === 0 && !("error" in ours)) expect(ours.count).toBe(10 + 10 + 20 + 5 + 5);
    }
    expect(failures).toEqual([]);

    // What the log says about the writes.
    const snapshot = await table.snapshot();
    expect(snapshot.numRecords).toBe(40 + 6 * 15);
    expect(snapshot.metadata.configuration).toEqual({ "arcuate.test": "yes" });
    expect(snapshot.protocol).toEqual({
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ["timestampNtz"],
      writerFeatures: ["timestampNtz", "appendOnly", "invariants"],
    });
    const history = await table.history();
    expect(history.map((h) => h.version)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(history.find((h) => h.version === 6)?.operationParameters).toMatchObject({ mode: "Overwrite" });
    expect(history.find((h) => h.version === 6)?.commitInfo?.arcuateTest).toBe(6);
    const stats = JSON.parse(snapshot.files[0]!.stats!);
    expect(Object.keys(stats)).toEqual(["numRecords", "minValues", "maxValues", "nullCount"]);
  });

  it("refuses to create a table twice and to write columns the table lacks", async () => {
    const path = join(root, "twice");
    const table = await DeltaTable.create(path, { schema: ALL_TYPES_SCHEMA });
    await expect(DeltaTable.create(path, { schema: ALL_TYPES_SCHEMA })).rejects.toBeInstanceOf(ConflictError);
    const other = await DeltaTable.create(join(root, "small"), {
      schema: { type: "struct", fields: [{ name: "id", type: "long", nullable: false, metadata: {} }] },
    });
    await expect(other.write(allTypesBatch(0, 3), { mode: "append" })).rejects.toThrow(
      "delta: column name is not in the table's schema",
    );
    expect(await table.latestVersion()).toBe(0);
  });

  it("cuts data files by bytes held as well as by rows, so wide rows never pile up in memory", async () => {
    const path = join(root, "wide");
    const table = await DeltaTable.create(path, {
      schema: { type: "struct", fields: [{ name: "blob", type: "binary", nullable: false, metadata: {} }] },
    });
    const mib = 1024 * 1024;
    async function* blobs() {
      for (let i = 0; i < 10; i++) {
        yield new arrow.RecordBatch({
          blob: arrow.vectorFromArray([new Uint8Array(mib).fill(i)], new arrow.Binary()).data[0]!,
        });
      }
    }
    await table.write(blobs(), { mode: "append", targetFileRows: 1000, targetFileBytes: 3 * mib });
    const snapshot = await table.snapshot();
    // Three rows of 1 MiB reach 3 MiB: files of 3, 3, 3 and 1 rows.
    expect(snapshot.files.map((f) => JSON.parse(f.stats!).numRecords)).toEqual([3, 3, 3, 1]);
    let rows = 0;
    for await (const batch of snapshot.scanBatches()) rows += batch.numRows;
    expect(rows).toBe(10);
  });
});
