// The seeding helper and the scikit-learn seed script build what the exchange tests, the
// benchmarks and the demo rely on; MLflow's own Python client reads it back as seeded.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { MlflowClient } from "../../src/mlflow/index.js";
import { seedExperiment } from "../../src/peers/seed.js";
import { mlflowServers } from "../support/mlflow.js";
import { PROJECT_ROOT } from "../support/paths.js";
import { runPythonScriptJson } from "../support/python.js";

interface Dump {
  experiment: { name: string; tags: Record<string, string> };
  runs: Array<{
    run_id: string;
    run_name: string;
    status: string;
    params: Record<string, string>;
    tags: Record<string, string>;
    metrics: Record<string, Array<[number, number, number | string]>>;
    inputs: Array<{ name: string }>;
    artifacts: Record<string, string>;
  }>;
  model: {
    aliases: Record<string, string>;
    versions: Array<{ version: string; stage: string; tags: Record<string, string> }>;
  } | null;
}

let uri: string;
beforeAll(() => {
  uri = mlflowServers().provider;
});

describe("seeding", () => {
  it("seeds an experiment and a registered model that MLflow's Python client reads back as seeded", async () => {
    const client = new MlflowClient({ trackingUri: uri });
    const name = `seed-${randomUUID().slice(0, 8)}`;
    const seeded = await seedExperiment(client, {
      experimentName: name,
      runs: 3,
      stepsPerMetric: 12,
      modelName: `${name}-model`,
    });
    expect(seeded.runIds).toHaveLength(5); // 3 top-level runs, two children under the first
    const dump = await runPythonScriptJson<Dump>(join(PROJECT_ROOT, "python", "dump_mlflow.py"), {
      args: [uri, name, `${name}-model`],
    });
    expect(dump.experiment.tags.project).toBe("churn");
    expect(dump.runs).toHaveLength(5);
    const first = dump.runs.find((r) => r.run_name === "train-0")!;
    expect(first.params.long_param).toHaveLength(6000);
    expect(first.metrics.loss).toHaveLength(12);
    const special = first.metrics
      .loss!.filter(([step]) => step === 3 || step === 5 || step === 7)
      .map(([, , v]) => v);
    expect(special).toEqual(["nan", 1.7976931348623157e308, -1.7976931348623157e308]);
    const children = dump.runs.filter((r) => r.tags["mlflow.parentRunId"] === first.run_id);
    expect(children).toHaveLength(2);
    expect(first.inputs[0]?.name).toBe("churn-train");
    for (const run of dump.runs) {
      for (const [path, sha] of Object.entries(run.artifacts))
        expect(seeded.artifactSha256[`${run.run_id}/${path}`]).toBe(sha);
      expect(Object.keys(run.artifacts)).toHaveLength(4);
    }
    expect(dump.model?.aliases).toEqual({ champion: "3", challenger: "1" });
    expect(dump.model?.versions.map((v) => [v.version, v.stage])).toEqual([
      ["1", "Staging"],
      ["2", "None"],
      ["3", "None"],
    ]);
  });

  it("logs and registers a real scikit-learn model with MLflow's Python API", async () => {
    const name = `sk-${randomUUID().slice(0, 8)}`;
    const result = await runPythonScriptJson<{
      run_id: string;
      model_id: string;
      version: string;
      predictions: number[];
    }>(join(PROJECT_ROOT, "python", "seed_sklearn_model.py"), {
      args: [uri, name, `${name}-model`],
      timeoutMs: 300_000,
    });
    expect(result.version).toBe("1");
    expect(result.model_id).toMatch(/^m-/);
    expect(result.predictions).toHaveLength(20);
    const client = new MlflowClient({ trackingUri: uri });
    const version = await client.models.getVersionByAlias(`${name}-model`, "production");
    expect(version).toMatchObject({ version: "1", run_id: result.run_id, status: "READY" });
    // MLflow 3 registers a logged model by its `models:/m-…` URI.
    expect(version.source).toBe(`models:/${result.model_id}`);
    const model = await client.loggedModels.get(result.model_id);
    const files = (await client.artifacts.listFiles(model.info.artifact_uri!)).map((f) => f.path);
    expect(files).toContain("MLmodel");
  });
});
