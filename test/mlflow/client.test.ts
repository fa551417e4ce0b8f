// The MLflow client against a real `mlflow server` (the provider's, from the global setup): each
// service round-trips through the server, and what it wrote is read back through MLflow's own
// Python client where that is the point.
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Metric,
  MlflowClient,
  MlflowNotFoundError,
  metricValueToNumber,
  type Run,
  toNumber,
} from "../../src/mlflow/index.js";
import { mlflowServers } from "../support/mlflow.js";
import { runPythonJson } from "../support/python.js";

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function* bytesOf(text: string | Uint8Array): AsyncGenerator<Uint8Array> {
  yield typeof text === "string" ? new TextEncoder().encode(text) : text;
}

let client: MlflowClient;
let uri: string;

beforeAll(() => {
  uri = mlflowServers().provider;
  client = new MlflowClient({ trackingUri: uri });
});

describe("experiments", () => {
  it("creates, finds, pages, tags, deletes and restores experiments", async () => {
    const prefix = unique("exp");
    const ids = [];
    for (let i = 0; i < 3; i++)
      ids.push(await client.experiments.create(`${prefix}-${i}`, { tags: [{ key: "i", value: String(i) }] }));
    const byName = await client.experiments.getByName(`${prefix}-1`);
    expect(byName.experiment_id).toBe(ids[1]);
    expect(byName.tags).toContainEqual({ key: "i", value: "1" });
    expect((await client.experiments.get(ids[2]!)).name).toBe(`${prefix}-2`);
    expect(await client.experiments.findByName(`${prefix}-none`)).toBeUndefined();

    const firstPage = await client.experiments.search({ filter: `name LIKE '${prefix}-%'`, maxResults: 2 });
    expect(firstPage.items).toHaveLength(2);
    expect(firstPage.nextPageToken).toBeTruthy();
    const all = await collect(client.experiments.searchAll({ filter: `name LIKE '${prefix}-%'` }));
    expect(all.map((e) => e.name).sort()).toEqual([0, 1, 2].map((i) => `${prefix}-${i}`));

    await client.experiments.setTag(ids[0]!, "stage", "dev");
    await client.experiments.deleteTag(ids[0]!, "i");
    const tagged = await client.experiments.get(ids[0]!);
    expect(tagged.tags).toContainEqual({ key: "stage", value: "dev" });
    expect(tagged.tags?.some((t) => t.key === "i")).toBe(false);

    await client.experiments.delete(ids[0]!);
    expect((await client.experiments.get(ids[0]!)).lifecycle_stage).toBe("deleted");
    await client.experiments.restore(ids[0]!);
    expect((await client.experiments.get(ids[0]!)).lifecycle_stage).toBe("active");
  });

  it("reports an unknown experiment as a typed not-found error naming it", async () => {
    const error = await client.experiments.getByName("no-such-experiment-xyz").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowNotFoundError);
    expect(error).toMatchObject({
      code: "RESOURCE_DOES_NOT_EXIST",
      mlflowErrorCode: "RESOURCE_DOES_NOT_EXIST",
      httpStatus: 404,
      endpoint: "/api/2.0/mlflow/experiments/get-by-name",
    });
    expect((error as Error).message).toContain("no-such-experiment-xyz");
  });
});

