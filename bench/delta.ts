// Benchmark: writing and reading a 1,000,000-row Delta table (id long, value double, name string,
// at timestamp), arcuate against delta-rs (`deltalake`) in the same run, as medians and ratios.
// Also decodes the same Parquet data file with the two maintained JS libraries arcuate could use
// (parquet-wasm + apache-arrow, hyparquet): the measurement behind docs/decisions.md.
// Target (issue 3): reading within 2x of delta-rs.
//
//   npx tsx bench/delta.ts [--rows 1000000] [--runs 5]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { parquetRead } from "hyparquet";
import { DeltaTable } from "../src/delta/index.js";
import { decodeParquet } from "../src/delta/parquet.js";
import { runPythonJson } from "../test/support/python.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const ROWS = arg("rows", 1_000_000);
const RUNS = arg("runs", 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(runs: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  await fn(-1); // warm-up: first calls (JIT, WebAssembly compile) are several times slower
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  return median(times);
}

function data(rows: number): arrow.Table {
  const id = new BigInt64Array(rows);
  const value = new Float64Array(rows);
  const at = new BigInt64Array(rows);
  const names: string[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    id[i] = BigInt(i);
    value[i] = i * 0.5;
    at[i] = 1_700_000_000_000_000n + BigInt(i) * 1000n;
    names[i] = `name-${i % 1000}`;
  }
  const schema = new arrow.Schema([
    new arrow.Field("id", new arrow.Int64(), false),
    new arrow.Field("value", new arrow.Float64(), true),
    new arrow.Field("name", new arrow.Utf8(), true),
    new arrow.Field("at", new arrow.TimestampMicrosecond("UTC"), true),
  ]);
  const children = [
    arrow.makeData({ type: new arrow.Int64(), length: rows, data: id }),
    arrow.makeData({ type: new arrow.Float64(), length: rows, data: value }),
    arrow.vectorFromArray(names, new arrow.Utf8()).data[0]!,
    arrow.makeData({
      type: new arrow.TimestampMicrosecond("UTC"),
      length: rows,
      data: at as unknown as Int32Array,
    }),
  ];
  return new arrow.Table(
    schema,
    new arrow.RecordBatch(
      schema,
      arrow.makeData({ type: new arrow.Struct(schema.fields), length: rows, children }),
    ),
  );
}

const dir = mkdtempSync(join(tmpdir(), "arcuate-bench-delta-"));
try {
  const table = data(ROWS);
  // arcuate: create + write into a fresh folder each run.
  const arcuateWrite = await timed(RUNS, async (i) => {
    const t = await DeltaTable.create(join(dir, `arcuate-${i + 1}`), { schema: table.schema });
    await t.write(table, { mode: "append" });
  });
  const arcuatePath = join(dir, "arcuate-1");
  const readTable = await DeltaTable.open(arcuatePath);
  const arcuateRead = await timed(RUNS, async () => {
    const rows = (await (await readTable.snapshot()).readArrow()).numRows;
    if (rows !== ROWS) throw new Error(`read ${rows} rows`);
  });

  const py = await runPythonJson<{
    write: number;
    read: number;
    readQuery: number;
    readArcuateWritten: number;
  }>(
    `
import json, shutil, statistics, sys, time
import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder, write_deltalake
rows, runs, base, arcuate_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
data = pa.table({
    "id": pa.array(range(rows), pa.int64()),
    "value": pa.array([i * 0.5 for i in range(rows)], pa.float64()),
    "name": pa.array(["name-%d" % (i % 1000) for i in range(rows)], pa.string()),
    "at": pa.array([1_700_000_000_000_000 + i * 1000 for i in range(rows)], pa.timestamp("us", tz="UTC")),
})
def timed(fn):
    fn(-1)
    times = []
    for i in range(runs):
        t0 = time.perf_counter(); fn(i); times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)
def write(i):
    write_deltalake(base + "/deltars-%d" % (i + 1), data)
def read(path):
    def go(_):
        t = DeltaTable(path).to_pyarrow_table()
        assert t.num_rows == rows
    return go
def read_query(_):
    t = QueryBuilder().register("t", DeltaTable(arcuate_path)).execute("select * from t").read_all()
print(json.dumps({
    "write": timed(write),
    "read": timed(read(base + "/deltars-1")),
    "readArcuateWritten": timed(read(arcuate_path)),
    "readQuery": timed(read_query),
}))
`,
    { args: [String(ROWS), String(RUNS), dir, arcuatePath], timeoutMs: 900_000 },
  );
  // arcuate reading the table delta-rs wrote.
  const deltarsTable = await DeltaTable.open(join(dir, "deltars-1"));
  const arcuateReadsDeltars = await timed(RUNS, async () => {
    await (await deltarsTable.snapshot()).readArrow();
  });

  // The Parquet decoders on arcuate's data file.
  const file = readdirSync(arcuatePath).find((f) => f.endsWith(".parquet"))!;
  const bytes = new Uint8Array(readFileSync(join(arcuatePath, file)));
  const wasm = await timed(RUNS, async () => decodeParquet(bytes).numRows);
  const hyparquet = await timed(Math.min(RUNS, 3), async () => {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    await parquetRead({ file: buffer, onComplete: () => undefined });
  });

  const fmt = (ms: number) => `${ms.toFixed(0).padStart(7)} ms`;
  const lines = [
    `Delta Lake, ${ROWS.toLocaleString("en")} rows × 4 columns, median of ${RUNS} warm runs (${(bytes.length / 1e6).toFixed(1)} MB file)`,
    "",
    `                         arcuate      delta-rs     ratio (arcuate / delta-rs)`,
    `write (create + append) ${fmt(arcuateWrite)}  ${fmt(py.write)}   ${(arcuateWrite / py.write).toFixed(2)}`,
    `read own table          ${fmt(arcuateRead)}  ${fmt(py.read)}   ${(arcuateRead / py.read).toFixed(2)}   (delta-rs to_pyarrow_table)`,
    `read arcuate's table    ${fmt(arcuateRead)}  ${fmt(py.readArcuateWritten)}   ${(arcuateRead / py.readArcuateWritten).toFixed(2)}`,
    `read arcuate's table    ${fmt(arcuateRead)}  ${fmt(py.readQuery)}   ${(arcuateRead / py.readQuery).toFixed(2)}   (delta-rs QueryBuilder)`,
    `read delta-rs's table   ${fmt(arcuateReadsDeltars)}  ${fmt(py.read)}   ${(arcuateReadsDeltars / py.read).toFixed(2)}`,
    "",
    `Parquet decode of the data file into memory: parquet-wasm + apache-arrow ${fmt(wasm)}, hyparquet ${fmt(hyparquet)} (${(hyparquet / wasm).toFixed(1)}x)`,
  ];
  console.log(lines.join("\n"));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
