// One-time activation links: CREATE RECIPIENT … WITH ACTIVATION LINK prints a link on the sharing
// server; its first download is the recipient's profile (whose token works from then on), a second
// one or an expired link gets a clear 410, an unknown code a 404. The catalog keeps only a hash.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createSession } from "../../src/lang/index.js";
import { SharingClient } from "../../src/sharing/client/index.js";
import {
  Catalog,
  type SharingServer,
  sharingServerCommands,
  startSharingServer,
} from "../../src/sharing/index.js";
import type { Profile } from "../../src/sharing/protocol.js";

let dir: string;
let catalog: Catalog;
let server: SharingServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "arcuate-activation-"));
  catalog = await Catalog.open(join(dir, "catalog"));
  server = await startSharingServer({
    catalog,
    audit: { location: join(catalog.dir, "audit"), flushMs: 100 },
  });
  await catalog.setEndpoint(server.url);
  await catalog.createShare("s");
}, 60_000);

afterAll(async () => {
  await server?.close();
  await catalog?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function arcuate(...args: string[]): Promise<string> {
  const out: string[] = [];
  const program = new Command("arcuate").exitOverride();
  for (const command of sharingServerCommands({ out: (text) => out.push(text) })) program.addCommand(command);
  await program.parseAsync(["node", "arcuate", ...args]);
  return out.join("");
}

it("hands out the profile once, from a link the language prints", async () => {
  const [created] = await createSession({ workDir: catalog.dir }).execute(
    "CREATE RECIPIENT acme COMMENT 'Acme' WITH ACTIVATION LINK",
  );
  const text = created?.kind === "message" ? created.text : "";
  const url = /(http:\/\/\S+\/activation\/\S+)/.exec(text)?.[1];
  expect(url).toMatch(new RegExp(`^${new URL(server.url).origin}/activation/arca_[0-9a-f]{16}_`));
  await catalog.grant("s", "acme");

  const first = await fetch(url!);
  expect(first.status).toBe(200);
  expect(first.headers.get("content-disposition")).toBe('attachment; filename="acme.share"');
  const profile = (await first.json()) as Profile;
  expect(profile).toMatchObject({ shareCredentialsVersion: 1, endpoint: server.url });
  expect((await new SharingClient(profile).listShares()).map((s) => s.name)).toEqual(["s"]);

  const second = await fetch(url!);
  expect(second.status).toBe(410);
  expect(await second.json()).toEqual({
    errorCode: "RESOURCE_DOES_NOT_EXIST",
    message: expect.stringMatching(
      /^sharing: this activation link was already used \(at \d{4}-.*\): ask the provider for a new one$/,
    ),
  });
  // Neither the code nor the token is kept; no profile file was written.
  const stored = readFileSync(catalog.statePath, "utf8");
  expect(stored).not.toContain(url!.slice(url!.lastIndexOf("/") + 1));
  expect(stored).not.toContain(profile.bearerToken);
  expect(() => readFileSync(catalog.profilePath("acme"))).toThrow();

  const unknown = await fetch(`${url!.slice(0, -4)}AAAA`);
  expect(unknown.status).toBe(404);
  expect(await unknown.json()).toEqual({
    errorCode: "RESOURCE_DOES_NOT_EXIST",
    message: "sharing: no such activation link",
  });
}, 60_000);

it("refuses an expired link, and gives OAuth recipients their client secret", async () => {
  const printed = await arcuate(
    "recipient",
    "create",
    "late",
    "--activation-link",
    "--link-expires-in",
    "1",
    "--workdir",
    catalog.dir,
  );
  const url = /activation link: (\S+)/.exec(printed)![1]!;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const expired = await fetch(url);
  expect(expired.status).toBe(410);
  expect(((await expired.json()) as { message: string }).message).toMatch(
    /^sharing: this activation link expired at \d{4}-.*: ask the provider for a new one$/,
  );

  const link = await catalog.createRecipientWithActivationLink("partner", { oauth: {} });
  const profile = (await (await fetch(link.url)).json()) as {
    type: string;
    tokenEndpoint: string;
    clientId: string;
    clientSecret: string;
  };
  expect(profile).toMatchObject({ type: "oauth_client_credentials", clientId: link.recipient.id });
  const token = await fetch(profile.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: profile.clientId,
      client_secret: profile.clientSecret,
    }),
  });
  expect(token.status).toBe(200);
  expect((await fetch(link.url)).status).toBe(410);
}, 60_000);
