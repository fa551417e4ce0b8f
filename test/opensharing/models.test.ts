// OpenSharing model endpoints (ML_MODELS.md) served by arcuate, on a provider without object
// storage: a real scikit-learn model exported into a share, its versions described by the model
// endpoints with the spec's field names and types, paged one at a time, 404s in the protocol's
// error format, and the version's files (written by the export) loadable by MLflow itself.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importModelAsset } from "../../src/exchange/import-model-asset.js";
import { Exchange } from "../../src/exchange/index.js";
import { MlflowClient } from "../../src/mlflow/index.js";
import { ModelSharingClient } from "../../src/sharing/client/models.js";
import { mlflowServers } from "../support/mlflow.js";
import { runPythonJson } from "../support/python.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";
import { seedRegisteredModel } from "./seed-model.js";

const id = randomUUID().slice(0, 8);
const share = `os_${id}`;
const hidden = `hidden_${id}`;
const modelName = `os-sk-${id}`;
let sharing: TestSharingServer;
let token: string;
let predictions: number[];

type Item = Record<string, unknown>;
interface Body extends Item {
  items: Item[];
  nextPageToken?: string;
  errorCode?: string;
  message: string;
}

async function get(path: string, init: RequestInit = {}): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${sharing.url}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  const { provider: providerUri } = mlflowServers();
  const provider = new MlflowClient({ trackingUri: providerUri });
  predictions = await seedRegisteredModel(provider, providerUri, modelName);
  sharing = await startTestSharingServer();
  await sharing.catalog.createShare(share);
  await sharing.catalog.createShare(hidden);
  token = (await sharing.shareTables({ share, tables: [] })).token;
  const exchange = new Exchange({ mlflow: provider, catalog: sharing.catalog, workDir: sharing.dir });
  await exchange.exportModels(modelName, "sk_model", share);
  await exchange.exportModels(modelName, "sk_hidden", hidden);
}, 600_000);

afterAll(async () => {
  await sharing?.close();
});

const M = () => `/shares/${share}/schemas/sk_model/models/sk_model`;

describe("model listings", () => {
  it("lists the model in the share and in its schema, with the spec's fields", async () => {
    const all = await get(`/shares/${share}/all-models`);
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(1);
    const model = all.body.items[0]!;
    expect(Object.keys(model).sort()).toEqual(
      ["comment", "id", "name", "schema", "share", "shareId", "storageLocation"].sort(),
    );
    expect(model).toMatchObject({ name: "sk_model", schema: "sk_model", share, comment: "churn classifier" });
    for (const field of ["id", "shareId", "storageLocation"]) expect(typeof model[field]).toBe("string");
    expect(all.body.nextPageToken).toBeUndefined();
    const inSchema = await get(`/shares/${share}/schemas/sk_model/models`);
    expect(inSchema.body).toEqual(all.body);
    const one = await get(M());
    expect(one.body).toEqual(model);
  });

  it("answers case-insensitively", async () => {
    const one = await get(`/shares/${share.toUpperCase()}/schemas/SK_Model/models/Sk_MODEL`);
    expect(one.status).toBe(200);
    expect(one.body.name).toBe("sk_model");
  });

  it("lists READY versions page by page, with the spec's fields and types", async () => {
    const seen: Item[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 10; page++) {
      const query = new URLSearchParams({ maxResults: "1", ...(pageToken ? { pageToken } : {}) });
      const { status, body } = await get(`${M()}/versions?${query}`);
      expect(status).toBe(200);
      expect(body.items.length).toBeLessThanOrEqual(1);
      seen.push(...body.items);
      pageToken = body.nextPageToken;
      if (!pageToken) break;
    }
    expect(seen.map((v) => v.version)).toEqual([1, 2]);
    for (const v of seen) {
      expect(v).toMatchObject({ modelName: "sk_model", schema: "sk_model", share, status: "READY" });
      expect(typeof v.version).toBe("number");
      for (const field of ["storageLocation", "id", "source", "runId"])
        expect(typeof v[field]).toBe("string");
      expect(
        Object.keys(v).every((k) =>
          [
            "modelName",
            "schema",
            "share",
            "version",
            "status",
            "storageLocation",
            "id",
            "source",
            "runId",
            "comment",
          ].includes(k),
        ),
      ).toBe(true);
    }
    expect(seen[1]!.comment).toBe("the same weights, promoted");
    expect(seen[0]!.id).not.toBe(seen[1]!.id);
    expect(seen[0]!.storageLocation).not.toBe(seen[1]!.storageLocation);
  });

  it("gets a version, and resolves aliases case-insensitively", async () => {
    const v2 = await get(`${M()}/versions/2`);
    expect(v2.status).toBe(200);
    expect(v2.body.version).toBe(2);
    expect(v2.body.aliases).toBeUndefined();
    const champion = await get(`${M()}/aliases/champion`);
    expect(champion.body).toEqual(v2.body);
    const production = await get(`${M()}/aliases/PRODUCTION`);
    expect(production.body.version).toBe(1);
    const withAliases = await get(`${M()}/versions/2`, { headers: { "arcuate-model-aliases": "true" } });
    expect(withAliases.body.aliases).toEqual(["Champion"]);
  });
});

