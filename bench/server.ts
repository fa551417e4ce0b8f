// Sharing server benchmark: the query endpoint of a 100-file table under 64 concurrent
// keep-alive connections. Prints requests per second, p50/p99 latency and the server's memory
// (resident set at the start, peak and end of the run; the server runs in its own process).
// Target (DESIGN.md): p99 under 50 ms, memory flat. Two servers run side by side, one with the
// audit log on, and take turns for --rounds rounds of --requests each; the audit log's cost is the
// ratio of the medians of their p99s (issue 19: under 10%), with their CPU time per request.
//
//   npx tsx bench/server.ts [--requests 5000] [--concurrency 64] [--files 100] [--rounds 6] [--warmup 2000]
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
    requests: { type: "string", default: "5000" },
    concurrency: { type: "string", default: "64" },
    files: { type: "string", default: "100" },
    rounds: { type: "string", default: "6" },
    warmup: { type: "string", default: "2000" },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const FILES = Number(values.files);
const ROUNDS = Number(values.rounds);
const WARMUP = Number(values.warmup);

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

  /** A server in its own process (with or without the audit log) and a client driving it. */
  const startServer = async (audit: string | undefined) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(import.meta.dirname, "server-child.ts"),
        catalog.dir,
        ...(audit ? [audit] : []),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const first = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout! }).once("line", resolve),
    );
    const url = new URL((JSON.parse(first) as { url: string }).url);
    const rss = () => {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
    };
    // The server's CPU time (user + system, in clock ticks of 10 ms) from /proc.
    const cpuMs = () => {
      const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(fields[11]) + Number(fields[12])) * 10;
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
    const drive = async (total: number) => {
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

    /** One measured round of `total` requests. */
    const round = async (total: number) => {
      const cpuStart = cpuMs();
      const rssStart = rss();
      let rssPeak = rssStart;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, rss());
      }, 50);
      const { latencies, seconds } = await drive(total);
      clearInterval(sampler);
      const rssEnd = rss();
      const serverCpuMsPerRequest = (cpuMs() - cpuStart) / total;
      latencies.sort((a, b) => a - b);
      const pct = (p: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
      return {
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
    };
    const close = async () => {
      agent.destroy();
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    };
    return { round, warm: () => drive(WARMUP), close };
  };

  // Both servers run side by side for the whole bench, warmed alike, and take turns round by
  // round (which goes first alternates too), so that a change in the machine's load falls on
  // both alike; the cost is the ratio of the medians of their rounds' p99s.
  const auditDir = join(dir, "audit");
  const plainServer = await startServer(undefined);
  const auditServer = await startServer(auditDir);
  const rounds = {
    plain: [] as Awaited<ReturnType<typeof plainServer.round>>[],
    audited: [] as Awaited<ReturnType<typeof plainServer.round>>[],
  };
  try {
    await plainServer.warm();
    await auditServer.warm();
    for (let n = 0; n < ROUNDS; n++) {
      const order = n % 2 === 0 ? (["plain", "audited"] as const) : (["audited", "plain"] as const);
      for (const which of order) {
        const result = await (which === "plain" ? plainServer : auditServer).round(REQUESTS);
        rounds[which].push(result);
        console.log(
          `round ${n + 1}/${ROUNDS}, query endpoint${result.audit ? " (audit log on)" : ""}, ${FILES}-file table, ${CONCURRENCY} connections, ${result.requests} requests: ` +
            `${result.reqPerSec} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (target < 50 ms), ` +
            `server RSS ${result.serverRssMb.start} → peak ${result.serverRssMb.peak} → ${result.serverRssMb.end} MB, ` +
            `server CPU ${result.serverCpuMsPerRequest} ms/request (load average ${result.loadAverage.toFixed(1)})`,
        );
        console.log(JSON.stringify(result));
      }
    }
  } finally {
    await plainServer.close();
    await auditServer.close();
  }
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const p99 = { plain: rounds.plain.map((r) => r.p99Ms), audited: rounds.audited.map((r) => r.p99Ms) };
  const cpu = {
    plain: rounds.plain.map((r) => r.serverCpuMsPerRequest),
    audited: rounds.audited.map((r) => r.serverCpuMsPerRequest),
  };
  const recorded = (await readAccessLog(auditDir, { limit: 1 })).matched;
  const expected = ROUNDS * REQUESTS + WARMUP;
  const ratio = median(p99.audited) / median(p99.plain);
  const cost = (ratio - 1) * 100;
  const cpuCost = (median(cpu.audited) / median(cpu.plain) - 1) * 100;
  console.log(
    `audit log cost: p99 ${median(p99.audited).toFixed(2)} ms with it, ${median(p99.plain).toFixed(2)} ms without ` +
      `(median of ${ROUNDS} alternating rounds each): ratio ${ratio.toFixed(3)}, ${cost >= 0 ? "+" : ""}${cost.toFixed(1)}% (target < 10%); ` +
      `server CPU ${median(cpu.audited).toFixed(3)} vs ${median(cpu.plain).toFixed(3)} ms/request (${cpuCost >= 0 ? "+" : ""}${cpuCost.toFixed(1)}%, worker included); ` +
      `${recorded} of ${expected} requests recorded; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
  );
  console.log(
    JSON.stringify({
      bench: "server-audit-cost",
      p99Ms: p99,
      cpuMsPerRequest: cpu,
      ratio: Number(ratio.toFixed(3)),
      costPercent: Number(cost.toFixed(1)),
      cpuCostPercent: Number(cpuCost.toFixed(1)),
      recorded,
      expected,
      loadAverage: loadavg(),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
