// OpenSharing model assets on object storage (SeaweedFS): the export writes each version's MLflow
// model directory into the bucket beside its tables, and the server vends STS credentials scoped
// read-only to exactly that version's prefix. A generic OpenSharing client (plain HTTP and boto3,
// no arcuate) downloads the files and MLflow predicts what the provider's model predicts; the
// credentials are refused for another version, another model, the manifest and writes, after
// they expire, and a revoked grant gets no new ones. arcuate's own client imports through the
// model endpoints and the bucket alone, and a large model file is streamed both ways.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Storage } from "../../src/delta/index.js";
import { importModelAsset } from "../../src/exchange/import-model-asset.js";
import { Exchange } from "../../src/exchange/index.js";
import { exportModelFiles } from "../../src/exchange/model-files.js";
import { MlflowClient } from "../../src/mlflow/index.js";
import { ModelSharingClient } from "../../src/sharing/client/models.js";
import { Catalog, type SharingServer, startSharingServer } from "../../src/sharing/index.js";
import type { TemporaryCredentials } from "../../src/sharing/models.js";
import { mlflowServers } from "../support/mlflow.js";
import { runPythonJson } from "../support/python.js";
import { type SeaweedFs, startSeaweedFs } from "../support/seaweedfs.js";
import { seedRegisteredModel } from "./seed-model.js";

const id = randomUUID().slice(0, 8);
const BUCKET = "arcuate-models";
const share = `models_${id}`;
const modelName = `s3-sk-${id}`;
const bigModelName = `s3-big-${id}`;
/** SeaweedFS caps every STS session at this, so the expiry test waits at most this long. */
const SESSION_SECONDS = 120;
/** The large model file: an export or import that held it whole would grow RSS by at least this. */
const BIG_BYTES = 256 << 20;
/**
 * What moving it may add to the process's resident memory: half the file. Streamed, it moves in
 * 8 MiB parts, four in flight, plus the garbage of parts already sent (about 100 MiB measured).
 */
const RSS_BOUND = BIG_BYTES / 2;

let weed: SeaweedFs;
let dir: string;
let catalog: Catalog;
let server: SharingServer;
let exchange: Exchange;
let provider: MlflowClient;
let token: string;
let predictions: number[];
let bigSha256: string;
let bigModelId: string;
let early: { credentials: TemporaryCredentials; location: string; askedAt: number; readBefore: number };

const M = (model = "sk") => `/shares/${share}/schemas/${model}/models/${model}`;

async function call(path: string, init: RequestInit = {}, bearer = token) {
  const response = await fetch(`${server.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${bearer}`, ...(init.headers as Record<string, string>) },
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
}

async function vend(version: number, model = "sk", bearer = token) {
  return call(
    `${M(model)}/versions/${version}/temporary-model-version-credentials`,
    { method: "POST" },
    bearer,
  );
}

/** Peak growth of this process's RSS over `fn`, sampled every 10 ms. */
async function peakRssGrowth<T>(fn: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growth: peak - start };
  } finally {
    clearInterval(timer);
  }
}

