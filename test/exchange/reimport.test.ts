// A re-import after REFRESH SHARE. Each imported run carries the marker
// `arcuate.import.complete_seq = <seq>@<export id>`, written last: a re-import of an unchanged
// share reads nothing back, and one after a refresh brings exactly what the provider added —
// new runs, new points on a run whose marker was already written, a point backfilled at an older
// step and an artifact file added to a run (neither changes the run's record), and changes that
// reach the recipient through a second export of the same experiment, whose sequence numbers
// the first export's markers must not stand for.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Exchange } from "../../src/exchange/index.js";
import { createSession } from "../../src/lang/session.js";
import { MlflowClient } from "../../src/mlflow/index.js";
import { seedExperiment } from "../../src/peers/seed.js";
import { mlflowServers } from "../support/mlflow.js";
import { PROJECT_ROOT } from "../support/paths.js";
import { runPythonScriptJson } from "../support/python.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";

interface Dump {
  runs: Array<{ run_name: string; metrics: Record<string, unknown[]>; artifacts: Record<string, string> }>;
}

/** Runs by name with their metric points and artifact hashes, as MLflow's Python client sees them. */
async function shape(uri: string, experiment: string) {
  const dump = await runPythonScriptJson<Dump>(join(PROJECT_ROOT, "python", "dump_mlflow.py"), {
    args: [uri, experiment],
    timeoutMs: 300_000,
  });
  return Object.fromEntries(
    dump.runs.map((r) => [r.run_name, { metrics: r.metrics, artifacts: r.artifacts }]),
  );
}

const id = randomUUID().slice(0, 8);
const share = `reimport_${id}`;
const experiment = `reimport-${id}`;
const target = `reimport-${id}-copy`;
let sharing: TestSharingServer;
let provider: MlflowClient;
let providerUri: string;
let recipientUri: string;
/** Requests the recipient's client sent, as "METHOD /path". */
const sent: string[] = [];
let recipient: MlflowClient;

beforeAll(async () => {
  ({ provider: providerUri, recipient: recipientUri } = mlflowServers());
  provider = new MlflowClient({ trackingUri: providerUri });
  recipient = new MlflowClient({ trackingUri: recipientUri, onRequest: (m, p) => sent.push(`${m} ${p}`) });
  sharing = await startTestSharingServer();
});

afterAll(async () => {
  await sharing?.close();
});

it("brings exactly what changed at the provider since the last import, and reads nothing back when nothing did", async () => {
  const seeded = await seedExperiment(provider, {
    experimentName: experiment,
    runs: 2,
    stepsPerMetric: 5,
    binaryArtifactBytes: 512,
  });
  const session = createSession({ workDir: sharing.dir, mlflowUri: providerUri });
  await session.execute(`CREATE SHARE ${share} WITH EXPERIMENT '${experiment}' AS x`);
  const { profilePath } = await sharing.shareTables({ share, tables: [] });
  const importFrom = (schema: string) =>
    new Exchange({ mlflow: recipient }).importExperiments(`${profilePath}#${share}.${schema}`, target);

  const first = await importFrom("x");
  expect(first).toMatchObject({ runs: seeded.runIds.length, createdRuns: seeded.runIds.length });
  const markers = async () => {
    const experimentId = (await recipient.experiments.getByName(target)).experiment_id;
    const values: Array<string | undefined> = [];
    for await (const run of recipient.runs.searchAll({ experimentIds: [experimentId] }))
      values.push(run.data.tags?.find((t) => t.key === "arcuate.import.complete_seq")?.value);
    return values;
  };
  const firstMarkers = await markers();
  expect(firstMarkers).toHaveLength(seeded.runIds.length);
  for (const marker of firstMarkers) expect(marker).toMatch(/^\d+@[0-9a-f]{16}$/);

  // Unchanged: nothing is read back or written.
  sent.length = 0;
  expect(await importFrom("x")).toMatchObject({ createdRuns: 0, metricPoints: 0, artifactFiles: 0 });
  expect(sent.filter((r) => /get-history|mlflow-artifacts|log-batch|set-tag|runs\/update/.test(r))).toEqual(
    [],
  );

  // A point backfilled at an older step and a file added to another run: neither run's record
  // (params, tags, latest metrics, status) changes, and both already carry their marker.
  const [runA, runB, runC, runD] = seeded.runIds as [string, string, string, string];
  await provider.runs.logBatch(runA, {
    metrics: [{ key: "loss", value: 9.5, step: 2, timestamp: 1_700_000_000_000 }],
  });
  const rootB = (await provider.runs.get(runB)).info.artifact_uri!;
  await provider.artifacts.upload(rootB, "notes/late.txt", async function* () {
    yield new TextEncoder().encode("added after the first import\n");
  });
  await session.execute(`REFRESH SHARE ${share}`);
  expect(await importFrom("x")).toMatchObject({ createdRuns: 0, metricPoints: 1, artifactFiles: 1 });

  // A new run, and points at later steps on a run already imported.
  const late = await provider.runs.create(seeded.experimentId, {
    runName: "late-run",
    startTime: Date.UTC(2026, 1, 1),
  });
  await provider.runs.logBatch(late.info.run_id, {
    metrics: [{ key: "loss", value: 0.5, step: 0, timestamp: 1 }],
  });
  await provider.runs.update(late.info.run_id, { status: "FINISHED", endTime: Date.UTC(2026, 1, 2) });
  await provider.runs.logBatch(runC, {
    metrics: [10, 11, 12].map((step) => ({
      key: "loss",
      value: step / 100,
      step,
      timestamp: 2_000_000_000_000 + step,
    })),
  });
  await session.execute(`REFRESH SHARE ${share}`);
  expect(await importFrom("x")).toMatchObject({ createdRuns: 1, metricPoints: 4, artifactFiles: 0 });

  // A second export of the same experiment numbers its sequences from 1: the first export's
  // markers (at a higher number) must not make the importer skip what only this one carries.
  await session.execute(`ALTER SHARE ${share} ADD EXPERIMENT '${experiment}' AS y`);
  await provider.runs.logBatch(runD, {
    metrics: [{ key: "loss", value: 0.25, step: 20, timestamp: 2_100_000_000_000 }],
  });
  await session.execute(`REFRESH SHARE ${share} y`);
  expect(await importFrom("y")).toMatchObject({ createdRuns: 0, metricPoints: 1, artifactFiles: 0 });

  const [before, after] = await Promise.all([shape(providerUri, experiment), shape(recipientUri, target)]);
  expect(after).toEqual(before);
}, 600_000);

