// Statements that cannot succeed change nothing: an export of a missing experiment, from a server
// that is down, or of a prompt named as a model leaves no share behind (the rerun just works),
// and an import into an experiment or model of another origin is refused, naming OR REPLACE. An
// import the recipient's MLflow fails half-way (a proxy in front of the real server refuses one
// kind of request) leaves no empty experiment when nothing landed, and otherwise reruns to the
// whole experiment with no duplicate run or metric point.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Exchange } from "../../src/exchange/index.js";
import { createSession } from "../../src/lang/session.js";
import { MlflowClient } from "../../src/mlflow/index.js";
import { freePort } from "../../src/peers/mlflow-server.js";
import { seedExperiment } from "../../src/peers/seed.js";
import { mlflowServers } from "../support/mlflow.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";

const id = randomUUID().slice(0, 8);
let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), "arcuate-partial-"));
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function shares(session: ReturnType<typeof createSession>): Promise<unknown[]> {
  const [result] = await session.execute("SHOW SHARES");
  return result?.kind === "table" ? result.rows.map((r) => r[0]) : [];
}

describe("a statement that cannot succeed", () => {
  it("leaves no share behind for a missing experiment, and the rerun works once it exists", async () => {
    const { provider } = mlflowServers();
    const session = createSession({ workDir, mlflowUri: provider });
    const statement = `CREATE SHARE s_${id} WITH EXPERIMENT 'later-${id}'`;
    await expect(session.execute(statement)).rejects.toThrow(/experiment 'later-.*' does not exist/);
    expect(await shares(session)).not.toContain(`s_${id}`);
    await seedExperiment(new MlflowClient({ trackingUri: provider }), {
      experimentName: `later-${id}`,
      runs: 1,
      stepsPerMetric: 3,
      artifacts: false,
    });
    const [result] = await session.execute(statement);
    expect(result).toMatchObject({ kind: "message", text: expect.stringContaining("exported experiment") });
    expect(await shares(session)).toContain(`s_${id}`);
  });

  it("leaves no share behind when the MLflow server is down", async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const session = createSession({ workDir, mlflowUri: down });
    await expect(session.execute(`CREATE SHARE d_${id} WITH EXPERIMENT 'x'`)).rejects.toThrow(
      /cannot reach the tracking server/,
    );
    expect(await shares(session)).not.toContain(`d_${id}`);
  });

  it("refuses a prompt named as a model, naming what to use instead", async () => {
    const { provider } = mlflowServers();
    await new MlflowClient({ trackingUri: provider }).models.create(`qa-prompt-${id}`, {
      tags: [{ key: "mlflow.prompt.is_prompt", value: "true" }],
    });
    const session = createSession({ workDir, mlflowUri: provider });
    await expect(session.execute(`CREATE SHARE p_${id} WITH MODEL 'qa-prompt-${id}'`)).rejects.toThrow(
      /is a prompt, not a model; share it with `WITH PROMPT 'qa-prompt-.*'`/,
    );
    expect(await shares(session)).not.toContain(`p_${id}`);
  });
});

