// The sharing server in-process over real HTTP: listings and pagination, auth, grants that change
// while it runs, table endpoints in both formats, signed file URLs with ranges, and the refusals
// (bad tokens, no grant, traversal, bad names, malformed bodies). Tables are written by delta-rs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Catalog, type SharingServer, startSharingServer } from "../../src/sharing/index.js";
import { resolveTableFile } from "../../src/sharing/server/files.js";
import { UrlSigner } from "../../src/sharing/server/signing.js";
import { GOLDEN_TABLES } from "../support/paths.js";
import { writeDeltaRsTables } from "../support/sharing-server.js";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json: () => unknown;
  lines: () => Array<Record<string, unknown>>;
}

/** One HTTP request with the path sent verbatim (fetch would normalise `..` away). */
function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        const text = body.toString("utf8");
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          text,
          json: () => JSON.parse(text),
          lines: () =>
            text
              .split("\n")
              .filter((l) => l !== "")
              .map((l) => JSON.parse(l) as Record<string, unknown>),
        });
      });
    });
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

let dir: string;
let catalog: Catalog;
let server: SharingServer;
let tables: { plain: string; parts: string };
let alice: string;
let bob: string;
let carol: string;
const P = "/delta-sharing";
/** GET as alice by default; `null` sends no token. */
const get = (path: string, token: string | null = alice, headers?: Record<string, string>) =>
  call(server.url, "GET", `${P}${path}`, {
    ...(token === null ? {} : { token }),
    ...(headers ? { headers } : {}),
  });
const post = (path: string, body: string, token = alice, headers?: Record<string, string>) =>
  call(server.url, "POST", `${P}${path}`, {
    token,
    body,
    headers: { "content-type": "application/json", ...headers },
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "arcuate-server-test-"));
  tables = await writeDeltaRsTables(join(dir, "tables"));
  catalog = await Catalog.open(join(dir, "catalog"));
  await catalog.createShare("sales");
  await catalog.addTable("sales", "x", "plain", tables.plain);
  await catalog.addTable("sales", "x", "parts", tables.parts);
  await catalog.createShare("secret");
  await catalog.addTable("secret", "hidden", "plain", tables.plain);
  await catalog.createShare("many");
  for (let i = 0; i < 7; i++) await catalog.addTable("many", `s${i}`, "t", tables.plain);
  alice = (await catalog.createRecipient("alice")).token;
  bob = (await catalog.createRecipient("bob")).token;
  carol = (await catalog.createRecipient("carol", { expiresInSeconds: -1 })).token;
  await catalog.grant("sales", "alice");
  await catalog.grant("many", "alice");
  await catalog.grant("sales", "carol");
  server = await startSharingServer({ catalog, maxResultsCap: 5, log: () => {} });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("listings", () => {
  it("lists shares, schemas and tables a recipient was granted", async () => {
    const shares = await get("/shares");
    expect(shares.status).toBe(200);
    expect(shares.headers["content-type"]).toMatch(/application\/json/);
    expect((shares.json() as { items: Array<{ name: string }> }).items.map((s) => s.name)).toEqual([
      "many",
      "sales",
    ]);
    expect((await get("/shares/SALES")).json()).toMatchObject({ share: { name: "sales" } });
    expect((await get("/shares/sales/schemas")).json()).toEqual({ items: [{ name: "x", share: "sales" }] });
    const listed = (await get("/shares/sales/schemas/x/tables")).json() as {
      items: Array<Record<string, string>>;
    };
    expect(listed.items.map((t) => t.name)).toEqual(["parts", "plain"]);
    expect(listed.items[0]).toMatchObject({ schema: "x", share: "sales" });
    expect(typeof listed.items[0]!.id).toBe("string");
    const all = (await get("/shares/sales/all-tables")).json() as { items: Array<{ name: string }> };
    expect(all.items.map((t) => t.name)).toEqual(["parts", "plain"]);
  });

  it("pages with maxResults and opaque tokens bound to the recipient and the listing", async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const reply = await get(
        `/shares/many/all-tables?maxResults=3${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`,
      );
      expect(reply.status).toBe(200);
      const page = reply.json() as { items: Array<{ schema: string }>; nextPageToken?: string };
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((t) => t.schema));
      token = page.nextPageToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(["s0", "s1", "s2", "s3", "s4", "s5", "s6"]);

    const first = (await get("/shares/many/all-tables?maxResults=2")).json() as { nextPageToken: string };
    const q = `maxResults=2&pageToken=${encodeURIComponent(first.nextPageToken)}`;
    expect((await get(`/shares/many/schemas?${q}`)).status).toBe(400); // another listing
    await catalog.grant("many", "bob");
    try {
      expect((await get(`/shares/many/all-tables?${q}`, bob)).status).toBe(400); // another recipient
    } finally {
      await catalog.revoke("many", "bob");
    }
    const forged = `${first.nextPageToken.slice(0, -2)}AA`;
    const reply = await get(`/shares/many/all-tables?maxResults=2&pageToken=${encodeURIComponent(forged)}`);
    expect(reply.status).toBe(400);
    expect(reply.json()).toMatchObject({ errorCode: "INVALID_PARAMETER_VALUE" });
  });

  it("clamps maxResults to the cap, allows 0, and refuses non-numbers", async () => {
    const big = (await get("/shares/many/schemas?maxResults=1000000")).json() as {
      items: unknown[];
      nextPageToken?: string;
    };
    expect(big.items).toHaveLength(5);
    expect(big.nextPageToken).toBeDefined();
    const zero = (await get("/shares/many/schemas?maxResults=0")).json() as {
      items: unknown[];
      nextPageToken?: string;
    };
    expect(zero.items).toHaveLength(0);
    expect(zero.nextPageToken).toBeDefined();
    for (const bad of ["-1", "abc", "1.5", "99999999999"]) {
      expect((await get(`/shares?maxResults=${bad}`)).status).toBe(400);
    }
  });
});

