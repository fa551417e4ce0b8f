// MLflow 2.x servers (2.22, still widely run) on either side of a share: arcuate asks each server
// what it supports and carries everything that exists on it; what a 2.x recipient cannot hold
// (MLflow 3 logged models) is said in the summary, and the model still serves the same
// predictions there. The 2.22 server comes from its own pinned virtual environment.
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Exchange, LOGGED_MODEL_FILES_IN_RUN } from "../../src/exchange/index.js";
import { MlflowClient } from "../../src/mlflow/index.js";
import { seedExperiment } from "../../src/peers/seed.js";
import { mlflowServers } from "../support/mlflow.js";
import { MLFLOW2_PYTHON, startMlflow2Server } from "../support/mlflow2.js";
import { PROJECT_ROOT } from "../support/paths.js";
import { runPythonJson, runPythonScriptJson } from "../support/python.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";
import { dump, normalise } from "./dump.js";

let mlflow2: Awaited<ReturnType<typeof startMlflow2Server>>;
let sharing: TestSharingServer;
let profilePath: string;
const id = randomUUID().slice(0, 8);
const share = `v2_${id}`;

beforeAll(async () => {
  [mlflow2, sharing] = await Promise.all([startMlflow2Server(), startTestSharingServer()]);
  await sharing.catalog.createShare(share);
  profilePath = (await sharing.shareTables({ share, tables: [] })).profilePath;
}, 180_000);

afterAll(async () => {
  await Promise.all([mlflow2?.close(), sharing?.close()]);
});

describe("an MLflow 2.22 server", () => {
  it("is asked once what it supports, and an endpoint it lacks is named, not shown as HTML", async () => {
    const client = new MlflowClient({ trackingUri: mlflow2.uri });
    const capabilities = await client.capabilities();
    expect(capabilities).toMatchObject({ version: "2.22.5", loggedModels: false, evaluationDatasets: false });
    expect(await client.capabilities()).toBe(capabilities);
    const error = await client.loggedModels.search({ experimentIds: ["0"] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "UNSUPPORTED_FEATURE" });
    expect(String((error as Error).message)).toMatch(
      /has no endpoint POST \/api\/2\.0\/mlflow\/logged-models\/search \(HTTP 404\)/,
    );
    expect(String((error as Error).message)).not.toMatch(/<|doctype/i);
  });

  it("shares an experiment and a model into MLflow 3, as MLflow's own clients see them", async () => {
    const experiment = `from2-${id}`;
    const model = `from2-model-${id}`;
    const source = new MlflowClient({ trackingUri: mlflow2.uri });
    await seedExperiment(source, {
      experimentName: experiment,
      runs: 2,
      stepsPerMetric: 10,
      modelName: model,
    });
    const provider = new Exchange({ mlflow: source, catalog: sharing.catalog, workDir: sharing.dir });
    const exported = await provider.exportExperiments(experiment, "exp", share);
    expect(exported).toMatchObject({ runs: 4, loggedModels: 0, notCarried: [] });
    // 2.22 has no MLflow 3 trace or evaluation dataset API: the export says what it left out.
    expect(exported.skipped).toEqual([
      `traces: ${source.trackingUri} has no MLflow 3 trace API (POST /api/3.0/mlflow/traces/search); traces, spans and assessments were not exported`,
      `evaluation datasets: ${source.trackingUri} has no MLflow 3 dataset API (POST /api/3.0/mlflow/datasets/search); none exported`,
    ]);
    await provider.exportModels(model, "model", share);

    const recipient = new Exchange({ mlflow: new MlflowClient({ trackingUri: mlflowServers().recipient }) });
    expect(await recipient.importExperiments(`${profilePath}#${share}.exp`, experiment)).toMatchObject({
      createdRuns: 4,
      notCarried: [],
    });
    expect(await recipient.importModels(`${profilePath}#${share}.model`, model)).toMatchObject({
      createdVersions: 3,
    });
    const [before, after] = await Promise.all([
      dump(mlflow2.uri, experiment, model, MLFLOW2_PYTHON),
      dump(mlflowServers().recipient, experiment, model),
    ]);
    expect(normalise(after)).toEqual(normalise(before));
  }, 600_000);

  it("takes an experiment and a model from MLflow 3, the logged model's files in its run, and says so", async () => {
    const experiment = `to2-${id}`;
    const model = `to2-model-${id}`;
    const { predictions, version } = await runPythonScriptJson<{ predictions: number[]; version: string }>(
      join(PROJECT_ROOT, "python", "seed_sklearn_model.py"),
      { args: [mlflowServers().provider, experiment, model], timeoutMs: 300_000 },
    );
    const provider = new Exchange({
      mlflow: new MlflowClient({ trackingUri: mlflowServers().provider }),
      catalog: sharing.catalog,
      workDir: sharing.dir,
    });
    expect(await provider.exportExperiments(experiment, "exp3", share)).toMatchObject({ loggedModels: 1 });
    await provider.exportModels(model, "model3", share);

    const recipient = new Exchange({ mlflow: new MlflowClient({ trackingUri: mlflow2.uri }) });
    const imported = await recipient.importExperiments(`${profilePath}#${share}.exp3`, experiment);
    expect(imported).toMatchObject({ createdRuns: 1, loggedModels: 0 });
    expect(imported.notCarried).toEqual([
      expect.objectContaining({ kind: "logged models", count: 1, reason: expect.stringContaining("2.22.5") }),
    ]);
    const importedModel = await recipient.importModels(`${profilePath}#${share}.model3`, model);
    expect(importedModel).toMatchObject({
      createdVersions: 1,
      notCarried: [expect.objectContaining({ count: 1 })],
    });

    // MLflow 2.22's own client finds the version's files (MLflow 3.17's sklearn flavour stores
    // skops, which 2.22 cannot load: MLflow 3 loads the files 2.22 served, and predicts the same).
    const there = await runPythonJson<{ dir: string; source: string; params: Record<string, string> }>(
      `
import json, sys, tempfile, warnings
warnings.filterwarnings("ignore")
import mlflow
mlflow.set_tracking_uri(sys.argv[1])
client = mlflow.MlflowClient()
v = client.get_model_version(sys.argv[2], sys.argv[3])
run = client.get_run(v.run_id)
local = mlflow.artifacts.download_artifacts(f"models:/{sys.argv[2]}/{sys.argv[3]}", dst_path=tempfile.mkdtemp())
print(json.dumps({"dir": local, "source": v.source, "params": run.data.params}))
`,
      { args: [mlflow2.uri, model, version], python: MLFLOW2_PYTHON, timeoutMs: 300_000 },
    );
    const loaded = await runPythonJson<number[]>(
      `
import json, sys, warnings
warnings.filterwarnings("ignore")
import mlflow, numpy as np
x = np.random.default_rng(7).normal(size=(20, 4))
print(json.dumps(mlflow.pyfunc.load_model(sys.argv[1]).predict(x).tolist()))
`,
      { args: [there.dir], timeoutMs: 300_000 },
    );
    await rm(there.dir, { recursive: true, force: true });
    expect(loaded).toEqual(predictions);
    expect(there.source).toContain(`/${LOGGED_MODEL_FILES_IN_RUN}/`);
    expect(there.params).toEqual({ C: "0.5", max_iter: "200" });
  }, 600_000);
});
