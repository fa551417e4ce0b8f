// Moving an experiment's traces from one MLflow server to another, side by side in one run:
//   arcuate:  export into a share → arcuate's sharing server → client → import
//             (bench/traces-move.ts, in a process of its own so its peak RSS is arcuate's alone)
//   the peer: python/bench_copy_traces.py, a copy on MLflow's Python client: mlflow-export-import's
//             newest PyPI release (1.2.0) has no trace export, so this is the straightforward
//             copy a user would write, replaying spans and assessments
// on one provider experiment grown to each size in turn (N traces × 10 spans, 2 assessments each):
// up to --distinct traces (default 250) seeded through MLflow's write routes (bench/traces-seed.ts,
// about 0.1-0.2 s a trace), the rest cloned from them at the store level in the provider's SQLite
// tables (python/bench_clone_traces.py: seconds for 10,000; one clone a size read back through
// MLflow's REST API and compared with its template). Each arcuate move goes into a fresh
// recipient server (trace ids are global in an MLflow store; a second move of the same traces
// into one store would take MLflow's conflict path), warmed before anything is timed. Prints
// times, per-trace rates, the requests each server got, the ratio (target: arcuate ≥ 10×
// faster) and peak RSS per size, and how arcuate's peak RSS grows from 1,000 traces to the
// largest size (target: flat).
//
// The peer copies one trace every 0.5-2.5 s (with the load), so at 10,000 traces it would take
// hours: it runs only at sizes up to --peer-up-to (default 200), there in --rounds rounds (default
// 2) that alternate which tool goes first, giving a same-size ratio; at the larger sizes the
// ratio is per trace (the peer's rate at its largest size against arcuate's), printed as such.
//
// Usage: tsx bench/traces.ts [--traces 200,1000,10000] [--spans 10] [--peer-up-to 200]
//                            [--rounds 2] [--distinct 250] [--workers 4] [--arcuate-only] [--keep]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MlflowClient } from "../src/mlflow/index.js";
import { UVICORN_PATIENCE } from "../src/peers/mlflow-postgres.js";
import { type MlflowServer, startMlflowServer } from "../src/peers/mlflow-server.js";
import { cloneTraces, seedTraces } from "./traces-seed.js";

const ROOT = join(import.meta.dirname, "..");
const VENV_BIN = join(ROOT, ".venv", "bin");

const { values } = parseArgs({
  options: {
    traces: { type: "string", default: "200,1000,10000" },
    spans: { type: "string", default: "10" },
    "peer-up-to": { type: "string" },
    workers: { type: "string", default: "4" },
    distinct: { type: "string", default: "250" },
    rounds: { type: "string", default: "2" },
    keep: { type: "boolean", default: false },
    "arcuate-only": { type: "boolean", default: false },
  },
});
const sizes = values.traces
  .split(",")
  .map(Number)
  .sort((a, b) => a - b);
const workers = Number(values.workers);
const shape = { spans: Number(values.spans) };
const distinct = Number(values.distinct);
const rounds = Number(values.rounds);
const peerUpTo = values["arcuate-only"] ? 0 : Number(values["peer-up-to"] ?? 200);

/** Runs the peer script: its time and peak RSS (getrusage of the child). */
function runPeer(args: string[]): Promise<{ ms: number; peakRssMb: number }> {
  const wrapper =
    "import resource, subprocess, sys\n" +
    "code = subprocess.run(sys.argv[1:]).returncode\n" +
    "print(f'peak-kb {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr)\n" +
    "sys.exit(code)\n";
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const python = join(VENV_BIN, "python");
    const script = join(ROOT, "python", "bench_copy_traces.py");
    const child = spawn(python, ["-c", wrapper, python, script, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const peak = /peak-kb (\d+)/.exec(stderr);
      const peakRssMb = peak ? Number(peak[1]) / 1024 : Number.NaN;
      if (code === 0) resolve({ ms: performance.now() - started, peakRssMb });
      else reject(new Error(`the copy script exited with ${code}:\n${stderr}`));
    });
  });
}

async function countTraces(mlflow: MlflowClient, experiment: string): Promise<number> {
  const { experiment_id } = await mlflow.experiments.getByName(experiment);
  let n = 0;
  for await (const _ of mlflow.traces.searchAll([experiment_id])) n++;
  return n;
}

interface Move {
  exportMs: number;
  totalMs: number;
  counts: Record<string, number>;
  skipped: string[];
  rssBeforeMb: number;
  peakRssMb: number;
  requests: { provider: Record<string, number>; recipient: Record<string, number> };
  /** When each step of the export and the import first and last reported progress (ms). */
  steps: Record<string, [number, number]>;
}

/** The requests of a move, per server, most frequent first, with their number per trace. */
function requestLines(move: Move, traces: number): string {
  return (["provider", "recipient"] as const)
    .map((side) => {
      const routes = Object.entries(move.requests[side]).sort((a, b) => b[1] - a[1]);
      const total = routes.reduce((sum, [, n]) => sum + n, 0);
      return `  ${side}: ${total} requests, ${(total / traces).toFixed(2)} a trace: ${routes.map(([route, n]) => `${route} ×${n}`).join(", ")}`;
    })
    .join("\n");
}