describe("authentication and grants", () => {
  it("answers 401 to a missing, wrong or expired token", async () => {
    const none = await get("/shares", null);
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/Bearer/);
    expect(none.json()).toMatchObject({ errorCode: "UNAUTHENTICATED" });
    expect((await get("/shares", "not-a-token")).status).toBe(401);
    expect((await get("/shares", `${alice.slice(0, -3)}abc`)).status).toBe(401);
    const expired = await get("/shares/sales", carol);
    expect(expired.status).toBe(401);
    expect(expired.text).toMatch(/expired/);
    // Unknown endpoints are not revealed without a token either.
    expect((await get("/nothing-here", null)).status).toBe(401);
  });

  it("hides shares without a grant, answering exactly as for a share that does not exist", async () => {
    expect((await get("/shares", bob)).json()).toEqual({ items: [] });
    for (const path of [
      "",
      "/schemas",
      "/all-tables",
      "/schemas/x/tables",
      "/schemas/x/tables/plain/version",
      "/schemas/x/tables/plain/metadata",
    ]) {
      const hidden = await get(`/shares/sales${path}`, bob);
      const missing = await get(`/shares/nosuch${path}`, bob);
      expect(hidden.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(hidden.text).toBe(missing.text.replace("nosuch", "sales"));
    }
    const query = await post("/shares/secret/schemas/hidden/tables/plain/query", "{}", alice);
    expect(query.status).toBe(404);
    expect(query.text).not.toMatch(/plain|hidden/);
  });

  it("applies grants, revocations, rotations and drops while running", async () => {
    await catalog.grant("sales", "bob");
    expect(
      ((await get("/shares", bob)).json() as { items: Array<{ name: string }> }).items.map((s) => s.name),
    ).toEqual(["sales"]);
    await catalog.revoke("sales", "bob");
    expect((await get("/shares/sales", bob)).status).toBe(404);

    const dave = await catalog.createRecipient("dave");
    await catalog.grant("sales", "dave");
    expect((await get("/shares/sales", dave.token)).status).toBe(200);
    const rotated = await catalog.rotateRecipient("dave");
    expect((await get("/shares/sales", dave.token)).status).toBe(401);
    expect((await get("/shares/sales", rotated.token)).status).toBe(200);
    const graced = await catalog.rotateRecipient("dave", { graceSeconds: 60 });
    expect((await get("/shares/sales", rotated.token)).status).toBe(200);
    expect((await get("/shares/sales", graced.token)).status).toBe(200);
    await catalog.dropRecipient("dave");
    expect((await get("/shares/sales", graced.token)).status).toBe(401);
    expect((await get("/shares/sales", rotated.token)).status).toBe(401);

    await catalog.createShare("fresh");
    await catalog.addTable("fresh", "s", "t", tables.parts);
    await catalog.grant("fresh", "alice");
    expect((await get("/shares/fresh/schemas/s/tables/t/version")).headers["delta-table-version"]).toBe("0");
    await catalog.dropShare("fresh");
    expect((await get("/shares/fresh")).status).toBe(404);
  });
});

