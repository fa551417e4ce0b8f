// Per-recipient limits, set as a provider does (ALTER RECIPIENT in the language, `arcuate
// recipient set|unset`) and enforced by the server: requests from outside a recipient's address
// ranges are refused with 403, past its rate with 429 and Retry-After, both recorded in the audit
// log; X-Forwarded-For counts only from a configured trusted proxy; arcuate's client waits out
// 429s and finishes its load; the Python connector sees the refusals as protocol errors.

import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeltaTable } from "../../src/delta/index.js";
import { createSession } from "../../src/lang/index.js";
import { SharingClient } from "../../src/sharing/client/index.js";
import {
  Catalog,
  type SharingServer,
  sharingServerCommands,
  startSharingServer,
} from "../../src/sharing/index.js";
import { TokenBuckets } from "../../src/sharing/server/rate-limit.js";
import { runPythonJson } from "../support/python.js";
import { writeDeltaRsTables } from "../support/sharing-server.js";

let dir: string;
let catalog: Catalog;
let server: SharingServer;
let proxied: SharingServer;
const logged: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "arcuate-limits-"));
  const tables = await writeDeltaRsTables(join(dir, "data"));
  catalog = await Catalog.open(join(dir, "catalog"));
  server = await startSharingServer({
    catalog,
    audit: { location: join(catalog.dir, "audit"), flushMs: 100 },
    log: (m) => logged.push(m),
  });
  // The same catalog behind a "proxy" on 127.0.0.1: only that address's X-Forwarded-For is believed.
  proxied = await startSharingServer({
    catalog,
    trustedProxies: ["127.0.0.1/32"],
    log: (m) => logged.push(m),
  });
  await catalog.setEndpoint(server.url);
  await catalog.createShare("s");
  await catalog.addTable("s", "x", "plain", tables.plain);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await proxied?.close();
  await catalog?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET from a chosen loopback address (Linux answers on all of 127.0.0.0/8). */
function get(
  base: string,
  path: string,
  token: string,
  options: { from?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        headers: { authorization: `Bearer ${token}`, ...options.headers },
        ...(options.from ? { localAddress: options.from } : {}),
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function statement(text: string, workDir = catalog.dir): Promise<string> {
  const [result] = await createSession({ workDir }).execute(text);
  if (result?.kind !== "message") throw new Error(`expected a message, got ${JSON.stringify(result)}`);
  return result.text;
}

async function auditRows(): Promise<Array<Record<string, unknown>>> {
  await server.audit!.flush();
  const table = await DeltaTable.open(join(catalog.dir, "audit"));
  return (await (await table!.snapshot()).readArrow()).toArray().map((row) => row.toJSON());
}

async function arcuate(...args: string[]): Promise<string> {
  const out: string[] = [];
  const program = new Command("arcuate").exitOverride();
  for (const command of sharingServerCommands({ out: (text) => out.push(text) })) program.addCommand(command);
  await program.parseAsync(["node", "arcuate", ...args]);
  return out.join("");
}

describe("allowed addresses", () => {
  it("refuses a recipient outside its ranges with 403 naming the address, and records it", async () => {
    const alice = await catalog.createRecipient("alice");
    await catalog.grant("s", "alice");
    expect(
      await statement("ALTER RECIPIENT alice SET ALLOWED ADDRESSES ('127.0.0.5', '10.0.0.0/8', '::1/128')"),
    ).toContain("connects from 127.0.0.5/32, 10.0.0.0/8, ::1/128 only");

    const inside = await get(server.url, "/shares", alice.token, { from: "127.0.0.5" });
    expect(inside.status).toBe(200);
    const outside = await get(server.url, "/shares", alice.token, { from: "127.0.0.6" });
    expect(outside.status).toBe(403);
    expect(JSON.parse(outside.body)).toEqual({
      errorCode: "PERMISSION_DENIED",
      message: "sharing: recipient 'alice' may not connect from 127.0.0.6 (not in its allowed addresses)",
    });
    // A spoofed forwarding header is ignored by a server that trusts no proxy.
    const spoofed = await get(server.url, "/shares", alice.token, {
      from: "127.0.0.6",
      headers: { "x-forwarded-for": "127.0.0.5" },
    });
    expect(spoofed.status).toBe(403);
    expect(spoofed.body).toContain("from 127.0.0.6");

    // IPv6: ::1 is in the list.
    const v6 = await startSharingServer({ catalog, host: "::1", log: (m) => logged.push(m) });
    try {
      expect((await get(v6.url, "/shares", alice.token)).status).toBe(200);
    } finally {
      await v6.close();
    }

    const refused = (await auditRows()).filter((r) => r.recipient === "alice" && r.status === 403);
    expect(refused.map((r) => [r.operation, r.client_address, r.error_code])).toEqual([
      ["listShares", "127.0.0.6", "PERMISSION_DENIED"],
      ["listShares", "127.0.0.6", "PERMISSION_DENIED"],
    ]);
  }, 60_000);

  it("holds pre-signed file URLs to the same ranges", async () => {
    const bob = await catalog.createRecipient("bob");
    await catalog.grant("s", "bob");
    const client = new SharingClient(bob.profile);
    const files = await client.queryFiles({ share: "s", schema: "x", name: "plain" });
    const url = files.files[0]!.url;
    await arcuate("recipient", "set", "bob", "--allowed-addresses", "127.0.0.7/32", "--workdir", catalog.dir);
    expect((await get(url, "", "", { from: "127.0.0.7" })).status).toBe(200);
    const refused = await get(url, "", "", { from: "127.0.0.8" });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).message).toContain("recipient 'bob' may not connect from 127.0.0.8");
    expect(await arcuate("recipient", "unset", "bob", "--allowed-addresses", "--workdir", catalog.dir)).toBe(
      "recipient bob: connects from anywhere; no rate limit of its own\n",
    );
    expect((await get(url, "", "", { from: "127.0.0.8" })).status).toBe(200);
  }, 60_000);

  it("believes X-Forwarded-For only from a trusted proxy, taking the rightmost untrusted hop", async () => {
    const carol = await catalog.createRecipient("carol");
    await catalog.grant("s", "carol");
    await catalog.alterRecipient("carol", { allowedAddresses: ["192.0.2.0/24"] });
    const via = (forwarded: string, from = "127.0.0.1") =>
      get(proxied.url, "/shares", carol.token, { from, headers: { "x-forwarded-for": forwarded } });
    expect((await via("192.0.2.10")).status).toBe(200);
    // The client may send any X-Forwarded-For; the proxy appends the address it saw, which decides.
    const spoofed = await via("192.0.2.10, 198.51.100.7");
    expect(spoofed.status).toBe(403);
    expect(spoofed.body).toContain("from 198.51.100.7");
    // A hop that is not an address ends the chain: the client is unknown, so refused.
    expect((await via("192.0.2.10, nonsense")).body).toContain("from an unknown address");
    // Not from the proxy: the header is ignored and the peer is the client.
    const direct = await via("192.0.2.10", "127.0.0.9");
    expect(direct.status).toBe(403);
    expect(direct.body).toContain("from 127.0.0.9");
  }, 60_000);

  it("rejects ranges that do not parse, at the value's place", async () => {
    await expect(statement("ALTER RECIPIENT alice SET ALLOWED ADDRESSES ('10.0.0.0/33')")).rejects.toThrow(
      /'10\.0\.0\.0\/33' is not an address range like 10\.0\.0\.0\/8/,
    );
    await expect(
      arcuate(
        "recipient",
        "set",
        "alice",
        "--allowed-addresses",
        "10.0.0.0/8,fe80::zz",
        "--workdir",
        catalog.dir,
      ),
    ).rejects.toThrow(/'fe80::zz' is not an address range/);
    await expect(statement("ALTER RECIPIENT nobody UNSET RATE LIMIT")).rejects.toThrow(
      "catalog: recipient 'nobody' does not exist",
    );
  });
});

