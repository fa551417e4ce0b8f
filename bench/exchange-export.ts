// arcuate's export against the ceiling's read (bench/exchange-ceiling.ts), side by side on one
// PostgreSQL-backed provider: the experiment is seeded once (bench/exchange-seed-pg.ts: a few
// runs through the REST API, the rest cloned at the SQL level), the ceiling's best concurrency is
// found by a sweep on a slice, then arcuate's export (a fresh share each round, the client as a
// user gets it: the adaptive limit unless --concurrency) and the ceiling's read alternate for
// --rounds rounds, so the machine's load swings hit both alike. Prints each round, the ratio of
// the medians (target ≤ 1.25×), the limit the export's client reached and its path, and the
// export's peak RSS growth.
//
// Usage: tsx bench/exchange-export.ts [--runs 200] [--metrics 10] [--steps 100] [--rounds 3]
//          [--concurrency auto,32] [--ceiling-concurrency N (no sweep)] [--no-ceiling] [--keep]
//          [--memory-every SECONDS] [--heap-snapshot-at SECONDS]
// --memory-every: a line every so many seconds of each export with its RSS, V8 heap, external and
// array-buffer memory (and, under `node --expose-gc`, the heap live after a full collection).
// --heap-snapshot-at: a V8 heap snapshot (in the current folder) that many seconds into each export.
// --concurrency: the export's client limits to compare, each once a round (default auto: the
// adaptive limit a user gets; a number is a fixed limit).
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";
import { Exchange } from "../src/exchange/index.js";
import { MlflowClient } from "../src/mlflow/index.js";
import type { Limiter } from "../src/mlflow/pacing.js";
import { startPostgresMlflow } from "../src/peers/mlflow-postgres.js";
import { Catalog } from "../src/sharing/index.js";
import { ceilingRead, sweep } from "./exchange-ceiling.js";
import { seedByCloning } from "./exchange-seed-pg.js";

const ROOT = join(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "200" },
    metrics: { type: "string", default: "10" },
    steps: { type: "string", default: "100" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "auto" },
    "ceiling-concurrency": { type: "string" },
    "no-ceiling": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "memory-every": { type: "string" },
    "heap-snapshot-at": { type: "string" },
  },
});

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 50);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" / ");
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes: number) => (bytes / 1048576).toFixed(0);