// Logged models (MLflow 3) change at the provider without a run changing: a model logged after
// the first import with no files, a tag set or deleted, a status moved from PENDING to READY.
// The runs table (the import's horizon) must still move, and the import must carry the changes to
// the models it already brought, and only those.
it("brings logged models created or changed at the provider since the last import, and nothing twice", async () => {
  const lmExperiment = `${experiment}-lm`;
  const lmTarget = `${target}-lm`;
  const lmShare = `${share}_lm`;
  const seeded = await seedExperiment(provider, { experimentName: lmExperiment, runs: 1, stepsPerMetric: 3 });
  const [run] = seeded.runIds as [string];
  const first = await provider.loggedModels.create(seeded.experimentId, {
    name: "first",
    sourceRunId: run,
    params: [{ key: "alpha", value: "0.1" }],
    tags: [
      { key: "stage", value: "candidate" },
      { key: "owner", value: "team-a" },
    ],
  });
  await provider.artifacts.upload(first.info.artifact_uri!, "weights.bin", async function* () {
    yield new TextEncoder().encode("weights of the first model\n");
  });
  await provider.loggedModels.finalize(first.info.model_id);

  const session = createSession({ workDir: sharing.dir, mlflowUri: providerUri });
  await session.execute(`CREATE SHARE ${lmShare} WITH EXPERIMENT '${lmExperiment}' AS x`);
  const { profilePath } = await sharing.shareTables({ share: lmShare, tables: [] });
  const importOnce = () =>
    new Exchange({ mlflow: recipient }).importExperiments(`${profilePath}#${lmShare}.x`, lmTarget);
  /** Logged models by name: status, params and tags (arcuate's own tags left out). */
  const models = async (client: MlflowClient, name: string) => {
    const { experiment_id } = await client.experiments.getByName(name);
    const found: Record<
      string,
      { status?: string; params: Record<string, string>; tags: Record<string, string> }
    > = {};
    for await (const model of client.loggedModels.searchAll({ experimentIds: [experiment_id] }))
      found[model.info.name] = {
        ...(model.info.status ? { status: model.info.status } : {}),
        params: Object.fromEntries((model.data?.params ?? []).map((p) => [p.key, p.value])),
        tags: Object.fromEntries(
          (model.info.tags ?? []).filter((t) => !t.key.startsWith("arcuate.")).map((t) => [t.key, t.value]),
        ),
      };
    return found;
  };
  const same = async () =>
    expect(await models(recipient, lmTarget)).toEqual(await models(provider, lmExperiment));
  const modelWrites = () => sent.filter((r) => /^(POST|PATCH|DELETE) .*logged-models(?!\/search)/.test(r));

  expect(await importOnce()).toMatchObject({ createdRuns: seeded.runIds.length, loggedModels: 1 });
  await same();

  // (a) A model logged after the first import, with params and tags but no files (no run data).
  const second = await provider.loggedModels.create(seeded.experimentId, {
    name: "second",
    sourceRunId: run,
    params: [{ key: "beta", value: "2" }],
    tags: [{ key: "stage", value: "draft" }],
  });
  await session.execute(`REFRESH SHARE ${lmShare}`);
  sent.length = 0;
  expect(await importOnce()).toMatchObject({
    createdRuns: 0,
    metricPoints: 0,
    artifactFiles: 0,
    loggedModels: 2,
  });
  await same();
  expect((await models(recipient, lmTarget)).second?.status).toBe("LOGGED_MODEL_PENDING");

  // (b) Changes to models already imported: a tag changed, one deleted, one added, a status moved.
  await provider.loggedModels.setTags(first.info.model_id, [
    { key: "stage", value: "production" },
    { key: "reviewed", value: "yes" },
  ]);
  await provider.loggedModels.deleteTag(first.info.model_id, "owner");
  await provider.loggedModels.finalize(second.info.model_id);
  await session.execute(`REFRESH SHARE ${lmShare}`);
  sent.length = 0;
  expect(await importOnce()).toMatchObject({ createdRuns: 0, metricPoints: 0, artifactFiles: 0 });
  await same();
  expect(modelWrites().length).toBeGreaterThan(0);

  // (c) Again, with and without a refresh: nothing left to write, nothing read back of the runs.
  for (const refresh of [false, true]) {
    if (refresh) await session.execute(`REFRESH SHARE ${lmShare}`);
    sent.length = 0;
    expect(await importOnce()).toMatchObject({ createdRuns: 0, metricPoints: 0, artifactFiles: 0 });
    expect(modelWrites()).toEqual([]);
    expect(sent.filter((r) => /get-history|mlflow-artifacts|log-batch|set-tag|runs\/update/.test(r))).toEqual(
      [],
    );
  }
  await same();
}, 600_000);
