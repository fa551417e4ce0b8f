// Benchmark: the sharing server out of the data path. The same 1,000,000 rows in a bucket
// (SeaweedFS) as tables of 100, 1,000 and 10,000 data files; the server (its own process, reaching
// S3 through a byte-counting proxy) answers query requests with pre-signed URLs. Per table it
// prints the server's CPU per query and per file listed, its resident memory after the queries
// and at its peak, and the bytes S3 sent the server against the table's data bytes.
// Target (issue 14): CPU per query and memory flat as the table grows from 100 to 10,000 files
// (per query, signing one URL per file is the only work that grows; data bytes never pass).
//
//   npx tsx bench/s3-server.ts [--rows 1000000] [--files 100,1000,10000] [--queries 20]
//                             [--heap-snapshots <dir>]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import * as arrow from "apache-arrow";
import { DeltaTable } from "../src/delta/index.js";
import { Catalog } from "../src/sharing/index.js";
import { startCountingProxy } from "../test/s3/support/counting-proxy.js";
import { startSeaweedFs } from "../test/support/seaweedfs.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

const ROWS = Number(arg("rows", "1000000"));
const SIZES = arg("files", "100,1000,10000").split(",").map(Number);
const QUERIES = Number(arg("queries", "20"));
const HEAP_DIR = process.argv.includes("--heap-snapshots") ? arg("heap-snapshots", ".") : undefined;
const BUCKET = "arcuate-bench-server";

const mb = (bytes: number) => (bytes / 1048576).toFixed(0);
const signed = (bytes: number) => `${bytes >= 0 ? "+" : ""}${(bytes / 1048576).toFixed(1)}`;

interface Memory {
  rss: number;
  peak: number;
  heapUsed: number;
  external: number;
}

/** The server in its own process (bench/s3-server-child.ts), reaching S3 through `endpoint`. */
async function startServer(catalogDir: string, endpoint: string) {
  const child = spawn(
    process.execPath,
    ["--expose-gc", "--import", "tsx", join(import.meta.dirname, "s3-server-child.ts"), catalogDir],
    // The server reaches S3 (its log, and nothing else) through the proxy; it signs URLs for it too.
    { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, AWS_ENDPOINT_URL: endpoint } },
  );
  const pid = child.pid!;
  const replies = createInterface({ input: child.stdout! });
  const pending: ((line: string) => void)[] = [];
  replies.on("line", (line) => pending.shift()?.(line));
  const ask = <T>(command: string | undefined): Promise<T> =>
    new Promise((resolve) => {
      pending.push((line) => resolve(JSON.parse(line) as T));
      if (command !== undefined) child.stdin!.write(`${command}\n`);
    });
  const { url } = await ask<{ url: string }>(undefined);
  return {
    url,
    /** After a full GC in the child: RSS, heap and external memory; peak is VmHWM, in bytes. */
    async memory(): Promise<Memory> {
      const m = await ask<{ rss: number; heapUsed: number; external: number }>("mem");
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const peak = Number(/VmHWM:\s+(\d+)/.exec(status)![1]) * 1024;
      return { rss: m.rss, peak, heapUsed: m.heapUsed, external: m.external };
    },
    rssNow(): number {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
    },
    /** User + system CPU time of the server process, in ms (clock ticks of 10 ms). */
    cpuMs(): number {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(fields[11]) + Number(fields[12])) * 10;
    },
    heapSnapshot: (file: string) => ask<{ file: string }>(`heap ${file}`),
    async stop(): Promise<void> {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await gone;
    },
  };
}

/** Concurrent appenders writing a table (each its own commit), so 10,000 PUTs do not run one by one. */
const WRITERS = 8;

async function* batches(from: number, to: number, perFile: number): AsyncGenerator<arrow.RecordBatch> {
  for (let start = from; start < to; start += perFile) {
    const n = Math.min(perFile, to - start);
    const ids = Array.from({ length: n }, (_, i) => BigInt(start + i));
    const table = new arrow.Table({
      id: arrow.vectorFromArray(ids, new arrow.Int64()),
      value: arrow.vectorFromArray(
        ids.map((i) => Number(i) * 0.5),
        new arrow.Float64(),
      ),
    });
    for (const batch of table.batches) yield batch;
  }
}

