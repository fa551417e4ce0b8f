// MLflow on object storage: two MLflow servers whose artifact store is the S3 server (SeaweedFS,
// `--artifacts-destination s3://…` with MLFLOW_S3_ENDPOINT_URL), and arcuate's exports written to
// the same bucket ($ARCUATE_TABLES), so the provider's whole share lives there. One exchange round
// trip — runs, metric histories, artifacts — must come out as it went in.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { S3Storage } from "../../src/delta/index.js";
import { Exchange } from "../../src/exchange/index.js";
import { runCommand } from "../../src/lang/commands.js";
import { MlflowClient } from "../../src/mlflow/index.js";
import { type MlflowServer, startMlflowServer } from "../../src/peers/mlflow-server.js";
import { seedExperiment } from "../../src/peers/seed.js";
import { PROJECT_ROOT, VENV_BIN } from "../support/paths.js";
import { runPythonScriptJson } from "../support/python.js";
import { type SeaweedFs, startSeaweedFs } from "../support/seaweedfs.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";

const BUCKET = "arcuate-mlflow";
let weed: SeaweedFs;
let servers: MlflowServer[] = [];
let sharing: TestSharingServer;
let dir: string;

interface Dump {
  runs: Array<{
    run_name: string;
    metrics: Record<string, unknown[]>;
    artifacts: Record<string, string>;
    status: string;
  }>;
  model: { versions: Array<{ version: string; stage: string }>; aliases: Record<string, string> } | null;
}

beforeAll(async () => {
  weed = await startSeaweedFs();
  await weed.createBucket(BUCKET);
  Object.assign(process.env, weed.env, { ARCUATE_TABLES: `s3://${BUCKET}/exports` });
  dir = mkdtempSync(join(tmpdir(), "arcuate-s3-mlflow-"));
  const start = (name: string) =>
    startMlflowServer({
      dir: join(dir, name),
      mlflowBin: join(VENV_BIN, "mlflow"),
      // The later --artifacts-destination wins over the helper's local folder.
      extraArgs: ["--artifacts-destination", `s3://${BUCKET}/${name}-artifacts`],
      env: { ...weed.env, MLFLOW_S3_ENDPOINT_URL: weed.endpoint },
    });
  servers = await Promise.all([start("provider"), start("recipient")]);
  sharing = await startTestSharingServer();
}, 240_000);

afterAll(async () => {
  await sharing?.close();
  await Promise.all(servers.map((s) => s.stop()));
  await weed?.stop();
  delete process.env.ARCUATE_TABLES;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("an experiment goes from one S3-backed MLflow to another through a share in the bucket", {
  timeout: 300_000,
}, async () => {
  const [providerServer, recipientServer] = servers as [MlflowServer, MlflowServer];
  const provider = new MlflowClient({ trackingUri: providerServer.uri });
  const recipient = new MlflowClient({ trackingUri: recipientServer.uri });
  const experiment = "s3-exchange";
  const model = "s3-model";
  await seedExperiment(provider, {
    experimentName: experiment,
    runs: 3,
    stepsPerMetric: 20,
    modelName: model,
    modelVersions: 2,
  });

  const share = "bucket_share";
  await sharing.catalog.createShare(share);
  const { profilePath } = await sharing.shareTables({ share, tables: [] });
  const exchange = new Exchange({ mlflow: provider, catalog: sharing.catalog, workDir: sharing.dir });
  await exchange.exportExperiments(experiment, "exp", share);
  await new Exchange({ mlflow: recipient }).importExperiments(`${profilePath}#${share}.exp`, experiment);

  // Artifacts of both servers and the share's tables are in the bucket, none in local folders.
  const bucket = new S3Storage(`s3://${BUCKET}`);
  const keys = (await bucket.list("")).map((f) => f.path);
  expect(keys.some((k) => k.startsWith("provider-artifacts/"))).toBe(true);
  expect(keys.some((k) => k.startsWith("recipient-artifacts/"))).toBe(true);
  expect(keys).toContain(`exports/${share}/exp/runs/_delta_log/00000000000000000000.json`);

  const dump = (uri: string) =>
    runPythonScriptJson<Dump>(join(PROJECT_ROOT, "python", "dump_mlflow.py"), {
      args: [uri, experiment],
      env: { ...weed.env, MLFLOW_S3_ENDPOINT_URL: weed.endpoint },
      timeoutMs: 300_000,
    });
  const [theirs, ours] = await Promise.all([dump(providerServer.uri), dump(recipientServer.uri)]);
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
  expect(Object.keys(shape(theirs)).length).toBeGreaterThanOrEqual(3);
  expect(shape(ours)).toEqual(shape(theirs));
});

it("`arcuate run --tables s3://…` writes the export's tables there, over $ARCUATE_TABLES", {
  timeout: 300_000,
}, async () => {
  const [providerServer] = servers as [MlflowServer];
  const before = process.env.ARCUATE_TABLES;
  const out: string[] = [];
  const run = (...args: string[]) =>
    runCommand({ write: (text) => out.push(text) }).parseAsync(["node", "run", ...args]);
  try {
    await run(
      "--workdir",
      join(dir, "cli"),
      "--mlflow",
      providerServer.uri,
      "--tables",
      `s3://${BUCKET}/cli-exports`,
      "CREATE SHARE cli_share WITH EXPERIMENT 's3-exchange' AS cli_exp",
    );
    const bucket = new S3Storage(`s3://${BUCKET}`);
    const keys = (await bucket.list("")).map((f) => f.path);
    expect(keys).toContain("cli-exports/cli_share/cli_exp/runs/_delta_log/00000000000000000000.json");
    expect(keys.some((k) => k.startsWith("exports/cli_share/"))).toBe(false);
    await expect(
      run("--workdir", join(dir, "cli"), "--tables", "ftp://host/x", "SHOW SHARES"),
    ).rejects.toThrow("run: --tables 'ftp://host/x' is neither a folder nor an s3:// location");
    await expect(run("--workdir", join(dir, "cli"), "--tables", "s3://A_B/x", "SHOW SHARES")).rejects.toThrow(
      "'A_B' is not a valid bucket name in s3://A_B/x",
    );
  } finally {
    process.env.ARCUATE_TABLES = before;
  }
});
