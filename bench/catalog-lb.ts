// Several servers on one PostgreSQL catalog: the query endpoint of a FILES-file table at 64
// keep-alive connections, first against one `arcuate serve` directly, then against two behind
// nginx, in one run. Prints p50/p99 latency and requests per second of each, the catalog
// queries per request (counted by PostgreSQL itself: transactions committed in the catalog's
// database during the run; target: none on the hot path, the servers answer from their cached
// view and learn of changes by LISTEN/NOTIFY), and each server's resident memory sampled every
// few seconds (target: flat; run with --seconds 300 for the five-minute check).
//
//   npx tsx bench/catalog-lb.ts [--seconds 20] [--concurrency 64] [--files 20]
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startCluster } from "../test/catalog/cluster.js";
import { runPython } from "../test/support/python.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "20" },
    concurrency: { type: "string", default: "64" },
    files: { type: "string", default: "20" },
  },
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const FILES = Number(values.files);

const cluster = await startCluster({ servers: 2 });
try {
  const table = join(cluster.workDir, "table");
  await runPython(
    `
import sys, pandas as pd
from deltalake import write_deltalake
path, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    write_deltalake(path, pd.DataFrame({"id": range(i * 100, i * 100 + 100), "v": [float(i)] * 100}), mode="append")
`,
    { args: [table, String(FILES)], timeoutMs: 600_000 },
  );
  const { catalog } = cluster;
  await catalog.createShare("bench");
  await catalog.addTable("bench", "s", "t", table);
  const { token } = await catalog.createRecipient("bench");
  await catalog.grant("bench", "bench");

  const rssMb = (pid: number) =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
  const catalogTransactions = async () => {
    // Backends flush their statistics at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return Number(
      cluster.pg.psql("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'catalog'"),
    );
  };

  const run = async (endpoint: string, seconds: number) => {
    const url = new URL(endpoint);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const path = `${url.pathname}/shares/bench/schemas/s/tables/t/query`;
    const query = () =>
      new Promise<number>((resolve, reject) => {
        const started = performance.now();
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            method: "POST",
            path,
            agent,
            headers: {
              authorization: `Bearer ${token}`,
              "content-type": "application/json",
              "content-length": "2",
            },
          },
          (res) => {
            let lines = 0;
            res.on("data", (chunk: Buffer) => {
              for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
            });
            res.on("end", () => {
              if (res.statusCode !== 200 || lines !== FILES + 2)
                reject(new Error(`status ${res.statusCode}, ${lines} lines`));
              else resolve(performance.now() - started);
            });
          },
        );
        req.on("error", reject);
        req.end("{}");
      });
    const latencies: number[] = [];
    // "<second>s: <rss of each server> MB", a sample every tenth of the run (at least each second).
    const memory: string[] = [];
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const sampler = setInterval(
      () => {
        const second = Math.round((performance.now() - started) / 1000);
        memory.push(
          `${second}s: ${cluster.servers.map((s) => Math.round(rssMb(s.child.pid!))).join(" / ")} MB`,
        );
      },
      Math.max(1000, (seconds * 1000) / 10),
    );
    const worker = async () => {
      while (performance.now() < deadline) latencies.push(await query());
    };
    const before = await catalogTransactions();
    const loadStarted = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const elapsed = (performance.now() - loadStarted) / 1000;
    clearInterval(sampler);
    // The bench's own statistics query counts as one transaction.
    const lookups = (await catalogTransactions()) - before - 1;
    agent.destroy();
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
    return {
      requests: latencies.length,
      reqPerSec: Math.round(latencies.length / elapsed),
      p50Ms: Number(pct(50).toFixed(2)),
      p99Ms: Number(pct(99).toFixed(2)),
      catalogQueriesPerRequest: Number((Math.max(0, lookups) / latencies.length).toFixed(4)),
      memory,
    };
  };

  await run(cluster.servers[0]!.direct, Math.min(3, SECONDS)); // warm-up
  await run(cluster.endpoint, Math.min(3, SECONDS));
  const one = await run(cluster.servers[0]!.direct, SECONDS);
  const two = await run(cluster.endpoint, SECONDS);
  process.stdout.write(
    `${JSON.stringify({ bench: "catalog-lb", files: FILES, concurrency: CONCURRENCY, seconds: SECONDS, oneServer: one, twoServersBehindNginx: two }, null, 2)}\n`,
  );
} finally {
  await cluster.close();
}
