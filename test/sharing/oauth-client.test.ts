// arcuate's own client through an `oauth_client_credentials` profile, against arcuate's server:
// it gets access tokens from the profile's token endpoint, renews them as they expire (a lifetime
// of 5 s here), with one renewal for any number of concurrent requests, in every client path (the
// SharingClient, `arcuate sharing ls|cat`, SELECT in the language and CREATE EXPERIMENT / MODEL ...
// USING SHARE imports); a wrong or rotated secret fails naming the profile and the token endpoint.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AuthError } from "../../src/errors.js";
import { createSession, type StatementResult } from "../../src/lang/index.js";
import { MlflowClient } from "../../src/mlflow/index.js";
import { seedExperiment } from "../../src/peers/seed.js";
import { sharingCommand } from "../../src/sharing/client/commands.js";
import { SharingClient, sharingServerCommands } from "../../src/sharing/index.js";
import { mlflowServers } from "../support/mlflow.js";
import {
  startTestSharingServer,
  type TestSharingServer,
  writeDeltaRsTables,
} from "../support/sharing-server.js";

const id = randomUUID().slice(0, 8);
let dir: string;
let sharing: TestSharingServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "arcuate-oauth-client-"));
  sharing = await startTestSharingServer({ dir: join(dir, "provider") });
  const tables = await writeDeltaRsTables(join(dir, "data"));
  await sharing.catalog.createShare("golden");
  await sharing.catalog.addTable("golden", "x", "parts", tables.parts);
  await sharing.catalog.addTable("golden", "x", "plain", tables.plain);
}, 120_000);

