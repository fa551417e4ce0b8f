// Peak memory of moving an experiment with one large artifact through a share: export from one
// MLflow server, serve it with arcuate's sharing server, import into the other, in this process.
// The artifact is generated on the fly (never whole in memory) and compared by sha256 at the
// recipient. Run it with two sizes: memory that stays flat grows by about the same for both.
//
// Usage: tsx bench/exchange-memory.ts PROVIDER_URI RECIPIENT_URI [MEGABYTES=256] [RUNS=20]
// Prints one JSON line: { megabytes, runs, exportSeconds, importSeconds, sha256Equal,
// exportPeakRssGrowthMb, peakRssGrowthMb }.
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Exchange } from "../src/exchange/index.js";
import { MlflowClient } from "../src/mlflow/index.js";
import { deterministicBytes, seedExperiment } from "../src/peers/seed.js";
import { Catalog, startSharingServer } from "../src/sharing/index.js";

const [providerUri, recipientUri, megabytesArg, runsArg] = process.argv.slice(2);
if (!providerUri || !recipientUri) {
  process.stderr.write("usage: tsx bench/exchange-memory.ts PROVIDER_URI RECIPIENT_URI [MEGABYTES] [RUNS]\n");
  process.exit(2);
}
const megabytes = Number(megabytesArg ?? 256);
const runs = Number(runsArg ?? 20);
const piece = deterministicBytes(64 * 1024, 5);

let peakRss = 0;
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};
const sampler = setInterval(sample, 20);

async function* generate(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < megabytes * 16; i++) {
    const copy = new Uint8Array(piece);
    copy[0] = i & 0xff;
    yield copy;
  }
}

/** With ARCUATE_BENCH_VERBOSE=1, progress and RSS on stderr. */
function onProgress(event: { step: string; message: string }): void {
  if (!process.env.ARCUATE_BENCH_VERBOSE) return;
  const rss = (process.memoryUsage().rss / 1048576).toFixed(0);
  process.stderr.write(`${event.step}: ${event.message} (rss ${rss} MB)\n`);
}

async function sha256Of(client: MlflowClient, root: string, path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const part of await client.artifacts.download(root, path)) hash.update(part as Buffer);
  return hash.digest("hex");
}

async function main(): Promise<void> {
  const provider = new MlflowClient({ trackingUri: providerUri! });
  const recipient = new MlflowClient({ trackingUri: recipientUri! });
  const name = `exchange-memory-${randomUUID().slice(0, 8)}`;
  // Runs of the usual shape, and the large file in one of them.
  const seeded = await seedExperiment(provider, {
    experimentName: name,
    runs: Math.ceil(runs / (5 / 3)),
    metricsPerRun: 5,
    stepsPerMetric: 100,
    concurrency: 4,
  });
  const bigRun = await provider.runs.get(seeded.runIds[0]!);
  await provider.artifacts.upload(bigRun.info.artifact_uri!, "model/big.bin", generate);
  const expected = await sha256Of(provider, bigRun.info.artifact_uri!, "model/big.bin");

  const dir = mkdtempSync(join(tmpdir(), "arcuate-exchange-memory-"));
  try {
    const workDir = join(dir, "arcuate");
    const catalog = await Catalog.open(workDir);
    const server = await startSharingServer({ catalog, host: "127.0.0.1", port: 0, log: () => {} });
    await catalog.setEndpoint(server.url);
    await catalog.createShare("memory");
    const credentials = await catalog.createRecipient("memory-reader");
    await catalog.grant("memory", "memory-reader");
    global.gc?.();
    sample();
    const baseline = process.memoryUsage().rss;
    peakRss = baseline;
    onProgress({ step: "baseline", message: JSON.stringify(process.memoryUsage()) });

    let started = performance.now();
    await new Exchange({ mlflow: provider, catalog, workDir }).exportExperiments(
      name,
      "experiment",
      "memory",
    );
    const exportSeconds = (performance.now() - started) / 1000;
    sample();
    const exportPeakMb = (peakRss - baseline) / 1048576;
    started = performance.now();
    await new Exchange({ mlflow: recipient }).importExperiments(
      `${credentials.profilePath}#memory.experiment`,
      `${name}-imported`,
      { onProgress },
    );
    const importSeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    sample();
    onProgress({ step: "end", message: JSON.stringify(process.memoryUsage()) });
    await server.close();

    const target = await recipient.experiments.getByName(`${name}-imported`);
    let actual = "";
    for await (const run of recipient.runs.searchAll({ experimentIds: [target.experiment_id] })) {
      if (run.data.tags?.some((t) => t.key === "arcuate.source.run_id" && t.value === bigRun.info.run_id)) {
        actual = await sha256Of(recipient, run.info.artifact_uri!, "model/big.bin");
      }
    }
    const result = {
      megabytes,
      runs: seeded.runIds.length,
      exportSeconds: Number(exportSeconds.toFixed(1)),
      importSeconds: Number(importSeconds.toFixed(1)),
      sha256Equal: actual === expected,
      exportPeakRssGrowthMb: Number(exportPeakMb.toFixed(0)),
      peakRssGrowthMb: Number(((peakRss - baseline) / 1048576).toFixed(0)),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