describe("runs and metrics", () => {
  let experimentId: string;
  beforeAll(async () => {
    experimentId = await client.experiments.create(unique("runs"));
  });

  it("creates a run with its original start time, updates, searches in pages, deletes and restores", async () => {
    const start = Date.UTC(2024, 4, 1, 12, 0, 0);
    const created: Run[] = [];
    for (let i = 0; i < 3; i++) {
      created.push(
        await client.runs.create(experimentId, {
          runName: `r${i}`,
          startTime: start + i,
          userId: "alice",
          tags: [{ key: "k", value: `v${i}` }],
        }),
      );
    }
    const run = created[0]!;
    expect(toNumber(run.info.start_time)).toBe(start);
    await client.runs.update(run.info.run_id, { status: "FINISHED", endTime: start + 5000 });
    const fetched = await client.runs.get(run.info.run_id);
    expect(fetched.info).toMatchObject({ status: "FINISHED", run_name: "r0", user_id: "alice" });
    expect(toNumber(fetched.info.end_time)).toBe(start + 5000);

    const page = await client.runs.search({ experimentIds: [experimentId], maxResults: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.nextPageToken).toBeTruthy();
    const everyRun = await collect(client.runs.searchAll({ experimentIds: [experimentId] }));
    expect(everyRun).toHaveLength(3);

    await client.runs.setTag(run.info.run_id, "extra", "1");
    await client.runs.deleteTag(run.info.run_id, "k");
    const tags = (await client.runs.get(run.info.run_id)).data.tags ?? [];
    expect(tags).toContainEqual({ key: "extra", value: "1" });
    expect(tags.some((t) => t.key === "k")).toBe(false);

    await client.runs.delete(created[2]!.info.run_id);
    expect(await collect(client.runs.searchAll({ experimentIds: [experimentId] }))).toHaveLength(2);
    await client.runs.restore(created[2]!.info.run_id);
    expect(await collect(client.runs.searchAll({ experimentIds: [experimentId] }))).toHaveLength(3);
  });

  it("logs 10,000 metric points and 250 params intact through chunked log-batch, as MLflow's Python client sees them", async () => {
    const run = await client.runs.create(experimentId, { runName: "big" });
    const runId = run.info.run_id;
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `param_${i}`, value: `value-${i}` }));
    params.push({ key: "at_limit", value: "L".repeat(6000) });
    const special = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    const metrics = Array.from({ length: 10_000 }, (_, i) => ({
      key: i % 2 ? "loss" : "accuracy",
      value: i < 3 ? special[i]! : i / 10_000,
      step: Math.floor(i / 2),
      timestamp: 1_700_000_000_000 + i,
    }));
    const requests = await client.runs.logBatch(runId, { params, metrics });
    expect(requests).toBeGreaterThanOrEqual(11);

    // Paged history through arcuate: small pages force several round trips.
    const loss: Metric[] = [];
    let token: string | undefined;
    do {
      const page = await client.metrics.historyPage(runId, "loss", { maxResults: 1000, pageToken: token });
      loss.push(...page.items);
      token = page.nextPageToken;
    } while (token);
    expect(loss).toHaveLength(5000);
    const accuracy = await collect(client.metrics.history(runId, "accuracy"));
    expect(accuracy).toHaveLength(5000);
    const nan = accuracy.find((m) => toNumber(m.step) === 0)!;
    expect(Number.isNaN(metricValueToNumber(nan.value))).toBe(true);

    const seen = await runPythonJson<{
      params: number;
      at_limit: number;
      loss: number;
      accuracy: number;
      nan: boolean;
      steps: number[];
    }>(
      `
import json, math, sys, mlflow
c = mlflow.MlflowClient(sys.argv[1])
run = c.get_run(sys.argv[2])
loss = c.get_metric_history(sys.argv[2], "loss")
acc = c.get_metric_history(sys.argv[2], "accuracy")
print(json.dumps({"params": len(run.data.params), "at_limit": len(run.data.params["at_limit"]),
  "loss": len(loss), "accuracy": len(acc), "nan": math.isnan([m for m in acc if m.step == 0][0].value),
  "steps": sorted({m.step for m in loss})[:3]}))
`,
      { args: [uri, runId] },
    );
    expect(seen).toEqual({
      params: 251,
      at_limit: 6000,
      loss: 5000,
      accuracy: 5000,
      nan: true,
      steps: [0, 1, 2],
    });
  });

  it("refuses a param over MLflow's length limit before sending anything, naming the key and the limit", async () => {
    const run = await client.runs.create(experimentId, { runName: "too-long" });
    await expect(
      client.runs.logBatch(run.info.run_id, {
        params: [
          { key: "fine", value: "ok" },
          { key: "too_long", value: "x".repeat(6001) },
        ],
      }),
    ).rejects.toThrow("mlflow: value of param 'too_long' is 6001 characters long; MLflow's limit is 6000");
    expect((await client.runs.get(run.info.run_id)).data.params ?? []).toEqual([]);
  });

  it("logs dataset inputs and MLflow 3 logged-model inputs and outputs", async () => {
    const run = await client.runs.create(experimentId, { runName: "io" });
    const model = await client.loggedModels.create(experimentId, {
      name: "io-model",
      sourceRunId: run.info.run_id,
    });
    await client.runs.logInputs(run.info.run_id, {
      datasets: [
        {
          tags: [{ key: "mlflow.data.context", value: "training" }],
          dataset: {
            name: "d",
            digest: "abc123",
            source_type: "local",
            source: '{"uri": "/x.csv"}',
            schema: "{}",
            profile: "{}",
          },
        },
      ],
      modelIds: [model.info.model_id],
    });
    await client.runs.logOutputs(run.info.run_id, [{ model_id: model.info.model_id, step: 3 }]);
    const fetched = await client.runs.get(run.info.run_id);
    expect(fetched.inputs?.dataset_inputs?.[0]?.dataset).toMatchObject({ name: "d", digest: "abc123" });
    expect(fetched.inputs?.model_inputs).toEqual([{ model_id: model.info.model_id }]);
    expect(fetched.outputs?.model_outputs?.[0]).toMatchObject({ model_id: model.info.model_id });
    expect(toNumber(fetched.outputs?.model_outputs?.[0]?.step)).toBe(3);
  });

  it("links one new dataset to many runs logging it at once (MLflow's SQL store races to create it)", async () => {
    const runs = await Promise.all(Array.from({ length: 12 }, () => client.runs.create(experimentId)));
    const dataset = {
      name: unique("shared"),
      digest: "d1g35t",
      source_type: "local",
      source: '{"uri": "/shared.csv"}',
      schema: "{}",
      profile: "{}",
    };
    await Promise.all(runs.map((run) => client.runs.logInputs(run.info.run_id, { datasets: [{ dataset }] })));
    for (const run of runs) {
      const fetched = await client.runs.get(run.info.run_id);
      expect(fetched.inputs?.dataset_inputs?.map((d) => d.dataset.name)).toEqual([dataset.name]);
    }
  });
});

