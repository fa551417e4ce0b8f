// The sharing client against arcuate's real sharing server, compared row for row with the official
// Python connector (delta-sharing: load_as_pandas, load_table_changes_as_pandas) reading the same
// tables from the same server in the same test. Tables: every golden table, and tables written by
// delta-rs (all types, partitioned, several versions with change data feed). All Python work runs
// in one long-lived process for this file (startPythonWorker below).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import * as arrow from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arrowSchemaToDelta, DeltaTable } from "../../src/delta/index.js";
import { batchRows, type JsonValue } from "../../src/delta/json.js";
import { sharingCommand } from "../../src/sharing/client/commands.js";
import { loadProfile, SharingClient } from "../../src/sharing/client/index.js";
import { GOLDEN_TABLES, PYTHON, requireVenv } from "../support/paths.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";

// ------------------------------------------------------------------------------------------------
// Canonical rows: one JSON form both sides can produce (Python's in the worker's `canon`).

type Canonical = null | boolean | number | string | Canonical[] | { [key: string]: Canonical };

const TIMESTAMP_Z = /^-?\+?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const DECIMAL = /^-?\d+\.\d+$/;

function canon(value: JsonValue | Canonical): Canonical {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isInteger(value) ? value : Number(value.toPrecision(12));
  if (typeof value === "string") {
    if (value === "NaN") return null; // pandas cannot tell NaN from null
    if (TIMESTAMP_Z.test(value)) return value.slice(0, -1);
    if (DECIMAL.test(value)) {
      const trimmed = value.replace(/0+$/, "").replace(/\.$/, "");
      return trimmed === "-0" ? "0" : trimmed;
    }
    return value;
  }
  if (Array.isArray(value)) return value.map(canon);
  const keys = Object.keys(value).sort();
  if (keys.length === 0) return []; // an empty map: {} from Arrow, [] from pandas
  const out: { [key: string]: Canonical } = {};
  for (const key of keys) out[key] = canon(value[key]!);
  return out;
}

interface Rows {
  columns: string[];
  rows: string[];
}

function arrowRows(table: arrow.Table): Rows {
  const schema = arrowSchemaToDelta(table.schema);
  const rows: string[] = [];
  for (const batch of table.batches) {
    for (const row of batchRows(batch, schema))
      rows.push(JSON.stringify(schema.fields.map((f) => canon(row[f.name]!))));
  }
  return { columns: schema.fields.map((f) => f.name), rows: rows.sort() };
}

function pythonRows(result: PythonRows): Rows {
  if ("error" in result) throw new Error(`python failed: ${result.error}`);
  return { columns: result.columns, rows: result.rows.map((row) => JSON.stringify(row.map(canon))).sort() };
}

// ------------------------------------------------------------------------------------------------

function goldenTables(): Array<{ key: string; location: string }> {
  const out: Array<{ key: string; location: string }> = [];
  const visit = (dir: string, rel: string, depth: number) => {
    if (existsSync(join(dir, "_delta_log"))) {
      out.push({ key: rel.replace(/[^A-Za-z0-9_-]/g, "_"), location: dir });
      return;
    }
    if (depth === 0) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory())
        visit(join(dir, entry.name), rel ? `${rel}/${entry.name}` : entry.name, depth - 1);
    }
  };
  visit(GOLDEN_TABLES, "", 3);
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

const GOLDEN = goldenTables();
const RS_TABLES = ["all_types", "partitioned", "cdf", "empty"];
const ARCUATE_TABLES = ["written"];

let server: TestSharingServer;
let worker: PythonWorker;
let workDir: string;
let profilePath: string;
let client: SharingClient;
let python: Record<string, PythonRows> = {};
let pythonChanges: Record<string, PythonRows> = {};
/** delta-rs reading golden tables from disk, for those the Python connector cannot load. */
let deltaRs: Record<string, PythonRows> = {};
let versionTimes: string[] = [];

