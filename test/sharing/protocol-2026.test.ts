// The protocol's 2026 additions (PROTOCOL.md of delta-io/delta-sharing), each served and each
// advertised only where it is served: a share's displayName, comment and properties (set in the
// language); version and timestamp on /metadata; includeHistoricalProtocol on streaming queries
// and changes in the delta format; asynchronous queries with idempotency keys, in the request
// shapes of Spark's client (`idempotency_key`, a queryId in the poll body). The official Python
// connector keeps reading the same server (it knows none of the additions). Tables by delta-rs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSession } from "../../src/lang/index.js";
import type { Catalog } from "../../src/sharing/index.js";
import { runPython } from "../support/python.js";
import {
  startTestSharingServer,
  type TestSharingServer,
  writeDeltaRsTables,
} from "../support/sharing-server.js";

let dir: string;
let catalog: Catalog;
let server: TestSharingServer;
let token: string;
let profilePath: string;
let evolving: string;
const T = "/shares/sales/schemas/x/tables";

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  lines: Array<Record<string, unknown>>;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const reply: Reply = {
    status: res.status,
    headers: res.headers,
    text,
    lines: res.headers.get("content-type")?.includes("ndjson")
      ? text
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [],
  };
  return reply;
}

const fileIds = (lines: Array<Record<string, unknown>>) =>
  lines
    .filter((l) => l.file)
    .map((l) => (l.file as { id: string }).id)
    .sort();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "arcuate-protocol-2026-"));
  const tables = await writeDeltaRsTables(join(dir, "tables"));
  // A table whose protocol changes mid-stream: v0 create, v1 append, v2 a writer feature, v3 append.
  evolving = join(dir, "tables", "evolving");
  await runPython(
    `
import sys, pandas as pd
from deltalake import write_deltalake, DeltaTable, TableFeatures
p = sys.argv[1]
write_deltalake(p, pd.DataFrame({"a": [1]}), configuration={"delta.enableChangeDataFeed": "true"})
write_deltalake(p, pd.DataFrame({"a": [2]}), mode="append")
DeltaTable(p).alter.add_feature(TableFeatures.AppendOnly, allow_protocol_versions_increase=True)
write_deltalake(p, pd.DataFrame({"a": [3]}), mode="append")
`,
    { args: [evolving] },
  );
  server = await startTestSharingServer({ dir: join(dir, "catalog") });
  catalog = server.catalog;
  await catalog.createShare("sales", { comment: "Quarterly sales" });
  await catalog.addTable("sales", "x", "plain", tables.plain);
  await catalog.addTable("sales", "x", "parts", tables.parts);
  await catalog.addTable("sales", "x", "evolving", evolving);
  await catalog.createShare("bare");
  const credentials = await catalog.createRecipient("alice");
  token = credentials.token;
  profilePath = credentials.profilePath;
  await catalog.grant("sales", "alice");
  await catalog.grant("bare", "alice");
}, 120_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("share displayName, comment and properties", () => {
  it("are set in the language and served by list and get share; unset fields are left out", async () => {
    const session = createSession({ workDir: join(dir, "catalog") });
    const [out] = await session.execute(
      "ALTER SHARE sales SET DISPLAYNAME 'Sales (EMEA)', SET PROPERTIES ('team' = 'growth', 'tier' = 'gold')",
    );
    expect(out).toEqual({ kind: "message", text: "share sales: display name 'Sales (EMEA)', 2 properties" });
    await session.execute("ALTER SHARE sales SET PROPERTIES ('tier' = NULL)");
    const listed = await call("GET", "/shares");
    expect(listed.status).toBe(200);
    const items = (JSON.parse(listed.text) as { items: Array<Record<string, unknown>> }).items;
    expect(items.find((s) => s.name === "sales")).toEqual({
      name: "sales",
      id: expect.any(String),
      displayName: "Sales (EMEA)",
      comment: "Quarterly sales",
      properties: { team: "growth" },
    });
    expect(items.find((s) => s.name === "bare")).toEqual({ name: "bare", id: expect.any(String) });
    const got = JSON.parse((await call("GET", "/shares/SALES")).text) as { share: Record<string, unknown> };
    expect(got.share.displayName).toBe("Sales (EMEA)");
    expect(got.share.properties).toEqual({ team: "growth" });
  });

  it("refuses what breaks the protocol's limits, naming the limit, and changes nothing", async () => {
    await expect(catalog.alterShare("sales", { displayName: "d".repeat(256) })).rejects.toThrow(
      "catalog: share 'sales': a display name has at most 255 characters",
    );
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, "v"]));
    await expect(catalog.alterShare("sales", { properties: many })).rejects.toThrow(
      "catalog: share 'sales': a share has at most 50 properties",
    );
    expect((await catalog.getShare("sales")).properties).toEqual({ team: "growth" });
  });
});

