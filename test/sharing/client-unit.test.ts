// The sharing client against protocol edge cases, played by a tiny scripted HTTP server (node:http)
// in this file. This is a unit test of the client's reactions; the real-server tests (client
// against arcuate's server, compared with the Python connector) are in client.test.ts.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { decodePool } from "../../src/sharing/client/decode-pool.js";
import {
  loadProfile,
  parseCoordinate,
  parseLocation,
  SharingClient,
  type SharingClientOptions,
} from "../../src/sharing/client/index.js";
import type { Profile } from "../../src/sharing/protocol.js";

// ------------------------------------------------------------------------------------------------
// The scripted server

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

type Handler = (req: Seen, res: ServerResponse) => void;

let server: Server;
let base = "";
let handler: Handler = (_req, res) => res.writeHead(500).end();
let seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const entry = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(entry);
      handler(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
});

function profile(): Profile {
  return { shareCredentialsVersion: 1, endpoint: `${base}/delta-sharing`, bearerToken: "t0ken" };
}

const fastRetries: SharingClientOptions = { retry: { baseDelayMs: 1, maxDelayMs: 5 } };

function client(options: SharingClientOptions = {}): SharingClient {
  return new SharingClient(profile(), { ...fastRetries, ...options });
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

function ndjson(res: ServerResponse, lines: unknown[], headers: Record<string, string> = {}): void {
  res
    .writeHead(200, { "content-type": "application/x-ndjson", "delta-table-version": "3", ...headers })
    .end(lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
}

const SCHEMA = JSON.stringify({
  type: "struct",
  fields: [
    { name: "id", type: "integer", nullable: true, metadata: {} },
    { name: "name", type: "string", nullable: true, metadata: {} },
  ],
});

const PROTOCOL = { protocol: { minReaderVersion: 1 } };
const METADATA = {
  metaData: { id: "t-1", format: { provider: "parquet" }, schemaString: SCHEMA, partitionColumns: [] },
};

/** A small Parquet file with ids [from, from+count). */
function parquetFile(from: number, count: number): Uint8Array {
  const ids = Array.from({ length: count }, (_, i) => from + i);
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: "id", data: ids, type: "INT32" },
        { name: "name", data: ids.map((i) => `row ${i}`), type: "STRING" },
      ],
    }),
  );
}

function fileLine(id: string, url: string, size = 100, extra: Record<string, unknown> = {}) {
  return { file: { url, id, partitionValues: {}, size, ...extra } };
}

const table = { share: "s", schema: "x", name: "t" };

// ------------------------------------------------------------------------------------------------

