// Faults on the wire: a small TCP proxy (test/support/fault-proxy.ts) between arcuate's sharing
// client and the sharing server, and between arcuate and the MLflow servers, resets connections,
// stalls them past the client's timeout and truncates answers. Every load, export and import
// either finishes with the right data or fails with a clear error, and a rerun then finishes
// with the right data: never wrong rows, never a duplicated run or metric point.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isArcuateError } from "../../src/errors.js";
import { Exchange } from "../../src/exchange/index.js";
import { MlflowClient } from "../../src/mlflow/index.js";
import { seedExperiment } from "../../src/peers/seed.js";
import { SharingClient } from "../../src/sharing/client/index.js";
import { type Fault, startFaultProxy } from "../support/fault-proxy.js";
import { mlflowServers } from "../support/mlflow.js";
import {
  startTestSharingServer,
  type TestSharingServer,
  writeDeltaRsTables,
} from "../support/sharing-server.js";

const id = randomUUID().slice(0, 8);
let dir: string;
let sharing: TestSharingServer;
let token: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "arcuate-faults-"));
  sharing = await startTestSharingServer();
  const tables = await writeDeltaRsTables(join(dir, "tables"));
  token = (
    await sharing.shareTables({
      share: "f",
      tables: [
        { schema: "x", table: "parts", location: tables.parts },
        { schema: "x", table: "plain", location: tables.plain },
      ],
    })
  ).token;
}, 120_000);

afterAll(async () => {
  await sharing?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The plans each scenario runs: faults on the first connections, at several points of the answer. */
const PLANS: Array<[string, (n: number) => Fault]> = [
  ["resets in the headers", (n) => (n <= 2 ? { reset: 40 } : {})],
  ["resets in the body", (n) => (n <= 3 ? { reset: 350 + n * 97 } : {})],
  ["truncates the body", (n) => (n <= 3 ? { truncate: 300 + n * 211 } : {})],
  ["stalls past the timeout", (n) => (n === 1 ? { stall: 200, stallMs: 6000 } : {})],
  ["resets every connection", () => ({ reset: 120 })],
];

/** A clear error: an ArcuateError whose message names the subsystem. */
function expectClear(error: unknown, subsystem: string): void {
  expect(isArcuateError(error), String(error)).toBe(true);
  expect((error as Error).message).toMatch(new RegExp(`^${subsystem}: `));
}

describe("sharing client ⇄ server", () => {
  const sortedRows = (t: { toArray(): unknown[] }) =>
    t
      .toArray()
      .map((r) => JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? Number(v) : v)))
      .sort();

  it.each(PLANS)(
    "a load through a proxy that %s is right or fails clearly, and the rerun is right",
    async (_name, plan) => {
      const direct = new SharingClient({
        shareCredentialsVersion: 1,
        endpoint: sharing.url,
        bearerToken: token,
      });
      const proxy = await startFaultProxy(sharing.url, plan);
      try {
        const client = new SharingClient(
          { shareCredentialsVersion: 1, endpoint: proxy.url, bearerToken: token },
          { timeoutMs: 2000, retry: { retries: 4, baseDelayMs: 20, maxDelayMs: 200 } },
        );
        for (const table of ["parts", "plain"]) {
          const ref = { share: "f", schema: "x", name: table };
          const expected = sortedRows(await direct.queryTable(ref));
          let outcome: string[] | Error;
          try {
            outcome = sortedRows(await client.queryTable(ref));
          } catch (error) {
            outcome = error as Error;
          }
          if (outcome instanceof Error) {
            expectClear(outcome, "sharing");
            // Once the network is back the rerun is whole.
            outcome = sortedRows(await direct.queryTable(ref));
          }
          expect(outcome).toEqual(expected);
        }
        expect(proxy.faults()).toBeGreaterThan(0);
      } finally {
        await proxy.close();
      }
    },
    120_000,
  );
});