describe("artifacts", () => {
  it("uploads, lists recursively and downloads run artifacts through the proxy, byte for byte", async () => {
    const experimentId = await client.experiments.create(unique("art"));
    const run = await client.runs.create(experimentId);
    const root = run.info.artifact_uri!;
    expect(root.startsWith("mlflow-artifacts:")).toBe(true);
    const binary = new Uint8Array(300_000).map((_, i) => (i * 7919) % 256);
    await client.artifacts.upload(root, "a.txt", () => bytesOf("hello"));
    await client.artifacts.upload(root, "deep/er/path/weights.bin", () => bytesOf(binary));
    await client.artifacts.upload(root, "deep/x y/ünïcode.json", () => bytesOf('{"a":1}'));
    const files = await client.artifacts.listFiles(root);
    expect(files).toEqual([
      { path: "a.txt", size: 5 },
      { path: "deep/er/path/weights.bin", size: 300_000 },
      { path: "deep/x y/ünïcode.json", size: 7 },
    ]);
    expect((await client.artifacts.listFiles(root, "deep/er")).map((f) => f.path)).toEqual([
      "deep/er/path/weights.bin",
    ]);
    const back = await readAll(await client.artifacts.download(root, "deep/er/path/weights.bin"));
    expect(Buffer.compare(back, Buffer.from(binary))).toBe(0);

    const viaPython = await runPythonJson<string>(
      `
import json, sys, hashlib, tempfile, mlflow
c = mlflow.MlflowClient(sys.argv[1])
p = c.download_artifacts(sys.argv[2], "deep/er/path/weights.bin", tempfile.mkdtemp())
print(json.dumps(hashlib.sha256(open(p, "rb").read()).hexdigest()))
`,
      { args: [uri, run.info.run_id] },
    );
    expect(viaPython).toBe(createHash("sha256").update(binary).digest("hex"));
  });

  it("reads and writes a local file:// artifact root directly", async () => {
    const dir = mkdtempSync(join(tmpdir(), "arcuate-artifacts-"));
    const experimentId = await client.experiments.create(unique("local-art"), {
      artifactLocation: pathToFileURL(dir).toString(),
    });
    const run = await client.runs.create(experimentId);
    const root = run.info.artifact_uri!;
    expect(root.startsWith("file:")).toBe(true);
    await client.artifacts.upload(root, "sub/f.txt", () => bytesOf("local"));
    expect(await client.artifacts.listFiles(root)).toEqual([{ path: "sub/f.txt", size: 5 }]);
    expect((await readAll(await client.artifacts.download(root, "sub/f.txt"))).toString()).toBe("local");
    await expect(client.artifacts.download(root, "../escape")).rejects.toThrow("leaves its root");
  });
});