describe("an import into something of another origin", () => {
  let sharing: TestSharingServer;
  let coordinate: string;
  const experiment = `origin-${id}`;

  beforeAll(async () => {
    const { provider } = mlflowServers();
    sharing = await startTestSharingServer();
    const mlflow = new MlflowClient({ trackingUri: provider });
    await seedExperiment(mlflow, {
      experimentName: experiment,
      runs: 1,
      stepsPerMetric: 3,
      artifacts: false,
    });
    await sharing.catalog.createShare(`o_${id}`);
    await new Exchange({ mlflow, catalog: sharing.catalog, workDir: sharing.dir }).exportExperiments(
      experiment,
      "exp",
      `o_${id}`,
    );
    const { profilePath } = await sharing.shareTables({ share: `o_${id}`, tables: [] });
    coordinate = `${profilePath}#o_${id}.exp`;
  }, 300_000);
  afterAll(async () => sharing?.close());

  it("is refused for an experiment holding the recipient's own runs, and OR REPLACE replaces it", async () => {
    const recipient = new MlflowClient({ trackingUri: mlflowServers().recipient });
    const own = await recipient.experiments.create(`mine-${id}`);
    await recipient.runs.create(own, { runName: "my own run" });
    const exchange = new Exchange({ mlflow: recipient });
    await expect(exchange.importExperiments(coordinate, `mine-${id}`)).rejects.toThrow(
      /experiment 'mine-.*' .* holds runs that were not imported from this export; import into another name, or use CREATE OR REPLACE EXPERIMENT/,
    );
    const runs = async () =>
      (await recipient.runs.search({ experimentIds: [own] })).items.map((r) => r.info.run_name);
    expect(await runs()).toEqual(["my own run"]);
    await exchange.importExperiments(coordinate, `mine-${id}`, { replace: true });
    expect((await runs()).length).toBe(3);
    expect(await runs()).not.toContain("my own run");
    // From now on it is this export's: a plain import again is accepted.
    await expect(exchange.importExperiments(coordinate, `mine-${id}`)).resolves.toMatchObject({
      createdRuns: 0,
    });
  }, 300_000);
});

/**
 * An HTTP proxy in front of a real MLflow server that answers the requests `refuse` picks with
 * MLflow's own 400 error shape (not retried, as a validation error is not), and forwards the rest.
 */
