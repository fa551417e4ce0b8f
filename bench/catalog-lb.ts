// Several servers on one PostgreSQL catalog: the query endpoint of a FILES-file table at 64
// keep-alive connections, first against one `arcuate serve` directly, then against two behind
// nginx, in one run. Prints p50/p99 latency and requests per second of each, the catalog
// queries per request (counted by PostgreSQL itself with pg_stat_statements: every statement in
// the catalog's database except the listeners' heartbeats, which are reported per second;
// target: none on the hot path, the servers answer from their cached view and learn of changes
// by LISTEN/NOTIFY), and each server's resident memory sampled over the run.
//
// --memory: the five-minute memory check instead. Only the two servers behind nginx, loaded for
// --seconds (default 300), resident memory of each sampled every 10 s; prints the samples and
// each server's growth from the first sample after warm-up to the last (target: flat).
//
//   npx tsx bench/catalog-lb.ts [--seconds 20] [--concurrency 64] [--files 20]
//   nice -n 10 npx tsx bench/catalog-lb.ts --memory [--seconds 300]
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startCluster } from "../test/catalog/cluster.js";
import { runPython } from "../test/support/python.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string" },
    concurrency: { type: "string", default: "64" },
    files: { type: "string", default: "20" },
    memory: { type: "boolean", default: false },
  },
});
const MEMORY = values.memory === true;
const SECONDS = Number(values.seconds ?? (MEMORY ? "300" : "20"));
const CONCURRENCY = Number(values.concurrency);
const FILES = Number(values.files);

const cluster = await startCluster({
  servers: 2,
  postgres: { settings: { shared_preload_libraries: "pg_stat_statements" } },
});
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
  cluster.pg.psql("CREATE EXTENSION pg_stat_statements", "catalog");
  /** Statements run in the catalog's database so far: [catalog queries, heartbeats]. */
  const catalogStatements = (): [number, number] => {
    const [queries, heartbeats] = cluster.pg
      .psql(
        `SELECT coalesce(sum(calls) FILTER (WHERE query NOT LIKE '%arcuate_heartbeat%'), 0),
                coalesce(sum(calls) FILTER (WHERE query LIKE '%arcuate_heartbeat%'), 0)
           FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
          WHERE d.datname = 'catalog' AND query NOT LIKE '%pg_stat_statements%'`,
        "catalog",
      )
      .split("|")
      .map(Number);
    return [queries!, heartbeats!];
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
    const samples: number[][] = [];
    const sample = () => {
      const second = Math.round((performance.now() - started) / 1000);
      const rss = cluster.servers.map((s) => Math.round(rssMb(s.child.pid!)));
      samples.push(rss);
      memory.push(`${second}s: ${rss.join(" / ")} MB`);
    };
    const sampler = setInterval(sample, MEMORY ? 10_000 : Math.max(1000, (seconds * 1000) / 10));
    const worker = async () => {
      while (performance.now() < deadline) latencies.push(await query());
    };
    const [queriesBefore, heartbeatsBefore] = catalogStatements();
    const loadStarted = performance.now();
    sample();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const elapsed = (performance.now() - loadStarted) / 1000;
    clearInterval(sampler);
    sample();
    const [queriesAfter, heartbeatsAfter] = catalogStatements();
    const lookups = queriesAfter - queriesBefore;
    agent.destroy();
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
    return {
      requests: latencies.length,
      reqPerSec: Math.round(latencies.length / elapsed),
      p50Ms: Number(pct(50).toFixed(2)),
      p99Ms: Number(pct(99).toFixed(2)),
      catalogQueriesPerRequest: Number((lookups / latencies.length).toFixed(4)),
      heartbeatsPerSecond: Number(((heartbeatsAfter - heartbeatsBefore) / elapsed).toFixed(1)),
      memory,
      rssGrowthMb: cluster.servers.map((_, i) => samples.at(-1)![i]! - samples[0]![i]!),
      rssPeakMb: cluster.servers.map((_, i) => Math.max(...samples.map((s) => s[i]!))),
    };
  };

  await run(cluster.servers[0]!.direct, Math.min(3, SECONDS)); // warm-up
  await run(cluster.endpoint, Math.min(3, SECONDS));
  const header = { bench: "catalog-lb", files: FILES, concurrency: CONCURRENCY, seconds: SECONDS };
  if (MEMORY) {
    const twoServersBehindNginx = await run(cluster.endpoint, SECONDS);
    process.stdout.write(
      `${JSON.stringify({ ...header, mode: "memory", twoServersBehindNginx }, null, 2)}\n`,
    );
  } else {
    const oneServer = await run(cluster.servers[0]!.direct, SECONDS);
    const twoServersBehindNginx = await run(cluster.endpoint, SECONDS);
    process.stdout.write(`${JSON.stringify({ ...header, oneServer, twoServersBehindNginx }, null, 2)}\n`);
  }
} finally {
  await cluster.close();
}