const weed = await startSeaweedFs();
const dir = mkdtempSync(join(tmpdir(), "arcuate-bench-s3-server-"));
const proxy = await startCountingProxy(Number(new URL(weed.endpoint).port));
try {
  await weed.createBucket(BUCKET);
  Object.assign(process.env, weed.env);
  const catalog = await Catalog.open(join(dir, "catalog"));
  await catalog.createShare("bench");
  const dataBytes = new Map<number, number>();
  for (const files of SIZES) {
    const location = `s3://${BUCKET}/t${files}`;
    const started = performance.now();
    const table = await DeltaTable.create(location, {
      schema: {
        type: "struct",
        fields: [
          { name: "id", type: "long", nullable: false, metadata: {} },
          { name: "value", type: "double", nullable: true, metadata: {} },
        ],
      },
    });
    const perFile = Math.ceil(ROWS / files);
    const filesPerWriter = Math.ceil(files / WRITERS);
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        const from = Math.min(ROWS, w * filesPerWriter * perFile);
        const to = Math.min(ROWS, (w + 1) * filesPerWriter * perFile);
        if (from >= to) return;
        const writer = await DeltaTable.open(location);
        await writer.write(batches(from, to, perFile), { mode: "append", targetFileRows: perFile });
      }),
    );
    const snapshot = await table.snapshot();
    if (snapshot.files.length !== files) throw new Error(`t${files} has ${snapshot.files.length} files`);
    dataBytes.set(
      files,
      snapshot.files.reduce((n, f) => n + f.size, 0),
    );
    console.error(
      `wrote t${files}: ${files} files in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    await catalog.addTable("bench", "s", `t${files}`, location);
  }
  const { token } = await catalog.createRecipient("bench");
  await catalog.grant("bench", "bench");

  const rows: string[] = [];
  let base: { cpu: number; growth: number } | undefined;
  for (const files of SIZES) {
    // A fresh server per table, so each one's memory is that table's alone.
    const server = await startServer(catalog.dir, proxy.url);
    try {
      const query = async () => {
        const response = await fetch(`${server.url}/shares/bench/schemas/s/tables/t${files}/query`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: "{}",
        });
        const text = await response.text();
        const lines = text.split("\n").filter((l) => l.length > 0).length;
        if (response.status !== 200 || lines !== files + 2)
          throw new Error(`t${files}: status ${response.status}, ${lines} lines`);
        return text.length;
      };
      const idle = await server.memory();
      for (let i = 0; i < 3; i++) await query(); // warm: JIT, the snapshot cache
      const warm = await server.memory();
      proxy.reset();
      const cpu0 = server.cpuMs();
      const t0 = performance.now();
      let answerBytes = 0;
      const after: number[] = [];
      for (let i = 1; i <= QUERIES; i++) {
        answerBytes += await query();
        // Sampled from /proc, without a GC, so the CPU measured stays the queries' own.
        if (i % Math.max(1, Math.floor(QUERIES / 4)) === 0) after.push(server.rssNow());
      }
      const wall = (performance.now() - t0) / QUERIES;
      const cpu = (server.cpuMs() - cpu0) / QUERIES;
      const end = await server.memory();
      const growth = end.rss - idle.rss;
      base ??= { cpu, growth };
      if (HEAP_DIR) await server.heapSnapshot(join(HEAP_DIR, `s3-server-t${files}.heapsnapshot`));
      rows.push(
        `  ${String(files).padStart(6)} files  ${cpu.toFixed(1).padStart(7)} ms CPU/query (${(cpu / base.cpu).toFixed(2)}x)` +
          `  ${((cpu * 1000) / files).toFixed(1).padStart(6)} µs CPU/file  ${wall.toFixed(0).padStart(5)} ms wall` +
          `  answer ${(answerBytes / QUERIES / 1024).toFixed(0)} KiB  S3→server ${proxy.bytesOut} B (data ${dataBytes.get(files)} B)\n` +
          `          RSS idle ${mb(idle.rss)}, warm ${mb(warm.rss)}, during ${after.map(mb).join(" ")}, peak ${mb(end.peak)} MB;` +
          `  growth over idle ${signed(growth)} MB (peak ${signed(end.peak - idle.rss)});` +
          `  heap after GC ${mb(end.heapUsed)} MB (${signed(end.heapUsed - idle.heapUsed)}), external ${mb(end.external)} MB (${signed(end.external - idle.external)})`,
      );
    } finally {
      await server.stop();
    }
  }
  console.log(
    `${ROWS} rows, ${QUERIES} queries per table after 3 warm-up ones; a fresh server process per table; MB = MiB:`,
  );
  for (const row of rows) console.log(row);
} finally {
  await proxy.close();
  await weed.stop();
  rmSync(dir, { recursive: true, force: true });
}
