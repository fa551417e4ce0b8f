// The heart of arcuate, end to end against real peers: provider MLflow → export → arcuate's
// sharing server → arcuate's client → import → recipient MLflow. Both sides are dumped through
// MLflow's own Python client and compared after normalising only server-assigned ids and the
// tags listed in NORMALISED_TAGS. The whole file runs twice: on the global setup's SQLite-backed
// servers, and on PostgreSQL-backed ones with MLflow's default workers (as teams run MLflow),
// where requests really run in parallel.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Exchange } from "../../src/exchange/index.js";
import { MlflowClient } from "../../src/mlflow/index.js";
import { seedExperiment } from "../../src/peers/seed.js";
import { mlflowServers } from "../support/mlflow.js";
import { startPostgresMlflowPair, type TestMlflowPair } from "../support/mlflow-postgres.js";
import { runPythonJson } from "../support/python.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";
import { type Dump, dump, normalise } from "./dump.js";

/** A client that records every request that may change something (reads and searches aside). */
function countingClient(trackingUri: string, writes: string[]): MlflowClient {
  return new MlflowClient({
    trackingUri,
    onRequest: (method, path) => {
      if (method !== "GET" && !/\/search$|\/get-history-bulk$/.test(path)) writes.push(`${method} ${path}`);
    },
  });
}

const backends = ["SQLite", "PostgreSQL"] as const;