describe("profiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "arcuate-profile-"));
  const write = (name: string, body: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof body === "string" ? body : JSON.stringify(body));
    return path;
  };

  it("reads a version 1 profile file and drops the endpoint's trailing slash", async () => {
    const path = write("v1.share", {
      shareCredentialsVersion: 1,
      endpoint: "https://sharing.example.com/delta-sharing/",
      bearerToken: "abc",
      expirationTime: "2999-01-01T00:00:00.0Z",
    });
    expect(await loadProfile(path)).toEqual({
      shareCredentialsVersion: 1,
      endpoint: "https://sharing.example.com/delta-sharing",
      bearerToken: "abc",
      expirationTime: "2999-01-01T00:00:00.0Z",
    });
  });

  it("reads a version 2 bearer-token profile from JSON text", async () => {
    const text = JSON.stringify({
      shareCredentialsVersion: 2,
      type: "bearer_token",
      endpoint: "https://x.example/api",
      bearerToken: "abc",
    });
    expect(await loadProfile(text)).toMatchObject({ shareCredentialsVersion: 2, type: "bearer_token" });
  });

  it.each([
    [{ endpoint: "https://x", bearerToken: "a" }, "sharing: profile JSON has no 'shareCredentialsVersion'"],
    [{ shareCredentialsVersion: 1, bearerToken: "a" }, "sharing: profile JSON has no 'endpoint'"],
    [{ shareCredentialsVersion: 1, endpoint: "https://x" }, "sharing: profile JSON has no 'bearerToken'"],
    [
      { shareCredentialsVersion: 2, endpoint: "https://x", bearerToken: "a" },
      "sharing: profile JSON has no 'type'",
    ],
    [
      { shareCredentialsVersion: 3, endpoint: "https://x", bearerToken: "a" },
      "sharing: profile JSON has 'shareCredentialsVersion' 3, which is too new: this client reads versions 2 and below; upgrade arcuate",
    ],
    [
      { shareCredentialsVersion: 2, type: "oauth_client_credentials", endpoint: "https://x" },
      "sharing: profile JSON has no 'tokenEndpoint'",
    ],
    [
      {
        shareCredentialsVersion: 2,
        type: "oauth_client_credentials",
        endpoint: "https://x",
        tokenEndpoint: "x/token",
        clientId: "c",
        clientSecret: "s",
      },
      "sharing: profile JSON has an invalid 'tokenEndpoint' 'x/token' (expected an http or https URL)",
    ],
    [
      { shareCredentialsVersion: 2, type: "oauth_jwt_bearer_private_key_jwt", endpoint: "https://x" },
      "sharing: profile JSON has type 'oauth_jwt_bearer_private_key_jwt', which arcuate does not support yet (only 'bearer_token' and 'oauth_client_credentials')",
    ],
    [
      { shareCredentialsVersion: 1, endpoint: "ftp://x", bearerToken: "a" },
      "sharing: profile JSON has an invalid 'endpoint' 'ftp://x' (expected an http or https URL)",
    ],
  ])("refuses %j with a message naming the problem", async (body, message) => {
    await expect(loadProfile(JSON.stringify(body))).rejects.toThrow(message);
  });

  it("names a missing profile file", async () => {
    await expect(loadProfile(join(dir, "nope.share"))).rejects.toThrow(
      /profile file '.*nope\.share' does not exist/,
    );
  });

  it("refuses to use an expired token, before sending anything", async () => {
    const expired = new SharingClient({ ...profile(), expirationTime: "2020-01-01T00:00:00Z" });
    await expect(expired.listShares()).rejects.toThrow(
      `sharing: the bearer token for ${base}/delta-sharing expired at 2020-01-01T00:00:00Z; ask the provider for a new profile`,
    );
    expect(seen).toHaveLength(0);
  });
});

describe("coordinates", () => {
  it("splits at the last '#'", () => {
    expect(parseCoordinate("/tmp/my#profile.share#sh.sc.tb")).toEqual({
      profile: "/tmp/my#profile.share",
      share: "sh",
      schema: "sc",
      table: "tb",
    });
  });

  it("reads listing locations", () => {
    expect(parseLocation("p.share")).toEqual({ profile: "p.share" });
    expect(parseLocation("p.share#s")).toEqual({ profile: "p.share", share: "s" });
    expect(parseLocation("p.share#s.x")).toEqual({ profile: "p.share", share: "s", schema: "x" });
  });

  it.each([
    ["p.share#s.x", "expected '<profile>#<share>.<schema>.<table>'"],
    ["#s.x.t", "the profile before '#' is empty"],
    ["p#", "nothing follows '#'"],
    ["p#s.x.", "table name is empty"],
  ])("refuses %s", (text, why) => {
    expect(() => parseCoordinate(text)).toThrow(`sharing: invalid table coordinate '${text}': ${why}`);
  });
});