describe("model registry", () => {
  it("creates a model with versions, aliases, tags, descriptions and stages, as MLflow's Python client sees it", async () => {
    const name = unique("model");
    const experimentId = await client.experiments.create(unique("reg"));
    const run = await client.runs.create(experimentId);
    await client.artifacts.upload(run.info.artifact_uri!, "model/MLmodel", () => bytesOf("flavors: {}\n"));
    await client.models.create(name, { description: "first", tags: [{ key: "team", value: "a" }] });
    const versions = [];
    for (let i = 0; i < 3; i++) {
      const version = await client.versions.create(name, {
        source: `${run.info.artifact_uri}/model`,
        runId: run.info.run_id,
        description: `v${i + 1}`,
        tags: [{ key: "n", value: String(i) }],
      });
      expect(version.status).toBe("READY");
      versions.push(version.version);
    }
    expect(versions).toEqual(["1", "2", "3"]);
    await client.models.setDescription(name, "updated");
    await client.models.setTag(name, "owner", "bob");
    await client.models.deleteTag(name, "team");
    await client.models.setAlias(name, "champion", "3");
    await client.models.setAlias(name, "challenger", "1");
    await client.models.setAlias(name, "temp", "2");
    await client.models.deleteAlias(name, "temp");
    expect((await client.models.getVersionByAlias(name, "champion")).version).toBe("3");
    await client.versions.setDescription(name, "2", "second");
    await client.versions.setTag(name, "2", "checked", "yes");
    await client.versions.deleteTag(name, "2", "n");
    const staged = await client.versions.transitionStage(name, "1", "Staging");
    expect(staged.current_stage).toBe("Staging");
    expect((await client.versions.listAll(name)).map((v) => v.version)).toEqual(["1", "2", "3"]);
    expect((await client.models.get(name)).aliases).toEqual(
      expect.arrayContaining([
        { alias: "champion", version: "3" },
        { alias: "challenger", version: "1" },
      ]),
    );
    const page = await client.models.search({ filter: `name LIKE '${name.slice(0, 6)}%'`, maxResults: 1 });
    expect(page.items).toHaveLength(1);

    const seen = await runPythonJson<{
      description: string;
      tags: Record<string, string>;
      aliases: Record<string, string>;
      versions: Array<[string, string, string, Record<string, string>]>;
    }>(
      `
import json, sys, mlflow
c = mlflow.MlflowClient(sys.argv[1])
m = c.get_registered_model(sys.argv[2])
vs = sorted(c.search_model_versions(f"name='{sys.argv[2]}'"), key=lambda v: int(v.version))
print(json.dumps({"description": m.description, "tags": m.tags, "aliases": m.aliases,
  "versions": [[v.version, v.current_stage, v.description, v.tags] for v in vs]}))
`,
      { args: [uri, name] },
    );
    expect(seen).toEqual({
      description: "updated",
      tags: { owner: "bob" },
      aliases: { champion: "3", challenger: "1" },
      versions: [
        ["1", "Staging", "v1", { n: "0" }],
        ["2", "None", "second", { checked: "yes" }],
        ["3", "None", "v3", { n: "2" }],
      ],
    });

    await client.versions.delete(name, "2");
    expect((await client.versions.listAll(name)).map((v) => v.version)).toEqual(["1", "3"]);
    await client.models.delete(name);
    await expect(client.models.get(name)).rejects.toBeInstanceOf(MlflowNotFoundError);
  });

  it("creates, finds, finalizes and tags MLflow 3 logged models", async () => {
    const experimentId = await client.experiments.create(unique("lm"));
    const model = await client.loggedModels.create(experimentId, {
      name: "clf",
      modelType: "sklearn",
      params: [{ key: "alpha", value: "0.1" }],
      tags: [{ key: "a", value: "1" }],
    });
    expect(model.info.model_id).toMatch(/^m-/);
    expect(model.info.status).toBe("LOGGED_MODEL_PENDING");
    await client.artifacts.upload(model.info.artifact_uri!, "MLmodel", () => bytesOf("flavors: {}\n"));
    const ready = await client.loggedModels.finalize(model.info.model_id);
    expect(ready.info.status).toBe("LOGGED_MODEL_READY");
    await client.loggedModels.setTags(model.info.model_id, [{ key: "b", value: "2" }]);
    await client.loggedModels.deleteTag(model.info.model_id, "a");
    await client.loggedModels.logParams(model.info.model_id, [{ key: "beta", value: "2" }]);
    const fetched = await client.loggedModels.get(model.info.model_id);
    expect(fetched.info.tags).toEqual([{ key: "b", value: "2" }]);
    expect(fetched.data?.params).toEqual(
      expect.arrayContaining([
        { key: "alpha", value: "0.1" },
        { key: "beta", value: "2" },
      ]),
    );
    expect(await client.artifacts.listFiles(fetched.info.artifact_uri!)).toEqual([
      { path: "MLmodel", size: 12 },
    ]);
    const found = await collect(client.loggedModels.searchAll({ experimentIds: [experimentId] }));
    expect(found.map((m) => m.info.model_id)).toEqual([model.info.model_id]);
    await client.loggedModels.delete(model.info.model_id);
  });
});

describe("a server that is down", () => {
  it("fails with a connection error naming the URI, after its retries", async () => {
    const down = new MlflowClient({ trackingUri: "http://127.0.0.1:9", maxRetries: 2, backoffMs: 10 });
    const error = await down.experiments.getByName("x").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CONNECTION_FAILED" });
    expect((error as Error).message).toMatch(
      /^mlflow: cannot reach the tracking server at http:\/\/127\.0\.0\.1:9 \(GET \/api\/2\.0\/mlflow\/experiments\/get-by-name\) after 3 attempt\(s\)/,
    );
    expect(await down.healthy()).toBe(false);
  });

  it("names the missing tracking URI", () => {
    expect(() => new MlflowClient({ trackingUri: "" })).toThrow(/MLFLOW_TRACKING_URI/);
  });
});
