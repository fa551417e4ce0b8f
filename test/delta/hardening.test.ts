// Delta hardening, checked with delta-rs (and pyarrow for the checkpoint file itself): checkpoints
// keep the remove tombstones of the retention period; an overwrite that loses a commit race
// re-reads and retries, leaving exactly its own rows; VACUUM deletes what no version of the
// retention window needs, and nothing that one does.
import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import * as arrow from "apache-arrow";
import { afterAll, describe, expect, it } from "vitest";
import { writeCheckpoint } from "../../src/delta/checkpoint.js";
import { DeltaTable } from "../../src/delta/index.js";
import { runPython } from "../support/python.js";

const root = mkdtempSync(join(tmpdir(), "arcuate-delta-hardening-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DAY = 86_400_000;
const SCHEMA = {
  type: "struct" as const,
  fields: [{ name: "id", type: "long" as const, nullable: false, metadata: {} }],
};
const rows = (...ids: number[]) => arrow.tableFromArrays({ id: BigInt64Array.from(ids.map(BigInt)) });

async function python(code: string, ...args: string[]): Promise<Record<string, unknown>> {
  const out = await runPython(code, { args });
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

/** Every file under the table but its log, relative and sorted. */
function dataFiles(path: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "_delta_log") walk(full);
      } else out.push(relative(path, full));
    }
  };
  walk(path);
  return out.sort();
}

function age(file: string, ms: number): void {
  const t = new Date(Date.now() - ms);
  utimesSync(file, t, t);
}

describe("checkpoints", () => {
  it("keep the remove tombstones within delta.deletedFileRetentionDuration and drop older ones", async () => {
    const path = join(root, "tombstones");
    const table = await DeltaTable.create(path, {
      schema: SCHEMA,
      configuration: { "delta.deletedFileRetentionDuration": "interval 2 days" },
    });
    await table.write(rows(1, 2), { mode: "append" });
    const removed = dataFiles(path);
    await table.write(rows(3), { mode: "overwrite" });
    await table.checkpoint();
    const read = `
import sys, json, pyarrow.parquet as pq
from deltalake import DeltaTable
t = pq.read_table(sys.argv[1] + "/_delta_log/" + sys.argv[2]).to_pylist()
removes = sorted(r["remove"]["path"] for r in t if r["remove"])
print(json.dumps({"removes": removes, "rows": sorted(DeltaTable(sys.argv[1]).to_pyarrow_table().column("id").to_pylist())}))
`;
    const fresh = await python(read, path, "00000000000000000002.checkpoint.parquet");
    expect(fresh).toEqual({ removes: removed, rows: [3] });
    // The same checkpoint written three days later holds none: they have expired.
    await writeCheckpoint(table.storage, 2, Date.now() + 3 * DAY);
    const late = await python(read, path, "00000000000000000002.checkpoint.parquet");
    expect(late).toEqual({ removes: [], rows: [3] });
    expect(await table.readArrow().then((t) => t.numRows)).toBe(1);
  }, 120_000);
});

describe("an overwrite racing another writer", () => {
  it("re-reads after losing the commit and leaves exactly its own rows, removing the winner's files too", async () => {
    const path = join(root, "race");
    const table = await DeltaTable.create(path, { schema: SCHEMA });
    await table.write(rows(1), { mode: "append" });
    // Another writer commits version 2 after the overwrite wrote its files, before it commits.
    const version = await table.write(rows(10, 11), {
      mode: "overwrite",
      beforeCommit: async () => {
        await DeltaTable.at(path).write(rows(2), { mode: "append" });
      },
    });
    expect(version).toBe(3);
    const history = (await table.history()).map((c) => c.operationParameters?.mode);
    expect(history.slice(0, 2)).toEqual(["Overwrite", "Append"]);
    const seen = await python(
      `
import sys, json
from deltalake import DeltaTable
dt = DeltaTable(sys.argv[1])
print(json.dumps({"version": dt.version(), "rows": sorted(dt.to_pyarrow_table().column("id").to_pylist()),
  "v2": sorted(DeltaTable(sys.argv[1], version=2).to_pyarrow_table().column("id").to_pylist())}))
`,
      path,
    );
    expect(seen).toEqual({ version: 3, rows: [10, 11], v2: [1, 2] });
  }, 120_000);
});