const ref = (schema: string, name: string) => ({ share: "s", schema, name });
const url = (schema: string, name: string) => `${profilePath}#s.${schema}.${name}`;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "arcuate-client-"));
  worker = startPythonWorker();
  versionTimes = await worker.exec<string[]>(writeDeltaRsTables(workDir));
  await writeArcuateTable(join(workDir, "written"));
  server = await startTestSharingServer();
  const credentials = await server.shareTables({
    share: "s",
    tables: [
      ...GOLDEN.map((g) => ({ schema: "golden", table: g.key, location: g.location })),
      ...RS_TABLES.map((name) => ({ schema: "rs", table: name, location: join(workDir, name) })),
      ...ARCUATE_TABLES.map((name) => ({ schema: "arcuate", table: name, location: join(workDir, name) })),
    ],
  });
  profilePath = credentials.profilePath;
  // Few, short retries: some golden tables are refused by the server on purpose (corrupt logs).
  client = new SharingClient(await loadProfile(profilePath), { retry: { retries: 1, baseDelayMs: 20 } });
  const specs: Record<string, { url: string; version?: number; timestamp?: string; limit?: number }> = {};
  for (const g of GOLDEN) specs[`golden.${g.key}`] = { url: url("golden", g.key) };
  for (const name of RS_TABLES) specs[`rs.${name}`] = { url: url("rs", name) };
  specs["written"] = { url: url("arcuate", "written") };
  specs["written@v1"] = { url: url("arcuate", "written"), version: 1 };
  specs["cdf@v1"] = { url: url("rs", "cdf"), version: 1 };
  specs["cdf@t1"] = { url: url("rs", "cdf"), timestamp: versionTimes[1]! };
  specs["partitioned@limit7"] = { url: url("rs", "partitioned"), limit: 7 };
  const t0 = Date.now();
  python = await worker.load(specs);
  if (process.env.ARCUATE_TEST_DEBUG) process.stderr.write(`python load: ${Date.now() - t0} ms\n`);
  const fallback: Record<string, string> = {};
  for (const g of GOLDEN) if ("error" in python[`golden.${g.key}`]!) fallback[g.key] = g.location;
  deltaRs = await worker.deltaRs(fallback);
  pythonChanges = await worker.changes({
    all: { url: url("rs", "cdf"), starting_version: 0 },
    "1to3": { url: url("rs", "cdf"), starting_version: 1, ending_version: 3 },
    written: { url: url("arcuate", "written"), starting_version: 0 },
  });
}, 300_000);