async function refusingProxy(
  target: string,
  refuse: (path: string, seen: number) => boolean,
): Promise<{ url: string; refused: () => number; close: () => Promise<void> }> {
  const upstream = new URL(target);
  const seen = new Map<string, number>();
  let refused = 0;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const count = (seen.get(path) ?? 0) + 1;
    seen.set(path, count);
    if (refuse(path, count)) {
      refused++;
      req.resume();
      res.writeHead(400, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error_code: "INVALID_PARAMETER_VALUE", message: `injected refusal of ${path}` }),
      );
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refused: () => refused,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("an import that fails after it began", () => {
  let sharing: TestSharingServer;
  let coordinate: string;
  let modelCoordinate: string;
  let sourceRuns: number;
  let sourcePoints: number;
  const experiment = `halfway-${id}`;

  beforeAll(async () => {
    const mlflow = new MlflowClient({ trackingUri: mlflowServers().provider });
    sharing = await startTestSharingServer();
    const seeded = await seedExperiment(mlflow, {
      experimentName: experiment,
      runs: 4,
      stepsPerMetric: 5,
      artifacts: false,
    });
    sourceRuns = seeded.runIds.length;
    sourcePoints = await metricPoints(mlflow, seeded.experimentId);
    await sharing.catalog.createShare(`h_${id}`);
    await new Exchange({ mlflow, catalog: sharing.catalog, workDir: sharing.dir }).exportExperiments(
      experiment,
      "exp",
      `h_${id}`,
    );
    await seedExperiment(mlflow, {
      experimentName: `${experiment}-m`,
      runs: 3,
      stepsPerMetric: 3,
      artifacts: false,
      modelName: `${experiment}-model`,
      modelVersions: 3,
    });
    await new Exchange({ mlflow, catalog: sharing.catalog, workDir: sharing.dir }).exportModels(
      `${experiment}-model`,
      "mdl",
      `h_${id}`,
    );
    const { profilePath } = await sharing.shareTables({ share: `h_${id}`, tables: [] });
    coordinate = `${profilePath}#h_${id}.exp`;
    modelCoordinate = `${profilePath}#h_${id}.mdl`;
  }, 300_000);
  afterAll(async () => sharing?.close());

  async function metricPoints(mlflow: MlflowClient, experimentId: string): Promise<number> {
    let points = 0;
    for (const run of (await mlflow.runs.search({ experimentIds: [experimentId] })).items)
      for (const metric of run.data.metrics ?? [])
        for await (const _ of mlflow.metrics.history(run.info.run_id, metric.key)) points++;
    return points;
  }

  it("leaves no experiment when no run was made, and the rerun imports it whole", async () => {
    const { recipient } = mlflowServers();
    const proxy = await refusingProxy(recipient, (path) => path.endsWith("/runs/create"));
    try {
      await expect(
        new Exchange({ mlflow: new MlflowClient({ trackingUri: proxy.url }) }).importExperiments(
          coordinate,
          `${experiment}-a`,
        ),
      ).rejects.toThrow(/injected refusal/);
    } finally {
      await proxy.close();
    }
    expect(proxy.refused()).toBeGreaterThan(0);
    const mlflow = new MlflowClient({ trackingUri: recipient });
    // Not even a deleted one, which would keep the name from being made again.
    const left = await mlflow.experiments.search({ viewType: "ALL", filter: `name = '${experiment}-a'` });
    expect(left.items.map((e) => e.name)).not.toContain(`${experiment}-a`);
    await expect(
      new Exchange({ mlflow }).importExperiments(coordinate, `${experiment}-a`),
    ).resolves.toMatchObject({
      createdRuns: sourceRuns,
    });
    const imported = await mlflow.experiments.getByName(`${experiment}-a`);
    expect(await metricPoints(mlflow, imported.experiment_id)).toBe(sourcePoints);
  }, 300_000);

  it("keeps what landed when runs were made, and the rerun completes it with no duplicates", async () => {
    const { recipient } = mlflowServers();
    // The third run and every metric write after the second are refused: some runs exist, part
    // of their histories too.
    const proxy = await refusingProxy(
      recipient,
      (path, seen) =>
        (path.endsWith("/runs/create") && seen >= 3) || (path.endsWith("/log-batch") && seen >= 2),
    );
    try {
      await expect(
        new Exchange({ mlflow: new MlflowClient({ trackingUri: proxy.url }) }).importExperiments(
          coordinate,
          `${experiment}-b`,
          { concurrency: 1 },
        ),
      ).rejects.toThrow(/injected refusal/);
    } finally {
      await proxy.close();
    }
    const mlflow = new MlflowClient({ trackingUri: recipient });
    const imported = await mlflow.experiments.getByName(`${experiment}-b`);
    const before = (await mlflow.runs.search({ experimentIds: [imported.experiment_id] })).items.length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(sourceRuns);
    await new Exchange({ mlflow }).importExperiments(coordinate, `${experiment}-b`);
    const runs = (await mlflow.runs.search({ experimentIds: [imported.experiment_id] })).items;
    expect(runs.length).toBe(sourceRuns);
    expect(new Set(runs.map((r) => r.info.run_name)).size).toBe(sourceRuns);
    expect(await metricPoints(mlflow, imported.experiment_id)).toBe(sourcePoints);
    // A third run changes nothing.
    await expect(
      new Exchange({ mlflow }).importExperiments(coordinate, `${experiment}-b`),
    ).resolves.toMatchObject({
      createdRuns: 0,
    });
  }, 300_000);

  it("resumes a model import refused after its first version, to the same versions and aliases", async () => {
    const { provider, recipient } = mlflowServers();
    const name = `${experiment}-model`;
    const proxy = await refusingProxy(
      recipient,
      (path, seen) => path.endsWith("/model-versions/create") && seen >= 2,
    );
    try {
      await expect(
        new Exchange({ mlflow: new MlflowClient({ trackingUri: proxy.url }) }).importModels(
          modelCoordinate,
          name,
        ),
      ).rejects.toThrow(/injected refusal/);
    } finally {
      await proxy.close();
    }
    const mlflow = new MlflowClient({ trackingUri: recipient });
    expect((await mlflow.versions.listAll(name)).length).toBe(1);
    await new Exchange({ mlflow }).importModels(modelCoordinate, name);
    await new Exchange({ mlflow }).importModels(modelCoordinate, name);
    const shape = async (client: MlflowClient) => ({
      versions: (await client.versions.listAll(name))
        .map((v) => [v.version, v.current_stage ?? "None", v.description ?? ""])
        .sort(),
      aliases: ((await client.models.get(name)).aliases ?? []).map((a) => [a.alias, a.version]).sort(),
    });
    const expected = await shape(new MlflowClient({ trackingUri: provider }));
    expect(expected.versions.length).toBe(3);
    expect(await shape(mlflow)).toEqual(expected);
  }, 300_000);
});