describe("VACUUM", () => {
  /** v0 create, v1 [1], v2 overwrite [2], v3 overwrite [3]: commits 10, 9 and 3 days old, v0 older. */
  async function agedTable(name: string) {
    const path = join(root, name);
    const table = await DeltaTable.create(path, { schema: SCHEMA });
    const files: string[][] = [];
    for (const [ids, mode] of [
      [[1], "append"],
      [[2], "overwrite"],
      [[3], "overwrite"],
    ] as const) {
      const before = new Set(dataFiles(path));
      await table.write(rows(...ids), { mode });
      files.push(dataFiles(path).filter((f) => !before.has(f)));
    }
    const ages = [11 * DAY, 10 * DAY, 9 * DAY, 3 * DAY];
    for (const [v, ms] of ages.entries())
      age(join(path, "_delta_log", `${String(v).padStart(20, "0")}.json`), ms);
    for (const [i, group] of files.entries()) for (const f of group) age(join(path, f), ages[i + 1]!);
    return { path, table, files };
  }

  it("deletes what no version current in the last week needs, keeps the rest, and delta-rs reads what is left", async () => {
    const { path, table, files } = await agedTable("vacuum");
    // Left behind by writers: one long ago (deleted), one just now and maybe not committed yet (kept).
    writeFileSync(join(path, "part-orphan-old.parquet"), "x");
    age(join(path, "part-orphan-old.parquet"), 20 * DAY);
    writeFileSync(join(path, "part-orphan-new.parquet"), "x");
    const dry = await table.vacuum({ dryRun: true });
    // A week ago version 2 was current (committed 9 days ago, replaced 3 days ago): v2 and v3 stay.
    expect(dry).toMatchObject({ oldestVersionKept: 2, dryRun: true, retentionMs: 7 * DAY });
    expect(dry.files).toEqual([...files[0]!, "part-orphan-old.parquet"].sort());
    expect(dataFiles(path)).toContain(files[0]![0]);
    const size = statSync(join(path, files[0]![0]!)).size;
    const done = await table.vacuum();
    expect(done.files).toEqual(dry.files);
    expect(done.bytes).toBe(size + 1);
    expect(dataFiles(path)).toEqual([...files[1]!, ...files[2]!, "part-orphan-new.parquet"].sort());
    const seen = await python(
      `
import sys, json
from deltalake import DeltaTable
out = {}
for v in (1, 2, 3):
    try:
        out[str(v)] = DeltaTable(sys.argv[1], version=v).to_pyarrow_table().column("id").to_pylist()
    except Exception as e:
        out[str(v)] = "unreadable"
print(json.dumps(out))
`,
      path,
    );
    expect(seen).toEqual({ "1": "unreadable", "2": [2], "3": [3] });
    // Again: nothing more to do.
    expect((await table.vacuum()).files).toEqual([]);
  }, 120_000);

  it("keeps every version after a checkpoint too, and refuses a retention shorter than file URLs live", async () => {
    const { path, table, files } = await agedTable("vacuum-checkpointed");
    await table.checkpoint();
    const result = await table.vacuum({ retentionMs: 4 * DAY });
    // Four days ago version 2 was still current: only version 1's file goes.
    expect(result.files).toEqual(files[0]);
    await expect(table.vacuum({ retentionMs: 3_600_000 })).rejects.toThrow(
      "delta: a VACUUM retention of 1 hours is too short: file URLs handed out in the last 2 hours may still need the files (the least is 2 hours)",
    );
    const seen = await python(
      `
import sys, json
from deltalake import DeltaTable
print(json.dumps(DeltaTable(sys.argv[1]).to_pyarrow_table().column("id").to_pylist()))
`,
      path,
    );
    expect(seen).toEqual([3]);
  }, 120_000);
});
