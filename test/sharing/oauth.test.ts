// OAuth 2.0 client credentials through the official Python connector: a recipient created with
// OAuth gets a version 2 `oauth_client_credentials` profile; the connector exchanges its client
// id and secret at the server's token endpoint and reads the share, again after its first access
// token expired; a wrong secret is refused with 401, and an expired access token too.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Catalog, type SharingServer, startSharingServer } from "../../src/sharing/index.js";
import { runPythonJson } from "../support/python.js";
import { writeDeltaRsTables } from "../support/sharing-server.js";

let dir: string;
let catalog: Catalog;
let server: SharingServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "arcuate-oauth-"));
  const tables = await writeDeltaRsTables(join(dir, "data"));
  catalog = await Catalog.open(join(dir, "catalog"));
  server = await startSharingServer({ catalog, log: () => {} });
  await catalog.setEndpoint(server.url);
  await catalog.createShare("s");
  await catalog.addTable("s", "x", "parts", tables.parts);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await catalog?.close();
  rmSync(dir, { recursive: true, force: true });
});

it("the Python connector reads through an oauth_client_credentials profile, also after its access token expired", async () => {
  const partner = await catalog.createOAuthRecipient("partner", { accessTokenSeconds: 2 });
  await catalog.grant("s", "partner");
  expect(partner.profile).toMatchObject({
    shareCredentialsVersion: 2,
    type: "oauth_client_credentials",
    endpoint: server.url,
    tokenEndpoint: `${server.url}/oauth/token`,
    clientId: partner.recipient.id,
  });
  const got = await runPythonJson<{ first: number; second: number }>(
    `
import json, sys, time, delta_sharing
url = sys.argv[1] + "#s.x.parts"
first = len(delta_sharing.load_as_pandas(url))
time.sleep(3)  # past the 2 s lifetime of the first access token
second = len(delta_sharing.load_as_pandas(url))
print(json.dumps({"first": first, "second": second}))
`,
    { args: [partner.profilePath] },
  );
  expect(got).toEqual({ first: 6, second: 6 });

  // A token from the endpoint works until it expires, then is refused with 401.
  const basic = (secret: string) =>
    `Basic ${Buffer.from(`${partner.recipient.id}:${secret}`).toString("base64")}`;
  const token = await fetch(`${server.url}/oauth/token`, {
    method: "POST",
    headers: {
      authorization: basic(partner.clientSecret),
      "content-type": "application/x-www-form-urlencoded",
    },
    body: "grant_type=client_credentials",
  });
  expect(token.status).toBe(200);
  const issued = (await token.json()) as { access_token: string; token_type: string; expires_in: number };
  expect(issued).toMatchObject({ token_type: "Bearer", expires_in: 2 });
  const shares = () =>
    fetch(`${server.url}/shares`, { headers: { authorization: `Bearer ${issued.access_token}` } });
  expect((await shares()).status).toBe(200);
  await new Promise((r) => setTimeout(r, 2500));
  const expired = await shares();
  expect(expired.status).toBe(401);
  expect(((await expired.json()) as { message: string }).message).toBe(
    "sharing: the bearer token has expired",
  );
}, 180_000);

it("refuses a wrong client secret with 401, in the Python connector too", async () => {
  const other = await catalog.createOAuthRecipient("other");
  await catalog.grant("s", "other");
  const wrong = await fetch(`${server.url}/oauth/token`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${other.recipient.id}:arcs_${other.recipient.id}_wrong`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: "grant_type=client_credentials",
  });
  expect(wrong.status).toBe(401);
  expect(await wrong.json()).toMatchObject({ error: "invalid_client" });
  const got = await runPythonJson<{ error: string }>(
    `
import json, sys, delta_sharing
profile = json.load(open(sys.argv[1]))
profile["clientSecret"] = profile["clientSecret"][:-4] + "AAAA"
try:
    delta_sharing.SharingClient(delta_sharing.protocol.DeltaSharingProfile.from_json(profile)).list_shares()
    print(json.dumps({"error": "none"}))
except Exception as e:
    print(json.dumps({"error": str(e)[:200]}))
`,
    { args: [other.profilePath] },
  );
  expect(got.error).toMatch(/401/);
}, 120_000);
