// Moving an experiment from one MLflow server to another, side by side in one run:
//   arcuate:               export into a share → arcuate's sharing server → client → import
//   mlflow-export-import:  export-experiment to a folder → import-experiment
// between the same two servers, on the same seeded experiment (runs × metrics × steps, with
// artifacts). Prints both times, the ratio (target: arcuate ≥ 5× faster) and both tools' peak RSS.
//
// Usage: tsx bench/exchange.ts [--runs 1000] [--metrics 10] [--steps 100] [--keep]
// The DESIGN.md target is 1000 × 10 × 100; seeding that many points into a SQLite-backed MLflow
// takes a while, so smaller shapes are useful for a quick look.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Exchange } from "../src/exchange/index.js";
import { MlflowClient } from "../src/mlflow/index.js";
import { startMlflowServer } from "../src/peers/mlflow-server.js";
import { seedExperiment } from "../src/peers/seed.js";
import { Catalog, startSharingServer } from "../src/sharing/index.js";

const ROOT = join(import.meta.dirname, "..");
const VENV_BIN = join(ROOT, ".venv", "bin");

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "1000" },
    metrics: { type: "string", default: "10" },
    steps: { type: "string", default: "100" },
    keep: { type: "boolean", default: false },
    // Time arcuate alone (no ratio): for profiling between full runs.
    "arcuate-only": { type: "boolean", default: false },
  },
});
const shape = { runs: Number(values.runs), metrics: Number(values.metrics), steps: Number(values.steps) };

/** mlflow-export-import is a benchmark peer only: installed on demand, pinned, into .venv. */
function ensureMlflowExportImport(): void {
  try {
    execFileSync(join(VENV_BIN, "python"), ["-c", "import mlflow_export_import, shortuuid, tabulate"], {
      stdio: "ignore",
    });
  } catch {
    process.stderr.write("bench: installing mlflow-export-import (python/bench-requirements.txt)\n");
    execFileSync(
      join(VENV_BIN, "python"),
      ["-m", "pip", "install", "--quiet", "--no-deps", "-r", join(ROOT, "python", "bench-requirements.txt")],
      { stdio: "inherit" },
    );
  }
}

/** Peak RSS (MB) of the peer's processes, the largest seen over its runs. */
let peerPeakMb = 0;

/**
 * Runs one of the peer's commands under a small Python wrapper that reports the command's peak
 * RSS (getrusage of its children), so the peer's memory is printed beside arcuate's.
 */
function runTool(tool: string, args: string[], trackingUri: string): Promise<number> {
  const wrapper =
    "import resource, subprocess, sys\n" +
    "code = subprocess.run(sys.argv[1:]).returncode\n" +
    "print(f'peak-kb {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr)\n" +
    "sys.exit(code)\n";
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(join(VENV_BIN, "python"), ["-c", wrapper, join(VENV_BIN, tool), ...args], {
      env: { ...process.env, MLFLOW_TRACKING_URI: trackingUri },
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
      else reject(new Error(`${tool} exited with ${code}:\n${stderr}`));
    });
  });
}

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);

async function main(): Promise<void> {
  ensureMlflowExportImport();
  const dir = mkdtempSync(join(tmpdir(), "arcuate-bench-exchange-"));
  const mlflowBin = join(VENV_BIN, "mlflow");
  // MLflow's own default of 4 workers, as a team would run its server: a tool that fans out
  // (arcuate) is not held to one request at a time, one that does not (the peer) loses nothing.
  const [source, target] = await Promise.all([
    startMlflowServer({ dir: join(dir, "provider"), mlflowBin, workers: 4 }),
    startMlflowServer({ dir: join(dir, "recipient"), mlflowBin, workers: 4 }),
  ]);
  try {
    const provider = new MlflowClient({ trackingUri: source.uri });
    const recipient = new MlflowClient({ trackingUri: target.uri });
    const name = "bench-experiment";
    process.stderr.write(
      `bench: seeding ${shape.runs} runs × ${shape.metrics} metrics × ${shape.steps} steps…\n`,
    );
    const seedStart = performance.now();
    // Top-level runs only (the seed adds two children to every third run).
    await seedExperiment(provider, {
      experimentName: name,
      runs: Math.ceil(shape.runs / (5 / 3)),
      metricsPerRun: shape.metrics,
      stepsPerMetric: shape.steps,
      concurrency: 4,
    });
    const runs = (
      await collect(
        provider.runs.searchAll({
          experimentIds: [(await provider.experiments.getByName(name)).experiment_id],
        }),
      )
    ).length;
    process.stderr.write(
      `bench: seeded ${runs} runs in ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`,
    );

    // arcuate: export → share → sharing server → client → import.
    const workDir = join(dir, "arcuate");
    const catalog = await Catalog.open(workDir);
    const server = await startSharingServer({ catalog, host: "127.0.0.1", port: 0, log: () => {} });
    await catalog.setEndpoint(server.url);
    peakRss = process.memoryUsage().rss;
    const rssBefore = peakRss;
    let started = performance.now();
    await catalog.createShare("bench");
    await new Exchange({ mlflow: provider, catalog, workDir }).exportExperiments(name, "experiment", "bench");
    const exportMs = performance.now() - started;
    const exportPeakMb = (peakRss - rssBefore) / 1048576;
    const credentials = await catalog.createRecipient("bench-recipient");
    await catalog.grant("bench", "bench-recipient");
    const imported = await new Exchange({ mlflow: recipient }).importExperiments(
      `${credentials.profilePath}#bench.experiment`,
      `${name}-arcuate`,
    );
    const arcuateMs = performance.now() - started;
    const arcuatePeakMb = (peakRss - rssBefore) / 1048576;
    const arcuatePeakTotalMb = peakRss / 1048576;
    await server.close();
    const points = runs * shape.metrics * shape.steps;
    console.log(`experiment: ${runs} runs, ${points} metric points, ${runs * 4} artifact files`);
    console.log(
      `arcuate (export + share + import):      ${(arcuateMs / 1000).toFixed(1)} s  (export ${(exportMs / 1000).toFixed(1)} s, peak RSS growth ${exportPeakMb.toFixed(0)} MB by then; ${imported.runs} runs, ${imported.metricPoints} points; peak RSS ${arcuatePeakTotalMb.toFixed(0)} MB, growth ${arcuatePeakMb.toFixed(0)} MB; the sharing server runs in the same process)`,
    );
    if (values["arcuate-only"]) return;

    // mlflow-export-import: export to a folder, import from it.
    const exportDir = join(dir, "mlflow-export-import");
    started = performance.now();
    await runTool("export-experiment", ["--experiment", name, "--output-dir", exportDir], source.uri);
    await runTool(
      "import-experiment",
      ["--experiment-name", `${name}-mei`, "--input-dir", exportDir],
      target.uri,
    );
    const peerMs = performance.now() - started;
    const peerRuns = (
      await collect(
        recipient.runs.searchAll({
          experimentIds: [(await recipient.experiments.getByName(`${name}-mei`)).experiment_id],
        }),
      )
    ).length;

    console.log(
      `mlflow-export-import (export + import):  ${(peerMs / 1000).toFixed(1)} s  (${peerRuns} runs; peak RSS ${peerPeakMb.toFixed(0)} MB, the larger of its export and import processes)`,
    );
    console.log(`ratio (mlflow-export-import / arcuate): ${(peerMs / arcuateMs).toFixed(2)}× (target ≥ 5×)`);
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

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