describe("arcuate ⇄ MLflow", () => {
  const experiment = `faults-${id}`;
  let sourceRuns: string[];
  let sourcePoints: number;

  beforeAll(async () => {
    const seeded = await seedExperiment(new MlflowClient({ trackingUri: mlflowServers().provider }), {
      experimentName: experiment,
      runs: 3,
      stepsPerMetric: 4,
      artifacts: true,
    });
    sourceRuns = seeded.runIds;
    sourcePoints = await metricPoints(
      new MlflowClient({ trackingUri: mlflowServers().provider }),
      seeded.experimentId,
    );
  }, 300_000);

  async function metricPoints(mlflow: MlflowClient, experimentId: string): Promise<number> {
    let points = 0;
    for (const run of (await mlflow.runs.search({ experimentIds: [experimentId] })).items)
      for (const metric of run.data.metrics ?? [])
        for await (const _ of mlflow.metrics.history(run.info.run_id, metric.key)) points++;
    return points;
  }

  const client = (uri: string) =>
    new MlflowClient({ trackingUri: uri, timeoutMs: 3000, maxRetries: 4, backoffMs: 20 });

  it.each(PLANS)(
    "an export and an import through a proxy that %s are whole after at most one rerun, without duplicates",
    async (name, plan) => {
      const { provider, recipient } = mlflowServers();
      const share = `fx_${id}_${PLANS.findIndex(([n]) => n === name)}`;
      const target = `${experiment}-${share}`;
      await sharing.catalog.createShare(share);
      const exchange = (mlflow: MlflowClient) =>
        new Exchange({ mlflow, catalog: sharing.catalog, workDir: sharing.dir });

      const toProvider = await startFaultProxy(provider, plan);
      try {
        await exchange(client(toProvider.url)).exportExperiments(experiment, "exp", share);
      } catch (error) {
        expectClear(error, "(mlflow|exchange|delta)");
        await exchange(client(provider)).exportExperiments(experiment, "exp", share);
      } finally {
        await toProvider.close();
      }
      expect(toProvider.faults()).toBeGreaterThan(0);
      const { profilePath } = await sharing.shareTables({ share, tables: [] });
      const coordinate = `${profilePath}#${share}.exp`;

      const toRecipient = await startFaultProxy(recipient, plan);
      try {
        await exchange(client(toRecipient.url)).importExperiments(coordinate, target);
      } catch (error) {
        expectClear(error, "(mlflow|exchange|sharing)");
        await exchange(client(recipient)).importExperiments(coordinate, target);
      } finally {
        await toRecipient.close();
      }
      expect(toRecipient.faults()).toBeGreaterThan(0);

      const mlflow = new MlflowClient({ trackingUri: recipient });
      const imported = await mlflow.experiments.getByName(target);
      const runs = (await mlflow.runs.search({ experimentIds: [imported.experiment_id] })).items;
      const sources = runs
        .map((r) => r.data.tags?.find((t) => t.key === "arcuate.source.run_id")?.value)
        .sort();
      expect(sources).toEqual([...sourceRuns].sort());
      expect(await metricPoints(mlflow, imported.experiment_id)).toBe(sourcePoints);
    },
    300_000,
  );

  it("never makes a run twice: a create whose answer is lost fails clearly, and the server saw it once", async () => {
    const { recipient } = mlflowServers();
    const mlflow = new MlflowClient({ trackingUri: recipient });
    const experimentId = await mlflow.experiments.create(`${experiment}-once`);
    const proxy = await startFaultProxy(recipient, () => ({ reset: 20 }));
    try {
      const error = await client(proxy.url)
        .runs.create(experimentId, { runName: "once" })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expectClear(error, "mlflow");
      expect((error as Error).message).toContain("it may have been applied, so it was not sent again");
    } finally {
      await proxy.close();
    }
    const runs = (await mlflow.runs.search({ experimentIds: [experimentId] })).items;
    expect(runs.map((r) => r.info.run_name)).toEqual(["once"]);
  }, 120_000);
});
