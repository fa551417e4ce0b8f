// One arcuate move of an experiment's traces, in a process of its own so that its peak RSS is
// arcuate's alone (bench/traces.ts runs it once per size): export into a share → arcuate's
// sharing server (in this process) → client → import. Prints one JSON line: times, counts, the
// RSS before the move and the process's peak RSS (getrusage), and the requests sent to each server.
//
// Usage: tsx bench/traces-move.ts PROVIDER_URI RECIPIENT_URI EXPERIMENT WORKDIR [TARGET_EXPERIMENT]
import { Exchange } from "../src/exchange/index.js";
import { MlflowClient } from "../src/mlflow/index.js";
import { Catalog, startSharingServer } from "../src/sharing/index.js";

const [providerUri, recipientUri, name, workDir, targetName = `${name}-arcuate`] = process.argv.slice(2);
if (!providerUri || !recipientUri || !name || !workDir) {
  process.stderr.write("usage: tsx bench/traces-move.ts PROVIDER_URI RECIPIENT_URI EXPERIMENT WORKDIR\n");
  process.exit(2);
}

/** Requests sent to each server, by method and route (trace ids folded into one route). */
const requests = { provider: {} as Record<string, number>, recipient: {} as Record<string, number> };
const counter = (into: Record<string, number>) => (method: string, path: string) => {
  const route = `${method} ${path.replace(/tr-[0-9a-f]{32}/g, ":id")}`;
  into[route] = (into[route] ?? 0) + 1;
};
const provider = new MlflowClient({ trackingUri: providerUri, onRequest: counter(requests.provider) });
const recipient = new MlflowClient({ trackingUri: recipientUri, onRequest: counter(requests.recipient) });
const catalog = await Catalog.open(workDir);
const server = await startSharingServer({ catalog, host: "127.0.0.1", port: 0, log: () => {} });
await catalog.setEndpoint(server.url);
const rssBeforeMb = process.memoryUsage().rss / 1048576;
const started = performance.now();
let phase = "start";
// ARCUATE_BENCH_MEMLOG=1: the process's memory every second, on stderr, to see where a peak falls.
if (process.env.ARCUATE_BENCH_MEMLOG) {
  const mb = (n: number) => (n / 1048576).toFixed(0);
  setInterval(() => {
    const m = process.memoryUsage();
    process.stderr.write(
      `memlog ${((performance.now() - started) / 1000).toFixed(0)}s ${phase} rss ${mb(m.rss)} heap ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}\n`,
    );
  }, 1000).unref();
}
/** When each step of the export and the import first and last reported progress, in ms from the start. */
const steps: Record<string, [number, number]> = {};
const stepsOf = (side: string) => (event: { step: string }) => {
  const at = Math.round(performance.now() - started);
  const key = `${side} ${event.step}`;
  phase = key;
  steps[key] = [steps[key]?.[0] ?? at, at];
};
await catalog.createShare("bench");
await new Exchange({ mlflow: provider, catalog, workDir }).exportExperiments(name, "traces", "bench", {
  onProgress: stepsOf("export"),
});
const exportMs = performance.now() - started;
const credentials = await catalog.createRecipient("bench-recipient");
await catalog.grant("bench", "bench-recipient");
const imported = await new Exchange({ mlflow: recipient }).importExperiments(
  `${credentials.profilePath}#bench.traces`,
  targetName,
  { onProgress: stepsOf("import") },
);
const totalMs = performance.now() - started;
await server.close();
console.log(
  JSON.stringify({
    exportMs,
    totalMs,
    counts: imported.assets.traces?.counts ?? {},
    skipped: imported.skipped,
    requests,
    steps,
    rssBeforeMb,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