afterAll(async () => {
  await worker?.close();
  await server?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("golden tables: the client's rows equal load_as_pandas's", () => {
  const outcomes: Record<string, string[]> = {};
  const note = (what: string, key: string) => {
    const list = outcomes[what] ?? [];
    list.push(key);
    outcomes[what] = list;
  };
  afterAll(() => {
    if (!process.env.ARCUATE_TEST_DEBUG) return;
    for (const [what, keys] of Object.entries(outcomes))
      process.stderr.write(`${what} (${keys.length}): ${keys.join(" ")}\n`);
  });

  it.each(GOLDEN.map((g) => g.key))("%s", async (key) => {
    const expected = python[`golden.${key}`]!;
    let actual: Rows | undefined;
    let failure: Error | undefined;
    try {
      actual = arrowRows(await client.queryTable(ref("golden", key)));
    } catch (error) {
      failure = error as Error;
    }
    // The connector and delta-rs hand variant columns over as their raw binary encoding, so
    // neither is an oracle for them: arcuate's own disk read is, which test/delta/golden.test.ts
    // compares with Spark.
    const variant = key.startsWith("spark-variant");
    if (variant && failure) throw failure;
    if (!("error" in expected) && !variant) {
      if (failure) throw failure;
      note("equal to load_as_pandas", key);
      expect(actual).toEqual(pythonRows(expected));
      return;
    }
    if (failure && !variant) {
      // Both refuse: the table is not readable through sharing (the server refuses it, or it is
      // corrupt). Our refusal must be a clear, arcuate-style message.
      note(`both refuse`, key);
      if (process.env.ARCUATE_TEST_DEBUG)
        process.stderr.write(`REFUSED ${key}: ${failure.message.slice(0, 300)}\n`);
      expect(failure.message).toMatch(/^(sharing|delta): /);
      return;
    }
    // The Python connector cannot load it (its own limits: pandas' timestamp range, the
    // delta-kernel build it bundles); arcuate can. Then delta-rs reading the table straight from
    // disk is the oracle.
    const direct = deltaRs[key]!;
    if (!variant && !("error" in direct)) {
      note("python fails, equal to delta-rs from disk", key);
      expect(actual).toEqual(pythonRows(direct));
      return;
    }
    // Neither Python reader supports the table (type widening, for one): then at least sharing
    // must not change what arcuate's own reader reads from disk.
    note("python and delta-rs fail, equal to arcuate's disk read", key);
    const location = GOLDEN.find((g) => g.key === key)!.location;
    const local = await (await (await DeltaTable.open(location)).snapshot()).readArrow();
    expect(actual).toEqual(arrowRows(local));
  });
});

describe("delta-rs tables", () => {
  it.each(RS_TABLES)("%s: rows equal load_as_pandas's", async (name) => {
    const actual = arrowRows(await client.queryTable(ref("rs", name)));
    expect(actual).toEqual(pythonRows(python[`rs.${name}`]!));
    if (name !== "empty") expect(actual.rows.length).toBeGreaterThan(0);
  });

  it("time travel by version and by timestamp, and limit, agree with load_as_pandas", async () => {
    const v1 = arrowRows(await client.queryTable(ref("rs", "cdf"), { version: 1 }));
    expect(v1).toEqual(pythonRows(python["cdf@v1"]!));
    expect(v1.rows).toHaveLength(5);
    const t1 = arrowRows(await client.queryTable(ref("rs", "cdf"), { timestamp: versionTimes[1]! }));
    expect(t1).toEqual(pythonRows(python["cdf@t1"]!));
    const limited = arrowRows(await client.queryTable(ref("rs", "partitioned"), { limit: 7 }));
    expect(limited.rows).toHaveLength(7);
    expect(limited).toEqual(pythonRows(python["partitioned@limit7"]!));
  });

  it("streams record batches with the same rows as the whole table", async () => {
    let rows = 0;
    for await (const batch of client.queryTableBatches(ref("rs", "partitioned"))) rows += batch.numRows;
    expect(rows).toBe(pythonRows(python["rs.partitioned"]!).rows.length);
  });

  it("changes: the client's rows equal load_table_changes_as_pandas's", async () => {
    const all = arrowRows(await client.tableChanges(ref("rs", "cdf"), { startingVersion: 0 }));
    expect(all.columns.slice(-3)).toEqual(["_change_type", "_commit_version", "_commit_timestamp"]);
    expect(all).toEqual(pythonRows(pythonChanges["all"]!));
    const types = new Set(all.rows.map((r) => (JSON.parse(r) as Canonical[]).at(-3)));
    expect([...types].sort()).toEqual(["delete", "insert", "update_postimage", "update_preimage"]);
    const window = arrowRows(
      await client.tableChanges(ref("rs", "cdf"), { startingVersion: 1, endingVersion: 3 }),
    );
    expect(window).toEqual(pythonRows(pythonChanges["1to3"]!));
  });

  it("lists, versions and describes the shared tables", async () => {
    expect((await client.listShares()).map((s) => s.name)).toContain("s");
    expect((await client.listSchemas("s")).map((s) => s.name).sort()).toEqual(["arcuate", "golden", "rs"]);
    expect((await client.listTables("s", "rs")).map((t) => t.name).sort()).toEqual([...RS_TABLES].sort());
    expect((await client.listAllTables("s")).length).toBe(
      GOLDEN.length + RS_TABLES.length + ARCUATE_TABLES.length,
    );
    expect(await client.tableVersion(ref("rs", "cdf"))).toBe(versionTimes.length - 1);
    const info = await client.tableMetadata(ref("rs", "cdf"));
    expect(info.metadata.configuration["delta.enableChangeDataFeed"]).toBe("true");
    expect(info.metadata.partitionColumns).toEqual(["part"]);
  });
});

describe("a table written by arcuate", () => {
  it("snapshot, time travel and changes equal the Python connector's", async () => {
    const latest = arrowRows(await client.queryTable(ref("arcuate", "written")));
    expect(latest).toEqual(pythonRows(python["written"]!));
    expect(latest.rows).toHaveLength(4);
    const v1 = arrowRows(await client.queryTable(ref("arcuate", "written"), { version: 1 }));
    expect(v1).toEqual(pythonRows(python["written@v1"]!));
    expect(v1.rows).toHaveLength(3);
    const changes = arrowRows(await client.tableChanges(ref("arcuate", "written"), { startingVersion: 0 }));
    expect(changes).toEqual(pythonRows(pythonChanges["written"]!));
    // 3 + 2 inserted, those 5 deleted by the overwrite, 4 inserted by it.
    expect(changes.rows).toHaveLength(14);
  });
});

describe("arcuate sharing ls|cat", () => {
  async function run(...args: string[]): Promise<string> {
    let out = "";
    const command = sharingCommand({
      write: async (text) => {
        out += text;
      },
    });
    command.exitOverride();
    await command.parseAsync(args, { from: "user" });
    return out;
  }

  it("lists shares, schemas and tables", async () => {
    expect(await run("ls", profilePath)).toBe("s\n");
    expect(await run("ls", `${profilePath}#s`)).toBe("arcuate\ngolden\nrs\n");
    expect((await run("ls", `${profilePath}#s.rs`)).trim().split("\n").sort()).toEqual([...RS_TABLES].sort());
    expect(await run("ls", "--all", `${profilePath}#s`)).toContain("s.rs.cdf\n");
  });

  it("prints rows as JSON Lines, with --limit, --version and --changes", async () => {
    const lines = (await run("cat", `${profilePath}#s.rs.all_types`)).trim().split("\n");
    expect(lines).toHaveLength(5);
    const rows = lines.map((line) => JSON.parse(line) as Record<string, JsonValue>);
    const first = rows.find((r) => r["id"] === 1)!;
    expect(first["ts"]).toBe("2020-01-01T12:00:00.123456Z");
    expect(first["dec"]).toBe("1.20");
    expect(first["b"]).toBe("AAE=");
    expect(rows.find((r) => r["id"] === 2)!["f64"]).toBe("NaN");
    expect(rows.find((r) => r["id"] === 4)!["f64"]).toBe("Infinity");
    expect(
      (await run("cat", "--limit", "3", `${profilePath}#s.rs.partitioned`)).trim().split("\n"),
    ).toHaveLength(3);
    expect((await run("cat", "--version", "1", `${profilePath}#s.rs.cdf`)).trim().split("\n")).toHaveLength(
      5,
    );
    const changes = (await run("cat", "--changes", "--from", "2", "--to", "2", `${profilePath}#s.rs.cdf`))
      .trim()
      .split("\n");
    expect(changes.map((l) => (JSON.parse(l) as Record<string, JsonValue>)["_change_type"])).toEqual([
      "delete",
    ]);
  });

  it("refuses contradictory options", async () => {
    await expect(run("cat", "--changes", `${profilePath}#s.rs.cdf`)).rejects.toThrow(
      "sharing: --changes needs --from <version>",
    );
    await expect(
      run("cat", "--version", "1", "--timestamp", "2024-01-01T00:00:00Z", `${profilePath}#s.rs.cdf`),
    ).rejects.toThrow("sharing: give --version or --timestamp, not both");
  });
});

// ------------------------------------------------------------------------------------------------
// A table written by arcuate's Delta writer: partitioned, change data feed on, two appends and an
// overwrite (versions 0 to 3).

async function writeArcuateTable(location: string): Promise<void> {
  const rows = (ids: number[], kind: string) =>
    new arrow.Table({
      id: arrow.vectorFromArray(
        ids.map((i) => BigInt(i)),
        new arrow.Int64(),
      ),
      kind: arrow.vectorFromArray(
        ids.map(() => kind),
        new arrow.Utf8(),
      ),
      score: arrow.vectorFromArray(
        ids.map((i) => (i === 2 ? Number.NaN : i / 4)),
        new arrow.Float64(),
      ),
      at: arrow.vectorFromArray(
        ids.map((i) => (i === 3 ? null : 1_700_000_000_000 + i)),
        new arrow.TimestampMillisecond("UTC"),
      ),
    });
  const table = await DeltaTable.create(location, {
    schema: arrowSchemaToDelta(rows([0], "a").schema),
    partitionColumns: ["kind"],
    configuration: { "delta.enableChangeDataFeed": "true" },
  });
  await table.write(rows([1, 2, 3], "a"), { mode: "append" });
  await table.write(rows([4, 5], "b"), { mode: "append" });
  await table.write(rows([6, 7, 8, 9], "c"), { mode: "overwrite" });
}

// ------------------------------------------------------------------------------------------------
// delta-rs tables, written by the worker before the server starts. Returns the commit times of
// the cdf table's versions (ISO 8601), for time travel by timestamp.

function writeDeltaRsTables(dir: string): string {
  return String.raw`
import os, time
base = ${JSON.stringify(dir)}
utc = datetime.timezone.utc
D = decimal.Decimal
t = pa.table({
    "id": pa.array([1, 2, 3, 4, 5], pa.int64()),
    "i32": pa.array([1, None, 3, 4, -5], pa.int32()),
    "f64": pa.array([1.5, float("nan"), None, float("inf"), -0.25]),
    "f32": pa.array([1.5, 2.5, None, 3.25, 0.1], pa.float32()),
    "s": pa.array(["a", None, "ü", "", "x y"]),
    "b": pa.array([b"\x00\x01", None, b"", b"abc", b"\xff"]),
    "flag": pa.array([True, False, None, True, False]),
    "d": pa.array([datetime.date(2020, 1, 1), None, datetime.date(1970, 1, 1), datetime.date(1999, 12, 31), datetime.date(2024, 2, 29)]),
    "ts": pa.array([datetime.datetime(2020, 1, 1, 12, 0, 0, 123456, tzinfo=utc), None,
                    datetime.datetime(1970, 1, 1, tzinfo=utc), datetime.datetime(2038, 1, 19, 3, 14, 7, tzinfo=utc),
                    datetime.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=utc)], pa.timestamp("us", tz="UTC")),
    "dec": pa.array([D("1.20"), None, D("-3.45"), D("0.00"), D("99999.99")], pa.decimal128(7, 2)),
    "arr": pa.array([[1, 2], None, [], [None, 3], [4]], pa.list_(pa.int32())),
    "st": pa.array([{"x": 1, "y": "a"}, None, {"x": None, "y": "b"}, {"x": 3, "y": None}, {"x": 4, "y": "d"}],
                   pa.struct([("x", pa.int32()), ("y", pa.string())])),
    "m": pa.array([[("k", 1)], None, [], [("a", 2), ("b", 3)], [("z", None)]], pa.map_(pa.string(), pa.int64())),
})
write_deltalake(os.path.join(base, "all_types"), t)

n = 40
p = pa.table({
    "id": pa.array(range(n), pa.int64()),
    "part": pa.array(["a", "b", "c", "d"][i % 4] for i in range(n)),
    "day": pa.array([datetime.date(2024, 1, 1 + i % 3) for i in range(n)]),
    "v": pa.array([i * 0.5 for i in range(n)]),
})
write_deltalake(os.path.join(base, "partitioned"), p, partition_by=["part", "day"])
write_deltalake(os.path.join(base, "partitioned"), p.slice(0, 10), mode="append", partition_by=["part", "day"])

write_deltalake(os.path.join(base, "empty"), pa.table({"id": pa.array([], pa.int64()), "s": pa.array([], pa.string())}))

cdf = os.path.join(base, "cdf")
cfg = {"delta.enableChangeDataFeed": "true"}
schema = pa.schema([("id", pa.int64()), ("name", pa.string()), ("part", pa.string())])
write_deltalake(cdf, pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"], "part": ["x", "y", "x"]}, schema=schema),
                partition_by=["part"], configuration=cfg)
time.sleep(0.05)
write_deltalake(cdf, pa.table({"id": [4, 5], "name": ["d", "e"], "part": ["y", "y"]}, schema=schema), mode="append")
time.sleep(0.05)
DeltaTable(cdf).delete("id = 2")
time.sleep(0.05)
DeltaTable(cdf).update(updates={"name": "'cc'"}, predicate="id = 3")
history = sorted(DeltaTable(cdf).history(), key=lambda h: h["version"])
result = [datetime.datetime.fromtimestamp(h["timestamp"] / 1000, utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" for h in history]
`;
}

// ------------------------------------------------------------------------------------------------
// The Python worker: one process for this file, one JSON command a line on stdin, one JSON answer a
// line on stdout. Its `canon` mirrors the TypeScript one above: NaN/NaT/None → null, timestamps as
// UTC wall time with microseconds, dates ISO, decimals as plain strings, binary as base64, maps with
// string keys as objects, other maps as [key, value] pairs.

type PythonRows = { columns: string[]; rows: Canonical[][] } | { error: string };

interface PythonWorker {
  load(
    tables: Record<string, { url: string; version?: number; timestamp?: string; limit?: number }>,
  ): Promise<Record<string, PythonRows>>;
  changes(
    tables: Record<string, { url: string; starting_version?: number; ending_version?: number }>,
  ): Promise<Record<string, PythonRows>>;
  /** delta-rs reading tables straight from disk (DeltaTable(location).to_pandas()). */
  deltaRs(tables: Record<string, string>): Promise<Record<string, PythonRows>>;
  exec<T>(code: string): Promise<T>;
  close(): Promise<void>;
}

const WORKER = String.raw`
import sys, json, base64, math, decimal, datetime, traceback
out = sys.stdout
sys.stdout = sys.stderr  # library chatter (delta_sharing prints stats) must not reach the protocol
import numpy as np
import pandas as pd
import pyarrow as pa
import delta_sharing
from deltalake import write_deltalake, DeltaTable
from delta_sharing.rest_client import DataSharingRestClient
# The connector retries 5xx ten times with backoff doubling from 100 ms (≈100 s per table the server
# refuses with a 500). Tables the server refuses are part of this corpus, so fail fast instead.
DataSharingRestClient._should_retry = lambda self, error: False

def ts(v):
    if v.tzinfo is not None:
        if isinstance(v, pd.Timestamp):
            v = v.tz_convert("UTC").tz_localize(None)
        else:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return v.strftime("%Y-%m-%dT%H:%M:%S.%f")

def canon(v):
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, np.datetime64):
        v = pd.Timestamp(v)
        if v is pd.NaT:
            return None
    if isinstance(v, np.ndarray):
        v = list(v)
    elif isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v if abs(v) <= 2**53 else str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, (pd.Timestamp, datetime.datetime)):
        return ts(v)
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        return {str(k): canon(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        items = list(v)
        if items and all(isinstance(x, tuple) and len(x) == 2 for x in items):
            if all(isinstance(k, str) for k, _ in items):
                return {k: canon(x) for k, x in items}
            return [[canon(k), canon(x)] for k, x in items]
        return [canon(x) for x in items]
    return str(v)

def rows(df):
    return {"columns": [str(c) for c in df.columns],
            "rows": [[canon(x) for x in r] for r in df.itertuples(index=False, name=None)]}

def each(tables, load, keys):
    results = {}
    for key, spec in tables.items():
        try:
            kwargs = {k: spec[k] for k in keys if spec.get(k) is not None}
            results[key] = rows(load(spec["url"], **kwargs))
        except Exception as e:
            results[key] = {"error": type(e).__name__ + ": " + str(e)[:500]}
    return results

def run(cmd):
    op = cmd["op"]
    if op == "load":
        return each(cmd["tables"], delta_sharing.load_as_pandas, ("version", "timestamp", "limit"))
    if op == "changes":
        return each(cmd["tables"], delta_sharing.load_table_changes_as_pandas, ("starting_version", "ending_version"))
    if op == "deltars":
        return each({k: {"url": v} for k, v in cmd["tables"].items()}, lambda loc: DeltaTable(loc).to_pandas(), ())
    if op == "exec":
        scope = {"write_deltalake": write_deltalake, "DeltaTable": DeltaTable, "pa": pa, "pd": pd, "np": np,
                 "decimal": decimal, "datetime": datetime}
        exec(cmd["code"], scope)
        return scope.get("result")
    raise ValueError("unknown op " + op)

for line in sys.stdin:
    try:
        answer = {"ok": run(json.loads(line))}
    except Exception:
        answer = {"error": traceback.format_exc()[-3000:]}
    out.write(json.dumps(answer) + "\n")
    out.flush()
`;

function startPythonWorker(): PythonWorker {
  requireVenv();
  const child = spawn(PYTHON, ["-u", "-c", WORKER], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-5000);
  });
  const waiting: Array<{ resolve: (value: unknown) => void; reject: (error: Error) => void }> = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    const next = waiting.shift();
    if (!next) return;
    const answer = JSON.parse(line) as { ok?: unknown; error?: string };
    if (answer.error !== undefined) next.reject(new Error(`python worker: ${answer.error}`));
    else next.resolve(answer.ok);
  });
  child.on("close", (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`python worker exited with ${code}: ${stderr}`));
  });
  const call = <T>(command: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      waiting.push({ resolve: resolve as (value: unknown) => void, reject });
      child.stdin.write(`${JSON.stringify(command)}\n`);
    });
  return {
    load: (tables) => call({ op: "load", tables }),
    changes: (tables) => call({ op: "changes", tables }),
    deltaRs: (tables) => call({ op: "deltars", tables }),
    exec: (code) => call({ op: "exec", code }),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("close", () => resolve());
        child.stdin.end();
      }),
  };
}
