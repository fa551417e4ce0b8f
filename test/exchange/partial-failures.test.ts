// Statements that cannot succeed change nothing: an export of a missing experiment, from a server
// that is down, or of a prompt named as a model leaves no share behind (the rerun just works),
// and an import into an experiment or model of another origin is refused, naming OR REPLACE.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
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
