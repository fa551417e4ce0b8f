// The decode pool: data files decoded in worker threads come back as the same rows as decoding
// them on the main thread, for every type the Delta writer has (nested ones, decimals, timestamps,
// nulls), with partition values, deleted rows and a limit. Also that the pool really runs in
// workers: run from sources it once failed to start its workers and fell back to the main thread
// without a word.
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as arrow from "apache-arrow";
import { describe, expect, it } from "vitest";
import { batchRows, DeltaTable, type ReadFileOptions, readParquetFile } from "../../src/delta/index.js";
import { DecodePool } from "../../src/sharing/client/decode-pool.js";
import { ALL_TYPES_SCHEMA, allTypesBatch } from "../delta/support/data.js";

const rows = (batches: arrow.RecordBatch[]) => batches.flatMap((b) => [...batchRows(b, ALL_TYPES_SCHEMA)]);

describe("decode pool", () => {
  it("decodes in worker threads exactly as on the main thread", async () => {
    const location = join(await mkdtemp(join(tmpdir(), "arcuate-pool-")), "t");
    const table = await DeltaTable.create(location, { schema: ALL_TYPES_SCHEMA });
    await table.write(allTypesBatch(0, 500), { mode: "append" });
    const file = readdirSync(location).find((f) => f.endsWith(".parquet"))!;
    const bytes = new Uint8Array(readFileSync(join(location, file)));

    const pool = new DecodePool(1);
    const cases: Array<[Record<string, string | null>, ReadFileOptions]> = [
      [{}, {}],
      [{ part: "from the log" }, { partitionColumns: ["part"] }],
      [{}, { deletedRows: [0, 3, 4, 250, 499] }],
      [{}, { limit: 7 }],
    ];
    for (const [partitionValues, options] of cases) {
      const expected = rows(
        (await readParquetFile(bytes, ALL_TYPES_SCHEMA, partitionValues, options)).batches,
      );
      // The first request copies the bytes to the worker, later ones move them: send a copy.
      for (let i = 0; i < 2; i++) {
        const decoded = await pool.decode(bytes.slice(), ALL_TYPES_SCHEMA, partitionValues, options);
        expect(rows(decoded)).toEqual(expected);
      }
    }
    expect(pool.failed).toBe(false);
  });

  it("moves the bytes to a worker that has answered, and copies them before", async () => {
    const location = join(await mkdtemp(join(tmpdir(), "arcuate-pool-")), "t");
    const table = await DeltaTable.create(location, { schema: ALL_TYPES_SCHEMA });
    await table.write(allTypesBatch(0, 10), { mode: "append" });
    const file = readdirSync(location).find((f) => f.endsWith(".parquet"))!;
    const pool = new DecodePool(1);
    const first = new Uint8Array(readFileSync(join(location, file)));
    await pool.decode(first, ALL_TYPES_SCHEMA, {}, {});
    expect(first.byteLength).toBeGreaterThan(0);
    const second = new Uint8Array(readFileSync(join(location, file)));
    await pool.decode(second, ALL_TYPES_SCHEMA, {}, {});
    expect(second.byteLength).toBe(0);
  });

  it("answers a corrupt file with the Delta reader's error", async () => {
    const pool = new DecodePool(1);
    await expect(pool.decode(new Uint8Array([1, 2, 3]), ALL_TYPES_SCHEMA, {}, {})).rejects.toThrow(
      "delta: cannot read parquet file",
    );
    expect(pool.failed).toBe(false);
  });

  it("keeps no handle alive once idle, and starts workers only as work needs them", async () => {
    const location = join(await mkdtemp(join(tmpdir(), "arcuate-pool-")), "t");
    const table = await DeltaTable.create(location, { schema: ALL_TYPES_SCHEMA });
    await table.write(allTypesBatch(0, 10), { mode: "append" });
    const file = readdirSync(location).find((f) => f.endsWith(".parquet"))!;
    const bytes = new Uint8Array(readFileSync(join(location, file)));
    // Handles that keep the event loop alive (ref'd ones only): an idle pool must add none.
    const alive = () =>
      process.getActiveResourcesInfo().filter((r) => r === "MessagePort" || r === "Worker").length;
    const before = alive();
    const pool = new DecodePool(2);
    expect(pool.started).toBe(0);
    await pool.decode(bytes.slice(), ALL_TYPES_SCHEMA, {}, {});
    expect(pool.started).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(alive()).toBe(before);
    await Promise.all([0, 1, 2].map(() => pool.decode(bytes.slice(), ALL_TYPES_SCHEMA, {}, {})));
    expect(pool.started).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(alive()).toBe(before);
  });
});