describe("metadata as of a version or timestamp", () => {
  it("answers the metadata of the version asked, by version or by timestamp, and refuses both at once", async () => {
    const latest = await call("GET", `${T}/evolving/metadata`);
    expect(latest.headers.get("delta-table-version")).toBe("3");
    const v1 = await call("GET", `${T}/evolving/metadata?version=1`);
    expect(v1.status).toBe(200);
    expect(v1.headers.get("delta-table-version")).toBe("1");
    expect((v1.lines[1]!.metaData as { version?: number }).version).toBe(1);
    const at = await call(
      "GET",
      `${T}/evolving/metadata?timestamp=${encodeURIComponent(new Date().toISOString())}`,
    );
    expect(at.headers.get("delta-table-version")).toBe("3");
    const both = await call("GET", `${T}/evolving/metadata?version=1&timestamp=2026-01-01T00:00:00Z`);
    expect(both.status).toBe(400);
  });
});

describe("includeHistoricalProtocol", () => {
  const delta = { "delta-sharing-capabilities": "responseformat=delta" };

  it("inlines each later protocol with its version in streaming queries, delta format only", async () => {
    const q = await call(
      "POST",
      `${T}/evolving/query`,
      { startingVersion: 1, includeHistoricalProtocol: true },
      delta,
    );
    expect(q.status).toBe(200);
    const protocols = q.lines.filter((l) => l.protocol).map((l) => l.protocol as Record<string, unknown>);
    expect(protocols.map((p) => p.version)).toEqual([1, 2]);
    expect((protocols[1]!.deltaProtocol as { writerFeatures?: string[] }).writerFeatures).toContain(
      "appendOnly",
    );
    // The protocol of version 2 comes before the files of version 3.
    const order = q.lines.map((l) =>
      l.protocol
        ? `p${(l.protocol as { version: number }).version}`
        : l.file
          ? `f${(l.file as { version: number }).version}`
          : "",
    );
    expect(order.filter((x) => x !== "")).toEqual(["p1", "f1", "p2", "f3"]);

    const without = await call("POST", `${T}/evolving/query`, { startingVersion: 1 }, delta);
    expect(without.lines.filter((l) => l.protocol)).toEqual([
      { protocol: { deltaProtocol: expect.any(Object) } },
    ]);
    const parquet = await call("POST", `${T}/evolving/query`, {
      startingVersion: 1,
      includeHistoricalProtocol: true,
    });
    expect(parquet.lines.filter((l) => l.protocol)).toEqual([{ protocol: { minReaderVersion: 1 } }]);
  });

  it("inlines them in the change data feed too", async () => {
    const c = await call(
      "GET",
      `${T}/evolving/changes?startingVersion=0&includeHistoricalProtocol=true`,
      undefined,
      delta,
    );
    expect(c.status).toBe(200);
    const versions = c.lines
      .filter((l) => l.protocol)
      .map((l) => (l.protocol as { version: number }).version);
    expect(versions).toEqual([3, 2]);
  });
});

