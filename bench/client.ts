// Benchmark: loading a 1,000,000-row shared table (4 columns, 10 files, written by delta-rs) from
// arcuate's sharing server with arcuate's client, with the Python connector's load_as_pandas from
// the same server in the same run, and reading the same Parquet files straight from disk (pyarrow,
// and in Node the decoder arcuate itself uses: parquet-wasm, handed to apache-arrow through
// arrow-js-ffi). Prints medians and ratios. Targets (docs/client.md): faster than load_as_pandas;
// within 2x of a direct read.
//
//   npx tsx bench/client.ts [--rows 1000000] [--files 10] [--runs 5]
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { decodeParquet } from "../src/delta/parquet.js";
import { SharingClient } from "../src/sharing/client/index.js";
import { Catalog } from "../src/sharing/index.js";
import type { Profile } from "../src/sharing/protocol.js";
import { PYTHON } from "../test/support/paths.js";
import { runPythonJson } from "../test/support/python.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROWS = arg("rows", 1_000_000);
const FILES = arg("files", 10);
const RUNS = arg("runs", 5);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function clock(fn: () => Promise<number>): Promise<{ ms: number; rows: number }> {
  const t0 = performance.now();
  const rows = await fn();
  return { ms: performance.now() - t0, rows };
}

/** One Python process timing load_as_pandas or pyarrow's read_table on request ("pandas"/"pyarrow"). */
function startPythonTimer(url: string, files: string[]) {
  const code = `
import sys, json, time
import delta_sharing, pyarrow.parquet as pq
url, files = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for line in sys.stdin:
    what = line.strip()
    t0 = time.perf_counter()
    rows = len(delta_sharing.load_as_pandas(url)) if what == "pandas" else pq.read_table(files).num_rows
    print(json.dumps({"ms": (time.perf_counter() - t0) * 1000, "rows": rows}), flush=True)
`;
  const proc = spawn(PYTHON, ["-c", code, JSON.stringify(url), JSON.stringify(files)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: proc.stdout! });
  const waiting: Array<(line: string) => void> = [];
  lines.on("line", (line) => waiting.shift()?.(line));
  return {
    run(what: "pandas" | "pyarrow"): Promise<{ ms: number; rows: number }> {
      return new Promise((resolve) => {
        waiting.push((line) => resolve(JSON.parse(line) as { ms: number; rows: number }));
        proc.stdin!.write(`${what}\n`);
      });
    },
    close(): Promise<void> {
      return new Promise((resolve) => {
        proc.once("close", () => resolve());
        proc.stdin!.end();
      });
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), "arcuate-bench-client-"));
const location = join(dir, "table");
const catalogDir = join(dir, "catalog");
const catalog = await Catalog.open(catalogDir);
// The server runs in its own process (see client-server-child.ts), as it would for real.
const child = spawn(
  process.execPath,
  [...process.execArgv, join(import.meta.dirname, "client-server-child.ts"), catalogDir],
  {
    stdio: ["ignore", "pipe", "inherit"],
  },
);
try {
  const endpoint = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) =>
      resolve((JSON.parse(line) as { url: string }).url),
    );
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  process.stderr.write(`writing ${ROWS} rows in ${FILES} files with delta-rs…\n`);
  await runPythonJson(
    `
import json, datetime
import numpy as np, pyarrow as pa
from deltalake import write_deltalake
rows, files = ${ROWS}, ${FILES}
per = rows // files
rng = np.random.default_rng(7)
for f in range(files):
    n = per if f < files - 1 else rows - per * (files - 1)
    ids = np.arange(f * per, f * per + n, dtype=np.int64)
    t = pa.table({
        "id": ids,
        "value": rng.random(n),
        "name": pa.array([f"name-{i % 1000}" for i in ids]),
        "ts": pa.array((ids * 1000).astype("datetime64[us]")).cast(pa.timestamp("us", tz="UTC")),
    })
    write_deltalake(${JSON.stringify(location)}, t, mode="append")
print(json.dumps(True))
`,
    { timeoutMs: 600_000 },
  );
  await catalog.setEndpoint(endpoint);
  await catalog.createShare("bench");
  await catalog.addTable("bench", "b", "t", location);
  const { token, profilePath } = await catalog.createRecipient("bench-reader");
  await catalog.grant("bench", "bench-reader");
  const profile: Profile = { shareCredentialsVersion: 1, endpoint, bearerToken: token };
  const table = { share: "bench", schema: "b", name: "t" };
  const client = new SharingClient(profile);

  const mainThread = new SharingClient(profile, { decodeWorkers: 0 });
  const files = readdirSync(location)
    .filter((f) => f.endsWith(".parquet"))
    .map((f) => join(location, f));
  const python = startPythonTimer(`${profilePath}#bench.b.t`, files);

  // The contenders take turns, round after round, so a busy moment of the machine hits all of
  // them alike instead of whichever ran in that phase; each is warmed up first.
  const contenders: Record<string, () => Promise<{ ms: number; rows: number }>> = {
    ours: () => clock(async () => (await client.queryTable(table)).numRows),
    oursMain: () => clock(async () => (await mainThread.queryTable(table)).numRows),
    wasm: () =>
      clock(async () => {
        let rows = 0;
        for (const file of files) rows += decodeParquet(readFileSync(file)).numRows;
        return rows;
      }),
    pandas: () => python.run("pandas"),
    pyarrow: () => python.run("pyarrow"),
  };
  const times: Record<string, number[]> = {};
  for (let round = 0; round <= RUNS; round++) {
    for (const [name, run] of Object.entries(contenders)) {
      const { ms, rows } = await run();
      if (rows !== ROWS) throw new Error(`${name} read ${rows} rows, not ${ROWS}`);
      if (round > 0) times[name] = [...(times[name] ?? []), ms];
    }
  }
  await python.close();
  const ms = (name: string) => median(times[name]!);
  const ours = { ms: ms("ours") };
  const oursMain = { ms: ms("oursMain") };
  const wasm = { ms: ms("wasm") };
  const pythonMs = { pandas: ms("pandas"), pyarrow: ms("pyarrow") };
  const fmt = (ms: number) => `${ms.toFixed(0).padStart(6)} ms`;
  const lines = [
    `shared table: ${ROWS} rows x 4 columns in ${files.length} files; median of ${RUNS} warm rounds, contenders taking turns`,
    `arcuate client queryTable        ${fmt(ours.ms)}   (decoding in worker threads)`,
    `  same, decodeWorkers: 0         ${fmt(oursMain.ms)}   (decoding on the main thread)`,
    `python load_as_pandas            ${fmt(pythonMs.pandas)}   arcuate is ${(pythonMs.pandas / ours.ms).toFixed(2)}x faster (target > 1)`,
    `direct read, parquet-wasm (Node) ${fmt(wasm.ms)}   arcuate / direct = ${(ours.ms / wasm.ms).toFixed(2)} (target <= 2)`,
    `direct read, pyarrow             ${fmt(pythonMs.pyarrow)}   arcuate / direct = ${(ours.ms / pythonMs.pyarrow).toFixed(2)}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
