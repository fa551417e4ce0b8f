// Moving an experiment's traces from one MLflow server to another, side by side in one run:
//   arcuate:  export into a share → arcuate's sharing server → client → import
//             (bench/traces-move.ts, in a process of its own so its peak RSS is arcuate's alone)
//   the peer: python/bench_copy_traces.py, a copy on MLflow's Python client: mlflow-export-import's
//             newest PyPI release (1.2.0) has no trace export, so this is the straightforward
//             copy a user would write, replaying spans and assessments
// between the same two servers (started once), on one provider experiment grown to each size in
// turn (N traces × 10 spans, 2 assessments each, seeded by bench/traces-seed.ts), each move into
// a fresh recipient experiment. Prints times, per-trace rates, the ratio (target: arcuate ≥ 10×
// faster) and peak RSS per size, and how arcuate's peak RSS grows from the smallest size to the
// largest (target: flat between 1,000 and 10,000).
//
// The peer copies about one trace every 2.5 s on a loaded 2-core machine, so at 10,000 traces it
// would take seven hours: it runs only at sizes up to --peer-up-to (default 100), and the ratio at
// the larger sizes is per trace (its rate at the largest size it ran against arcuate's), printed
// as such.
//
// Usage: tsx bench/traces.ts [--traces 100,1000,10000] [--spans 10] [--peer-up-to 100]
//                            [--workers 4] [--arcuate-only] [--keep]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MlflowClient } from "../src/mlflow/index.js";
import { UVICORN_PATIENCE } from "../src/peers/mlflow-postgres.js";
import { startMlflowServer } from "../src/peers/mlflow-server.js";
import { cloneTraces, seedTraces } from "./traces-seed.js";

const ROOT = join(import.meta.dirname, "..");
const VENV_BIN = join(ROOT, ".venv", "bin");

const { values } = parseArgs({
  options: {
    traces: { type: "string", default: "100,1000,10000" },
    spans: { type: "string", default: "10" },
    "peer-up-to": { type: "string" },
    workers: { type: "string", default: "4" },
    distinct: { type: "string", default: "250" },
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
const peerUpTo = values["arcuate-only"] ? 0 : Number(values["peer-up-to"] ?? 100);

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
  arcuate: Move;
  peer?: { ms: number; peakRssMb: number; copied: number };
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
  const [source, target] = await Promise.all([start("provider"), start("recipient")]);
  const results: Result[] = [];
  try {
    const provider = new MlflowClient({ trackingUri: source.uri });
    const recipient = new MlflowClient({ trackingUri: target.uri });
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

      const arcuate = await runArcuate([
        source.uri,
        target.uri,
        name,
        join(dir, `arcuate-${traces}`),
        `${name}-arcuate-${traces}`,
      ]);
      console.log(
        `${traces} traces: arcuate ${seconds(arcuate.totalMs)} s, ${perTrace(arcuate.totalMs, traces)} (export ${seconds(arcuate.exportMs)} s; ${arcuate.counts.traces} traces, ${arcuate.counts.spans} spans, ${arcuate.counts.assessments} assessments; peak RSS ${arcuate.peakRssMb.toFixed(0)} MB, ${arcuate.rssBeforeMb.toFixed(0)} MB before the move)`,
      );
      const want = { traces, spans: traces * shape.spans, assessments: traces * 2 };
      for (const [kind, n] of Object.entries(want))
        if (arcuate.counts[kind] !== n)
          throw new Error(`arcuate imported ${arcuate.counts[kind]} of ${n} ${kind}`);
      const result: Result = { traces, seedMs, arcuate };
      results.push(result);
      if (traces > peerUpTo) continue;
      const copy = `${name}-copy-${traces}`;
      const peer = await runPeer([source.uri, name, target.uri, copy]);
      const copied = await countTraces(recipient, copy);
      result.peer = { ...peer, copied };
      console.log(
        `${traces} traces: copy script on MLflow's client ${seconds(peer.ms)} s, ${perTrace(peer.ms, traces)} (${copied} traces, new trace and span ids; peak RSS ${peer.peakRssMb.toFixed(0)} MB); ratio ${(peer.ms / arcuate.totalMs).toFixed(2)}×`,
      );
    }
  } finally {
    if (!values.keep) {
      await Promise.all([source.stop(), target.stop()]);
      rmSync(dir, { recursive: true, force: true });
    } else {
      console.log(`kept: provider ${source.uri}, recipient ${target.uri}, folder ${dir}`);
    }
  }
  report(results);
}

function report(results: Result[]): void {
  const [load1, load5] = loadavg();
  console.log(
    `\ntraces × ${shape.spans} spans, 2 assessments each; MLflow servers on SQLite, ${workers} worker(s) each; load average ${load1!.toFixed(1)} (1 min), ${load5!.toFixed(1)} (5 min) at the end`,
  );
  console.log(
    `provider seeded: up to ${distinct} distinct traces through MLflow's write routes (bench/traces-seed.ts), the rest cloned from them at the store level in MLflow's SQLite tables (python/bench_clone_traces.py: new trace, span and assessment ids, times shifted; one clone a size read back through the REST API)`,
  );
  console.log(
    "traces   seed s  arcuate s  export s  arcuate ms/trace   peer s  peer ms/trace    ratio  arcuate peak RSS  peer peak RSS",
  );
  for (const { traces, seedMs, arcuate, peer } of results) {
    console.log(
      [
        String(traces).padEnd(8),
        seconds(seedMs).padStart(6),
        seconds(arcuate.totalMs).padStart(10),
        seconds(arcuate.exportMs).padStart(9),
        (arcuate.totalMs / traces).toFixed(0).padStart(17),
        (peer ? seconds(peer.ms) : "-").padStart(8),
        (peer ? (peer.ms / traces).toFixed(0) : "-").padStart(14),
        (peer ? `${(peer.ms / arcuate.totalMs).toFixed(2)}×` : "-").padStart(8),
        `${arcuate.peakRssMb.toFixed(0)} MB`.padStart(17),
        (peer ? `${peer.peakRssMb.toFixed(0)} MB` : "-").padStart(14),
      ].join(" "),
    );
  }
  const withPeer = results.filter((r) => r.peer);
  const peerRef = withPeer.at(-1);
  const largest = results.at(-1)!;
  if (peerRef && largest.traces > peerRef.traces) {
    const peerRate = peerRef.peer!.ms / peerRef.traces;
    const arcuateRate = largest.arcuate.totalMs / largest.traces;
    console.log(
      `ratio per trace: the peer ran at ${peerRef.traces} traces only (${peerRate.toFixed(0)} ms/trace; at ${largest.traces} it would take about ${((peerRate * largest.traces) / 3_600_000).toFixed(1)} h); arcuate at ${largest.traces}: ${arcuateRate.toFixed(0)} ms/trace, ${(peerRate / arcuateRate).toFixed(2)}× (per trace, not one run at the same size); target ≥ 10×`,
    );
  } else if (peerRef) {
    console.log(
      `ratio at ${peerRef.traces} traces: ${(peerRef.peer!.ms / peerRef.arcuate.totalMs).toFixed(2)}×; target ≥ 10×`,
    );
  }
  const from = results.find((r) => r.traces >= 1000) ?? results[0]!;
  if (largest !== from) {
    console.log(
      `arcuate peak RSS ${from.arcuate.peakRssMb.toFixed(0)} MB at ${from.traces} traces, ${largest.arcuate.peakRssMb.toFixed(0)} MB at ${largest.traces} (${(largest.arcuate.peakRssMb / from.arcuate.peakRssMb).toFixed(2)}×; target: flat)`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