describe("listings", () => {
  it("follows nextPageToken across many pages, with the bearer token on every request", async () => {
    handler = (req, res) => {
      const url = new URL(req.url, base);
      const page = Number(url.searchParams.get("pageToken") ?? "0");
      // Page 7 comes back empty with a token, which a client must still follow.
      const items = page === 7 ? [] : [{ name: `share${page}` }];
      json(res, 200, page < 39 ? { items, nextPageToken: String(page + 1) } : { items, nextPageToken: "" });
    };
    const shares = await client().listShares();
    expect(shares).toHaveLength(39);
    expect(shares[0]).toEqual({ name: "share0" });
    expect(shares.at(-1)).toEqual({ name: "share39" });
    expect(seen).toHaveLength(40);
    expect(seen.every((r) => r.headers.authorization === "Bearer t0ken")).toBe(true);
    expect(seen[0]!.url).toBe("/delta-sharing/shares");
  });

  it("handles a page with no 'items' at all", async () => {
    handler = (_req, res) => json(res, 200, {});
    expect(await client().listSchemas("s")).toEqual([]);
    expect(seen[0]!.url).toBe("/delta-sharing/shares/s/schemas");
  });

  it("lists all tables of a share, paged", async () => {
    handler = (req, res) => {
      const token = new URL(req.url, base).searchParams.get("pageToken");
      if (!token) json(res, 200, { items: [{ name: "a", schema: "x", share: "s" }], nextPageToken: "p2" });
      else json(res, 200, { items: [{ name: "b", schema: "y", share: "s" }] });
    };
    expect((await client({ maxResults: 1 }).listAllTables("s")).map((t) => t.name)).toEqual(["a", "b"]);
    expect(seen.map((r) => r.url)).toEqual([
      "/delta-sharing/shares/s/all-tables?maxResults=1",
      "/delta-sharing/shares/s/all-tables?maxResults=1&pageToken=p2",
    ]);
  });

  it("retries 429 and 5xx with backoff, then succeeds", async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      if (calls === 1) json(res, 429, { errorCode: "TOO_MANY_REQUESTS", message: "slow down" });
      else if (calls === 2) json(res, 503, { errorCode: "TEMPORARILY_UNAVAILABLE", message: "busy" });
      else json(res, 200, { items: [{ name: "s" }] });
    };
    expect(await client().listShares()).toEqual([{ name: "s" }]);
    expect(calls).toBe(3);
  });

  it("never retries other 4xx, and renders the server's error", async () => {
    handler = (_req, res) =>
      json(res, 404, { errorCode: "RESOURCE_DOES_NOT_EXIST", message: "share 'nope' not found" });
    await expect(client().listSchemas("nope")).rejects.toThrow(
      "sharing: GET /shares/nope/schemas failed with HTTP 404 RESOURCE_DOES_NOT_EXIST: share 'nope' not found",
    );
    expect(seen).toHaveLength(1);
  });

  it("gives up after the configured retries", async () => {
    handler = (_req, res) => json(res, 500, { errorCode: "INTERNAL_ERROR", message: "boom" });
    await expect(client({ retry: { retries: 2, baseDelayMs: 1 } }).listShares()).rejects.toThrow(
      "failed with HTTP 500 INTERNAL_ERROR: boom",
    );
    expect(seen).toHaveLength(3);
  });

  it("retries connection failures, then names the endpoint", async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const attempts: string[] = [];
    const dead = new SharingClient(
      { shareCredentialsVersion: 1, endpoint: `http://127.0.0.1:${port}`, bearerToken: "x" },
      {
        retry: { retries: 2, baseDelayMs: 1 },
        fetch: (input, init) => {
          attempts.push(String(input));
          return fetch(input, init);
        },
      },
    );
    await expect(dead.listShares()).rejects.toThrow(
      `sharing: GET /shares to http://127.0.0.1:${port} failed: ECONNREFUSED`,
    );
    expect(attempts).toHaveLength(3);
  });
});

