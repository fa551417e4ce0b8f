// Atomic commits across processes: eight writers appending to one table at once, and a writer
// killed between writing its data files and committing them.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as arrow from "apache-arrow";
import { describe, expect, it } from "vitest";
import { DeltaTable } from "../../src/delta/index.js";
import { difference, readWithArcuate, readWithDeltaRs } from "./support/compare.js";

const WORKER = fileURLToPath(new URL("./support/append-worker.ts", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "arcuate-delta-concurrency-"));

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

async function createTable(name: string): Promise<{ path: string; table: DeltaTable }> {
  const path = join(root, name);
  const table = await DeltaTable.create(path, {
    schema: {
      type: "struct",
      fields: [
        { name: "id", type: "long", nullable: false, metadata: {} },
        { name: "writer", type: "integer", nullable: false, metadata: {} },
      ],
    },
  });
  return { path, table };
}

describe("concurrent writers", () => {
  it("eight processes appending at once: every commit lands exactly once, versions contiguous, no row lost", {
    timeout: 180_000,
  }, async () => {
    const { table } = await createTable("eight");
    const writers = 8;
    const commitsEach = 4;
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
    const expected = [];
    for (let w = 0; w < writers; w += 1)
      for (let s = 0; s < commitsEach; s += 1) expected.push(JSON.stringify({ writer: w, seq: s }));
    expect([...tags].sort()).toEqual(expected.sort());

    const rows = await (await table.snapshot()).readArrow();
    expect(rows.numRows).toBe(total * 10);
    const ids = new Set(rows.getChild("id")!.toArray() as BigInt64Array);
    expect(ids.size).toBe(total * 10);
    // A checkpoint was written along the way (every 10 commits) and replay from it agrees.
    expect(
      readdirSync(join(table.location, "_delta_log")).some((f) => f.endsWith(".checkpoint.parquet")),
    ).toBe(true);
  });

  it("a writer killed between writing data files and committing leaves the table at its previous version", {
    timeout: 120_000,
  }, async () => {
    const { path, table } = await createTable("crash");
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
    await table.write(rows(10), { mode: "append" });
    const before = await table.snapshot();
    const crashed = await runWorker(path, "2", "crash");
    expect(crashed.signal).toBe("SIGKILL");

    // The orphaned data file is on disk but not in the table.
    const dataFiles = readdirSync(path).filter((f) => f.endsWith(".parquet"));
    expect(dataFiles.length).toBe(before.files.length + 1);
    const after = await table.snapshot();
    expect(after.version).toBe(before.version);
    expect(after.files).toEqual(before.files);
    expect((await after.readArrow()).numRows).toBe(20);

    // delta-rs agrees, and the next writer simply commits the next version.
    const theirs = await readWithDeltaRs([{ name: "crash", path, versions: [null] }]);
    expect(difference(await readWithArcuate(path, null), theirs.crash!.null!)).toBeUndefined();
    await table.write(rows(10), { mode: "append" });
    expect(await table.latestVersion()).toBe(before.version + 1);
    expect((await (await table.snapshot()).readArrow()).numRows).toBe(30);
  });
});