beforeAll(async () => {
  weed = await startSeaweedFs({ maxSessionSeconds: SESSION_SECONDS });
  await weed.createBucket(BUCKET);
  // The provider's exports (tables and model files) go to the bucket; everything here uses its variables.
  Object.assign(process.env, weed.env, { ARCUATE_TABLES: `s3://${BUCKET}/tables` });
  const { provider: providerUri } = mlflowServers();
  provider = new MlflowClient({ trackingUri: providerUri });
  predictions = await seedRegisteredModel(provider, providerUri, modelName);

  // A model whose one version holds a file far larger than the memory bound of the streaming test.
  dir = mkdtempSync(join(tmpdir(), "arcuate-os-s3-"));
  const experimentId = await provider.experiments.create(`${bigModelName}-exp`);
  const logged = await provider.loggedModels.create(experimentId, { name: "model" });
  const big = join(dir, "weights.bin");
  const hash = createHash("sha256");
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(big);
    out.on("error", reject);
    const block = randomBytes(1 << 20);
    for (let i = 0; i < BIG_BYTES >> 20; i++) {
      out.write(block);
      hash.update(block);
    }
    out.end(resolve);
  });
  bigSha256 = hash.digest("hex");
  const mlmodel = join(dir, "MLmodel");
  writeFileSync(mlmodel, `artifact_path: model\nflavors: {}\nmodel_id: ${logged.info.model_id}\n`);
  await provider.artifacts.uploadFile(logged.info.artifact_uri!, "MLmodel", mlmodel);
  await provider.artifacts.uploadFile(logged.info.artifact_uri!, "weights.bin", big);
  rmSync(big);
  await provider.loggedModels.finalize(logged.info.model_id);
  bigModelId = logged.info.model_id;
  await provider.models.create(bigModelName);
  await provider.versions.create(bigModelName, {
    source: `models:/${logged.info.model_id}`,
    modelId: logged.info.model_id,
  });

  catalog = await Catalog.open(join(dir, "catalog"));
  server = await startSharingServer({
    catalog,
    port: 0,
    temporaryCredentialsRoleArn: weed.roleArn,
    log: () => {},
  });
  await catalog.setEndpoint(server.url);
  await catalog.createShare(share);
  const reader = await catalog.createRecipient(`reader-${id}`);
  await catalog.grant(share, reader.recipient.name);
  token = reader.profile.bearerToken;
  exchange = new Exchange({ mlflow: provider, catalog, workDir: dir });
  await exchange.exportModels(modelName, "sk", share);
  await exchange.exportModels(modelName, "sk_other", share);

  // Credentials vended now and checked again at the end, once they have expired.
  const askedAt = Date.now();
  const answer = await vend(1);
  expect(answer.status).toBe(200);
  const credentials = answer.body as unknown as TemporaryCredentials;
  const location = String((await call(`${M()}/versions/1`)).body.storageLocation);
  const storage = new S3Storage(location, { credentials: { ...credentials.awsTempCredentials! } });
  early = { credentials, location, askedAt, readBefore: (await storage.read("MLmodel")).length };
}, 900_000);