describe("table version and metadata", () => {
  it("reads the version header", async () => {
    handler = (_req, res) => res.writeHead(200, { "delta-table-version": "12" }).end();
    expect(await client().tableVersion(table, { startingTimestamp: "2024-01-01T00:00:00Z" })).toBe(12);
    expect(seen[0]!.url).toBe(
      "/delta-sharing/shares/s/schemas/x/tables/t/version?startingTimestamp=2024-01-01T00%3A00%3A00Z",
    );
  });

  it("reads protocol and metadata, offering its capabilities", async () => {
    handler = (_req, res) => ndjson(res, [PROTOCOL, METADATA]);
    const info = await client().tableMetadata(table);
    expect(info.version).toBe(3);
    expect(info.format).toBe("parquet");
    expect(info.protocol).toEqual({ minReaderVersion: 1 });
    expect(info.metadata.schemaString).toBe(SCHEMA);
    expect(seen[0]!.headers["delta-sharing-capabilities"]).toBe(
      "responseformat=parquet,delta;readerfeatures=columnMapping,deletionVectors,timestampNtz,typeWidening,typeWidening-preview,v2Checkpoint,vacuumProtocolCheck,variantType,variantType-preview;includeendstreamaction=true",
    );
  });

  it("reads the delta response format", async () => {
    handler = (_req, res) =>
      ndjson(
        res,
        [
          {
            protocol: {
              deltaProtocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["timestampNtz"] },
            },
          },
          {
            metaData: {
              version: 3,
              deltaMetadata: {
                id: "t-1",
                format: { provider: "parquet", options: {} },
                schemaString: SCHEMA,
                partitionColumns: [],
                configuration: {},
              },
            },
          },
        ],
        { "delta-sharing-capabilities": "responseformat=delta" },
      );
    const info = await client().tableMetadata(table);
    expect(info.format).toBe("delta");
    expect(info.protocol.readerFeatures).toEqual(["timestampNtz"]);
    expect(info.metadata.version).toBe(3);
  });

  it("refuses reader features it cannot honour, naming them", async () => {
    handler = (_req, res) =>
      ndjson(
        res,
        [
          {
            protocol: {
              deltaProtocol: {
                minReaderVersion: 3,
                minWriterVersion: 7,
                readerFeatures: ["variantShredding-preview", "columnMapping", "fancyNewThing"],
              },
            },
          },
          {
            metaData: {
              deltaMetadata: {
                id: "t-1",
                format: { provider: "parquet" },
                schemaString: SCHEMA,
                partitionColumns: [],
                configuration: {},
              },
            },
          },
        ],
        { "delta-sharing-capabilities": "responseformat=delta" },
      );
    await expect(client().tableMetadata(table)).rejects.toThrow(
      "sharing: GET /shares/s/schemas/x/tables/t/metadata: the table uses reader features this client cannot honour: variantShredding-preview, fancyNewThing",
    );
  });

  it("refuses a delta answer when it asked for parquet only", async () => {
    handler = (_req, res) =>
      ndjson(res, [{ protocol: { deltaProtocol: { minReaderVersion: 1, minWriterVersion: 2 } } }], {
        "delta-sharing-capabilities": "responseformat=delta",
      });
    await expect(client({ responseFormats: ["parquet"] }).queryTable(table)).rejects.toThrow(
      "sharing: POST /shares/s/schemas/x/tables/t/query: the server answered in the 'delta' response format, but the client asked for 'parquet'",
    );
    expect(seen[0]!.headers["delta-sharing-capabilities"]).toBe(
      "responseformat=parquet;includeendstreamaction=true",
    );
  });
});

