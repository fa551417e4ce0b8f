// Runs one import in its own process, printing each progress event as a line, so a test can
// kill it half-way (SIGKILL) the way a crash or a closed laptop would.
// Usage: tsx test/exchange/import-child.ts TRACKING_URI COORDINATE EXPERIMENT
import { Exchange } from "../../src/exchange/index.js";
import { MlflowClient } from "../../src/mlflow/index.js";

const [uri, coordinate, experiment] = process.argv.slice(2);
const exchange = new Exchange({ mlflow: new MlflowClient({ trackingUri: uri! }) });
await exchange.importExperiments(coordinate!, experiment!, {
  concurrency: 1,
  onProgress: (event) => process.stdout.write(`${event.step}: ${event.message}\n`),
});
process.stdout.write("done\n");