/** Samples the process's memory through one export (--memory-every, --heap-snapshot-at). */
function memoryTimeline(label: string): () => void {
  const every = Number(values["memory-every"] ?? 0) * 1000;
  const snapshotAt = Number(values["heap-snapshot-at"] ?? 0) * 1000;
  const started = performance.now();
  const peak = { rss: 0, heap: 0, external: 0, live: 0 };
  const timers: NodeJS.Timeout[] = [];
  if (every > 0)
    timers.push(
      setInterval(() => {
        const m = process.memoryUsage();
        let live = "";
        if (global.gc) {
          global.gc();
          const after = process.memoryUsage().heapUsed;
          peak.live = Math.max(peak.live, after);
          live = `, live heap ${mb(after)}`;
        }
        peak.rss = Math.max(peak.rss, m.rss);
        peak.heap = Math.max(peak.heap, m.heapUsed);
        peak.external = Math.max(peak.external, m.external);
        console.log(
          `  ${label} ${((performance.now() - started) / 1000).toFixed(0)} s: RSS ${mb(m.rss)} MB, heap ${mb(m.heapUsed)}/${mb(m.heapTotal)}, external ${mb(m.external)} (array buffers ${mb(m.arrayBuffers)})${live}; load ${load()}`,
        );
      }, every),
    );
  if (snapshotAt > 0)
    timers.push(
      setTimeout(() => console.log(`  ${label} heap snapshot: ${writeHeapSnapshot()}`), snapshotAt),
    );
  return () => {
    for (const timer of timers) clearTimeout(timer);
    if (every > 0)
      console.log(
        `  ${label} sampled peaks: RSS ${mb(peak.rss)} MB, heap ${mb(peak.heap)}, external ${mb(peak.external)}${global.gc ? `, live heap ${mb(peak.live)}` : ""}`,
      );
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The limit over the export: its time-weighted mean, lowest and highest, and its changes. */
function limitPath(mlflow: MlflowClient): string {
  const limiter = (
    mlflow as unknown as { http: { limiter: Limiter & { history?: Array<[number, number]> } } }
  ).http.limiter;
  const history = limiter.history ?? [];
  const end = performance.now();
  let area = 0;
  for (let i = 0; i < history.length; i++) {
    area += history[i]![1] * ((history[i + 1]?.[0] ?? end) - history[i]![0]);
  }
  const limits = history.map(([, l]) => l);
  const mean = area / Math.max(1, end - (history[0]?.[0] ?? end));
  return `mean ${mean.toFixed(1)}, ${Math.min(...limits)}-${Math.max(...limits)}, ${history.length - 1} changes`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "arcuate-bench-export-"));
  process.stderr.write("bench: starting a PostgreSQL-backed MLflow…\n");
  const peers = await startPostgresMlflow({
    dir,
    mlflowBin: join(ROOT, ".venv", "bin", "mlflow"),
    names: ["provider"],
  });
  const source = peers.servers[0]!;
  try {
    const name = "bench-experiment";
    const seedStart = performance.now();
    const seeded = await seedByCloning(source, new MlflowClient({ trackingUri: source.uri }), {
      experimentName: name,
      runs: Number(values.runs),
      metricsPerRun: Number(values.metrics),
      stepsPerMetric: Number(values.steps),
      concurrency: 8,
    });
    const runs = seeded.runIds.length;
    console.log(
      `experiment: ${runs} runs × ${values.metrics} metrics × ${values.steps} steps, ${runs * 4} artifact files (seeded in ${s(performance.now() - seedStart)}); PostgreSQL-backed MLflow, its default workers`,
    );
    let ceilingAt = values["ceiling-concurrency"] ? Number(values["ceiling-concurrency"]) : 0;
    if (!values["no-ceiling"] && !ceilingAt) {
      const slice = Math.max(30, Math.ceil(runs / 10));
      const found = await sweep([8, 16, 32, 64], (c) =>
        ceilingRead(source.uri, name, join(dir, "ceiling", `sweep-${c}`), c, slice).then(() => undefined),
      );
      ceilingAt = found.best;
      console.log(
        `ceiling sweep on ${slice} runs: ${[...found.timesMs].map(([c, ms]) => `${c}: ${s(ms)}`).join(", ")} → ${ceilingAt}`,
      );
    }
    const variants = String(values.concurrency).split(",");
    const exportMs = new Map<string, number[]>(variants.map((v) => [v, []]));
    const readMs: number[] = [];
    for (let round = 1; round <= Number(values.rounds); round++) {
      for (const variant of variants) {
        const workDir = join(dir, `arcuate-${round}-${variant}`);
        const catalog = await Catalog.open(workDir);
        await catalog.createShare("bench");
        const mlflow = new MlflowClient({
          trackingUri: source.uri,
          ...(variant === "auto" ? {} : { concurrency: Number(variant) }),
        });
        global.gc?.();
        const before = process.memoryUsage.rss();
        peakRss = before;
        const started = performance.now();
        const stopTimeline = memoryTimeline(`round ${round} (${variant})`);
        await new Exchange({ mlflow, catalog, workDir }).exportExperiments(name, "experiment", "bench");
        const ms = performance.now() - started;
        stopTimeline();
        exportMs.get(variant)!.push(ms);
        const t = mlflow.traffic();
        console.log(
          `round ${round} arcuate export (${variant}): ${s(ms)}  (${t.sent} requests, ${t.overloaded} overload answers retried; limit now ${t.limit}${variant === "auto" ? `; path ${limitPath(mlflow)}` : ""}; peak RSS growth ${((peakRss - before) / 1048576).toFixed(0)} MB; load ${load()})`,
        );
        rmSync(workDir, { recursive: true, force: true });
      }
      if (values["no-ceiling"]) continue;
      const readStart = performance.now();
      const read = await ceilingRead(source.uri, name, join(dir, `ceiling-${round}`), ceilingAt);
      readMs.push(performance.now() - readStart);
      console.log(
        `round ${round} ceiling read:   ${s(readMs.at(-1)!)}  (at ${ceilingAt} in flight; ${read.stats.requests} requests, ${read.stats.retried} retried; load ${load()})`,
      );
      rmSync(join(dir, `ceiling-${round}`), { recursive: true, force: true });
    }
    if (readMs.length > 0) console.log(`ceiling read, median: ${s(median(readMs))}`);
    for (const [variant, times] of exportMs) {
      const ratio =
        readMs.length > 0
          ? ` → ${(median(times) / median(readMs)).toFixed(2)}× the read (target ≤ 1.25×)`
          : "";
      console.log(`arcuate export (${variant}), median: ${s(median(times))}${ratio}`);
    }
  } finally {
    if (values.keep) console.log(`kept: provider ${source.uri}, folder ${dir}`);
    else {
      await peers.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    clearInterval(sampler);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