describe("query", () => {
  const files = new Map<string, Uint8Array>();
  beforeAll(() => {
    for (let i = 0; i < 6; i++) files.set(`f${i}`, parquetFile(i * 10, 10));
  });
  const serveFile = (req: Seen, res: ServerResponse): boolean => {
    const m = /^\/files\/(f\d+)/.exec(req.url);
    if (!m) return false;
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(files.get(m[1]!));
    return true;
  };
  const fileLines = (ids: string[], sig = "1", extra: Record<string, unknown> = {}) =>
    ids.map((id) => fileLine(id, `${base}/files/${id}?sig=${sig}`, files.get(id)!.length, extra));
  const allIds = ["f0", "f1", "f2", "f3", "f4", "f5"];
  const END = { "delta-sharing-capabilities": "responseformat=parquet;includeendstreamaction=true" };

  it("loads every file into one Arrow table, in answer order, without the token on file URLs", async () => {
    handler = (req, res) => {
      if (serveFile(req, res)) return;
      ndjson(res, [PROTOCOL, METADATA, ...fileLines(allIds), { endStreamAction: {} }], END);
    };
    const result = await client({ concurrency: 3 }).queryTable(table);
    expect(result.numRows).toBe(60);
    expect(result.getChild("id")!.toArray()).toEqual(Int32Array.from({ length: 60 }, (_, i) => i));
    expect(result.getChild("name")!.get(59)).toBe("row 59");
    expect(JSON.parse(seen[0]!.body)).toEqual({});
    const downloads = seen.filter((r) => r.url.startsWith("/files/"));
    expect(downloads).toHaveLength(6);
    expect(downloads.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it("applies limit, version and timestamp", async () => {
    handler = (req, res) => {
      if (serveFile(req, res)) return;
      ndjson(res, [PROTOCOL, METADATA, ...fileLines(allIds)]);
    };
    const result = await client().queryTable(table, { limit: 25, version: 2 });
    expect(result.numRows).toBe(25);
    expect(JSON.parse(seen[0]!.body)).toEqual({ limitHint: 25, version: 2 });
    // No more than the files needed were decoded into rows (downloads ahead are allowed).
    await client().queryTable(table, { timestamp: "2024-05-01T00:00:00Z", limit: 0 });
    expect(JSON.parse(seen.filter((r) => r.method === "POST")[1]!.body)).toEqual({
      limitHint: 0,
      timestamp: "2024-05-01T00:00:00Z",
    });
  });

  it("downloads only the files a limit needs when their stats say how many rows they hold", async () => {
    handler = (req, res) => {
      if (serveFile(req, res)) return;
      ndjson(res, [
        PROTOCOL,
        METADATA,
        ...fileLines(allIds, "lim", { stats: JSON.stringify({ numRecords: 10 }) }),
      ]);
    };
    const result = await client().queryTable(table, { limit: 15 });
    expect(result.getChild("id")!.toArray()).toEqual(Int32Array.from({ length: 15 }, (_, i) => i));
    // (Downloads of earlier tests may still land; this test's URLs carry their own signature.)
    const mine = seen.filter((r) => r.url.endsWith("sig=lim")).map((r) => r.url.slice(7, 9));
    expect(mine).toEqual(["f0", "f1"]);
  });

  it("streams record batches", async () => {
    handler = (req, res) => {
      if (serveFile(req, res)) return;
      ndjson(res, [PROTOCOL, METADATA, ...fileLines(allIds)]);
    };
    let rows = 0;
    let batches = 0;
    for await (const batch of client({ concurrency: 2 }).queryTableBatches(table)) {
      rows += batch.numRows;
      batches++;
    }
    expect([rows, batches]).toEqual([60, 6]);
  });

  it("streams a large answer without starting decode workers, which a whole-table load starts", async () => {
    // Listed as 2 MiB each (12 MiB in all, past POOL_MIN_BYTES): worth workers for a whole load.
    // A stream decodes each file on the main thread as it is taken, holding what it read ahead
    // as downloaded bytes, so its memory does not grow by a worker's isolate and WebAssembly heap.
    const big = (req: Seen, res: ServerResponse) => {
      if (serveFile(req, res)) return;
      ndjson(res, [
        PROTOCOL,
        METADATA,
        ...allIds.map((id) => fileLine(id, `${base}/files/${id}?sig=big`, 2 * 1024 * 1024)),
      ]);
    };
    handler = big;
    const pool = decodePool(1);
    const before = pool?.started ?? 0;
    let rows = 0;
    for await (const batch of client({ decodeWorkers: 1 }).queryTableBatches(table)) rows += batch.numRows;
    expect(rows).toBe(60);
    expect(pool?.started ?? 0).toBe(before);
    expect((await client({ decodeWorkers: 1 }).queryTable(table)).numRows).toBe(60);
    expect(pool?.started ?? 0).toBeGreaterThan(0);
  }, 120_000);

  it("returns an empty table with the schema when there are no files", async () => {
    handler = (_req, res) => ndjson(res, [PROTOCOL, METADATA]);
    const result = await client().queryTable(table);
    expect(result.numRows).toBe(0);
    expect(result.schema.fields.map((f) => f.name)).toEqual(["id", "name"]);
  });

  it("follows a paginated query answer", async () => {
    handler = (req, res) => {
      if (serveFile(req, res)) return;
      const token = (JSON.parse(req.body) as { pageToken?: string }).pageToken;
      const page = token === undefined ? 0 : Number(token);
      const last = page === 2;
      ndjson(
        res,
        [
          PROTOCOL,
          METADATA,
          ...fileLines(allIds.slice(page * 2, page * 2 + 2)),
          { endStreamAction: last ? {} : { nextPageToken: String(page + 1) } },
        ],
        END,
      );
    };
    expect((await client().queryTable(table)).numRows).toBe(60);
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(3);
  });

  it("fails when a negotiated endStreamAction is missing (a cut-short answer)", async () => {
    handler = (_req, res) => ndjson(res, [PROTOCOL, METADATA, ...fileLines(["f0", "f1"])], END);
    await expect(client().queryTable(table)).rejects.toThrow(
      "sharing: POST /shares/s/schemas/x/tables/t/query: the server promised an endStreamAction (includeendstreamaction=true) but the response ended without one after 4 lines; it was probably cut short",
    );
  });

  it("accepts a missing endStreamAction when the server did not promise one", async () => {
    handler = (req, res) => {
      if (serveFile(req, res)) return;
      ndjson(res, [PROTOCOL, METADATA, ...fileLines(["f0"])]);
    };
    expect((await client().queryTable(table)).numRows).toBe(10);
  });

  it("fails on an errorMessage in the endStreamAction", async () => {
    handler = (_req, res) =>
      ndjson(
        res,
        [PROTOCOL, METADATA, ...fileLines(["f0"]), { endStreamAction: { errorMessage: "disk on fire" } }],
        END,
      );
    await expect(client().queryTable(table)).rejects.toThrow(
      "sharing: POST /shares/s/schemas/x/tables/t/query: the server failed: disk on fire",
    );
    // A failed answer is not retried as if it were a connection failure, and nothing is downloaded.
    expect(seen).toHaveLength(1);
  });

  it("retries a file download after 429, then succeeds", async () => {
    let failures = 0;
    handler = (req, res) => {
      if (req.url.startsWith("/files/f1") && failures < 2) {
        failures++;
        json(res, 429, { errorCode: "TOO_MANY_REQUESTS", message: "slow down" }, { "retry-after": "0" });
        return;
      }
      if (serveFile(req, res)) return;
      ndjson(res, [PROTOCOL, METADATA, ...fileLines(["f0", "f1"])]);
    };
    expect((await client().queryTable(table)).numRows).toBe(20);
    expect(seen.filter((r) => r.url.startsWith("/files/f1"))).toHaveLength(3);
  });

  it("refreshes pre-signed URLs that expire mid-load, matching files by id", async () => {
    let queries = 0;
    handler = (req, res) => {
      if (req.url.startsWith("/files/")) {
        // URLs of the first answer are expired by the time they are used.
        if (req.url.endsWith("sig=1")) json(res, 403, { message: "Request has expired" });
        else serveFile(req, res);
        return;
      }
      queries++;
      // The refreshed answer lists the files in another order: they must match by id, not place.
      const ids = queries === 1 ? allIds : [...allIds].reverse();
      ndjson(
        res,
        [
          PROTOCOL,
          METADATA,
          ...fileLines(ids, String(queries)),
          { endStreamAction: { refreshToken: "rt-1" } },
        ],
        END,
      );
    };
    const result = await client({ concurrency: 4 }).queryTable(table);
    expect(result.getChild("id")!.toArray()).toEqual(Int32Array.from({ length: 60 }, (_, i) => i));
    // One refresh served every file that failed at about the same time, and it sent the refresh token.
    const posts = seen
      .filter((r) => r.method === "POST")
      .map((r) => JSON.parse(r.body) as { refreshToken?: string });
    expect(posts.map((b) => b.refreshToken)).toEqual([undefined, "rt-1"]);
  });

  it("refreshes before use when expirationTimestamp has passed", async () => {
    let queries = 0;
    handler = (req, res) => {
      if (serveFile(req, res)) return;
      queries++;
      const expirationTimestamp = queries === 1 ? Date.now() - 1000 : Date.now() + 3_600_000;
      ndjson(res, [PROTOCOL, METADATA, ...fileLines(["f0", "f1"], String(queries), { expirationTimestamp })]);
    };
    expect((await client().queryTable(table)).numRows).toBe(20);
    expect(queries).toBe(2);
    expect(seen.filter((r) => r.url.includes("sig=1"))).toHaveLength(0);
  });

  it("stops when a file is gone after a refresh", async () => {
    let queries = 0;
    handler = (req, res) => {
      if (req.url.startsWith("/files/")) return void json(res, 403, { message: "expired" });
      queries++;
      ndjson(res, [PROTOCOL, METADATA, ...fileLines(queries === 1 ? ["f0"] : ["f1"], String(queries))]);
    };
    await expect(client().queryTable(table)).rejects.toThrow(
      "sharing: the URL of file f0 expired and the file is no longer in the query's answer (the table changed during the load); load it again",
    );
  });
});

describe("changes", () => {
  it("adds _change_type, _commit_version and _commit_timestamp", async () => {
    const add = parquetFile(0, 3);
    const removed = parquetFile(0, 1);
    const cdc = new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: "id", data: [1, 1], type: "INT32" },
          { name: "name", data: ["row 1", "one"], type: "STRING" },
          { name: "_change_type", data: ["update_preimage", "update_postimage"], type: "STRING" },
        ],
      }),
    );
    const bodies: Record<string, Uint8Array> = { add, removed, cdc };
    handler = (req, res) => {
      const m = /^\/files\/(\w+)/.exec(req.url);
      if (m) return void res.writeHead(200).end(bodies[m[1]!]);
      const at = (v: number) => ({ version: v, timestamp: 1_700_000_000_000 + v });
      ndjson(res, [
        PROTOCOL,
        METADATA,
        { add: { url: `${base}/files/add`, id: "a", partitionValues: {}, size: add.length, ...at(1) } },
        { cdf: { url: `${base}/files/cdc`, id: "c", partitionValues: {}, size: cdc.length, ...at(2) } },
        {
          remove: {
            url: `${base}/files/removed`,
            id: "r",
            partitionValues: {},
            size: removed.length,
            ...at(3),
          },
        },
      ]);
    };
    const result = await client().tableChanges(table, { startingVersion: 1, endingVersion: 3 });
    expect(seen[0]!.url).toBe(
      "/delta-sharing/shares/s/schemas/x/tables/t/changes?startingVersion=1&endingVersion=3",
    );
    expect(result.schema.fields.map((f) => f.name)).toEqual([
      "id",
      "name",
      "_change_type",
      "_commit_version",
      "_commit_timestamp",
    ]);
    const rows = result.toArray().map((row) => {
      const r = row.toJSON();
      return [
        r.id,
        r.name,
        r._change_type,
        Number(r._commit_version),
        Number(r._commit_timestamp) - 1_700_000_000_000,
      ];
    });
    expect(rows).toEqual([
      [0, "row 0", "insert", 1, 1],
      [1, "row 1", "insert", 1, 1],
      [2, "row 2", "insert", 1, 1],
      [1, "row 1", "update_preimage", 2, 2],
      [1, "one", "update_postimage", 2, 2],
      [0, "row 0", "delete", 3, 3],
    ]);
  });

  it("reads a changes answer in the delta format", async () => {
    const add = parquetFile(10, 2);
    const cdc = new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: "id", data: [10], type: "INT32" },
          { name: "name", data: ["row 10"], type: "STRING" },
          { name: "_change_type", data: ["delete"], type: "STRING" },
        ],
      }),
    );
    const bodies: Record<string, Uint8Array> = { add, cdc };
    handler = (req, res) => {
      const m = /^\/files\/(\w+)/.exec(req.url);
      if (m) return void res.writeHead(200).end(bodies[m[1]!]);
      const meta = {
        id: "t-1",
        format: { provider: "parquet", options: {} },
        schemaString: SCHEMA,
        partitionColumns: [],
        configuration: {},
      };
      ndjson(
        res,
        [
          { protocol: { deltaProtocol: { minReaderVersion: 1, minWriterVersion: 4 } } },
          { metaData: { deltaMetadata: meta, version: 5 } },
          {
            file: {
              id: "a",
              version: 5,
              timestamp: 1000,
              deltaSingleAction: {
                add: {
                  path: `${base}/files/add`,
                  partitionValues: {},
                  size: add.length,
                  modificationTime: 0,
                  dataChange: true,
                },
              },
            },
          },
          {
            file: {
              id: "c",
              version: 6,
              timestamp: 2000,
              deltaSingleAction: {
                cdc: { path: `${base}/files/cdc`, partitionValues: {}, size: cdc.length, dataChange: false },
              },
            },
          },
          { endStreamAction: {} },
        ],
        { "delta-sharing-capabilities": "responseformat=delta;includeendstreamaction=true" },
      );
    };
    const result = await client().tableChanges(table, { startingVersion: 5 });
    const rows = result.toArray().map((row) => {
      const r = row.toJSON();
      return [r.id, r._change_type, Number(r._commit_version), Number(r._commit_timestamp)];
    });
    expect(rows).toEqual([
      [10, "insert", 5, 1000],
      [11, "insert", 5, 1000],
      [10, "delete", 6, 2000],
    ]);
  });

  it("needs a start", async () => {
    await expect(client().tableChanges(table, {})).rejects.toThrow(
      "sharing: a changes query needs startingVersion or startingTimestamp",
    );
  });
});
