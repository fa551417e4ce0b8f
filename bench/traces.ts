// Moving an experiment's traces from one MLflow server to another, side by side in one run:
//   arcuate:  export into a share → arcuate's sharing server → client → import
//             (bench/traces-move.ts, in a process of its own so its peak RSS is arcuate's alone)
//   the peer: python/bench_copy_traces.py, a copy on MLflow's Python client: mlflow-export-import's
//             newest PyPI release (1.2.0) has no trace export, so this is the straightforward
//             copy a user would write, replaying spans and assessments
// between the same two servers, on the same seeded traces (N traces × 10 spans, 2 assessments
// each), for each size asked. Prints both times, the ratio (target: arcuate ≥ 10× faster) and
// both peak RSS per size, and how arcuate's peak RSS grows from the smallest size to the largest
// (target: flat).
//
// Usage: tsx bench/traces.ts [--traces 1000,10000] [--spans 10] [--peer-up-to N] [--workers 4]
//                            [--arcuate-only] [--keep]
// The DESIGN.md target is 10,000 traces × 10 spans. --peer-up-to runs the peer only at sizes up to
// N (it takes about ten times as long as arcuate).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Assessment, MlflowClient, type OtlpSpan } from "../src/mlflow/index.js";
import { UVICORN_PATIENCE } from "../src/peers/mlflow-postgres.js";
import { startMlflowServer } from "../src/peers/mlflow-server.js";

const ROOT = join(import.meta.dirname, "..");
const VENV_BIN = join(ROOT, ".venv", "bin");

const { values } = parseArgs({
  options: {
    traces: { type: "string", default: "1000,10000" },
    spans: { type: "string", default: "10" },
    "peer-up-to": { type: "string" },
    workers: { type: "string", default: "4" },
    keep: { type: "boolean", default: false },
    "arcuate-only": { type: "boolean", default: false },
  },
});
const sizes = values.traces.split(",").map(Number);
const workers = Number(values.workers);
const shape = { spans: Number(values.spans) };
const peerUpTo = values["arcuate-only"] ? 0 : Number(values["peer-up-to"] ?? Number.POSITIVE_INFINITY);

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const str = (value: string) => ({ string_value: value });

/** Seeds traces through MLflow's own write path (OTLP spans, then StartTraceV3), 50 at a time. */
async function seedTraces(mlflow: MlflowClient, experimentId: string, traces: number): Promise<void> {
  const start = BigInt(Date.now() - 3_600_000) * 1_000_000n;
  for (let done = 0; done < traces; ) {
    const group = Math.min(50, traces - done);
    const spans: OtlpSpan[] = [];
    const infos: Array<{ traceId: string; time: bigint }> = [];
    for (let t = 0; t < group; t++) {
      const traceId = hex(16);
      const root = hex(8);
      const time = start + BigInt(done + t) * 1_000_000_000n;
      infos.push({ traceId, time });
      for (let s = 0; s < shape.spans; s++) {
        const spanStart = time + BigInt(s) * 1_000_000n;
        spans.push({
          traceId,
          spanId: s === 0 ? root : hex(8),
          ...(s === 0 ? {} : { parentSpanId: root }),
          name: s === 0 ? "agent" : `step-${s}`,
          startTimeUnixNano: String(spanStart),
          endTimeUnixNano: String(spanStart + 900_000n),
          attributes: [
            { key: "mlflow.spanType", value: str(s === 0 ? "AGENT" : "TOOL") },
            { key: "mlflow.spanInputs", value: str(JSON.stringify({ question: `q${done + t}`, step: s })) },
            { key: "mlflow.spanOutputs", value: str(JSON.stringify({ answer: "x".repeat(200) })) },
          ],
          events: [],
          status: { code: "STATUS_CODE_OK" },
        });
      }
    }
    await mlflow.traces.logSpans(experimentId, spans);
    await Promise.all(
      infos.map(({ traceId, time }) => {
        const id = `tr-${traceId}`;
        const at = new Date(Number(time / 1_000_000n)).toISOString();
        const assessments: Assessment[] = [
          {
            assessment_id: `a-${hex(16)}`,
            assessment_name: "helpful",
            source: { source_type: "HUMAN", source_id: "bench" },
            create_time: at,
            last_update_time: at,
            feedback: { value: true },
            rationale: "fine",
          },
          {
            assessment_id: `a-${hex(16)}`,
            assessment_name: "expected",
            source: { source_type: "HUMAN", source_id: "bench" },
            create_time: at,
            last_update_time: at,
            expectation: { value: "x" },
          },
        ];
        return mlflow.traces.start({
          trace_id: id,
          trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } },
          request_time: at,
          execution_duration: `${shape.spans / 1000}s`,
          state: "OK",
          trace_metadata: {},
          tags: { "mlflow.traceName": "agent" },
          assessments,
        });
      }),
    );
    done += group;
    if (done % 1000 === 0 || done === traces) process.stderr.write(`bench: seeded ${done} traces\n`);
  }
}

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
  arcuate: Move;
  peer?: { ms: number; peakRssMb: number; copied: number };
}

