// Delta tables in a bucket (SeaweedFS): what arcuate writes there, delta-rs reads identically (all
// types, partitions, 12 commits with an overwrite and a checkpoint, the change data feed); eight
// writer processes appending at once lose and duplicate nothing; a writer killed before its
// commit leaves the previous version readable.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as arrow from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeltaTable, S3Storage } from "../../src/delta/index.js";
import {
  changesWithArcuate,
  difference,
  readWithArcuate,
  readWithDeltaRs,
} from "../delta/support/compare.js";
import { ALL_TYPES_SCHEMA, allTypesBatch } from "../delta/support/data.js";
import { type SeaweedFs, startSeaweedFs } from "../support/seaweedfs.js";

const BUCKET = "arcuate-delta";
const WORKER = fileURLToPath(new URL("../delta/support/append-worker.ts", import.meta.url));
let weed: SeaweedFs;

beforeAll(async () => {
  weed = await startSeaweedFs();
  await weed.createBucket(BUCKET);
  // arcuate, delta-rs (in the Python peers) and the worker processes all read these.
  Object.assign(process.env, weed.env);
});

afterAll(async () => {
  await weed?.stop();
});

function runWorker(
  ...args: string[]
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", WORKER, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
}

const idWriterSchema = {
  type: "struct" as const,
  fields: [
    { name: "id", type: "long", nullable: false, metadata: {} },
    { name: "writer", type: "integer", nullable: false, metadata: {} },
  ],
};

describe("arcuate-written S3 tables read by delta-rs", () => {
  it("read identically at every version, with partitions, an overwrite, a checkpoint and the change data feed", {
    timeout: 300_000,
  }, async () => {
    const nested = `s3://${BUCKET}/tables/nested`;
    const table = await DeltaTable.create(nested, {
      schema: ALL_TYPES_SCHEMA,
      partitionColumns: ["part", "bucket"],
    });
    for (let commit = 1; commit <= 12; commit += 1) {
      const version = await table.write(allTypesBatch(commit * 100, commit === 6 ? 40 : 15), {
        mode: commit === 6 ? "overwrite" : "append",
      });
      expect(version).toBe(commit);
    }
    const cdf = `s3://${BUCKET}/tables/cdf`;
    const feed = await DeltaTable.create(cdf, {
      schema: ALL_TYPES_SCHEMA,
      partitionColumns: ["part"],
      configuration: { "delta.enableChangeDataFeed": "true", "delta.checkpointInterval": "3" },
    });
    await feed.write(allTypesBatch(0, 10, "p1"), { mode: "append" });
    await feed.write(allTypesBatch(10, 10, "p2"), { mode: "append" });
    await feed.write(allTypesBatch(20, 5, null), { mode: "overwrite" });
    await feed.write(allTypesBatch(25, 5, "p1"), { mode: "append" });

    const log = await new S3Storage(nested).list("_delta_log/");
    expect(log.map((f) => f.path)).toContain("_delta_log/00000000000000000010.checkpoint.parquet");
    expect(log.map((f) => f.path)).toContain("_delta_log/_last_checkpoint");

    const versions = Array.from({ length: 13 }, (_, v) => v);
    const ranges = [
      [0, null],
      [2, 3],
      [4, 4],
    ] as const;
    const theirs = await readWithDeltaRs([
      { name: "nested", path: nested, versions },
      { name: "cdf", path: cdf, versions: [0, 1, 2, 3, 4], cdf: ranges.map(([a, b]) => [a, b]) },
    ]);
    const failures: string[] = [];
    for (const v of versions) {
      const diff = difference(await readWithArcuate(nested, v), theirs.nested![String(v)]!);
      if (diff) failures.push(`nested@${v}: ${diff}`);
    }
    for (const v of [0, 1, 2, 3, 4]) {
      const diff = difference(await readWithArcuate(cdf, v), theirs.cdf![String(v)]!);
      if (diff) failures.push(`cdf@${v}: ${diff}`);
    }
    for (const [start, end] of ranges) {
      const diff = difference(await changesWithArcuate(cdf, start, end), theirs.cdf![`cdf:${start}:${end}`]!);
      if (diff) failures.push(`changes ${start}..${end}: ${diff}`);
    }
    expect(failures).toEqual([]);
    expect((await table.snapshot()).numRecords).toBe(40 + 6 * 15);
  });
});

describe("concurrent writers on S3", () => {
  it("eight processes appending at once: contiguous versions, every commit exactly once, no row lost", {
    timeout: 300_000,
  }, async () => {
    const table = await DeltaTable.create(`s3://${BUCKET}/tables/eight`, { schema: idWriterSchema });
    const writers = 8;
    const commitsEach = 2;
    const results = await Promise.all(
      Array.from({ length: writers }, (_, w) => runWorker(table.location, String(w), String(commitsEach))),
    );
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    const total = writers * commitsEach;
    expect(await table.latestVersion()).toBe(total);
    const commits = await table.commits(1, total);
    expect(commits.map((c) => c.version)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const tags = commits.map((c) =>
      JSON.stringify(c.actions.find((a) => a.commitInfo)?.commitInfo?.arcuateTest),
    );
    const expected: string[] = [];
    for (let w = 0; w < writers; w += 1)
      for (let s = 0; s < commitsEach; s += 1) expected.push(JSON.stringify({ writer: w, seq: s }));
    expect([...tags].sort()).toEqual(expected.sort());
    const rows = await (await table.snapshot()).readArrow();
    expect(rows.numRows).toBe(total * 10);
    expect(new Set(rows.getChild("id")!.toArray() as BigInt64Array).size).toBe(total * 10);
  });

  it("a writer killed before its commit leaves the previous version readable", {
    timeout: 120_000,
  }, async () => {
    const location = `s3://${BUCKET}/tables/crash`;
    const table = await DeltaTable.create(location, { schema: idWriterSchema });
    const rows = (n: number) =>
      new arrow.Table({
        id: arrow.vectorFromArray(
          Array.from({ length: n }, (_, i) => BigInt(i)),
          new arrow.Int64(),
        ),
        writer: arrow.vectorFromArray(
          Array.from({ length: n }, () => 0),
          new arrow.Int32(),
        ),
      });
    await table.write(rows(10), { mode: "append" });
    const before = await table.snapshot();
    const storage = new S3Storage(location);
    const dataBefore = (await storage.list("")).filter(
      (f) => f.path.endsWith(".parquet") && !f.path.startsWith("_delta_log"),
    );
    const crashed = await runWorker(location, "2", "crash");
    expect(crashed.signal).toBe("SIGKILL");
    const dataAfter = (await storage.list("")).filter(
      (f) => f.path.endsWith(".parquet") && !f.path.startsWith("_delta_log"),
    );
    expect(dataAfter.length).toBe(dataBefore.length + 1); // its data file, in no commit
    const after = await table.snapshot();
    expect(after.version).toBe(before.version);
    expect((await after.readArrow()).numRows).toBe(10);
    const theirs = await readWithDeltaRs([{ name: "crash", path: location, versions: [null] }]);
    expect(difference(await readWithArcuate(location, null), theirs.crash!.null!)).toBeUndefined();
    expect(await table.write(rows(5), { mode: "append" })).toBe(before.version + 1);
  });
});