describe("asynchronous queries", () => {
  const asyncCaps = { "delta-sharing-capabilities": "responseformat=parquet;asyncquery=true" };

  it("are advertised only to clients that ask, answer a queryId, and give the same files when polled", async () => {
    const sync = await call("POST", `${T}/parts/query`, {});
    expect(sync.headers.get("delta-sharing-capabilities")).not.toContain("asyncquery");
    const submitted = await call("POST", `${T}/parts/query`, { idempotency_key: "k-1" }, asyncCaps);
    expect(submitted.status).toBe(200);
    expect(submitted.headers.get("delta-sharing-capabilities")).toContain("asyncquery=true");
    expect(submitted.headers.get("delta-table-version")).toBe("0");
    expect(submitted.lines).toEqual([{ queryStatus: { queryId: expect.any(String), status: "pending" } }]);
    const queryId = (submitted.lines[0]!.queryStatus as { queryId: string }).queryId;
    // Spark's client puts the queryId in the poll body as well.
    const polled = await call("POST", `${T}/parts/queries/${encodeURIComponent(queryId)}`, { queryId });
    expect(polled.status).toBe(200);
    expect(polled.lines[0]).toHaveProperty("protocol");
    expect(fileIds(polled.lines)).toEqual(fileIds(sync.lines));
    expect(fileIds(polled.lines)).toHaveLength(3);
  });

  it("maps a retried submission with the same idempotency key to the same queryId, and refuses the key for another query", async () => {
    const body = { idempotencyKey: "retry-me", predicateHints: ["p = 'a'"] };
    const first = await call("POST", `${T}/parts/query`, body, asyncCaps);
    const again = await call("POST", `${T}/parts/query`, body, asyncCaps);
    expect(again.lines).toEqual(first.lines);
    const other = await call(
      "POST",
      `${T}/parts/query`,
      { idempotencyKey: "retry-me", limitHint: 1 },
      asyncCaps,
    );
    expect(other.status).toBe(400);
    expect(other.text).toContain("idempotencyKey was used for a different query");
    const fresh = await call("POST", `${T}/parts/query`, { idempotencyKey: "another" }, asyncCaps);
    expect(fresh.lines).not.toEqual(first.lines);
  });

  it("pages a polled answer with maxFiles and pageToken, all from the snapshot of the submission", async () => {
    const submitted = await call("POST", `${T}/plain/query`, {}, asyncCaps);
    const queryId = (submitted.lines[0]!.queryStatus as { queryId: string }).queryId;
    const path = `${T}/plain/queries/${encodeURIComponent(queryId)}`;
    const first = await call("POST", path, { maxFiles: 1 });
    const end = first.lines.at(-1)!.endStreamAction as { nextPageToken?: string };
    expect(end.nextPageToken).toEqual(expect.any(String));
    const second = await call("POST", path, { maxFiles: 10, pageToken: end.nextPageToken });
    const all = await call("POST", `${T}/plain/query`, {});
    expect([...fileIds(first.lines), ...fileIds(second.lines)].sort()).toEqual(fileIds(all.lines));
  });

  it("answers 404 for a queryId that is unknown, edited, or another table's", async () => {
    const submitted = await call("POST", `${T}/parts/query`, {}, asyncCaps);
    const queryId = (submitted.lines[0]!.queryStatus as { queryId: string }).queryId;
    expect((await call("POST", `${T}/parts/queries/nonsense`, {})).status).toBe(404);
    const edited = `${queryId.slice(0, -3)}AAA`;
    expect((await call("POST", `${T}/parts/queries/${encodeURIComponent(edited)}`, {})).status).toBe(404);
    const elsewhere = await call("POST", `${T}/plain/queries/${encodeURIComponent(queryId)}`, {});
    expect(elsewhere.status).toBe(404);
    expect(JSON.parse(elsewhere.text)).toMatchObject({ errorCode: "RESOURCE_DOES_NOT_EXIST" });
  });
});

it("the official Python connector keeps reading the server, shares with details included", async () => {
  const out = await runPython(
    `
import sys, json, delta_sharing
client = delta_sharing.SharingClient(sys.argv[1])
shares = sorted(s.name for s in client.list_shares())
df = delta_sharing.load_as_pandas(sys.argv[1] + "#sales.x.parts")
print(json.dumps({"shares": shares, "rows": int(len(df))}))
`,
    { args: [profilePath] },
  );
  expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({ shares: ["bare", "sales"], rows: 6 });
}, 120_000);