afterAll(async () => {
  await server?.close();
  await weed?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a generic OpenSharing client", () => {
  it("downloads a version with boto3 and the vended credentials, and MLflow predicts as the provider's model", {
    timeout: 300_000,
  }, async () => {
    const result = await runPythonJson<{
      listed: string[];
      status: string;
      expiresInMs: number;
      predictions: number[];
      refused: Record<string, string>;
    }>(
      `
import json, os, sys, tempfile, time, urllib.request, warnings
warnings.filterwarnings("ignore")
import boto3, botocore
from urllib.parse import urlparse
endpoint, token, base, endpoint_s3 = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def call(path, method="GET"):
    req = urllib.request.Request(endpoint + path, method=method, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, data=b"{}" if method == "POST" else None) as r:
        return json.loads(r.read())
versions = call(base + "/versions")["items"]
v1 = next(v for v in versions if v["version"] == 1)
v2 = next(v for v in versions if v["version"] == 2)
creds = call(base + "/versions/1/temporary-model-version-credentials", "POST")
expires_in_ms = creds["expirationTime"] - time.time() * 1000
aws = creds["awsTempCredentials"]
s3 = boto3.client("s3", endpoint_url=endpoint_s3, region_name="us-east-1",
    aws_access_key_id=aws["accessKeyId"], aws_secret_access_key=aws["secretAccessKey"], aws_session_token=aws["sessionToken"])
loc = urlparse(v1["storageLocation"])
bucket, prefix = loc.netloc, loc.path.lstrip("/")
target = tempfile.mkdtemp()
listed = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
    for obj in page.get("Contents", []):
        rel = obj["Key"][len(prefix):]
        listed.append(rel)
        os.makedirs(os.path.dirname(os.path.join(target, rel)), exist_ok=True)
        s3.download_file(bucket, obj["Key"], os.path.join(target, rel))
def refused(fn):
    try:
        fn()
        return "allowed"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
other_prefix = urlparse(call(sys.argv[5] + "/versions/1")["storageLocation"]).path.lstrip("/")
v2_prefix = urlparse(v2["storageLocation"]).path.lstrip("/")
root = prefix.rstrip("/").rsplit("/", 1)[0] + "/"
out = {
    "another version": refused(lambda: s3.get_object(Bucket=bucket, Key=v2_prefix + "MLmodel")),
    "another model": refused(lambda: s3.get_object(Bucket=bucket, Key=other_prefix + "MLmodel")),
    "the manifest": refused(lambda: s3.get_object(Bucket=bucket, Key=prefix.rstrip("/") + ".json")),
    "listing every version": refused(lambda: s3.list_objects_v2(Bucket=bucket, Prefix=root)),
    "a write": refused(lambda: s3.put_object(Bucket=bucket, Key=prefix + "MLmodel", Body=b"x")),
    "a new file": refused(lambda: s3.put_object(Bucket=bucket, Key=prefix + "extra", Body=b"x")),
    "a delete": refused(lambda: s3.delete_object(Bucket=bucket, Key=prefix + "MLmodel")),
}
import mlflow, numpy as np
model = mlflow.pyfunc.load_model(target)
x = np.random.default_rng(7).normal(size=(20, 4))
print(json.dumps({"listed": sorted(listed), "status": v1["status"], "expiresInMs": expires_in_ms,
    "predictions": [int(v) for v in model.predict(x)], "refused": out}))
`,
      {
        args: [server.url, token, M(), weed.endpoint, M("sk_other")],
        timeoutMs: 240_000,
      },
    );
    expect(result.status).toBe("READY");
    expect(result.listed).toContain("MLmodel");
    console.log(`version 1 files: ${result.listed.join(", ")}`);
    expect(result.predictions).toEqual(predictions);
    expect(result.expiresInMs).toBeGreaterThan(0);
    expect(result.expiresInMs).toBeLessThanOrEqual(SESSION_SECONDS * 1000);
    // SeaweedFS answers AccessDenied to what the session policy does not allow (a delete, 204 on AWS too if allowed).
    expect(result.refused).toEqual({
      "another version": "AccessDenied",
      "another model": "AccessDenied",
      "the manifest": "AccessDenied",
      "listing every version": "AccessDenied",
      "a write": "AccessDenied",
      "a new file": "AccessDenied",
      "a delete": "AccessDenied",
    });
  });

  it("gets credentials only for READY versions of granted shares, and none once the grant is revoked", {
    timeout: 120_000,
  }, async () => {
    const revoked = await catalog.createRecipient(`revoked-${id}`);
    await catalog.grant(share, revoked.recipient.name);
    const bearer = revoked.profile.bearerToken;
    const granted = await vend(2, "sk", bearer);
    expect(granted.status).toBe(200);
    expect(granted.body.awsTempCredentials).toBeDefined();
    // The README's name for the endpoint answers the same.
    const readme = await call(`${M()}/versions/2/temporary-model-credentials`, { method: "POST" }, bearer);
    expect(readme.status).toBe(200);
    expect(typeof readme.body.expirationTime).toBe("number");
    await catalog.revoke(share, revoked.recipient.name);
    const after = await vend(2, "sk", bearer);
    const missing = await call(
      `/shares/nope_${id}/schemas/sk/models/sk/versions/2/temporary-model-version-credentials`,
      { method: "POST" },
      bearer,
    );
    expect(after.status).toBe(404);
    expect(after.body.errorCode).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(String(after.body.message).replace(share, "X")).toBe(
      String(missing.body.message).replace(`nope_${id}`, "X"),
    );
    // Still granted to the other recipient.
    expect((await vend(2)).status).toBe(200);
    expect((await vend(9)).status).toBe(404);
  });
});

