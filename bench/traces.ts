// Moving an experiment's traces from one MLflow server to another, side by side in one run:
//   arcuate:  export into a share → arcuate's sharing server → client → import
//   the peer: python/bench_copy_traces.py, a copy on MLflow's Python client (mlflow-export-import's
//             newest release, 1.2.0, has no trace export), replaying spans and assessments
// between the same two servers, on the same seeded traces (N traces × 10 spans, 2 assessments
// each). Prints both times, the ratio (target: arcuate ≥ 10× faster) and both peak RSS.
//
// Usage: tsx bench/traces.ts [--traces 10000] [--spans 10] [--arcuate-only] [--keep]
// The DESIGN.md target is 10,000 traces × 10 spans; run `--traces 1000` and `--traces 10000`
// to see whether arcuate's peak RSS stays flat.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Exchange } from "../src/exchange/index.js";
import { type Assessment, MlflowClient, type OtlpSpan } from "../src/mlflow/index.js";
import { startMlflowServer } from "../src/peers/mlflow-server.js";
import { Catalog, startSharingServer } from "../src/sharing/index.js";

const ROOT = join(import.meta.dirname, "..");
const VENV_BIN = join(ROOT, ".venv", "bin");

const { values } = parseArgs({
  options: {
    traces: { type: "string", default: "10000" },
    spans: { type: "string", default: "10" },
    keep: { type: "boolean", default: false },
    "arcuate-only": { type: "boolean", default: false },
  },
});
const shape = { traces: Number(values.traces), spans: Number(values.spans) };

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const str = (value: string) => ({ string_value: value });

/** Seeds traces through MLflow's own write path (OTLP spans, then StartTraceV3), 50 at a time. */
async function seedTraces(mlflow: MlflowClient, experimentId: string): Promise<void> {
  const start = BigInt(Date.now() - 3_600_000) * 1_000_000n;
  for (let done = 0; done < shape.traces; ) {
    const group = Math.min(50, shape.traces - done);
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
    if (done % 1000 === 0 || done === shape.traces) process.stderr.write(`bench: seeded ${done} traces\n`);
  }
}

/** Runs the peer script, returning its time; records its peak RSS (getrusage of the child). */
let peerPeakMb = 0;
function runPeer(args: string[]): Promise<number> {
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
      if (peak) peerPeakMb = Math.max(peerPeakMb, Number(peak[1]) / 1024);
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`the copy script exited with ${code}:\n${stderr}`));
    });
  });
}

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);

async function countTraces(mlflow: MlflowClient, experiment: string): Promise<number> {
  const { experiment_id } = await mlflow.experiments.getByName(experiment);
  let n = 0;
  for await (const _ of mlflow.traces.searchAll([experiment_id])) n++;
  return n;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "arcuate-bench-traces-"));
  const mlflowBin = join(VENV_BIN, "mlflow");
  const [source, target] = await Promise.all([
    startMlflowServer({ dir: join(dir, "provider"), mlflowBin, workers: 4 }),
    startMlflowServer({ dir: join(dir, "recipient"), mlflowBin, workers: 4 }),
  ]);
  try {
    const provider = new MlflowClient({ trackingUri: source.uri });
    const recipient = new MlflowClient({ trackingUri: target.uri });
    const name = "bench-traces";
    const experimentId = await provider.experiments.create(name);
    process.stderr.write(
      `bench: seeding ${shape.traces} traces × ${shape.spans} spans, 2 assessments each…\n`,
    );
    const seedStart = performance.now();
    await seedTraces(provider, experimentId);
    process.stderr.write(`bench: seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`);

    const workDir = join(dir, "arcuate");
    const catalog = await Catalog.open(workDir);
    const server = await startSharingServer({ catalog, host: "127.0.0.1", port: 0, log: () => {} });
    await catalog.setEndpoint(server.url);
    peakRss = process.memoryUsage().rss;
    const rssBefore = peakRss;
    let started = performance.now();
    await catalog.createShare("bench");
    await new Exchange({ mlflow: provider, catalog, workDir }).exportExperiments(name, "traces", "bench");
    const exportMs = performance.now() - started;
    const credentials = await catalog.createRecipient("bench-recipient");
    await catalog.grant("bench", "bench-recipient");
    const imported = await new Exchange({ mlflow: recipient }).importExperiments(
      `${credentials.profilePath}#bench.traces`,
      `${name}-arcuate`,
    );
    const arcuateMs = performance.now() - started;
    await server.close();
    const counts = imported.assets.traces?.counts ?? {};
    console.log(`traces: ${shape.traces} × ${shape.spans} spans, 2 assessments each`);
    console.log(
      `arcuate (export + share + import):  ${(arcuateMs / 1000).toFixed(1)} s  (export ${(exportMs / 1000).toFixed(1)} s; ${counts.traces} traces, ${counts.spans} spans, ${counts.assessments} assessments; peak RSS ${(peakRss / 1048576).toFixed(0)} MB, growth ${((peakRss - rssBefore) / 1048576).toFixed(0)} MB; the sharing server runs in the same process)`,
    );
    if (values["arcuate-only"]) return;

    started = performance.now();
    await runPeer([source.uri, name, target.uri, `${name}-copy`]);
    const peerMs = performance.now() - started;
    const copied = await countTraces(recipient, `${name}-copy`);
    console.log(
      `copy script on MLflow's client:    ${(peerMs / 1000).toFixed(1)} s  (${copied} traces, new trace and span ids; peak RSS ${peerPeakMb.toFixed(0)} MB)`,
    );
    console.log(`ratio (copy script / arcuate): ${(peerMs / arcuateMs).toFixed(2)}× (target ≥ 10×)`);
  } finally {
    clearInterval(sampler);
    if (!values.keep) {
      await Promise.all([source.stop(), target.stop()]);
      rmSync(dir, { recursive: true, force: true });
    } else {
      console.log(`kept: provider ${source.uri}, recipient ${target.uri}, folder ${dir}`);
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
