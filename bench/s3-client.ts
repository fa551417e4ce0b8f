// Benchmark: loading a shared table that lives in a bucket (SeaweedFS), through pre-signed S3 URLs,
// with arcuate's client and with the Python connector's load_as_pandas, and reading the same
// Parquet files straight from the bucket with pyarrow, in one run: rounds of all three in a rotating
// order, printed as medians with their spread, and the ratios within each round.
// Targets (issue 14): arcuate faster than the connector, within 1.5x of pyarrow's direct read.
//
//   npx tsx bench/s3-client.ts [--rows 1000000] [--files 10] [--runs 5] [--cpu-prof <file>]
//
// --cpu-prof writes a V8 CPU profile of arcuate's warm client runs only (open it in Chrome's
// DevTools or speedscope). The sharing server's CPU and memory as files grow: bench/s3-server.ts.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import * as arrow from "apache-arrow";
import { DeltaTable } from "../src/delta/index.js";
import { SharingClient } from "../src/sharing/client/index.js";
import { Catalog } from "../src/sharing/index.js";
import { PYTHON } from "../test/support/paths.js";
import { startSeaweedFs } from "../test/support/seaweedfs.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROWS = arg("rows", 1_000_000);
const FILES = arg("files", 10);
const RUNS = arg("runs", 5);
const BUCKET = "arcuate-bench";
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

type Contender = "arcuate" | "connector" | "pyarrow";

// The Python side stays up for the whole run and times one load per command on stdin, so its
// runs interleave with arcuate's.
const PYTHON_SIDE = `
import json, os, sys, time, delta_sharing, pyarrow.dataset as ds, pyarrow.fs as pafs
profile, files, rows = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
fs = pafs.S3FileSystem(endpoint_override=os.environ["AWS_ENDPOINT_URL"], access_key=os.environ["AWS_ACCESS_KEY_ID"],
                       secret_key=os.environ["AWS_SECRET_ACCESS_KEY"], region="us-east-1", scheme="http")
for line in sys.stdin:
    what = line.strip()
    t0 = time.perf_counter()
    if what == "connector":
        n = len(delta_sharing.load_as_pandas(profile + "#bench.s.t"))
    else:
        n = ds.dataset(files, format="parquet", filesystem=fs).to_table().num_rows
    ms = (time.perf_counter() - t0) * 1000
    assert n == rows, (what, n)
    print(json.dumps({"ms": ms}), flush=True)
`;

function startPython(profilePath: string, files: string[]) {
  const child = spawn(PYTHON, ["-c", PYTHON_SIDE, profilePath, JSON.stringify(files), String(ROWS)], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return {
    async run(what: "connector" | "pyarrow"): Promise<number> {
      child.stdin!.write(`${what}\n`);
      const next = await Promise.race([lines.next(), exited.then(() => undefined)]);
      if (!next || next.done) throw new Error(`the Python side exited during the ${what} run`);
      return (JSON.parse(next.value) as { ms: number }).ms;
    },
    async stop(): Promise<void> {
      child.stdin!.end();
      await exited;
    },
  };
}

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
  const profileFile = process.argv.includes("--cpu-prof")
    ? process.argv[process.argv.indexOf("--cpu-prof") + 1]
    : undefined;
  const inspector = profileFile ? new Session() : undefined;
  const python = startPython(profilePath, files);
  const contenders: Record<Contender, () => Promise<number>> = {
    arcuate: async () => {
      const t0 = performance.now();
      const loaded = await client.queryTable({ share: "bench", schema: "s", name: "t" });
      const ms = performance.now() - t0;
      if (loaded.numRows !== ROWS) throw new Error(`arcuate loaded ${loaded.numRows} rows`);
      return ms;
    },
    connector: () => python.run("connector"),
    pyarrow: () => python.run("pyarrow"),
  };
  const names = Object.keys(contenders) as Contender[];
  const times: Record<Contender, number[]> = { arcuate: [], connector: [], pyarrow: [] };
  const ratios: number[] = [];
  const faster: number[] = [];
  try {
    // Round 0 warms every contender (JIT, imports, connections) and is not counted. Each round runs
    // all three back to back, in a rotating order, so a burst of load on the machine hits one
    // round of all of them rather than all runs of one.
    for (let round = 0; round <= RUNS; round++) {
      if (round === 1 && inspector) {
        inspector.connect();
        await inspector.post("Profiler.enable");
        await inspector.post("Profiler.start");
      }
      const got = {} as Record<Contender, number>;
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length]!;
        got[name] = await contenders[name]();
      }
      if (round === 0) continue;
      for (const name of names) times[name].push(got[name]);
      ratios.push(got.arcuate / got.pyarrow);
      faster.push(got.connector / got.arcuate);
      console.error(
        `round ${round}: arcuate ${got.arcuate.toFixed(0)} ms, connector ${got.connector.toFixed(0)} ms, pyarrow ${got.pyarrow.toFixed(0)} ms`,
      );
    }
  } finally {
    await python.stop();
  }
  if (inspector && profileFile) {
    const { profile: cpu } = await inspector.post("Profiler.stop");
    writeFileSync(profileFile, JSON.stringify(cpu));
    inspector.disconnect();
  }
  const spread = (xs: number[], digits = 0) =>
    `median ${median(xs).toFixed(digits)}, min ${Math.min(...xs).toFixed(digits)}, max ${Math.max(...xs).toFixed(digits)}`;
  console.log(
    `${ROWS} rows in ${files.length} files, ${RUNS} interleaved rounds after a warm-up one; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}:`,
  );
  console.log(`  arcuate client (pre-signed S3 URLs)   ${spread(times.arcuate)} ms`);
  console.log(`  Python connector load_as_pandas      ${spread(times.connector)} ms`);
  console.log(`  pyarrow straight from the bucket     ${spread(times.pyarrow)} ms`);
  console.log(`  arcuate / pyarrow, per round         ${spread(ratios, 2)}  (target ≤ 1.5)`);
  console.log(`  connector / arcuate, per round       ${spread(faster, 2)}  (target > 1)`);
} finally {
  if (server && server.exitCode === null) {
    const gone = new Promise((r) => server!.once("exit", r));
    server.kill("SIGTERM");
    await gone;
  }
  rmSync(dir, { recursive: true, force: true });
  await weed.stop();
}
