// Benchmark: loading a shared table that lives in a bucket (SeaweedFS), through pre-signed S3 URLs,
// with arcuate's client and with the Python connector's load_as_pandas, and reading the same
// Parquet files straight from the bucket with pyarrow, in one run. Prints medians and ratios.
// Targets (issue 14): arcuate faster than the connector, within 1.5x of pyarrow's direct read.
//
//   npx tsx bench/s3-client.ts [--rows 1000000] [--files 10] [--runs 3] [--cpu-prof <file>]
//
// --cpu-prof writes a V8 CPU profile of arcuate's warm client runs only (open it in Chrome's
// DevTools or speedscope). The sharing server's CPU and memory as files grow: bench/s3-server.ts.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import * as arrow from "apache-arrow";
import { DeltaTable } from "../src/delta/index.js";
import { SharingClient } from "../src/sharing/client/index.js";
import { Catalog } from "../src/sharing/index.js";
import { runPythonJson } from "../test/support/python.js";
import { startSeaweedFs } from "../test/support/seaweedfs.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROWS = arg("rows", 1_000_000);
const FILES = arg("files", 10);
const RUNS = arg("runs", 3);
const BUCKET = "arcuate-bench";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function* batches(): AsyncGenerator<arrow.RecordBatch> {
  const per = Math.ceil(ROWS / FILES);
  for (let start = 0; start < ROWS; start += per) {
    const n = Math.min(per, ROWS - start);
    const ids = Array.from({ length: n }, (_, i) => BigInt(start + i));
    const table = new arrow.Table({
      id: arrow.vectorFromArray(ids, new arrow.Int64()),
      value: arrow.vectorFromArray(
        ids.map((i) => Number(i) * 0.5),
        new arrow.Float64(),
      ),
      name: arrow.vectorFromArray(
        ids.map((i) => `name-${i % 1000n}`),
        new arrow.Utf8(),
      ),
      at: arrow.vectorFromArray(
        ids.map((i) => Number(i) * 1_000_000),
        new arrow.TimestampMicrosecond("UTC"),
      ),
    });
    for (const batch of table.batches) yield batch;
  }
}

const weed = await startSeaweedFs();
// The sharing server in its own process, as a provider's server is: its work (the query answer,
// signing URLs) is not charged to the recipient's client, nor the client's to it.
const dir = mkdtempSync(join(tmpdir(), "arcuate-bench-s3-client-"));
let server: ReturnType<typeof spawn> | undefined;
try {
  await weed.createBucket(BUCKET);
  Object.assign(process.env, weed.env);
  const location = `s3://${BUCKET}/bench/table`;
  const table = await DeltaTable.create(location, {
    schema: {
      type: "struct",
      fields: [
        { name: "id", type: "long", nullable: false, metadata: {} },
        { name: "value", type: "double", nullable: true, metadata: {} },
        { name: "name", type: "string", nullable: true, metadata: {} },
        { name: "at", type: "timestamp", nullable: true, metadata: {} },
      ],
    },
  });
  await table.write(batches(), { mode: "append", targetFileRows: Math.ceil(ROWS / FILES) });
  const files = (await table.snapshot()).files.map(
    (f) => `${BUCKET}/bench/table/${decodeURIComponent(f.path)}`,
  );
  const catalog = await Catalog.open(join(dir, "catalog"));
  await catalog.createShare("bench");
  await catalog.addTable("bench", "s", "t", location);
  const { token } = await catalog.createRecipient("bench");
  await catalog.grant("bench", "bench");
  server = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "server-child.ts"), catalog.dir],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const line = await new Promise<string>((resolve) =>
    createInterface({ input: server!.stdout! }).once("line", resolve),
  );
  const profile = {
    shareCredentialsVersion: 1,
    endpoint: (JSON.parse(line) as { url: string }).url,
    bearerToken: token,
  };
  const profilePath = join(dir, "bench.share");
  writeFileSync(profilePath, JSON.stringify(profile));

  const client = new SharingClient(profile);
  const ours: number[] = [];
  const profileFile = process.argv.includes("--cpu-prof")
    ? process.argv[process.argv.indexOf("--cpu-prof") + 1]
    : undefined;
  const inspector = profileFile ? new Session() : undefined;
  for (let i = 0; i <= RUNS; i += 1) {
    if (i === 1 && inspector) {
      inspector.connect();
      await inspector.post("Profiler.enable");
      await inspector.post("Profiler.start");
    }
    const t0 = performance.now();
    const loaded = await client.queryTable({ share: "bench", schema: "s", name: "t" });
    if (loaded.numRows !== ROWS) throw new Error(`arcuate loaded ${loaded.numRows} rows`);
    if (i > 0) ours.push(performance.now() - t0); // the first run warms the JIT
  }
  if (inspector && profileFile) {
    const { profile: cpu } = await inspector.post("Profiler.stop");
    writeFileSync(profileFile, JSON.stringify(cpu));
    inspector.disconnect();
  }
  const python = await runPythonJson<{ connector: number[]; pyarrow: number[] }>(
    `
import json, os, sys, time, delta_sharing, pyarrow.dataset as ds, pyarrow.fs as pafs
profile, files, runs, rows = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
fs = pafs.S3FileSystem(endpoint_override=os.environ["AWS_ENDPOINT_URL"], access_key=os.environ["AWS_ACCESS_KEY_ID"],
                       secret_key=os.environ["AWS_SECRET_ACCESS_KEY"], region="us-east-1", scheme="http")
out = {"connector": [], "pyarrow": []}
for i in range(runs + 1):
    t0 = time.perf_counter(); df = delta_sharing.load_as_pandas(profile + "#bench.s.t"); t = time.perf_counter() - t0
    assert len(df) == rows
    if i: out["connector"].append(t * 1000)
    t0 = time.perf_counter(); tb = ds.dataset(files, format="parquet", filesystem=fs).to_table(); t = time.perf_counter() - t0
    assert tb.num_rows == rows
    if i: out["pyarrow"].append(t * 1000)
print(json.dumps(out))
`,
    { args: [profilePath, JSON.stringify(files), String(RUNS), String(ROWS)], timeoutMs: 1_800_000 },
  );
  const a = median(ours);
  const c = median(python.connector);
  const p = median(python.pyarrow);
  console.log(`${ROWS} rows in ${files.length} files, medians of ${RUNS} warm runs:`);
  console.log(`  arcuate client (pre-signed S3 URLs)   ${a.toFixed(0)} ms`);
  console.log(
    `  Python connector load_as_pandas      ${c.toFixed(0)} ms  (arcuate ${(c / a).toFixed(2)}x faster)`,
  );
  console.log(
    `  pyarrow straight from the bucket     ${p.toFixed(0)} ms  (arcuate at ${(a / p).toFixed(2)}x of it)`,
  );
} finally {
  if (server && server.exitCode === null) {
    const gone = new Promise((r) => server!.once("exit", r));
    server.kill("SIGTERM");
    await gone;
  }
  rmSync(dir, { recursive: true, force: true });
  await weed.stop();
}