/** arcuate's move, in a child process of its own (bench/traces-move.ts). */
function runArcuate(args: string[]): Promise<Move> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, join(import.meta.dirname, "traces-move.ts"), ...args],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code === 0) resolve(JSON.parse(stdout.trim().split("\n").at(-1)!) as Move);
      else reject(new Error(`bench/traces-move.ts exited with ${code}`));
    });
  });
}

interface Result {
  traces: number;
  seedMs: number;
  /** One move per round. */
  arcuate: Move[];
  peer: Array<{ ms: number; peakRssMb: number; copied: number }>;
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);
const perTrace = (ms: number, traces: number) => `${(ms / traces).toFixed(0)} ms/trace`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "arcuate-bench-traces-"));
  const mlflowBin = join(VENV_BIN, "mlflow");
  // Several workers: uvicorn's health check gets a minute (a busy worker on a loaded machine was
  // killed otherwise).
  const patience = workers > 1 ? { extraArgs: ["--uvicorn-opts", UVICORN_PATIENCE] } : {};
  const start = (name: string) =>
    startMlflowServer({ dir: join(dir, name), mlflowBin, workers, ...patience, startTimeoutMs: 600_000 });
  const source = await start("provider");
  let target: MlflowServer | undefined;
  let recipients = 0;
  /**
   * A fresh recipient server for each arcuate move: trace ids are global in an MLflow store, so a
   * second move of the same traces into one store would take StartTraceV3's conflict path (and
   * move the traces between experiments). Its workers are warmed (each opens its store on its
   * first request, about a second of CPU) before anything is timed.
   */
  const freshRecipient = async (): Promise<MlflowClient> => {
    await target?.stop();
    target = await start(`recipient-${++recipients}`);
    const client = new MlflowClient({ trackingUri: target.uri });
    for (let i = 0; i < 3; i++)
      await Promise.all(Array.from({ length: 8 * workers }, () => client.experiments.getByName("Default")));
    return client;
  };
  const results: Result[] = [];
  try {
    const provider = new MlflowClient({ trackingUri: source.uri });
    const name = "bench-traces";
    const experimentId = await provider.experiments.create(name);
    let seeded = 0;
    for (const traces of sizes) {
      const seedStart = performance.now();
      // Through MLflow's write routes up to --distinct traces, cloned at the store level past it.
      const viaApi = Math.min(traces, distinct) - seeded;
      if (viaApi > 0) {
        process.stderr.write(
          `bench: seeding ${viaApi} more traces × ${shape.spans} spans, 2 assessments each, through MLflow's write routes…\n`,
        );
        await seedTraces(provider, experimentId, viaApi, {
          spans: shape.spans,
          log: (m) => process.stderr.write(`bench: ${m} (of ${viaApi} more)\n`),
        });
        seeded += viaApi;
      }
      if (traces > seeded) {
        const { cloned } = await cloneTraces(
          provider,
          join(source.dir, "mlflow.db"),
          experimentId,
          traces,
          join(VENV_BIN, "python"),
        );
        process.stderr.write(
          `bench: cloned ${cloned} traces at the store level (one checked through the REST API)\n`,
        );
        seeded = traces;
      }
      const seedMs = performance.now() - seedStart;
      process.stderr.write(`bench: seeded in ${seconds(seedMs)} s\n`);

      const result: Result = { traces, seedMs, arcuate: [], peer: [] };
      results.push(result);
      const withPeer = traces <= peerUpTo;
      // With the peer: rounds in alternating order (arcuate first, then the peer first), so that
      // a change in the machine's load falls on both alike.
      for (let round = 0; round < (withPeer ? rounds : 1); round++) {
        const recipient = await freshRecipient();
        const moveArcuate = async () => {
          const move = await runArcuate([
            source.uri,
            target!.uri,
            name,
            join(dir, `arcuate-${traces}-${round}`),
            `${name}-arcuate-${traces}-${round}`,
          ]);
          console.log(
            `${traces} traces, round ${round + 1}: arcuate ${seconds(move.totalMs)} s, ${perTrace(move.totalMs, traces)} (export ${seconds(move.exportMs)} s; ${move.counts.traces} traces, ${move.counts.spans} spans, ${move.counts.assessments} assessments; peak RSS ${move.peakRssMb.toFixed(0)} MB, ${move.rssBeforeMb.toFixed(0)} MB before the move)`,
          );
          console.log(requestLines(move, traces));
          console.log(
            `  steps (first and last progress, s from the start): ${Object.entries(move.steps)
              .map(([step, [first, last]]) => `${step} ${seconds(first)}-${seconds(last)}`)
              .join(", ")}`,
          );
          const want = { traces, spans: traces * shape.spans, assessments: traces * 2 };
          for (const [kind, n] of Object.entries(want))
            if (move.counts[kind] !== n)
              throw new Error(`arcuate imported ${move.counts[kind]} of ${n} ${kind}`);
          result.arcuate.push(move);
        };
        const movePeer = async () => {
          const copy = `${name}-copy-${traces}-${round}`;
          const peer = await runPeer([source.uri, name, target!.uri, copy]);
          const copied = await countTraces(recipient, copy);
          if (copied !== traces) throw new Error(`the copy script copied ${copied} of ${traces} traces`);
          result.peer.push({ ...peer, copied });
          console.log(
            `${traces} traces, round ${round + 1}: copy script on MLflow's client ${seconds(peer.ms)} s, ${perTrace(peer.ms, traces)} (${copied} traces, new trace and span ids; peak RSS ${peer.peakRssMb.toFixed(0)} MB)`,
          );
        };
        if (withPeer && round % 2 === 1) {
          await movePeer();
          await moveArcuate();
        } else {
          await moveArcuate();
          if (withPeer) await movePeer();
        }
      }
    }
  } finally {
    if (!values.keep) {
      await Promise.all([source.stop(), target?.stop()]);
      rmSync(dir, { recursive: true, force: true });
    } else {
      console.log(`kept: provider ${source.uri}, recipient ${target?.uri}, folder ${dir}`);
    }
  }
  report(results);
}

