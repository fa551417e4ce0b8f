// Property-based fuzz of the sharing server in-process: random methods, paths (known words,
// traversal pieces, percent-encodings, junk), headers and bodies. Whatever arrives, the answer is
// never a 5xx, an error body never carries internals, and the server keeps serving.
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Catalog, type SharingServer, startSharingServer } from "../../src/sharing/index.js";
import { writeDeltaRsTables } from "../support/sharing-server.js";

let dir: string;
let server: SharingServer;
let token: string;
const logged: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "arcuate-server-fuzz-"));
  const tables = await writeDeltaRsTables(join(dir, "tables"));
  const catalog = await Catalog.open(join(dir, "catalog"));
  await catalog.createShare("sales");
  await catalog.addTable("sales", "x", "plain", tables.plain);
  await catalog.addTable("sales", "x", "parts", tables.parts);
  token = (await catalog.createRecipient("alice")).token;
  await catalog.grant("sales", "alice");
  server = await startSharingServer({ catalog, log: (m) => logged.push(m) });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

// One keep-alive connection pool, as real clients use: a request that upsets the connection would
// show up as a reset on the next one.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
let previous = "";

function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; text: string }> {
  const url = new URL(server.url);
  // Node's client frames a body of OPTIONS or DELETE only when told its length.
  const framed =
    body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, headers: framed, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Printable ASCII without space: what may appear raw in a request line or a header value.
const printable = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});
const segment = fc.oneof(
  fc.constantFrom(
    "shares",
    "sales",
    "schemas",
    "x",
    "tables",
    "plain",
    "parts",
    "all-tables",
    "version",
    "metadata",
    "query",
    "changes",
    "files",
    "SALES",
    "Plain",
  ),
  fc.constantFrom(
    "..",
    ".",
    "%2e%2e",
    "%2E%2e%2f",
    "..%2f..%2fetc",
    "%2fetc%2fpasswd",
    "%00",
    "%",
    "%zz",
    "%c0%ae",
    "a.b",
    "%20",
    "~",
    "",
  ),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  printable.map((s) => s.replace(/[/?#]/g, "")),
  fc.constant("n".repeat(300)),
);
const path = fc
  .tuple(
    fc.constantFrom(
      "/delta-sharing/",
      "/delta-sharing/shares/sales/schemas/x/tables/",
      "/",
      "/delta-sharing/files/",
    ),
    fc.array(segment, { maxLength: 8 }),
    fc.option(printable.map((q) => q.replace(/#/g, ""))),
  )
  .map(([prefix, segments, query]) => `${prefix}${segments.join("/")}${query === null ? "" : `?${query}`}`);
const body = fc.oneof(
  fc.constant(undefined),
  fc.json(),
  fc.string({ maxLength: 200 }),
  fc
    .record(
      {
        version: fc.oneof(fc.integer(), fc.string(), fc.double(), fc.constant(null)),
        timestamp: fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.integer(),
        ),
        limitHint: fc.oneof(fc.integer({ min: -5, max: 1e9 }), fc.string()),
        startingVersion: fc.oneof(fc.integer({ min: -2, max: 10 }), fc.boolean()),
        endingVersion: fc.integer({ min: -2, max: 10 }),
        jsonPredicateHints: fc.oneof(fc.string(), fc.json()),
        predicateHints: fc.oneof(fc.array(fc.string()), fc.string()),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
);
const headers = fc.record(
  {
    authorization: fc.oneof(
      fc.constant("valid"),
      printable.map((t) => `Bearer ${t}`),
      printable,
    ),
    "delta-sharing-capabilities": fc.oneof(
      printable,
      fc.constantFrom(
        "responseformat=delta",
        "responseformat=delta,parquet;includeendstreamaction=true",
        "responseformat=;readerfeatures=",
        ";;==;",
      ),
    ),
    range: fc.oneof(
      printable,
      fc.constantFrom("bytes=0-10", "bytes=-5", "bytes=999999999-", "bytes=5-1", "bytes=0-1,4-5"),
    ),
    "content-type": printable,
  },
  { requiredKeys: [] },
);

it("never answers 5xx or leaks internals, and keeps serving", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"),
      path,
      headers,
      body,
      async (method, p, h, b) => {
        const sent = { ...h };
        if (sent.authorization === "valid") sent.authorization = `Bearer ${token}`;
        const reply = await send(
          method,
          p,
          sent,
          method === "GET" || method === "HEAD" ? undefined : b,
        ).catch((error: Error) => {
          throw new Error(`${error.message} after ${previous}`);
        });
        previous = JSON.stringify([method, p, sent, b]);
        expect(reply.status, `${method} ${p}`).toBeLessThan(500);
        expect(reply.status).toBeGreaterThanOrEqual(200);
        if (reply.status >= 400 && method !== "HEAD" && reply.text !== "") {
          const error = JSON.parse(reply.text) as { errorCode: string; message: string };
          expect(typeof error.errorCode).toBe("string");
          expect(error.message).not.toMatch(/\bat \S+:\d+|node:|\/work\/|_delta_log|\.parquet|Error:/);
        }
      },
    ),
    { numRuns: 400 },
  );
  expect(logged).toEqual([]);
  const ok = await send("GET", "/delta-sharing/shares", { authorization: `Bearer ${token}` }, undefined);
  expect(ok.status).toBe(200);
  expect(JSON.parse(ok.text)).toMatchObject({ items: [{ name: "sales" }] });
}, 120_000);
