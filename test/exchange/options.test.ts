// The exchange checks what it is given when it is made, and says what is wrong, instead of
// failing deep inside the first export; its working folder is the one every command uses.
import { afterEach, expect, it, vi } from "vitest";
import { Exchange } from "../../src/exchange/index.js";
import { MlflowClient } from "../../src/mlflow/index.js";

afterEach(() => vi.unstubAllEnvs());

it.each([
  [{}, "exchange: 'mlflow' must be an MlflowClient (new MlflowClient({ trackingUri })), not undefined"],
  [
    { mlflow: "http://127.0.0.1:5000" },
    "exchange: 'mlflow' must be an MlflowClient (new MlflowClient({ trackingUri })), not the string 'http://127.0.0.1:5000'",
  ],
  [
    { mlflow: { trackingUri: "http://127.0.0.1:5000" } },
    "exchange: 'mlflow' must be an MlflowClient (new MlflowClient({ trackingUri })), not a plain object",
  ],
])("refuses %j", (options, message) => {
  expect(() => new Exchange(options as never)).toThrow(message);
});

it("refuses to export without a catalog, saying how to pass one", async () => {
  const exchange = new Exchange({ mlflow: new MlflowClient({ trackingUri: "http://127.0.0.1:1" }) });
  await expect(exchange.exportExperiments("churn", "churn", "s")).rejects.toThrow(
    "exchange: exporting needs the provider's catalog: new Exchange({ mlflow, catalog: await Catalog.open(workDir) })",
  );
});