async function measure(traces: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), "arcuate-bench-traces-"));
  const mlflowBin = join(VENV_BIN, "mlflow");
  // Several workers: uvicorn's health check gets a minute (a busy worker on a loaded machine was
  // killed otherwise).
  const patience = workers > 1 ? { extraArgs: ["--uvicorn-opts", UVICORN_PATIENCE] } : {};
  const [source, target] = await Promise.all([
    startMlflowServer({
      dir: join(dir, "provider"),
      mlflowBin,
      workers,
      ...patience,
      startTimeoutMs: 300_000,
    }),
    startMlflowServer({
      dir: join(dir, "recipient"),
      mlflowBin,
      workers,
      ...patience,
      startTimeoutMs: 300_000,
    }),
  ]);
  try {
    const provider = new MlflowClient({ trackingUri: source.uri });
    const recipient = new MlflowClient({ trackingUri: target.uri });
    const name = "bench-traces";
    const experimentId = await provider.experiments.create(name);
    process.stderr.write(`bench: seeding ${traces} traces × ${shape.spans} spans, 2 assessments each…\n`);
    const seedStart = performance.now();
    await seedTraces(provider, experimentId, traces);
    process.stderr.write(`bench: seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`);

    const arcuate = await runArcuate([source.uri, target.uri, name, join(dir, "arcuate")]);
    console.log(
      `${traces} traces: arcuate ${(arcuate.totalMs / 1000).toFixed(1)} s (export ${(arcuate.exportMs / 1000).toFixed(1)} s; ${arcuate.counts.traces} traces, ${arcuate.counts.spans} spans, ${arcuate.counts.assessments} assessments; peak RSS ${arcuate.peakRssMb.toFixed(0)} MB, ${arcuate.rssBeforeMb.toFixed(0)} MB before the move)`,
    );
    if (arcuate.counts.traces !== traces)
      throw new Error(`arcuate imported ${arcuate.counts.traces} of ${traces} traces`);
    if (traces > peerUpTo) return { traces, arcuate };

    const peer = await runPeer([source.uri, name, target.uri, `${name}-copy`]);
    const copied = await countTraces(recipient, `${name}-copy`);
    console.log(
      `${traces} traces: copy script on MLflow's client ${(peer.ms / 1000).toFixed(1)} s (${copied} traces, new trace and span ids; peak RSS ${peer.peakRssMb.toFixed(0)} MB); ratio ${(peer.ms / arcuate.totalMs).toFixed(2)}×`,
    );
    return { traces, arcuate, peer: { ...peer, copied } };
  } finally {
    if (!values.keep) {
      await Promise.all([source.stop(), target.stop()]);
      rmSync(dir, { recursive: true, force: true });
    } else {
      console.log(`kept: provider ${source.uri}, recipient ${target.uri}, folder ${dir}`);
    }
  }
}

async function main(): Promise<void> {
  const results: Result[] = [];
  for (const traces of sizes) results.push(await measure(traces));
  console.log(
    `\ntraces × ${shape.spans} spans, 2 assessments each; MLflow servers on SQLite, ${workers} worker(s) each`,
  );
  console.log("traces   arcuate s  export s  peer s   ratio    arcuate peak RSS  peer peak RSS");
  for (const { traces, arcuate, peer } of results) {
    console.log(
      [
        String(traces).padEnd(8),
        (arcuate.totalMs / 1000).toFixed(1).padStart(9),
        (arcuate.exportMs / 1000).toFixed(1).padStart(9),
        (peer ? (peer.ms / 1000).toFixed(1) : "-").padStart(7),
        (peer ? `${(peer.ms / arcuate.totalMs).toFixed(2)}×` : "-").padStart(8),
        `${arcuate.peakRssMb.toFixed(0)} MB`.padStart(17),
        (peer ? `${peer.peakRssMb.toFixed(0)} MB` : "-").padStart(14),
      ].join(" "),
    );
  }
  if (results.length > 1) {
    const first = results[0]!;
    const last = results.at(-1)!;
    console.log(
      `arcuate peak RSS ${first.arcuate.peakRssMb.toFixed(0)} MB at ${first.traces} traces, ${last.arcuate.peakRssMb.toFixed(0)} MB at ${last.traces} (${(last.arcuate.peakRssMb / first.arcuate.peakRssMb).toFixed(2)}×; target: flat); ratio target ≥ 10×`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