describe("tables", () => {
  const T = "/shares/sales/schemas/x/tables";

  it("reports the table version by GET …/version and the deprecated HEAD", async () => {
    const reply = await get(`${T}/plain/version`);
    expect(reply.status).toBe(200);
    expect(reply.headers["delta-table-version"]).toBe("2");
    const head = await call(server.url, "HEAD", `${P}${T}/plain`, { token: alice });
    expect(head.status).toBe(200);
    expect(head.headers["delta-table-version"]).toBe("2");
    const early = await get(`${T}/plain/version?startingTimestamp=2000-01-01T00:00:00Z`);
    expect(early.headers["delta-table-version"]).toBe("0");
    expect((await get(`${T}/plain/version?startingTimestamp=yesterday`)).status).toBe(400);
  });

  it("answers metadata in the parquet format by default and in the delta format on request", async () => {
    const parquet = await get(`${T}/parts/metadata`);
    expect(parquet.status).toBe(200);
    expect(parquet.headers["content-type"]).toBe("application/x-ndjson; charset=utf-8");
    expect(parquet.headers["delta-sharing-capabilities"]).toBe("responseformat=parquet");
    const [protocol, metadata] = parquet.lines();
    expect(protocol).toEqual({ protocol: { minReaderVersion: 1 } });
    expect(metadata).toMatchObject({
      metaData: { partitionColumns: ["p"], format: { provider: "parquet" }, numFiles: 3 },
    });
    const delta = await get(`${T}/parts/metadata`, alice, {
      "delta-sharing-capabilities": "responseformat=delta",
    });
    expect(delta.headers["delta-sharing-capabilities"]).toBe("responseformat=delta");
    const lines = delta.lines();
    expect(lines[0]).toMatchObject({ protocol: { deltaProtocol: { minReaderVersion: 1 } } });
    expect(lines[1]).toMatchObject({ metaData: { deltaMetadata: { partitionColumns: ["p"] } } });
  });

  it("answers queries with signed files, limitHint, partition hints, versions and endStreamAction", async () => {
    const all = (await post(`${T}/parts/query`, "{}")).lines();
    expect(all.filter((l) => l.file)).toHaveLength(3);
    const limited = (await post(`${T}/parts/query`, JSON.stringify({ limitHint: 1 }))).lines();
    expect(limited.filter((l) => l.file)).toHaveLength(1);
    const hint = JSON.stringify({
      op: "equal",
      children: [
        { op: "column", name: "p", valueType: "string" },
        { op: "literal", value: "b", valueType: "string" },
      ],
    });
    const filtered = (await post(`${T}/parts/query`, JSON.stringify({ jsonPredicateHints: hint })))
      .lines()
      .filter((l) => l.file);
    expect(
      filtered.map((l) => (l.file as { partitionValues: Record<string, string> }).partitionValues.p),
    ).toEqual(["b"]);
    const garbage = (await post(`${T}/parts/query`, JSON.stringify({ jsonPredicateHints: "{nope" }))).lines();
    expect(garbage.filter((l) => l.file)).toHaveLength(3);

    const v0 = await post(`${T}/plain/query`, JSON.stringify({ version: 0 }));
    expect(v0.headers["delta-table-version"]).toBe("0");
    const files = v0
      .lines()
      .filter((l) => l.file)
      .map((l) => l.file as { version: number; timestamp: number });
    expect(files).toHaveLength(1);
    expect(files[0]!.version).toBe(0);
    expect((await post(`${T}/plain/query`, JSON.stringify({ version: 99 }))).status).toBe(400);

    const withEnd = await post(`${T}/parts/query`, "{}", alice, {
      "delta-sharing-capabilities": "responseformat=delta;includeendstreamaction=true",
    });
    expect(withEnd.headers["delta-sharing-capabilities"]).toBe(
      "responseformat=delta;includeendstreamaction=true",
    );
    const lines = withEnd.lines();
    expect(lines[lines.length - 1]).toMatchObject({
      endStreamAction: { minUrlExpirationTimestamp: expect.any(Number) },
    });
    const deltaFile = lines.find((l) => l.file)!.file as { deltaSingleAction: { add: { path: string } } };
    expect(deltaFile.deltaSingleAction.add.path).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/delta-sharing\/files\//,
    );

    const hashed = await post(`${T}/parts/query`, "{}", alice, { fileidhash: "DELTA" });
    expect(hashed.headers.fileidhash).toBe("delta");
    expect((await post(`${T}/parts/query`, "{}", alice, { fileidhash: "sha1" })).status).toBe(400);

    const streaming = (await post(`${T}/plain/query`, JSON.stringify({ startingVersion: 1 }))).lines();
    // v1 appended a file; v2 (a delete) removed one and added its rewrite.
    expect(streaming.filter((l) => l.add).map((l) => (l.add as { version: number }).version)).toEqual([1, 2]);
    expect(streaming.filter((l) => l.remove).map((l) => (l.remove as { version: number }).version)).toEqual([
      2,
    ]);
  });

  it("signs deletion vectors for clients that can apply them, and refuses the others", async () => {
    await catalog.createShare("dv");
    await catalog.addTable("dv", "g", "t", join(GOLDEN_TABLES, "dv-partitioned-with-checkpoint"));
    await catalog.grant("dv", "alice");
    const path = "/shares/dv/schemas/g/tables/t/query";
    const refused = await post(path, "{}", alice, { "delta-sharing-capabilities": "responseformat=delta" });
    expect(refused.status).toBe(400);
    expect(refused.json()).toMatchObject({ errorCode: "UNSUPPORTED_FEATURE" });
    const reply = await post(path, "{}", alice, {
      "delta-sharing-capabilities": "responseformat=delta;readerfeatures=deletionvectors",
    });
    expect(reply.status).toBe(200);
    const dvs = reply
      .lines()
      .map(
        (l) =>
          (
            l.file as {
              deltaSingleAction?: {
                add?: { deletionVector?: { storageType: string; pathOrInlineDv: string } };
              };
            }
          )?.deltaSingleAction?.add?.deletionVector,
      )
      .filter((dv) => dv !== undefined);
    expect(dvs.length).toBeGreaterThan(0);
    const url = new URL(dvs[0]!.pathOrInlineDv);
    expect(dvs[0]!.storageType).toBe("p");
    const bytes = await call(url.origin, "GET", `${url.pathname}${url.search}`);
    expect(bytes.status).toBe(200);
    expect(bytes.body.length).toBeGreaterThan(0);
  });

  it("pages query answers with maxFiles and hands out refresh tokens", async () => {
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const body = JSON.stringify({ maxFiles: 1, ...(pageToken ? { pageToken } : {}) });
      const lines = (await post(`${T}/parts/query`, body)).lines();
      seen.push(...lines.filter((l) => l.file).map((l) => (l.file as { id: string }).id));
      pageToken = (lines[lines.length - 1]!.endStreamAction as { nextPageToken?: string }).nextPageToken;
      pages++;
    } while (pageToken);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(3);
    const first = (await post(`${T}/parts/query`, '{"maxFiles":1}')).lines();
    const token = (first[first.length - 1]!.endStreamAction as { nextPageToken: string }).nextPageToken;
    expect((await post(`${T}/plain/query`, JSON.stringify({ maxFiles: 1, pageToken: token }))).status).toBe(
      400,
    );
    expect(
      (await post(`${T}/parts/query`, JSON.stringify({ maxFiles: 1, limitHint: 5, pageToken: token })))
        .status,
    ).toBe(400);
    expect((await post(`${T}/parts/query`, '{"maxFiles":0}')).status).toBe(400);

    const withRefresh = (await post(`${T}/plain/query`, '{"includeRefreshToken":true}')).lines();
    const refreshToken = (withRefresh[withRefresh.length - 1]!.endStreamAction as { refreshToken: string })
      .refreshToken;
    const refreshed = await post(`${T}/plain/query`, JSON.stringify({ refreshToken }));
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers["delta-table-version"]).toBe("2");
    expect(refreshed.lines().filter((l) => l.file)).toHaveLength(withRefresh.filter((l) => l.file).length);
    expect((await post(`${T}/parts/query`, JSON.stringify({ refreshToken }))).status).toBe(400);
    expect((await post(`${T}/plain/query`, JSON.stringify({ refreshToken, version: 0 }))).status).toBe(400);
  });

  it("refuses malformed bodies with MALFORMED_REQUEST", async () => {
    for (const body of [
      "{",
      "[1,2]",
      '"text"',
      '{"version":"1"}',
      '{"limitHint":1.5}',
      '{"predicateHints":"a=1"}',
    ]) {
      const reply = await post(`${T}/plain/query`, body);
      expect(reply.status, body).toBe(400);
      expect(reply.json(), body).toMatchObject({ errorCode: "MALFORMED_REQUEST" });
    }
    expect(
      (await post(`${T}/plain/query`, JSON.stringify({ version: 0, timestamp: "2020-01-01T00:00:00Z" })))
        .status,
    ).toBe(400);
  });

  it("serves the change data feed and refuses it where it is off", async () => {
    const reply = await get(`${T}/plain/changes?startingVersion=0&endingVersion=2`);
    expect(reply.status).toBe(200);
    expect(reply.headers["delta-table-version"]).toBe("0");
    const lines = reply.lines();
    const versions = lines
      .flatMap((l) => Object.entries(l))
      .filter(([k]) => ["add", "cdf", "remove"].includes(k));
    expect(versions.map(([, v]) => (v as { version: number }).version)).toEqual(
      expect.arrayContaining([0, 1, 2]),
    );
    const delta = await get(`${T}/plain/changes?startingVersion=1&includeHistoricalMetadata=true`, alice, {
      "delta-sharing-capabilities": "responseformat=delta;includeendstreamaction=true",
    });
    expect(delta.headers["delta-sharing-capabilities"]).toBe(
      "responseformat=delta;includeendstreamaction=true",
    );
    const deltaLines = delta.lines();
    expect(deltaLines[1]).toMatchObject({
      metaData: { version: 1, deltaMetadata: { configuration: { "delta.enableChangeDataFeed": "true" } } },
    });
    expect(
      deltaLines.filter((l) => l.file).map((l) => (l.file as { version: number }).version),
    ).not.toContain(0);
    expect(deltaLines[deltaLines.length - 1]).toHaveProperty("endStreamAction");
    // Paged by maxFiles: the pages together are the whole feed, in order.
    const whole = lines
      .filter((l) => l.add || l.cdf || l.remove)
      .map((l) => JSON.stringify(Object.keys(l)) + (Object.values(l)[0] as { id: string }).id);
    const paged: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const q = `startingVersion=0&endingVersion=2&maxFiles=1${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ""}`;
      const page = (await get(`${T}/plain/changes?${q}`)).lines();
      paged.push(
        ...page
          .filter((l) => l.add || l.cdf || l.remove)
          .map((l) => JSON.stringify(Object.keys(l)) + (Object.values(l)[0] as { id: string }).id),
      );
      pageToken = (page[page.length - 1]!.endStreamAction as { nextPageToken?: string }).nextPageToken;
      pages++;
    } while (pageToken && pages < 20);
    expect(paged).toEqual(whole);
    expect(pages).toBe(whole.length);
    const firstPage = (await get(`${T}/plain/changes?startingVersion=0&maxFiles=1`)).lines();
    const token = (firstPage[firstPage.length - 1]!.endStreamAction as { nextPageToken: string })
      .nextPageToken;
    expect(
      (await get(`${T}/plain/changes?startingVersion=1&maxFiles=1&pageToken=${encodeURIComponent(token)}`))
        .status,
    ).toBe(400);
    expect((await get(`${T}/parts/changes?startingVersion=0`)).status).toBe(400);
    expect((await get(`${T}/plain/changes`)).status).toBe(400);
    expect((await get(`${T}/plain/changes?startingVersion=5`)).status).toBe(400);
    expect((await get(`${T}/plain/changes?startingVersion=x`)).status).toBe(400);
  });
});

