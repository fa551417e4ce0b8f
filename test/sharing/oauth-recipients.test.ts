// OAuth recipients as a provider creates them: `CREATE RECIPIENT r USING OAUTH` in the language and
// `arcuate recipient create r --oauth` on the command line write a version 2
// `oauth_client_credentials` profile whose client id and secret get access tokens from the served
// folder's token endpoint; `arcuate recipient rotate` issues a new client secret, ending the old one
// at once or after its grace period.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createSession } from "../../src/lang/index.js";
import {
  Catalog,
  type SharingServer,
  sharingServerCommands,
  startSharingServer,
} from "../../src/sharing/index.js";

let dir: string;
let catalog: Catalog;
let server: SharingServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "arcuate-oauth-recipients-"));
  catalog = await Catalog.open(dir);
  server = await startSharingServer({ catalog, log: () => {} });
  await catalog.setEndpoint(server.url);
});

afterAll(async () => {
  await server?.close();
  await catalog?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function arcuate(...args: string[]): Promise<string> {
  const out: string[] = [];
  const program = new Command("arcuate").exitOverride();
  for (const command of sharingServerCommands({ out: (text) => out.push(text) })) program.addCommand(command);
  await program.parseAsync(["node", "arcuate", ...args, "--workdir", dir]);
  return out.join("");
}

interface OAuthProfileFile {
  shareCredentialsVersion: number;
  type: string;
  endpoint: string;
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
}

/** Asks the token endpoint for an access token as a connector does (HTTP Basic auth). */
async function tokenFor(profile: { tokenEndpoint: string; clientId: string; clientSecret: string }) {
  const response = await fetch(profile.tokenEndpoint, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${profile.clientId}:${profile.clientSecret}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: "grant_type=client_credentials",
  });
  return {
    status: response.status,
    body: (await response.json()) as { access_token?: string; expires_in?: number },
  };
}

async function sharesWith(accessToken: string): Promise<{ status: number; names: string[] }> {
  const response = await fetch(`${server.url}/shares`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  const body = (await response.json()) as { items?: Array<{ name: string }> };
  return { status: response.status, names: (body.items ?? []).map((s) => s.name) };
}

it("CREATE RECIPIENT … USING OAUTH prints and writes an oauth_client_credentials profile that gets access tokens", async () => {
  const session = createSession({ workDir: dir });
  const [, created] = await session.execute(
    "CREATE SHARE lab; CREATE RECIPIENT partner USING OAUTH COMMENT 'partner lab'; GRANT SELECT ON SHARE lab TO RECIPIENT partner",
  );
  expect(created?.kind).toBe("message");
  const text = created?.kind === "message" ? created.text : "";
  expect(text).toContain("the client secret is not stored");
  const profilePath = join(dir, "profiles", "partner.share");
  expect(text).toContain(profilePath);
  const profile = JSON.parse(readFileSync(profilePath, "utf8")) as OAuthProfileFile;
  // What the statement shows is the profile it wrote, secret and all, shown this once.
  expect(JSON.parse(text.slice(text.indexOf("{")))).toEqual(profile);
  expect(profile).toMatchObject({
    shareCredentialsVersion: 2,
    type: "oauth_client_credentials",
    endpoint: server.url,
    tokenEndpoint: `${server.url}/oauth/token`,
  });
  expect(profile).not.toHaveProperty("bearerToken");

  const issued = await tokenFor(profile);
  expect(issued).toMatchObject({ status: 200, body: { expires_in: 3600 } });
  expect(await sharesWith(issued.body.access_token!)).toEqual({ status: 200, names: ["lab"] });

  const [described] = await session.execute("DESCRIBE RECIPIENT partner");
  expect(described?.kind === "table" && described.rows).toContainEqual([
    "credentials",
    "OAuth client credentials (access tokens last 3600 s)",
  ]);
  // IF NOT EXISTS on an existing recipient shows no credentials again and changes none.
  const [again] = await session.execute("CREATE RECIPIENT IF NOT EXISTS partner USING OAUTH");
  expect(again).toMatchObject({
    kind: "message",
    text: "recipient partner already exists (its credentials are not shown again)",
  });
  expect((await tokenFor(profile)).status).toBe(200);
  // EXPLAIN says what the statement would do.
  const [plan] = await session.execute("EXPLAIN CREATE RECIPIENT other USING OAUTH");
  expect(JSON.stringify(plan)).toContain("create recipient other with OAuth client credentials");
}, 60_000);

it("arcuate recipient create --oauth, list, and rotate with and without a grace period", async () => {
  await arcuate("share", "create", "cli_lab");
  const created = await arcuate("recipient", "create", "globex", "--oauth", "--access-token-lifetime", "15m");
  const secret = /client secret: +(\S+)/.exec(created)![1]!;
  const profilePath = /profile: +(\S+)/.exec(created)![1]!;
  const first = JSON.parse(readFileSync(profilePath, "utf8")) as OAuthProfileFile;
  expect(first.clientSecret).toBe(secret);
  expect(created).toContain(`token endpoint: ${server.url}/oauth/token`);
  expect(created).toContain(`client id:      ${first.clientId}`);
  expect(created).toContain("The client secret is shown only now");
  expect(await arcuate("grant", "cli_lab", "globex")).toBe("granted cli_lab to globex\n");
  const issued = await tokenFor(first);
  expect(issued).toMatchObject({ status: 200, body: { expires_in: 900 } });

  const listed = await arcuate("recipient", "list");
  expect(listed).toMatch(/globex {2}never expires {2}oauth \(access tokens 900 s\) {2}shares: cli_lab/);
  expect(listed).not.toContain(secret);

  // Rotation: a new secret in a rewritten profile; the old secret and its access token stop at once.
  const rotated = await arcuate("recipient", "rotate", "globex");
  const second = JSON.parse(readFileSync(profilePath, "utf8")) as OAuthProfileFile;
  expect(rotated).toContain(`client secret:  ${second.clientSecret}`);
  expect(second.clientSecret).not.toBe(first.clientSecret);
  expect(second.clientId).toBe(first.clientId);
  expect((await tokenFor(first)).status).toBe(401);
  expect((await sharesWith(issued.body.access_token!)).status).toBe(401);
  const fresh = await tokenFor(second);
  expect(fresh.status).toBe(200);
  expect(await sharesWith(fresh.body.access_token!)).toEqual({ status: 200, names: ["cli_lab"] });

  // With --grace the previous secret and its tokens keep working until the grace period ends.
  await arcuate("recipient", "rotate", "globex", "--grace", "2s");
  const third = JSON.parse(readFileSync(profilePath, "utf8")) as OAuthProfileFile;
  const graced = await tokenFor(second);
  expect(graced.status).toBe(200);
  expect(graced.body.expires_in).toBeLessThanOrEqual(2);
  expect((await sharesWith(fresh.body.access_token!)).status).toBe(200);
  expect((await tokenFor(third)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 2500));
  expect((await tokenFor(second)).status).toBe(401);
  expect((await sharesWith(fresh.body.access_token!)).status).toBe(401);
  const current = await tokenFor(third);
  expect(await sharesWith(current.body.access_token!)).toEqual({ status: 200, names: ["cli_lab"] });
}, 60_000);

it("refuses an access token lifetime without --oauth, and each rotation on the other kind of recipient", async () => {
  await expect(arcuate("recipient", "create", "plain", "--access-token-lifetime", "60")).rejects.toThrow(
    "recipient: --access-token-lifetime needs --oauth (a bearer token has no access tokens)",
  );
  await expect(
    arcuate("recipient", "create", "plain", "--oauth", "--access-token-lifetime", "0.5"),
  ).rejects.toThrow(
    "recipient: --access-token-lifetime must be a whole number of seconds, at least 1, not 0.5",
  );
  expect(await arcuate("recipient", "list")).not.toContain("plain");
  await arcuate("recipient", "create", "plain");
  await expect(catalog.rotateClientSecret("plain")).rejects.toThrow(
    "catalog: recipient 'plain' has a bearer token, not OAuth client credentials: rotate its token instead",
  );
  await expect(catalog.rotateRecipient("globex")).rejects.toThrow(
    "catalog: recipient 'globex' has OAuth client credentials, not a bearer token: rotate its client secret instead",
  );
  // The bearer-token recipient still rotates its token through the same command.
  expect(await arcuate("recipient", "rotate", "plain")).toMatch(/token: +arc_/);
});
