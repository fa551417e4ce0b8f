// The official Python connector (`delta-sharing`) against arcuate's server: listings, versions,
// metadata, loads (plain, limit, version, timestamp) and changes, in both response formats, on
// tables written by arcuate and by delta-rs, and on golden tables written by Spark. The oracle is delta-rs reading
// the same table in the same Python process. One Python process does every check, to keep the
// suite fast.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Bool, Float64, Int64, Table, Utf8, vectorFromArray } from "apache-arrow";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DeltaTable } from "../../src/delta/index.js";
import { GOLDEN_TABLES } from "../support/paths.js";
import { runPythonJson } from "../support/python.js";
import {
  startTestSharingServer,
  type TestSharingServer,
  writeDeltaRsTables,
} from "../support/sharing-server.js";

const CHECKS = `
import json, sys, math
import pandas as pd, pyarrow as pa, delta_sharing
from deltalake import DeltaTable

spec = json.loads(sys.argv[1])
profile = spec["profile"]
failures, done = [], []

def rows(df, drop=()):
    df = df[[c for c in sorted(df.columns) if c not in drop]]
    def cell(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "None"
        if hasattr(v, "tolist"):
            v = v.tolist()
        return str(v)
    return list(df.columns), sorted(tuple(cell(v) for v in r) for r in df.itertuples(index=False))

def check(name, fn):
    done.append(name)
    try:
        problem = fn()
        if problem:
            failures.append(f"{name}: {problem}")
    except Exception as e:
        failures.append(f"{name}: {type(e).__name__}: {str(e)[:300]}")

def same(got, expected, drop=()):
    g, e = rows(got, drop), rows(expected, drop)
    if g != e:
        return f"got {g[0]} {g[1][:3]}... ({len(g[1])} rows), expected {e[0]} {e[1][:3]}... ({len(e[1])} rows)"

client = delta_sharing.SharingClient(profile)
shares = sorted(s.name for s in client.list_shares())
check("list_shares", lambda: None if shares == spec["shares"] else f"got {shares}")
schemas = sorted(s.name for s in client.list_schemas(delta_sharing.protocol.Share(name=spec["shares"][0])))
check("list_schemas", lambda: None if schemas == spec["schemas"] else f"got {schemas}")
per_schema = sorted(f"{t.share}.{t.schema}.{t.name}" for name in spec["schemas"] for t in client.list_tables(delta_sharing.protocol.Schema(name=name, share=spec["shares"][0])))
tables = sorted(f"{t.share}.{t.schema}.{t.name}" for t in client.list_all_tables())
check("list_tables", lambda: None if per_schema == tables else f"got {per_schema}")
check("list_all_tables", lambda: None if tables == sorted([t["name"] for t in spec["tables"]] + [spec["dv"]]) else f"got {tables}")

for t in spec["tables"]:
    url, path, name = f"{profile}#{t['name']}", t["path"], t["name"]
    dt = DeltaTable(path)
    latest = dt.version()
    check(f"{name} get_table_version", lambda: None if delta_sharing.get_table_version(url) == latest else "wrong version")
    for fmt in (False, True):
        tag = f"{name} delta={fmt}"
        def metadata():
            m = delta_sharing.get_table_metadata(url, use_delta_format=fmt)
            fields = [f["name"] for f in json.loads(m.schema_string)["fields"]]
            if fields != [f.name for f in dt.schema().fields]:
                return f"fields {fields}"
            if list(m.partition_columns) != list(dt.metadata().partition_columns):
                return f"partition columns {m.partition_columns}"
        check(f"{tag} get_table_metadata", metadata)
        full = dt.to_pandas()
        check(f"{tag} load_as_pandas", lambda: same(delta_sharing.load_as_pandas(url, use_delta_format=fmt), full))
        def limited():
            got = delta_sharing.load_as_pandas(url, limit=2, use_delta_format=fmt)
            if len(got) != min(2, len(full)):
                return f"{len(got)} rows"
            whole = rows(full)[1]
            if any(r not in whole for r in rows(got)[1]):
                return "rows that are not in the table"
        check(f"{tag} load_as_pandas limit=2", limited)
        if t.get("version") is not None:
            v = t["version"]
            check(f"{tag} load_as_pandas version={v}", lambda: same(delta_sharing.load_as_pandas(url, version=v, use_delta_format=fmt), DeltaTable(path, version=v).to_pandas()))
        if t.get("timestamp") is not None:
            ts, v = t["timestamp"], t["timestampVersion"]
            check(f"{tag} load_as_pandas timestamp={ts}", lambda: same(delta_sharing.load_as_pandas(url, timestamp=ts, use_delta_format=fmt), DeltaTable(path, version=v).to_pandas()))
        if t.get("cdf"):
            def changes():
                got = delta_sharing.load_table_changes_as_pandas(url, starting_version=0, use_delta_format=fmt)
                expected = pa.RecordBatchReader.from_stream(dt.load_cdf(starting_version=0)).read_all().to_pandas()
                return same(got, expected, drop=("_commit_timestamp",))
            check(f"{tag} load_table_changes_as_pandas", changes)
            def changes_by_time():
                got = delta_sharing.load_table_changes_as_pandas(url, starting_timestamp=t["timestamp"], use_delta_format=fmt)
                expected = pa.RecordBatchReader.from_stream(dt.load_cdf(starting_version=t["timestampVersion"] + 1)).read_all().to_pandas()
                return same(got, expected, drop=("_commit_timestamp",))
            check(f"{tag} load_table_changes_as_pandas starting_timestamp", changes_by_time)

# Deletion vectors (delta format only; delta-rs cannot read these tables, so the oracle is the
# rule the golden table was written with: rows with an even col1 below 30 were deleted).
def deletion_vectors():
    got = delta_sharing.load_as_pandas(f"{profile}#{spec['dv']}", use_delta_format=True)
    if len(got) != 35 or any(c % 2 == 0 and c < 30 for c in got["col1"]):
        return f"{len(got)} rows: {sorted(got['col1'])}"
check("deletion vectors", deletion_vectors)

print(json.dumps({"checks": done, "failures": failures}))
`;