describe("file URLs", () => {
  const T = "/shares/sales/schemas/x/tables";
  const fileUrl = async (table = "parts") => {
    const lines = (await post(`${T}/${table}/query`, "{}")).lines();
    return (lines.find((l) => l.file)!.file as { url: string; size: number }).url;
  };
  const fetchUrl = (url: string, headers?: Record<string, string>) => {
    const u = new URL(url);
    return call(`${u.origin}/`, "GET", `${u.pathname}${u.search}`, headers ? { headers } : {});
  };

  it("serves the file's bytes, whole and by range", async () => {
    const url = await fileUrl();
    const whole = await fetchUrl(url);
    expect(whole.status).toBe(200);
    expect(whole.body.subarray(0, 4).toString()).toBe("PAR1");
    expect(whole.headers["accept-ranges"]).toBe("bytes");
    const part = await fetchUrl(url, { range: "bytes=4-9" });
    expect(part.status).toBe(206);
    expect(part.body).toEqual(whole.body.subarray(4, 10));
    expect(part.headers["content-range"]).toBe(`bytes 4-9/${whole.body.length}`);
    const tail = await fetchUrl(url, { range: "bytes=-4" });
    expect(tail.body.toString()).toBe("PAR1");
    expect((await fetchUrl(url, { range: `bytes=${whole.body.length + 10}-` })).status).toBe(416);
  });

  it("refuses tampered, expired and revoked URLs with 403", async () => {
    const url = await fileUrl();
    const sig = /X-Amz-Signature=([0-9a-f]+)/.exec(url)![1]!;
    const flipped = url.replace(sig, `${sig.slice(0, -1)}${sig.endsWith("0") ? "1" : "0"}`);
    expect((await fetchUrl(flipped)).status).toBe(403);
    expect(
      (await fetchUrl(url.replace(/Expires=(\d+)/, (_, e: string) => `Expires=${Number(e) + 1000}`))).status,
    ).toBe(403);
    const payload = /\/files\/([^?]+)/.exec(url)![1]!;
    expect((await fetchUrl(url.replace(payload, `${payload.slice(0, -2)}xx`))).status).toBe(403);
    expect((await fetchUrl(url.replace(/\?.*$/, ""))).status).toBe(403);

    const quick = await startSharingServer({ catalog, preSignedUrlTimeoutSeconds: 0.001, log: () => {} });
    try {
      const reply = await call(quick.url, "POST", `${P}${T}/parts/query`, { token: alice, body: "{}" });
      const expiring = (reply.lines().find((l) => l.file)!.file as { url: string }).url;
      await new Promise((r) => setTimeout(r, 20));
      const expired = await fetchUrl(expiring);
      expect(expired.status).toBe(403);
      expect(expired.text).toMatch(/expired/);
    } finally {
      await quick.close();
    }

    const eve = await catalog.createRecipient("eve");
    await catalog.grant("sales", "eve");
    const reply = await call(server.url, "POST", `${P}${T}/parts/query`, { token: eve.token, body: "{}" });
    const evesUrl = (reply.lines().find((l) => l.file)!.file as { url: string }).url;
    expect((await fetchUrl(evesUrl)).status).toBe(200);
    await catalog.revoke("sales", "eve");
    expect((await fetchUrl(evesUrl)).status).toBe(403);
  });

  it("never leaves the table's folder, even for a correctly signed path", async () => {
    writeFileSync(join(dir, "outside.txt"), "secret");
    const signer = new UrlSigner(await catalog.signingKey(), 60_000);
    const state = await catalog.state();
    const principal = state.recipients.find((r) => r.name === "alice")!.id;
    for (const p of [
      "../outside.txt",
      "..%2Foutside.txt",
      "%2e%2e/outside.txt",
      `${join(dir, "outside.txt")}`,
      `file://${join(dir, "outside.txt")}`,
      "_delta_log/../../outside.txt",
    ]) {
      const { url } = signer.sign(
        `${server.url}`,
        { r: principal, s: "sales", c: "x", t: "parts", p },
        Date.now() + 60_000,
      );
      const reply = await fetchUrl(url);
      expect(reply.status, p).toBeGreaterThanOrEqual(400);
      expect(reply.status, p).toBeLessThan(500);
      expect(reply.text, p).not.toMatch(/secret/);
    }
    await expect(
      resolveTableFile(tables.parts, "../plain/_delta_log/00000000000000000000.json"),
    ).rejects.toThrow(/does not name a file/);
  });
});

