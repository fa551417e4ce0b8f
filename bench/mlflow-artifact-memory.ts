// Streams a large artifact up to an MLflow server and back down through arcuate's client and
// reports how much the process's peak RSS grew: the file is generated on the fly and hashed on
// the way, so nothing but the stream buffers should stay in memory.
// Usage: tsx bench/mlflow-artifact-memory.ts TRACKING_URI [MEGABYTES=200]
// Prints one JSON line: { megabytes, uploadSeconds, downloadSeconds, sha256Equal, peakRssGrowthMb }.
import { createHash, randomUUID } from "node:crypto";
import { MlflowClient } from "../src/mlflow/index.js";
import { deterministicBytes } from "../src/peers/seed.js";

const [uri, megabytesArg] = process.argv.slice(2);
if (!uri) {
  process.stderr.write("usage: tsx bench/mlflow-artifact-memory.ts TRACKING_URI [MEGABYTES]\n");
  process.exit(2);
}
const megabytes = Number(megabytesArg ?? 200);
// 64 KiB pieces, as a file read stream hands them out.
const chunk = deterministicBytes(64 * 1024, 11);

let peakRss = 0;
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};
const sampler = setInterval(sample, 20);

async function* generate(hash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < megabytes * 16; i++) {
    // A fresh copy per chunk, as a real file read would give.
    const copy = new Uint8Array(chunk);
    copy[0] = i & 0xff;
    hash.update(copy);
    yield copy;
  }
}

async function main(): Promise<void> {
  const client = new MlflowClient({ trackingUri: uri });
  const experimentId = await client.experiments.create(`artifact-memory-${randomUUID().slice(0, 8)}`);
  const run = await client.runs.create(experimentId);
  const root = run.info.artifact_uri!;
  global.gc?.();
  sample();
  const baseline = process.memoryUsage().rss;
  peakRss = baseline;

  let started = performance.now();
  let uploadHash = createHash("sha256");
  await client.artifacts.upload(root, "big/model.bin", () => {
    uploadHash = createHash("sha256");
    return generate(uploadHash);
  });
  const uploadSeconds = (performance.now() - started) / 1000;

  started = performance.now();
  const received = createHash("sha256");
  let bytes = 0;
  for await (const part of await client.artifacts.download(root, "big/model.bin")) {
    received.update(part as Buffer);
    bytes += (part as Buffer).length;
  }
  const downloadSeconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  sample();
  const result = {
    megabytes,
    bytes,
    uploadSeconds: Number(uploadSeconds.toFixed(2)),
    downloadSeconds: Number(downloadSeconds.toFixed(2)),
    sha256Equal: uploadHash.digest("hex") === received.digest("hex"),
    peakRssGrowthMb: Number(((peakRss - baseline) / 1024 / 1024).toFixed(1)),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