const sum = (values: number[]) => values.reduce((total, v) => total + v, 0);
/** Mean time of a size's rounds. */
const meanMs = (runs: Array<{ ms?: number; totalMs?: number }>) =>
  sum(runs.map((r) => r.totalMs ?? r.ms ?? 0)) / runs.length;
const peakMb = (runs: Array<{ peakRssMb: number }>) => Math.max(...runs.map((r) => r.peakRssMb));

function report(results: Result[]): void {
  const [load1, load5] = loadavg();
  console.log(
    `\ntraces × ${shape.spans} spans, 2 assessments each; MLflow servers on SQLite, ${workers} worker(s) each, a fresh recipient for each arcuate move; load average ${load1!.toFixed(1)} (1 min), ${load5!.toFixed(1)} (5 min) at the end`,
  );
  console.log(
    `provider seeded: up to ${distinct} distinct traces through MLflow's write routes (bench/traces-seed.ts), the rest cloned from them at the store level in MLflow's SQLite tables (python/bench_clone_traces.py: new trace, span and assessment ids, times shifted; one clone a size read back through the REST API)`,
  );
  console.log(
    "traces   seed s  rounds  arcuate s  export s  arcuate ms/trace   peer s  peer ms/trace    ratio  arcuate peak RSS  peer peak RSS",
  );
  for (const { traces, seedMs, arcuate, peer } of results) {
    const withPeer = peer.length > 0;
    console.log(
      [
        String(traces).padEnd(8),
        seconds(seedMs).padStart(6),
        String(arcuate.length).padStart(7),
        seconds(meanMs(arcuate)).padStart(10),
        seconds(sum(arcuate.map((m) => m.exportMs)) / arcuate.length).padStart(9),
        (meanMs(arcuate) / traces).toFixed(0).padStart(17),
        (withPeer ? seconds(meanMs(peer)) : "-").padStart(8),
        (withPeer ? (meanMs(peer) / traces).toFixed(0) : "-").padStart(14),
        (withPeer ? `${(meanMs(peer) / meanMs(arcuate)).toFixed(2)}×` : "-").padStart(8),
        `${peakMb(arcuate).toFixed(0)} MB`.padStart(17),
        (withPeer ? `${peakMb(peer).toFixed(0)} MB` : "-").padStart(14),
      ].join(" "),
    );
  }
  console.log("(times: the mean of the rounds; with the peer, rounds alternate which tool goes first)");
  const peerRef = results.filter((r) => r.peer.length > 0).at(-1);
  const largest = results.at(-1)!;
  if (peerRef)
    console.log(
      `same-size ratio at ${peerRef.traces} traces (${peerRef.arcuate.length} alternating rounds): ${(meanMs(peerRef.peer) / meanMs(peerRef.arcuate)).toFixed(2)}×; target ≥ 10×`,
    );
  if (peerRef && largest.traces > peerRef.traces) {
    const peerRate = meanMs(peerRef.peer) / peerRef.traces;
    const arcuateRate = meanMs(largest.arcuate) / largest.traces;
    console.log(
      `per-trace ratio at ${largest.traces} traces: arcuate ${arcuateRate.toFixed(0)} ms/trace against the peer's ${peerRate.toFixed(0)} ms/trace at ${peerRef.traces} (it ran at ${peerRef.traces} traces only; at ${largest.traces} it would take about ${((peerRate * largest.traces) / 3_600_000).toFixed(1)} h): ${(peerRate / arcuateRate).toFixed(2)}× per trace, not one run at the same size; target ≥ 10×`,
    );
  }
  const from = results.find((r) => r.traces >= 1000) ?? results[0]!;
  if (largest !== from) {
    console.log(
      `arcuate peak RSS ${peakMb(from.arcuate).toFixed(0)} MB at ${from.traces} traces, ${peakMb(largest.arcuate).toFixed(0)} MB at ${largest.traces} (${(peakMb(largest.arcuate) / peakMb(from.arcuate)).toFixed(2)}×; target: flat)`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