describe("refusals", () => {
  it("answers traversal in any form with a 4xx and no data", async () => {
    const paths = [
      "/../etc/passwd",
      "/shares/..",
      "/shares/%2e%2e/schemas",
      "/shares/%2E%2E%2F%2E%2E%2Fetc/schemas",
      "/shares/sales/schemas/..%2f..%2f/tables",
      "/shares/sales/schemas/x/tables/%2e%2e/metadata",
      "/shares/sales/schemas/x/tables/..%5c..%5cetc/metadata",
      "/files/..%2F..%2Fetc%2Fpasswd",
      "/files/%2Fetc%2Fpasswd?Expires=99999999999999&X-Amz-Signature=00",
      "/shares/%00/schemas",
    ];
    for (const path of paths) {
      const reply = await get(path);
      expect(reply.status, path).toBeGreaterThanOrEqual(400);
      expect(reply.status, path).toBeLessThan(500);
      expect(reply.text, path).not.toMatch(/root:|PAR1/);
      expect(reply.json(), path).toHaveProperty("errorCode");
    }
  });

  it("answers names that break the protocol's rules with 400", async () => {
    for (const path of [
      "/shares/sales/schemas/a.b/tables",
      "/shares/a%20b",
      `/shares/${"n".repeat(256)}`,
      "/shares/sales/schemas/x/tables/a.b/version",
    ]) {
      const reply = await get(path);
      expect(reply.status, path).toBe(400);
      expect(reply.json()).toMatchObject({ errorCode: "INVALID_PARAMETER_VALUE" });
    }
  });
});

