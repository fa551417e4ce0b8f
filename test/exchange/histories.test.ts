// Metric histories of many runs, read in bulk (src/exchange/histories.ts), against the provider's
// real MLflow server: every point that get-history gives, run by run, including answers MLflow
// cuts at 25,000 points, NaN and ±Infinity (bare tokens in that endpoint's JSON), and servers
// without the bulk endpoint (behind a proxy that hides /ajax-api).
import { randomUUID } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { groupRuns, runHistories } from "../../src/exchange/histories.js";
import {
  type MetricPoint,
  MlflowClient,
  metricValueToNumber,
  type Run,
  toNumber,
} from "../../src/mlflow/index.js";
import { mlflowServers } from "../support/mlflow.js";

let mlflow: MlflowClient;
let runs: Run[];
let long: Run;

function points(key: string, count: number, seed: number): MetricPoint[] {
  return Array.from({ length: count }, (_, step) => ({
    key,
    value: step === 3 ? Number.NaN : step === 4 ? Number.NEGATIVE_INFINITY : Math.sin(seed + step),
    timestamp: 1_700_000_000_000 + step,
    step,
  }));
}

async function logRun(experimentId: string, metrics: MetricPoint[]): Promise<Run> {
  const run = await mlflow.runs.create(experimentId, {});
  await mlflow.runs.logBatch(run.info.run_id, { metrics });
  return mlflow.runs.get(run.info.run_id);
}

/** What get-history says, run by run: the reference. */
async function referenceHistories(client: MlflowClient, of: Run[]) {
  const out: Array<{ runId: string; perKey: Array<{ key: string; points: string[] }> }> = [];
  for (const run of of) {
    const keys = [...new Set((run.data.metrics ?? []).map((m) => m.key))].sort();
    const perKey = [];
    for (const key of keys) {
      const list: string[] = [];
      for await (const m of client.metrics.history(run.info.run_id, key)) {
        list.push(`${toNumber(m.step)}|${toNumber(m.timestamp)}|${metricValueToNumber(m.value)}`);
      }
      perKey.push({ key, points: list.sort() });
    }
    out.push({ runId: run.info.run_id, perKey });
  }
  return out;
}

async function bulkHistories(client: MlflowClient, of: Run[]) {
  const out: Array<{ runId: string; perKey: Array<{ key: string; points: string[] }> }> = [];
  for await (const history of runHistories(client, of)) {
    out.push({
      runId: history.runId,
      perKey: history.perKey.map(({ key, points }) => ({
        key,
        points: points.map((p) => `${p.step}|${p.timestamp}|${p.value}`).sort(),
      })),
    });
  }
  return out;
}

beforeAll(async () => {
  mlflow = new MlflowClient({ trackingUri: mlflowServers().provider });
  const experimentId = await mlflow.experiments.create(`histories-${randomUUID().slice(0, 8)}`);
  // Three runs of 10,000 points of one key: 30,000 together, more than one bulk answer holds.
  runs = await Promise.all([0, 1, 2].map((seed) => logRun(experimentId, points("loss", 10_000, seed))));
  runs.push(
    await logRun(experimentId, [...points("acc", 50, 7), ...points("loss", 20, 8)]),
    await logRun(experimentId, []),
  );
  // One run whose history alone is longer than a bulk answer.
  long = await logRun(experimentId, points("loss", 26_000, 9));
}, 180_000);

describe("metric histories in bulk", () => {
  it("equal get-history for every run and key, across answers MLflow cut short", async () => {
    const expected = await referenceHistories(mlflow, runs);
    const actual = await bulkHistories(mlflow, runs);
    expect(actual).toEqual(expected);
    expect(actual.slice(0, 3).map((h) => h.perKey[0]!.points.length)).toEqual([10_000, 10_000, 10_000]);
    expect(actual[0]!.perKey[0]!.points).toContain("3|1700000000003|NaN");
    expect(actual[0]!.perKey[0]!.points).toContain("4|1700000000004|-1.7976931348623157e+308");
    expect(actual[4]!.perKey).toEqual([]);
  }, 120_000);

  it("read a run longer than one bulk answer whole", async () => {
    const [history] = await bulkHistories(mlflow, [long]);
    expect(history!.perKey[0]!.points).toHaveLength(26_000);
    expect(history).toEqual((await referenceHistories(mlflow, [long]))[0]);
  }, 120_000);

  it("group runs by at most 100 and by their points", () => {
    const fake = (steps: number[]) =>
      ({
        info: { run_id: randomUUID() },
        data: { metrics: steps.map((step, i) => ({ key: `m${i}`, value: 0, timestamp: 0, step })) },
      }) as unknown as Run;
    expect(
      groupRuns(
        Array.from({ length: 250 }, () => fake([9])),
        1_000_000,
      ).map((g) => g.length),
    ).toEqual([100, 100, 50]);
    expect(groupRuns([fake([99, 99]), fake([99]), fake([199]), fake([0])], 300).map((g) => g.length)).toEqual(
      [2, 2],
    );
  });
});

describe("metric histories without the bulk endpoint", () => {
  let proxy: Server;
  let bulkAsked = 0;
  beforeAll(async () => {
    const upstream = new URL(mlflowServers().provider);
    // A proxy that serves MLflow's REST API but not its UI's /ajax-api.
    proxy = createServer((req, res) => {
      if (req.url?.startsWith("/ajax-api/")) {
        bulkAsked++;
        res.writeHead(404, { "content-type": "text/html" }).end("<h1>Not Found</h1>");
        return;
      }
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  });
  afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

  it("are read run by run, and equal get-history", async () => {
    const viaProxy = new MlflowClient({
      trackingUri: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    });
    const small = runs.slice(3);
    expect(await bulkHistories(viaProxy, small)).toEqual(await referenceHistories(mlflow, small));
    // Asked for the first group's two keys side by side, then remembered as missing.
    expect(bulkAsked).toBe(2);
  }, 60_000);
});