describe("rate limits", () => {
  it("answers 429 with Retry-After past the limit, and records it", async () => {
    const dave = await catalog.createRecipient("dave");
    await catalog.grant("s", "dave");
    expect(await statement("ALTER RECIPIENT dave SET RATE LIMIT 3 PER MINUTE")).toContain(
      "3 requests per minute",
    );
    for (let i = 0; i < 3; i++) expect((await get(server.url, "/shares", dave.token)).status).toBe(200);
    const refused = await get(server.url, "/shares", dave.token);
    expect(refused.status).toBe(429);
    // One request comes back every 20 s.
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(19);
    expect(Number(refused.headers["retry-after"])).toBeLessThanOrEqual(20);
    expect(JSON.parse(refused.body)).toEqual({
      errorCode: "REQUEST_LIMIT_EXCEEDED",
      message: expect.stringMatching(
        /^sharing: recipient 'dave' is over its rate limit of 3 requests per minute; retry after (19|20) s$/,
      ),
    });
    const rows = (await auditRows()).filter((r) => r.recipient === "dave" && r.status === 429);
    expect(rows.map((r) => [r.operation, r.error_code])).toEqual([["listShares", "REQUEST_LIMIT_EXCEEDED"]]);
    // Lifting the limit lets it through at once.
    await statement("ALTER RECIPIENT dave UNSET RATE LIMIT");
    expect((await get(server.url, "/shares", dave.token)).status).toBe(200);
  }, 60_000);

  it("lets arcuate's client finish a load by waiting out the 429s", async () => {
    const erin = await catalog.createRecipient("erin");
    await catalog.grant("s", "erin");
    const session = createSession({ workDir: join(dir, "erin") });
    const select = async () => {
      const [result] = await session.execute(`SELECT * FROM '${erin.profilePath}#s.x.plain'`);
      return result?.kind === "table" ? result.rows.length : -1;
    };
    expect(await select()).toBe(4);
    // One request every 3 s, bursts of 20: the burst is used up here, so the load that follows
    // is refused (however slow the machine) until it waits as told.
    await statement("ALTER RECIPIENT erin SET RATE LIMIT 20 PER MINUTE");
    let drained = 0;
    while ((await get(server.url, "/shares", erin.token)).status === 200) drained++;
    expect(drained).toBeLessThanOrEqual(20);
    const started = Date.now();
    expect([await select(), await select()]).toEqual([4, 4]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    const rows = (await auditRows()).filter((r) => r.recipient === "erin" && r.operation !== "listShares");
    expect(rows.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.status === 429).every((r) => r.error_code === "REQUEST_LIMIT_EXCEEDED")).toBe(
      true,
    );
    expect(rows.filter((r) => r.status === 200 && r.operation === "query")).toHaveLength(3);
  }, 120_000);

  it("gives up with a clear error when the wait asked for is past the client's bound", async () => {
    const frank = await catalog.createRecipient("frank");
    await catalog.grant("s", "frank");
    await catalog.alterRecipient("frank", { rateLimit: { requests: 1, perSeconds: 3600 } });
    const client = new SharingClient(frank.profile, { retry: { maxRetryAfterWaitMs: 2000 } });
    await client.listShares();
    await expect(client.listShares()).rejects.toThrow(
      /HTTP 429 REQUEST_LIMIT_EXCEEDED: sharing: recipient 'frank' is over its rate limit of 1 request per hour; retry after 3600 s \(still refused after waiting 0 s in all as the server's Retry-After asked; try again later\)/,
    );
  }, 60_000);

  it("applies a server-wide default to recipients without a limit of their own", async () => {
    const grace = await catalog.createRecipient("grace");
    await catalog.grant("s", "grace");
    const limited = await startSharingServer({
      catalog,
      defaultRateLimit: { requests: 1, perSeconds: 60 },
      log: (m) => logged.push(m),
    });
    try {
      expect((await get(limited.url, "/shares", grace.token)).status).toBe(200);
      expect((await get(limited.url, "/shares", grace.token)).status).toBe(429);
      // Its own limit wins over the default.
      await catalog.alterRecipient("grace", { rateLimit: { requests: 100, perSeconds: 60 } });
      expect((await get(limited.url, "/shares", grace.token)).status).toBe(200);
    } finally {
      await limited.close();
    }
  }, 60_000);

  it("refills a token bucket at the limit's pace, bursting up to the limit", () => {
    let now = 0;
    const buckets = new TokenBuckets(() => now);
    const limit = { requests: 2, perSeconds: 10 };
    expect(buckets.take("r", limit)).toEqual({ ok: true });
    expect(buckets.take("r", limit)).toEqual({ ok: true });
    expect(buckets.take("r", limit)).toEqual({ ok: false, retryAfterSeconds: 5 });
    now = 4_000;
    expect(buckets.take("r", limit)).toEqual({ ok: false, retryAfterSeconds: 1 });
    now = 5_000;
    expect(buckets.take("r", limit)).toEqual({ ok: true });
    now = 1_000_000;
    expect(buckets.take("r", limit)).toEqual({ ok: true });
    expect(buckets.take("r", limit)).toEqual({ ok: true });
    expect(buckets.take("r", limit)).toMatchObject({ ok: false });
    expect(buckets.take("other", limit)).toEqual({ ok: true });
    // A changed limit starts full.
    expect(buckets.take("r", { requests: 3, perSeconds: 10 })).toEqual({ ok: true });
  });
});

describe("the Python connector", () => {
  it("sees a 403 outside the address list and finishes past a rate limit with its own retries", async () => {
    const blocked = await catalog.createRecipient("blocked");
    await catalog.grant("s", "blocked");
    await catalog.alterRecipient("blocked", { allowedAddresses: ["10.0.0.0/8"] });
    const paced = await catalog.createRecipient("paced");
    await catalog.grant("s", "paced");
    await catalog.alterRecipient("paced", { rateLimit: { requests: 1, perSeconds: 3 } });
    const result = await runPythonJson<{ refused: string; drained: number; rows: number[] }>(
      `
import json, sys, urllib.request, urllib.error, delta_sharing
try:
    delta_sharing.SharingClient(sys.argv[1]).list_shares()
    refused = "not refused"
except Exception as error:
    refused = str(error)
# Use up the paced recipient's one request, so that the loads below are refused until they retry.
profile = json.load(open(sys.argv[2]))
drained = 0
while True:
    request = urllib.request.Request(profile["endpoint"] + "/shares", headers={"Authorization": "Bearer " + profile["bearerToken"]})
    try:
        urllib.request.urlopen(request).read()
        drained += 1
    except urllib.error.HTTPError as error:
        assert error.code == 429, error.code
        break
rows = [len(delta_sharing.load_as_pandas(sys.argv[2] + "#s.x.plain")) for _ in range(2)]
print(json.dumps({"refused": refused, "drained": drained, "rows": rows}))
`,
      { args: [blocked.profilePath, paced.profilePath] },
    );
    expect(result.refused).toContain("403");
    expect(result.refused).toContain("recipient 'blocked' may not connect from 127.0.0.1");
    expect(result.drained).toBe(1);
    expect(result.rows).toEqual([4, 4]);
    const rows = (await auditRows()).filter((r) => r.recipient === "paced" && r.operation !== "listShares");
    expect(rows.some((r) => r.status === 429)).toBe(true);
  }, 120_000);
});