let server: TestSharingServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "arcuate-server-python-"));
  server = await startTestSharingServer();
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A table written by arcuate: partitioned by kind, change data feed on, v1 and v2 append, v3 overwrites. */
async function writeArcuateTable(location: string): Promise<void> {
  const rows = (ids: number[], kind: string) =>
    new Table({
      id: vectorFromArray(ids.map(BigInt), new Int64()),
      kind: vectorFromArray(
        ids.map(() => kind),
        new Utf8(),
      ),
      score: vectorFromArray(
        ids.map((i) => i / 4),
        new Float64(),
      ),
      even: vectorFromArray(
        ids.map((i) => i % 2 === 0),
        new Bool(),
      ),
    });
  const table = await DeltaTable.create(location, {
    schema: rows([0], "a").schema,
    partitionColumns: ["kind"],
    configuration: { "delta.enableChangeDataFeed": "true" },
  });
  await table.write(rows([1, 2, 3], "a"), { mode: "append" });
  await new Promise((r) => setTimeout(r, 200)); // distinct commit times
  await table.write(rows([4, 5], "b"), { mode: "append" });
  await new Promise((r) => setTimeout(r, 200));
  await table.write(rows([6, 7, 8, 9], "c"), { mode: "overwrite" });
}

/** For each table, a time between the commits of versions 1 and 2, by delta-rs's reading of the log (one Python process). */
async function timesBetweenV1AndV2(paths: string[]): Promise<string[]> {
  const times = await runPythonJson<number[][]>(
    `import sys, json\nfrom deltalake import DeltaTable\nprint(json.dumps([[c["timestamp"] for c in sorted(DeltaTable(p).history(), key=lambda c: c["version"])] for p in sys.argv[1:]]))`,
    { args: paths },
  );
  return times.map((t) => new Date(Math.round((t[1]! + t[2]!) / 2)).toISOString());
}

it("serves the official Python connector in both formats, with results equal to delta-rs's", async () => {
  const deltaRs = await writeDeltaRsTables(dir);
  const arcuate = join(dir, "arcuate");
  await writeArcuateTable(arcuate);
  const golden = [
    "snapshot-data3",
    "multi-part-checkpoint",
    "data-reader-primitives",
    "data-reader-nested-struct",
    "time-travel-start-start20-start40",
    "basic-with-inserts-deletes-checkpoint",
  ];
  const [arcuateTime, deltaRsTime] = await timesBetweenV1AndV2([arcuate, deltaRs.plain]);
  const tables = [
    // A timestamp between versions 1 and 2 selects version 1 (and the change data feed from 2).
    {
      schema: "arc",
      table: "scores",
      location: arcuate,
      version: 1,
      timestamp: arcuateTime,
      timestampVersion: 1,
      cdf: true,
    },
    {
      schema: "rs",
      table: "plain",
      location: deltaRs.plain,
      version: 1,
      timestamp: deltaRsTime,
      timestampVersion: 1,
      cdf: true,
    },
    { schema: "rs", table: "parts", location: deltaRs.parts },
    ...golden.map((name) => ({
      schema: "golden",
      table: name,
      location: join(GOLDEN_TABLES, name),
      version: name.startsWith("time-travel") ? 1 : undefined,
    })),
  ];
  const dv = {
    schema: "golden",
    table: "dv-partitioned-with-checkpoint",
    location: join(GOLDEN_TABLES, "dv-partitioned-with-checkpoint"),
  };
  const credentials = await server.shareTables({ share: "demo", tables: [...tables, dv] });
  const spec = {
    profile: credentials.profilePath,
    shares: ["demo"],
    schemas: ["arc", "golden", "rs"],
    tables: tables.map((t) => ({ ...t, name: `demo.${t.schema}.${t.table}`, path: t.location })),
    dv: `demo.${dv.schema}.${dv.table}`,
  };
  const result = await runPythonJson<{ checks: string[]; failures: string[] }>(CHECKS, {
    args: [JSON.stringify(spec)],
    timeoutMs: 240_000,
  });
  expect(result.failures).toEqual([]);
  expect(result.checks.length).toBeGreaterThan(60);
}, 300_000);