describe("errors", () => {
  it.each([
    ["an unknown share", `/shares/nope_${id}/all-models`],
    ["an ungranted share", `/shares/${hidden}/all-models`],
    ["an unknown schema", `/shares/${share}/schemas/nope/models`],
    ["an unknown model", `/shares/${share}/schemas/sk_model/models/nope`],
    ["an unknown version", `/shares/${share}/schemas/sk_model/models/sk_model/versions/99`],
    ["an unknown alias", `/shares/${share}/schemas/sk_model/models/sk_model/aliases/nope`],
    ["a model of an ungranted share", `/shares/${hidden}/schemas/sk_hidden/models/sk_hidden`],
  ])("%s is 404 RESOURCE_DOES_NOT_EXIST", async (_what, path) => {
    const { status, body } = await get(path);
    expect(status).toBe(404);
    expect(Object.keys(body).sort()).toEqual(["errorCode", "message"]);
    expect(body.errorCode).toBe("RESOURCE_DOES_NOT_EXIST");
  });

  it("says the same about an ungranted share as about a missing one", async () => {
    const missing = await get(`/shares/missing_${id}/schemas/sk_hidden/models/sk_hidden/versions/1`);
    const ungranted = await get(`/shares/${hidden}/schemas/sk_hidden/models/sk_hidden/versions/1`);
    expect(ungranted.status).toBe(missing.status);
    expect(ungranted.body.message.replace(hidden, "X")).toBe(
      missing.body.message.replace(`missing_${id}`, "X"),
    );
  });

  it("refuses a bad version, a bad page token and a missing token", async () => {
    expect((await get(`${M()}/versions/one`)).body.errorCode).toBe("INVALID_PARAMETER_VALUE");
    expect((await get(`${M()}/versions?pageToken=forged.abc`)).status).toBe(400);
    const anonymous = await fetch(`${sharing.url}${M()}`);
    expect(anonymous.status).toBe(401);
  });

  it("answers the credentials endpoint (both names) with a clear error without object storage", async () => {
    for (const name of ["temporary-model-version-credentials", "temporary-model-credentials"]) {
      const { status, body } = await get(`${M()}/versions/1/${name}`, { method: "POST" });
      expect(status).toBe(400);
      expect(body.errorCode).toBe("UNSUPPORTED_FEATURE");
      expect(body.message).toMatch(/local disk/);
    }
  });
});

describe("model files", () => {
  it("holds the version's MLflow model directory, which MLflow loads and predicts with", async () => {
    const { body } = await get(`${M()}/versions/1`);
    expect(body.storageLocation).toMatch(/^file:\/\/.*\/model_versions\/1\/$/);
    const folder = fileURLToPath(String(body.storageLocation));
    expect(readFileSync(join(folder, "MLmodel"), "utf8")).toContain("sklearn");
    const predicted = await runPythonJson<number[]>(
      `
import json, sys, warnings
warnings.filterwarnings("ignore")
import mlflow, numpy as np
model = mlflow.pyfunc.load_model(sys.argv[1])
x = np.random.default_rng(7).normal(size=(20, 4))
print(json.dumps([int(v) for v in model.predict(x)]))
`,
      { args: [folder], timeoutMs: 300_000 },
    );
    expect(predicted).toEqual(predictions);
  });
});

describe("arcuate's client", () => {
  it("imports the model through the model endpoints alone, again idempotently", async () => {
    const { recipient: recipientUri } = mlflowServers();
    const recipient = new MlflowClient({ trackingUri: recipientUri });
    const profile = (await sharing.catalog.createRecipient(`os-only-${id}`)).profile;
    await sharing.catalog.grant(share, `os-only-${id}`);
    const requests: string[] = [];
    const client = new ModelSharingClient(profile, {
      fetch: (input, init) => {
        requests.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
        return fetch(input, init);
      },
    });
    const ref = { share, schema: "sk_model", model: "sk_model" };
    const target = `os-imported-${id}`;
    const first = await importModelAsset(recipient, client, ref, target);
    expect(first).toMatchObject({ versions: 2, createdVersions: 2 });
    // Only OpenSharing model endpoints were asked: no table, query or file URL.
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) expect(r).toMatch(/\/all-models$|\/models(\/|$)/);
    const again = await importModelAsset(recipient, client, ref, target);
    expect(again.createdVersions).toBe(0);
    const versions = (await recipient.versions.listAll(target)).map((v) => v.version).sort();
    expect(versions).toEqual(["1", "2"]);
    expect((await recipient.models.getVersionByAlias(target, "production")).version).toBe("1");
    expect((await recipient.models.getVersionByAlias(target, "Champion")).version).toBe("2");
    expect((await recipient.models.get(target)).description).toBe("churn classifier");
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
});
