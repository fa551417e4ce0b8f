// Export and import over time and under trouble: a real scikit-learn model that must predict
// the same at the recipient, incremental exports and imports, an import killed half-way, and
// bad input that must leave nothing half-written.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeltaTable } from "../../src/delta/index.js";
import { Exchange, exportLocation } from "../../src/exchange/index.js";
import { MlflowClient } from "../../src/mlflow/index.js";
import { seedExperiment } from "../../src/peers/seed.js";
import { mlflowServers } from "../support/mlflow.js";
import { PROJECT_ROOT } from "../support/paths.js";
import { runPythonJson, runPythonScriptJson } from "../support/python.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";

interface Dump {
  runs: Array<{
    run_name: string;
    metrics: Record<string, unknown[]>;
    artifacts: Record<string, string>;
    status: string;
  }>;
  model: { versions: Array<{ version: string; stage: string }>; aliases: Record<string, string> } | null;
}

const dump = (uri: string, experiment: string, model?: string) =>
  runPythonScriptJson<Dump>(join(PROJECT_ROOT, "python", "dump_mlflow.py"), {
    args: model ? [uri, experiment, model] : [uri, experiment],
    timeoutMs: 300_000,
  });

/** Runs by name with their metric point counts, artifact hashes and status. */
const shape = (d: Dump) =>
  Object.fromEntries(
    d.runs.map((r) => [
      r.run_name,
      {
        status: r.status,
        points: Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, v.length])),
        artifacts: r.artifacts,
      },
    ]),
  );

let provider: MlflowClient;
let recipient: MlflowClient;
let providerUri: string;
let recipientUri: string;
let sharing: TestSharingServer;
let profilePath: string;
const id = randomUUID().slice(0, 8);
const share = `life_${id}`;

beforeAll(async () => {
  ({ provider: providerUri, recipient: recipientUri } = mlflowServers());
  provider = new MlflowClient({ trackingUri: providerUri });
  recipient = new MlflowClient({ trackingUri: recipientUri });
  sharing = await startTestSharingServer();
  await sharing.catalog.createShare(share);
  profilePath = (await sharing.shareTables({ share, tables: [] })).profilePath;
});

afterAll(async () => {
  await sharing?.close();
});

const providerExchange = () =>
  new Exchange({ mlflow: provider, catalog: sharing.catalog, workDir: sharing.dir });
const recipientExchange = () => new Exchange({ mlflow: recipient });

describe("a real scikit-learn model", () => {
  it("predicts at the recipient exactly what it predicts at the provider", async () => {
    const name = `sk-${id}`;
    const seeded = await runPythonScriptJson<{ predictions: number[] }>(
      join(PROJECT_ROOT, "python", "seed_sklearn_model.py"),
      {
        args: [providerUri, `${name}-exp`, name],
        timeoutMs: 300_000,
      },
    );
    await providerExchange().exportModels(name, "sk", share);
    const summary = await recipientExchange().importModels(`${profilePath}#${share}.sk`, name);
    expect(summary).toMatchObject({ createdVersions: 1, loggedModels: 1 });
    const predicted = await runPythonJson<number[]>(
      `
import json, sys, warnings
warnings.filterwarnings("ignore")
import mlflow, numpy as np
mlflow.set_tracking_uri(sys.argv[1])
model = mlflow.pyfunc.load_model(f"models:/{sys.argv[2]}@production")
x = np.random.default_rng(7).normal(size=(20, 4))
print(json.dumps([int(v) for v in model.predict(x)]))
`,
      { args: [recipientUri, name], timeoutMs: 300_000 },
    );
    expect(predicted).toEqual(seeded.predictions);
    const version = await recipient.models.getVersionByAlias(name, "production");
    expect(version.source).toMatch(/^models:\/m-/);
    const model = await recipient.loggedModels.get(version.source!.slice("models:/".length));
    const mlmodel = await recipient.artifacts.download(model.info.artifact_uri!, "MLmodel");
    let text = "";
    for await (const chunk of mlmodel) text += chunk.toString();
    expect(text).toContain(`model_id: ${model.info.model_id}`);
  });
});

describe("incremental export and import", () => {
  it("brings exactly the difference after runs, metric points and a model version are added", async () => {
    const experiment = `inc-${id}`;
    const model = `inc-model-${id}`;
    const seeded = await seedExperiment(provider, {
      experimentName: experiment,
      runs: 2,
      stepsPerMetric: 10,
      modelName: model,
      modelVersions: 2,
    });
    await providerExchange().exportExperiments(experiment, "inc", share);
    await providerExchange().exportModels(model, "inc_model", share);
    await recipientExchange().importExperiments(`${profilePath}#${share}.inc`, experiment);
    await recipientExchange().importModels(`${profilePath}#${share}.inc_model`, model);

    // At the provider: one more run, more points on an existing run, one more version.
    const newRun = await provider.runs.create(seeded.experimentId, {
      runName: "late-run",
      startTime: Date.UTC(2026, 1, 1),
    });
    await provider.runs.logBatch(newRun.info.run_id, {
      metrics: [{ key: "loss", value: 0.5, step: 0, timestamp: 1 }],
    });
    await provider.runs.update(newRun.info.run_id, { status: "FINISHED", endTime: Date.UTC(2026, 1, 2) });
    const firstRun = seeded.runIds[0]!;
    await provider.runs.logBatch(firstRun, {
      metrics: [10, 11, 12].map((step) => ({
        key: "loss",
        value: step / 100,
        step,
        timestamp: 2_000_000_000_000 + step,
      })),
    });
    const run = await provider.runs.get(firstRun);
    await provider.versions.create(model, { source: `${run.info.artifact_uri}/model`, runId: firstRun });

    const exported = await providerExchange().exportExperiments(experiment, "inc", share);
    expect(exported).toMatchObject({ changedRuns: 2, metricPoints: 4, artifactFiles: 0 });
    const imported = await recipientExchange().importExperiments(`${profilePath}#${share}.inc`, experiment);
    expect(imported).toMatchObject({ createdRuns: 1, metricPoints: 4, artifactFiles: 0 });
    await providerExchange().exportModels(model, "inc_model", share);
    const importedModel = await recipientExchange().importModels(`${profilePath}#${share}.inc_model`, model);
    expect(importedModel).toMatchObject({ createdVersions: 1, createdRuns: 0 });

    const [before, after] = await Promise.all([
      dump(providerUri, experiment, model),
      dump(recipientUri, experiment, model),
    ]);
    expect(shape(after)).toEqual(shape(before));
    expect(after.model?.versions.map((v) => v.version)).toEqual(["1", "2", "3"]);
    expect(after.model?.aliases).toEqual(before.model?.aliases);
  });
});