describe("server-side failures", () => {
  it("answers a broken catalog with a 5xx that names no file, and logs the detail", async () => {
    const broken = await Catalog.open(join(dir, "broken"));
    const token = (await broken.createRecipient("r")).token;
    const logged: string[] = [];
    const other = await startSharingServer({ catalog: broken, log: (m) => logged.push(m) });
    try {
      writeFileSync(broken.statePath, "{ not json");
      const reply = await call(other.url, "GET", `${P}/shares`, { token });
      expect(reply.status).toBe(500);
      expect(reply.json()).toEqual({
        errorCode: "CORRUPT_TABLE",
        message: "sharing: the server could not answer (CORRUPT_TABLE)",
      });
      expect(reply.text).not.toContain(dir);
      expect(logged.join("\n")).toContain(broken.statePath);
    } finally {
      await other.close();
    }
  });
});

describe("the reference server's YAML config", () => {
  it("serves its shares behind its single bearer token", async () => {
    const config = join(dir, "server.yaml");
    writeFileSync(
      config,
      [
        "version: 1",
        "shares:",
        "- name: share1",
        "  schemas:",
        "  - name: default",
        "    tables:",
        "    - name: parts",
        `      location: ${tables.parts}`,
        "    - name: plain",
        `      location: file://${tables.plain}`,
        "      historyShared: true",
        "authorization:",
        "  bearerToken: s3cret",
        "host: 127.0.0.1",
        "port: 0",
        "endpoint: /custom",
        "preSignedUrlTimeoutSeconds: 60",
      ].join("\n"),
    );
    const yaml = await startSharingServer({ configFile: config, log: () => {} });
    try {
      expect(yaml.url).toMatch(/\/custom$/);
      const shares = await call(yaml.url, "GET", "/custom/shares", { token: "s3cret" });
      expect(shares.json()).toMatchObject({ items: [{ name: "share1" }] });
      expect((await call(yaml.url, "GET", "/custom/shares", { token: "wrong" })).status).toBe(401);
      const version = await call(
        yaml.url,
        "GET",
        "/custom/shares/share1/schemas/default/tables/plain/version",
        { token: "s3cret" },
      );
      expect(version.headers["delta-table-version"]).toBe("2");
      // Without historyShared, time travel is refused (as in the reference server).
      const travel = await call(
        yaml.url,
        "POST",
        "/custom/shares/share1/schemas/default/tables/parts/query",
        { token: "s3cret", body: '{"version":0}' },
      );
      expect(travel.status).toBe(400);
      const query = await call(yaml.url, "POST", "/custom/shares/share1/schemas/default/tables/parts/query", {
        token: "s3cret",
        body: "{}",
      });
      const url = new URL((query.lines().find((l) => l.file)!.file as { url: string }).url);
      expect(url.pathname).toMatch(/^\/custom\/files\//);
      expect(
        (await call(url.origin, "GET", `${url.pathname}${url.search}`)).body.subarray(0, 4).toString(),
      ).toBe("PAR1");
      expect(readFileSync(config, "utf8")).toContain("s3cret");
    } finally {
      await yaml.close();
    }
  });
});
