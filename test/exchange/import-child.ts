// Runs one import in its own process, printing each progress event as a line. With
// ARCUATE_TEST_FREEZE_AT=<step>, the process freezes (blocks its event loop) at the first progress
// event of that step and prints "frozen", so a test can SIGKILL it at a known point half-way, the
// way a crash or a closed laptop would stop it.
// Usage: tsx test/exchange/import-child.ts TRACKING_URI COORDINATE EXPERIMENT
import { writeSync } from "node:fs";
import { Exchange } from "../../src/exchange/index.js";
import { MlflowClient } from "../../src/mlflow/index.js";

const [uri, coordinate, experiment] = process.argv.slice(2);
const freezeAt = process.env.ARCUATE_TEST_FREEZE_AT;
const exchange = new Exchange({ mlflow: new MlflowClient({ trackingUri: uri! }) });
await exchange.importExperiments(coordinate!, experiment!, {
  concurrency: 1,
  onProgress: (event) => {
    writeSync(1, `${event.step}: ${event.message}\n`);
    if (event.step === freezeAt) {
      writeSync(1, "frozen\n");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    }
  },
});
writeSync(1, "done\n");
