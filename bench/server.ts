// Sharing server benchmark: the query endpoint of a 100-file table under 64 concurrent
// keep-alive connections. Prints requests per second, p50/p99 latency and the server's memory
// (resident set at the start, peak and end of the run; the server runs in its own process).
// Target (DESIGN.md): p99 under 50 ms, memory flat. Then the same with the audit log on, in
// alternating rounds (a server each), and the audit log's cost on p99 (issue 19: under 10%).
//
//   npx tsx bench/server.ts [--requests 20000] [--concurrency 64] [--files 100] [--rounds 2]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { Catalog } from "../src/sharing/index.js";
import { readAccessLog } from "../src/sharing/server/audit-table.js";
import { runPython } from "../test/support/python.js";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "64" },
    files: { type: "string", default: "100" },
    rounds: { type: "string", default: "2" },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const FILES = Number(values.files);
const ROUNDS = Number(values.rounds);

const dir = mkdtempSync(join(tmpdir(), "arcuate-bench-server-"));
const table = join(dir, "table");
try {
  // A table of FILES data files, one per commit, with a checkpoint, written by delta-rs.
  await runPython(
    `
import sys, pandas as pd
from deltalake import write_deltalake, DeltaTable
path, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    write_deltalake(path, pd.DataFrame({"id": range(i * 100, i * 100 + 100), "v": [float(i)] * 100}), mode="append")
DeltaTable(path).create_checkpoint()
`,
    { args: [table, String(FILES)], timeoutMs: 600_000 },
  );
  const catalog = await Catalog.open(join(dir, "catalog"));
  await catalog.createShare("bench");
  await catalog.addTable("bench", "s", "t", table);
  const { token } = await catalog.createRecipient("bench");
  await catalog.grant("bench", "bench");

  const measure = async (audit: string | undefined) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(import.meta.dirname, "server-child.ts"),
        catalog.dir,
        ...(audit ? [audit] : []),
      ],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const first = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout! }).once("line", resolve),
    );
    const url = new URL((JSON.parse(first) as { url: string }).url);
    const rss = () => {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
    };

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
    const run = async (total: number) => {
      const latencies: number[] = [];
      let issued = 0;
      const worker = async () => {
        while (issued < total) {
          issued++;
          latencies.push(await query());
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      return { latencies, seconds: (performance.now() - started) / 1000 };
    };

    // The server's CPU time (user + system, in clock ticks of 10 ms) from /proc.
    const cpuMs = () => {
      const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(fields[11]) + Number(fields[12])) * 10;
    };

    await run(Math.min(2000, REQUESTS)); // warm-up: JIT, caches, sockets
    const cpuStart = cpuMs();
    const rssStart = rss();
    let rssPeak = rssStart;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rss());
    }, 50);
    const { latencies, seconds } = await run(REQUESTS);
    clearInterval(sampler);
    const rssEnd = rss();
    const serverCpuMsPerRequest = (cpuMs() - cpuStart) / REQUESTS;
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
    const result = {
      bench: "server-query",
      audit: audit !== undefined,
      files: FILES,
      concurrency: CONCURRENCY,
      requests: latencies.length,
      reqPerSec: Math.round(latencies.length / seconds),
      p50Ms: Number(pct(50).toFixed(2)),
      p99Ms: Number(pct(99).toFixed(2)),
      maxMs: Number(latencies[latencies.length - 1]!.toFixed(2)),
      serverRssMb: { start: Math.round(rssStart), peak: Math.round(rssPeak), end: Math.round(rssEnd) },
      serverCpuMsPerRequest: Number(serverCpuMsPerRequest.toFixed(3)),
      loadAverage: loadavg()[0] ?? 0,
    };
    console.log(
      `query endpoint${audit ? " (audit log on)" : ""}, ${FILES}-file table, ${CONCURRENCY} connections, ${result.requests} requests: ` +
        `${result.reqPerSec} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (target < 50 ms), ` +
        `server RSS ${result.serverRssMb.start} → peak ${result.serverRssMb.peak} → ${result.serverRssMb.end} MB, ` +
        `server CPU ${result.serverCpuMsPerRequest} ms/request (load average ${result.loadAverage.toFixed(1)})`,
    );
    console.log(JSON.stringify(result));
    agent.destroy();
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
    return result;
  };

  // Alternating rounds, so that a change in the machine's load falls on both alike.
  const plain: number[] = [];
  const audited: number[] = [];
  const cpu = { plain: [] as number[], audited: [] as number[] };
  const auditDir = join(dir, "audit");
  for (let round = 0; round < ROUNDS; round++) {
    const without = await measure(undefined);
    const withIt = await measure(auditDir);
    plain.push(without.p99Ms);
    audited.push(withIt.p99Ms);
    cpu.plain.push(without.serverCpuMsPerRequest);
    cpu.audited.push(withIt.serverCpuMsPerRequest);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const recorded = (await readAccessLog(auditDir, { limit: 1 })).matched;
  const expected = ROUNDS * (REQUESTS + Math.min(2000, REQUESTS));
  const cost = (median(audited) / median(plain) - 1) * 100;
  console.log(
    `audit log cost: p99 ${median(audited)} ms with it, ${median(plain)} ms without (median of ${ROUNDS} rounds each): ` +
      `${cost >= 0 ? "+" : ""}${cost.toFixed(1)}% (target < 10%); server CPU ${median(cpu.audited)} vs ${median(cpu.plain)} ms/request (worker included); ` +
      `${recorded} of ${expected} requests recorded`,
  );
  console.log(
    JSON.stringify({
      bench: "server-audit-cost",
      p99Ms: { plain, audited },
      cpuMsPerRequest: cpu,
      costPercent: Number(cost.toFixed(1)),
      recorded,
      expected,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