describe("an import killed half-way", () => {
  it("completes when run again, with no duplicate runs or points", async () => {
    const experiment = `crash-${id}`;
    await seedExperiment(provider, {
      experimentName: experiment,
      runs: 3,
      metricsPerRun: 3,
      stepsPerMetric: 400,
      binaryArtifactBytes: 1024,
    });
    await providerExchange().exportExperiments(experiment, "crash", share);
    const coordinate = `${profilePath}#${share}.crash`;
    // Node itself with tsx's loader, not the tsx command: that one runs the script in a child
    // process of its own, which a kill of the command leaves running.
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(PROJECT_ROOT, "test", "exchange", "import-child.ts"),
        recipientUri,
        coordinate,
        experiment,
      ],
      {
        cwd: PROJECT_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ARCUATE_TEST_FREEZE_AT: "metrics" },
      },
    );
    let output = "";
    const killed = new Promise<void>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        // Runs exist and the first metric points are on their way: kill it there.
        if (output.includes("frozen") && child.exitCode === null) child.kill("SIGKILL");
      });
      child.on("exit", () => resolve());
    });
    await killed;
    expect(output).not.toContain("done");
    const partial = await dump(recipientUri, experiment);
    expect(partial.runs.length).toBeGreaterThan(0);
    expect(partial.runs.some((r) => r.status === "RUNNING")).toBe(true);

    await recipientExchange().importExperiments(coordinate, experiment);
    const [before, after] = await Promise.all([
      dump(providerUri, experiment),
      dump(recipientUri, experiment),
    ]);
    expect(after.runs).toHaveLength(before.runs.length);
    expect(shape(after)).toEqual(shape(before));
  });
});

describe("bad input", () => {
  it("names an unknown experiment or model at export, and the share is left as it was", async () => {
    await expect(providerExchange().exportExperiments("no-such-experiment", "x", share)).rejects.toThrow(
      `exchange: experiment 'no-such-experiment' does not exist on ${providerUri}`,
    );
    await expect(providerExchange().exportModels("no-such-model", "x", share)).rejects.toThrow(
      `exchange: registered model 'no-such-model' does not exist on ${providerUri}`,
    );
    const tables = await sharing.catalog.view();
    expect(JSON.stringify(tables)).not.toContain(`"x"`);
  });

  it("refuses an export of an unknown format version before writing anything", async () => {
    const experiment = `fmt-${id}`;
    await seedExperiment(provider, {
      experimentName: experiment,
      runs: 1,
      stepsPerMetric: 2,
      artifacts: false,
    });
    await providerExchange().exportExperiments(experiment, "future", share);
    // A provider on a newer arcuate: the runs table says format 2 (a metadata-only commit, as
    // ALTER TABLE … SET TBLPROPERTIES writes it).
    const location = exportLocation(sharing.dir, share, "future", "runs");
    const snapshot = await (await DeltaTable.open(location)).snapshot();
    const metaData = {
      ...snapshot.metadata,
      configuration: { ...snapshot.metadata.configuration, "arcuate.format": "2" },
    };
    const next = String(snapshot.version + 1).padStart(20, "0");
    writeFileSync(
      join(location, "_delta_log", `${next}.json`),
      `${JSON.stringify({ commitInfo: { timestamp: Date.now(), operation: "SET TBLPROPERTIES" } })}\n${JSON.stringify({ metaData })}\n`,
    );
    await expect(
      recipientExchange().importExperiments(`${profilePath}#${share}.future`, experiment),
    ).rejects.toThrow(
      `exchange: table 'runs' of share '${share}', schema 'future' on ${sharing.url} is in arcuate format 2; this arcuate reads format 1`,
    );
    expect(await recipient.experiments.findByName(experiment)).toBeUndefined();
  });

  it("names a coordinate that does not resolve, and a recipient without access, creating nothing", async () => {
    const target = `nothing-${id}`;
    await expect(
      recipientExchange().importExperiments(`${profilePath}#${share}.missing`, target),
    ).rejects.toThrow("has no table 'runs'");
    await expect(recipientExchange().importExperiments(`${profilePath}#${share}`, target)).rejects.toThrow(
      "expected '<profile>#<share>.<schema>'",
    );
    const outsider = await sharing.catalog.createRecipient(`outsider-${id}`);
    await expect(
      recipientExchange().importExperiments(`${outsider.profilePath}#${share}.inc`, target),
    ).rejects.toThrow(
      /has no table 'runs': it is not an arcuate experiment export, or the profile's recipient has no access to it/,
    );
    expect(await recipient.experiments.findByName(target)).toBeUndefined();
  });
});