describe.each(backends)("on %s-backed MLflow servers", (backend) => {
  let providerUri: string;
  let recipientUri: string;
  let postgresPair: TestMlflowPair | undefined;
  let sharing: TestSharingServer;
  let profilePath: string;
  const id = randomUUID().slice(0, 8);
  const names = {
    experiment: `churn-${id}`,
    model: `churn-model-${id}`,
    share: `share_${id}`,
  };

  beforeAll(async () => {
    if (backend === "PostgreSQL") {
      postgresPair = await startPostgresMlflowPair();
      ({ provider: providerUri, recipient: recipientUri } = postgresPair);
    } else {
      ({ provider: providerUri, recipient: recipientUri } = mlflowServers());
    }
    sharing = await startTestSharingServer();
    const provider = new MlflowClient({ trackingUri: providerUri });
    await seedExperiment(provider, {
      experimentName: names.experiment,
      runs: 4,
      stepsPerMetric: 30,
      modelName: names.model,
    });
    await sharing.catalog.createShare(names.share);
    const exchange = new Exchange({ mlflow: provider, catalog: sharing.catalog, workDir: sharing.dir });
    await exchange.exportExperiments(names.experiment, "churn", names.share);
    await exchange.exportModels(names.model, "churn_model", names.share);
    const credentials = await sharing.shareTables({ share: names.share, tables: [] });
    profilePath = credentials.profilePath;
  }, 600_000);

  afterAll(async () => {
    await sharing?.close();
    await postgresPair?.stop();
  });

  describe("experiment round trip", () => {
    it("recreates the experiment at the recipient as MLflow's Python client sees it at the provider", async () => {
      const recipient = new Exchange({ mlflow: new MlflowClient({ trackingUri: recipientUri }) });
      const summary = await recipient.importExperiments(
        `${profilePath}#${names.share}.churn`,
        names.experiment,
      );
      expect(summary.createdRuns).toBe(8); // 4 top-level runs, two children under two of them
      const [before, after] = await Promise.all([
        dump(providerUri, names.experiment),
        dump(recipientUri, names.experiment),
      ]);
      expect(normalise(after)).toEqual(normalise(before));
      for (const run of after.runs) expect(run.tags["arcuate.source.run_id"]).toBeTruthy();
    }, 600_000);

    it("imports again without duplicating anything, and without a single write", async () => {
      const writes: string[] = [];
      const recipient = new Exchange({ mlflow: countingClient(recipientUri, writes) });
      const summary = await recipient.importExperiments(
        `${profilePath}#${names.share}.churn`,
        names.experiment,
      );
      expect(summary).toMatchObject({ createdRuns: 0, metricPoints: 0, artifactFiles: 0 });
      expect(writes).toEqual([]);
      const [before, after] = await Promise.all([
        dump(providerUri, names.experiment),
        dump(recipientUri, names.experiment),
      ]);
      expect(normalise(after)).toEqual(normalise(before));
    }, 600_000);

    it("lets the official Python connector read every exported table", async () => {
      const counts = await runPythonJson<Record<string, number>>(
        `
import json, sys, delta_sharing
out = {}
for t in ["runs", "metrics", "artifacts", "logged_models"]:
    out[t] = len(delta_sharing.load_as_pandas(f"{sys.argv[1]}#{sys.argv[2]}.churn.{t}"))
out["versions"] = len(delta_sharing.load_as_pandas(f"{sys.argv[1]}#{sys.argv[2]}.churn_model.versions"))
print(json.dumps(out))
`,
        { args: [profilePath, names.share] },
      );
      // 8 runs × 3 metrics × 30 steps; 8 runs × 4 files (one chunk each); 3 versions.
      expect(counts).toEqual({ runs: 8, metrics: 720, artifacts: 32, logged_models: 0, versions: 3 });
    }, 600_000);
  });

  describe("the default (adaptive) request concurrency", () => {
    it(`takes a burst of 120 requests with none failed${backend === "SQLite" ? " and no overload answer" : ""}`, async () => {
      const mlflow = new MlflowClient({ trackingUri: recipientUri });
      const experimentId = await mlflow.experiments.create(`burst-${id}`);
      // 60 runs created at once, then one log-batch of 100 points each, at once.
      const runs = await Promise.all(
        Array.from({ length: 60 }, (_, i) => mlflow.runs.create(experimentId, { runName: `burst-${i}` })),
      );
      await Promise.all(
        runs.map((run, r) =>
          mlflow.runs.logBatch(run.info.run_id, {
            metrics: Array.from({ length: 100 }, (_, step) => ({
              key: "loss",
              value: r + step,
              step,
              timestamp: 1,
            })),
          }),
        ),
      );
      const traffic = mlflow.traffic();
      expect(traffic.gaveUp).toBe(0);
      // A SQLite-backed MLflow serialises its writes: the limit must not crowd it into pool timeouts.
      if (backend === "SQLite") expect(traffic.overloaded).toBe(0);
      const sample = await mlflow.runs.get(runs[59]!.info.run_id);
      expect(sample.data.metrics?.map((m) => [m.key, Number(m.step)])).toEqual([["loss", 99]]);
      let points = 0;
      for await (const _ of mlflow.metrics.history(runs[0]!.info.run_id, "loss")) points++;
      expect(points).toBe(100);
    }, 600_000);
  });

  describe("model round trip", () => {
    it("recreates the registered model with its versions in order, stages, aliases, descriptions and tags", async () => {
      const recipient = new Exchange({ mlflow: new MlflowClient({ trackingUri: recipientUri }) });
      const summary = await recipient.importModels(`${profilePath}#${names.share}.churn_model`, names.model);
      expect(summary.createdVersions).toBe(3);
      const [before, after] = await Promise.all([
        dump(providerUri, names.experiment, names.model),
        dump(recipientUri, names.experiment, names.model),
      ]);
      const model = (d: Dump) => (normalise(d) as { model: unknown }).model;
      expect(model(after)).toEqual(model(before));
    }, 600_000);

    it("imports the unchanged model again without a single write", async () => {
      const writes: string[] = [];
      const recipient = new Exchange({ mlflow: countingClient(recipientUri, writes) });
      const summary = await recipient.importModels(`${profilePath}#${names.share}.churn_model`, names.model);
      expect(summary).toMatchObject({ createdVersions: 0, createdRuns: 0, metricPoints: 0 });
      expect(writes).toEqual([]);
    }, 600_000);
  });
});