afterAll(async () => {
  await sharing?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `arcuate …` provider commands on the served folder, in-process. */
async function arcuate(...args: string[]): Promise<string> {
  const out: string[] = [];
  const program = new Command("arcuate").exitOverride();
  for (const command of sharingServerCommands({ out: (text) => out.push(text) })) program.addCommand(command);
  program.addCommand(sharingCommand({ write: async (text) => void out.push(text) }));
  await program.parseAsync([
    "node",
    "arcuate",
    ...args,
    ...(args[0] === "sharing" ? [] : ["--workdir", sharing.dir]),
  ]);
  return out.join("");
}

/**
 * Access tokens last this long: short, so the tests cross several expiries, but long enough that a
 * request on a loaded machine reaches the server before the token it was sent with expires.
 */
const LIFETIME_S = 5;
/** Waits until an access token got now has expired. */
const pastLifetime = () => sleep(LIFETIME_S * 1000 + 500);

/** An OAuth recipient with short-lived access tokens, granted on `share`; returns its profile path. */
async function oauthRecipient(name: string, share: string): Promise<string> {
  const created = await arcuate(
    "recipient",
    "create",
    name,
    "--oauth",
    "--access-token-lifetime",
    String(LIFETIME_S),
  );
  await arcuate("grant", share, name);
  return /profile: +(\S+)/.exec(created)![1]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it("loads tables across access token expiries, with one renewal for concurrent requests", async () => {
  const profilePath = await oauthRecipient(`reader-${id}`, "golden");
  const tokenEndpoint = `${sharing.url}/oauth/token`;
  const asked: string[] = [];
  const counting: typeof fetch = (input, init) => {
    asked.push(String(input instanceof Request ? input.url : input));
    return fetch(input, init);
  };
  const tokenRequests = () => asked.filter((url) => url === tokenEndpoint).length;
  const client = await SharingClient.fromProfile(profilePath, { fetch: counting });
  const parts = { share: "golden", schema: "x", name: "parts" };

  expect((await client.queryTable(parts)).numRows).toBe(6);
  expect(tokenRequests()).toBe(1);
  await pastLifetime(); // the first access token has expired
  // Sixteen requests at once after the expiry: all wait for one new token.
  const listings = await Promise.all(Array.from({ length: 16 }, () => client.listShares()));
  expect(listings.every((shares) => shares.map((s) => s.name).join() === "golden")).toBe(true);
  expect(tokenRequests()).toBe(2);
  expect((await client.queryTable({ share: "golden", schema: "x", name: "plain" })).numRows).toBe(4);
  await pastLifetime();
  expect((await client.queryTable(parts)).numRows).toBe(6);
  expect(tokenRequests()).toBeGreaterThanOrEqual(3);

  // The CLI's client commands read the same profile file.
  expect(await arcuate("sharing", "ls", `${profilePath}#golden.x`)).toBe("parts\nplain\n");
  await pastLifetime();
  const rows = (await arcuate("sharing", "cat", `${profilePath}#golden.x.parts`)).trim().split("\n");
  expect(rows).toHaveLength(6);
}, 120_000);

it("says which profile and which token endpoint refused a wrong or rotated client secret", async () => {
  const profilePath = await oauthRecipient(`wrong-${id}`, "golden");
  const tokenEndpoint = `${sharing.url}/oauth/token`;
  const profile = JSON.parse(readFileSync(profilePath, "utf8")) as { clientSecret: string };
  const wrongPath = join(dir, "wrong.share");
  writeFileSync(
    wrongPath,
    JSON.stringify({ ...profile, clientSecret: `${profile.clientSecret.slice(0, -4)}AAAA` }),
  );
  const wrong = (await SharingClient.fromProfile(wrongPath)).listShares();
  await expect(wrong).rejects.toBeInstanceOf(AuthError);
  await expect(wrong).rejects.toThrow(
    `sharing: profile file '${wrongPath}' could not get an access token from ${tokenEndpoint}: HTTP 401 invalid_client: sharing: the client id or secret is not valid`,
  );

  // A client holding a token when the provider rotates the secret: once the token is refused, the
  // client asks for a new one with the secret it has, and says why that fails.
  const client = await SharingClient.fromProfile(profilePath);
  expect((await client.listShares()).map((s) => s.name)).toEqual(["golden"]);
  await arcuate("recipient", "rotate", `wrong-${id}`);
  const refused = client.listShares();
  await expect(refused).rejects.toThrow(
    `sharing: profile file '${profilePath}' could not get an access token from ${tokenEndpoint}: HTTP 401 invalid_client`,
  );
  // The rewritten profile works.
  expect((await (await SharingClient.fromProfile(profilePath)).listShares()).map((s) => s.name)).toEqual([
    "golden",
  ]);
}, 60_000);

it("previews with SELECT and imports an experiment and a model through an OAuth profile across token expiries", async () => {
  const { provider: providerUri, recipient: recipientUri } = mlflowServers();
  const experiment = `oauth-churn-${id}`;
  const model = `oauth-model-${id}`;
  await seedExperiment(new MlflowClient({ trackingUri: providerUri }), {
    experimentName: experiment,
    runs: 3,
    stepsPerMetric: 20,
    modelName: model,
    modelVersions: 1,
  });
  const provider = createSession({ workDir: sharing.dir, mlflowUri: providerUri });
  await provider.execute(
    `CREATE SHARE lab WITH EXPERIMENT '${experiment}' AS churn, MODEL '${model}' AS classifier`,
  );
  const profilePath = await oauthRecipient(`importer-${id}`, "lab");

  const recipient = createSession({
    workDir: mkdtempSync(join(dir, "recipient-")),
    mlflowUri: recipientUri,
  });
  const table = (result: StatementResult | undefined) => (result?.kind === "table" ? result.rows : []);
  const providerMlflow = new MlflowClient({ trackingUri: providerUri });
  const source = await providerMlflow.experiments.getByName(experiment);
  const sourceRuns = (await providerMlflow.runs.search({ experimentIds: [source.experiment_id] })).items;
  const [runs] = await recipient.execute(`SELECT * FROM '${profilePath}#lab.churn.runs'`);
  expect(table(runs)).toHaveLength(sourceRuns.length);
  await pastLifetime(); // the import renews the token, as often as it takes
  const imported = `oauth-imported-${id}`;
  await recipient.execute(`CREATE EXPERIMENT '${imported}' USING SHARE '${profilePath}#lab.churn'`);
  const mlflow = new MlflowClient({ trackingUri: recipientUri });
  const copy = await mlflow.experiments.getByName(imported);
  const [metrics] = await recipient.execute(`SELECT key FROM '${profilePath}#lab.churn.metrics'`);
  expect(table(metrics).length).toBeGreaterThan(0);
  const copied = await mlflow.runs.search({ experimentIds: [copy.experiment_id] });
  expect(copied.items).toHaveLength(sourceRuns.length);
  await pastLifetime();
  await recipient.execute(
    `CREATE MODEL 'oauth-imported-model-${id}' USING SHARE '${profilePath}#lab.classifier'`,
  );
  expect(await mlflow.versions.listAll(`oauth-imported-model-${id}`)).toHaveLength(1);
}, 300_000);