describe("arcuate's client", () => {
  it("imports the model from the bucket with the vended credentials, through the model endpoints alone", {
    timeout: 300_000,
  }, async () => {
    const { recipient: recipientUri } = mlflowServers();
    const recipient = new MlflowClient({ trackingUri: recipientUri });
    const requests: string[] = [];
    const reader = await catalog.createRecipient(`importer-${id}`);
    await catalog.grant(share, reader.recipient.name);
    const client = new ModelSharingClient(reader.profile, {
      fetch: (input, init) => {
        requests.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
        return fetch(input, init);
      },
    });
    const ref = { share, schema: "sk", model: "sk" };
    const target = `s3-imported-${id}`;
    const first = await importModelAsset(recipient, client, ref, target);
    expect(first).toMatchObject({ versions: 2, createdVersions: 2 });
    for (const r of requests) expect(r).toMatch(/\/all-models$|\/models(\/|$)/);
    expect(requests.filter((r) => r.endsWith("/temporary-model-version-credentials"))).toHaveLength(2);
    expect((await importModelAsset(recipient, client, ref, target)).createdVersions).toBe(0);
    expect((await recipient.versions.listAll(target)).map((v) => v.version).sort()).toEqual(["1", "2"]);
    expect((await recipient.models.getVersionByAlias(target, "Champion")).version).toBe("2");
    const predicted = await runPythonJson<number[]>(
      `
import json, sys, warnings
warnings.filterwarnings("ignore")
import mlflow, numpy as np
mlflow.set_tracking_uri(sys.argv[1])
model = mlflow.pyfunc.load_model(f"models:/{sys.argv[2]}@Champion")
x = np.random.default_rng(7).normal(size=(20, 4))
print(json.dumps([int(v) for v in model.predict(x)]))
`,
      { args: [recipientUri, target], timeoutMs: 300_000 },
    );
    expect(predicted).toEqual(predictions);
  });

  it("streams a model file larger than its memory bound, out to the bucket and back into MLflow", {
    timeout: 600_000,
  }, async () => {
    // The model files alone first (the export's Delta tables carry the same bytes in 8 MiB chunks,
    // through Parquet, whose memory is the table writer's); the export then finds them written.
    const versions = await provider.versions.listAll(bigModelName);
    const loggedModel = await provider.loggedModels.get(bigModelId);
    const versionsTable = `s3://${BUCKET}/tables/${share}/big/versions`;
    const exported = await peakRssGrowth(() =>
      exportModelFiles(provider, versions, [], [loggedModel], versionsTable),
    );
    expect(exported.result).toMatchObject({ written: 1, bytes: expect.any(Number) });
    expect(exported.result.bytes).toBeGreaterThan(BIG_BYTES);
    expect(exported.growth).toBeLessThan(RSS_BOUND);
    await exchange.exportModels(bigModelName, "big", share);
    const files = new S3Storage(`s3://${BUCKET}/tables/${share}/big/model_versions`);
    const stored = await files.stat("1/weights.bin");
    expect(stored?.size).toBe(BIG_BYTES);
    const manifest = JSON.parse(new TextDecoder().decode(await files.read("1.json"))) as {
      files: Array<{ path: string; size: number; sha256: string }>;
    };
    expect(manifest.files.find((f) => f.path === "weights.bin")).toEqual({
      path: "weights.bin",
      size: BIG_BYTES,
      sha256: bigSha256,
    });

    const { recipient: recipientUri } = mlflowServers();
    const recipient = new MlflowClient({ trackingUri: recipientUri });
    const client = new ModelSharingClient((await catalog.createRecipient(`big-${id}`)).profile);
    await catalog.grant(share, `big-${id}`);
    const target = `s3-big-imported-${id}`;
    const imported = await peakRssGrowth(() =>
      importModelAsset(recipient, client, { share, schema: "big", model: "big" }, target),
    );
    expect(imported.result.createdVersions).toBe(1);
    expect(imported.growth).toBeLessThan(RSS_BOUND);
    const version = await recipient.versions.get(target, "1");
    const logged = await recipient.loggedModels.get(
      version.model_id ?? /^models:\/(m-[0-9a-f]+)$/.exec(version.source ?? "")![1]!,
    );
    const listed = await recipient.artifacts.listFiles(logged.info.artifact_uri!);
    expect(listed.find((f) => f.path === "weights.bin")?.size).toBe(BIG_BYTES);
    console.log(
      `${BIG_BYTES >> 20} MiB model file: RSS grew ${(exported.growth / 2 ** 20).toFixed(0)} MiB exporting, ${(imported.growth / 2 ** 20).toFixed(0)} MiB importing (bound ${RSS_BOUND >> 20} MiB)`,
    );
  });
});

describe("expiry", () => {
  it("credentials stop working when they say", { timeout: (SESSION_SECONDS + 60) * 1000 }, async () => {
    const { credentials, location, askedAt, readBefore } = early;
    expect(readBefore).toBeGreaterThan(0);
    expect(credentials.expirationTime).toBeGreaterThan(askedAt);
    expect(credentials.expirationTime).toBeLessThanOrEqual(askedAt + SESSION_SECONDS * 1000 + 2_000);
    await new Promise((r) => setTimeout(r, Math.max(0, credentials.expirationTime - Date.now()) + 2_000));
    const storage = new S3Storage(location, { credentials: { ...credentials.awsTempCredentials! } });
    await expect(storage.read("MLmodel")).rejects.toThrow(/S3 refused the credentials for read/);
  });
});
