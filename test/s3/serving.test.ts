// Sharing tables that live in a bucket (SeaweedFS): the server answers with pre-signed S3 URLs and
// reads only the Delta log; recipients (arcuate's client, the official Python connector in both
// response formats) download every data byte from the S3 server. Two counting proxies, one in
// front of each server, tell which one carried what. Tables written by delta-rs to the bucket are
// served and read identically; URLs expire when they say; refresh tokens give fresh ones.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeltaTable, S3Storage } from "../../src/delta/index.js";
import { loadProfile, SharingClient } from "../../src/sharing/client/index.js";
import { Catalog, startSharingServer } from "../../src/sharing/index.js";
import { runPythonJson } from "../support/python.js";
import { type SeaweedFs, startSeaweedFs } from "../support/seaweedfs.js";
import { startTestSharingServer, type TestSharingServer } from "../support/sharing-server.js";
import { type CountingProxy, startCountingProxy } from "./support/counting-proxy.js";

const BUCKET = "arcuate-serving";
const ROWS = 200_000;

let weed: SeaweedFs;
let s3Proxy: CountingProxy;
let sharingProxy: CountingProxy;
let sharing: TestSharingServer;
let profilePath: string;
let directEnv: Record<string, string>;

beforeAll(async () => {
  weed = await startSeaweedFs();
  await weed.createBucket(BUCKET);
  s3Proxy = await startCountingProxy(Number(new URL(weed.endpoint).port));
  // The sharing server (in this process) reaches S3 through the proxy, so the URLs it signs do too.
  Object.assign(process.env, weed.env, { AWS_ENDPOINT_URL: s3Proxy.url });
  directEnv = { ...weed.env };

  const big = await DeltaTable.create(`s3://${BUCKET}/share/big`, {
    schema: {
      type: "struct",
      fields: [
        { name: "id", type: "long", nullable: false, metadata: {} },
        { name: "x", type: "double", nullable: true, metadata: {} },
        { name: "s", type: "string", nullable: true, metadata: {} },
      ],
    },
  });
  // Four record batches, one data file each.
  async function* batches(): AsyncGenerator<arrow.RecordBatch> {
    for (let part = 0; part < 4; part += 1) {
      const ids = Array.from({ length: ROWS / 4 }, (_, i) => BigInt(part * (ROWS / 4) + i));
      const table = new arrow.Table({
        id: arrow.vectorFromArray(ids, new arrow.Int64()),
        x: arrow.vectorFromArray(
          ids.map((i) => Number(i) / 7),
          new arrow.Float64(),
        ),
        s: arrow.vectorFromArray(
          ids.map((i) => `row ${i}`),
          new arrow.Utf8(),
        ),
      });
      for (const batch of table.batches) yield batch;
    }
  }
  await big.write(batches(), { mode: "append", targetFileRows: ROWS / 4 });

  // Tables delta-rs writes to the same bucket: one with a change data feed and a delete, one partitioned.
  await runPythonJson(
    `
import json, sys, time, pandas as pd
from deltalake import write_deltalake, DeltaTable
plain, parts = sys.argv[1], sys.argv[2]
write_deltalake(plain, pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}), configuration={"delta.enableChangeDataFeed": "true"})
write_deltalake(plain, pd.DataFrame({"a": [4, 5], "b": ["u", "v"]}), mode="append")
DeltaTable(plain).delete("a = 1")
write_deltalake(parts, pd.DataFrame({"p": ["a", "a", "b", "b", "c", "c"], "n": [1, 2, 3, 4, 5, 6]}), partition_by=["p"])
print(json.dumps("ok"))
`,
    { args: [`s3://${BUCKET}/share/rs-plain`, `s3://${BUCKET}/share/rs-parts`], env: directEnv },
  );

  sharing = await startTestSharingServer();
  sharingProxy = await startCountingProxy(sharing.server.port);
  const credentials = await sharing.shareTables({
    share: "bucket",
    tables: [
      { schema: "s", table: "big", location: `s3://${BUCKET}/share/big` },
      { schema: "s", table: "plain", location: `s3a://${BUCKET}/share/rs-plain` },
      { schema: "s", table: "parts", location: `s3://${BUCKET}/share/rs-parts` },
    ],
  });
  // Recipients reach the sharing server through its proxy.
  profilePath = join(sharing.dir, "through-proxy.share");
  writeFileSync(
    profilePath,
    JSON.stringify({ ...credentials.profile, endpoint: `${sharingProxy.url}${sharing.server.endpoint}` }),
  );
}, 300_000);

afterAll(async () => {
  await sharing?.close();
  await sharingProxy?.close();
  await s3Proxy?.close();
  await weed?.stop();
});

const DATA_FILE = /\.parquet(\?|$)/;

function dataRequests(requests: string[]): string[] {
  return requests.filter((r) => DATA_FILE.test(r) && !r.includes("_delta_log"));
}

describe("zero-copy serving", () => {
  it("a recipient's load comes from the S3 server; the sharing server sends only the answer", {
    timeout: 240_000,
  }, async () => {
    const snapshot = await (await DeltaTable.open(`s3://${BUCKET}/share/big`)).snapshot();
    const dataBytes = snapshot.files.reduce((n, f) => n + f.size, 0);
    expect(snapshot.files.length).toBe(4);
    s3Proxy.reset();
    sharingProxy.reset();

    const client = new SharingClient(await loadProfile(profilePath));
    const table = await client.queryTable({ share: "bucket", schema: "s", name: "big" });
    expect(table.numRows).toBe(ROWS);
    expect(Number(table.getChild("id")!.get(ROWS - 1))).toBe(ROWS - 1);
    const arcuateS3Bytes = s3Proxy.bytesOut;

    const python = await runPythonJson<{ rows: number; maxId: number }>(
      `
import json, sys, delta_sharing
df = delta_sharing.load_as_pandas(sys.argv[1] + "#bucket.s.big")
print(json.dumps({"rows": len(df), "maxId": int(df["id"].max())}))
`,
      { args: [profilePath], env: directEnv },
    );
    expect(python).toEqual({ rows: ROWS, maxId: ROWS - 1 });

    // Every data file request went to the S3 server, pre-signed; none to the sharing server.
    const fromS3 = dataRequests(s3Proxy.requests);
    expect(fromS3.length).toBeGreaterThanOrEqual(8);
    for (const r of fromS3) expect(r).toMatch(/[?&]X-Amz-Signature=[0-9a-f]{64}/);
    expect(arcuateS3Bytes).toBeGreaterThanOrEqual(dataBytes);
    expect(s3Proxy.bytesOut).toBeGreaterThanOrEqual(2 * dataBytes);
    expect(sharingProxy.requests.filter((r) => r.includes("/files/"))).toEqual([]);
    expect(sharingProxy.bytesOut).toBeLessThan(dataBytes / 50);
    // What the sharing server itself asked of S3: its log, never a data file.
    const own = s3Proxy.requests.filter((r) => !r.includes("X-Amz-Signature="));
    for (const r of own) expect(r).toMatch(/_delta_log|list-type=2/);
    console.log(
      `data ${dataBytes} B in 4 files; S3 sent ${s3Proxy.bytesOut} B for two loads, the sharing server ${sharingProxy.bytesOut} B`,
    );
  });

  it("URLs carry their expiry, stop working after it, and a refresh token gives fresh ones", {
    timeout: 120_000,
  }, async () => {
    const short = await startTestSharingServer({ preSignedUrlTimeoutSeconds: 3 });
    try {
      const creds = await short.shareTables({
        share: "short",
        tables: [{ schema: "s", table: "parts", location: `s3://${BUCKET}/share/rs-parts` }],
      });
      const query = async (body: Record<string, unknown>) => {
        const res = await fetch(`${short.url}/shares/short/schemas/s/tables/parts/query`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${creds.profile.bearerToken}`,
            "content-type": "application/json",
          },
          body: JSON.stringify(body),
        });
        expect(res.status).toBe(200);
        const lines = (await res.text())
          .trim()
          .split("\n")
          .map(
            (l) =>
              JSON.parse(l) as {
                file?: { url: string; id: string; expirationTimestamp: number };
                endStreamAction?: { refreshToken?: string };
              },
          );
        return {
          files: lines.flatMap((l) => (l.file ? [l.file] : [])),
          refreshToken: lines.find((l) => l.endStreamAction)?.endStreamAction?.refreshToken,
        };
      };
      const first = await query({ includeRefreshToken: true });
      const files = first.files;
      expect(files.length).toBe(3);
      const now = Date.now();
      for (const f of files) {
        expect(f.url, f.url).toContain("X-Amz-Signature=");
        expect(f.url.startsWith(`${s3Proxy.url}/${BUCKET}/share/rs-parts/p%3D`), f.url).toBe(true);
        expect(f.expirationTimestamp).toBeGreaterThan(now);
        expect(f.expirationTimestamp).toBeLessThanOrEqual(now + 3_000 + 1_000);
      }
      const url = files[0]!.url;
      expect((await fetch(url)).status).toBe(200);
      // Another file under the same signature: refused by the S3 server.
      const other = url.replace(/\/p%3D([abc])\//, (_m, p: string) => `/p%3D${p === "a" ? "b" : "a"}/`);
      expect(other).not.toBe(url);
      expect((await fetch(other)).status).toBe(403);
      await new Promise((r) =>
        setTimeout(r, Math.max(0, files[0]!.expirationTimestamp - Date.now()) + 1_500),
      );
      expect((await fetch(url)).status).toBe(403);
      const refreshed = await query({ refreshToken: first.refreshToken });
      expect(refreshed.files.map((f) => f.id).sort()).toEqual(files.map((f) => f.id).sort());
      expect((await fetch(refreshed.files[0]!.url)).status).toBe(200);
    } finally {
      await short.close();
    }
  });

  it("tables delta-rs wrote to the bucket read identically through the Python connector, in both formats", {
    timeout: 240_000,
  }, async () => {
    const result = await runPythonJson<{ failures: string[]; done: string[] }>(
      `
import json, sys, math
import pyarrow as pa, delta_sharing
from deltalake import DeltaTable
profile, bucket = sys.argv[1], sys.argv[2]
failures, done = [], []
def rows(df, drop=()):
    df = df[[c for c in sorted(df.columns) if c not in drop]]
    return list(df.columns), sorted(tuple(str(v) for v in r) for r in df.itertuples(index=False))
def check(name, fn):
    done.append(name)
    try:
        problem = fn()
        if problem: failures.append(f"{name}: {problem}")
    except Exception as e:
        failures.append(f"{name}: {type(e).__name__}: {str(e)[:300]}")
def same(got, expected, drop=()):
    g, e = rows(got, drop), rows(expected, drop)
    if g != e: return f"got {g[0]} {g[1][:3]} ({len(g[1])}), expected {e[0]} {e[1][:3]} ({len(e[1])})"
for name, path in (("plain", f"s3://{bucket}/share/rs-plain"), ("parts", f"s3://{bucket}/share/rs-parts")):
    dt = DeltaTable(path)
    url = f"{profile}#bucket.s.{name}"
    for fmt in (False, True):
        check(f"{name} delta={fmt} load_as_pandas", lambda: same(delta_sharing.load_as_pandas(url, use_delta_format=fmt), dt.to_pandas()))
        if name == "plain":
            def changes():
                got = delta_sharing.load_table_changes_as_pandas(url, starting_version=0, use_delta_format=fmt)
                expected = pa.RecordBatchReader.from_stream(dt.load_cdf(starting_version=0)).read_all().to_pandas()
                return same(got, expected, drop=("_commit_timestamp",))
            check(f"{name} delta={fmt} load_table_changes_as_pandas", changes)
print(json.dumps({"failures": failures, "done": done}))
`,
      { args: [profilePath, BUCKET], env: directEnv, timeoutMs: 200_000 },
    );
    expect(result.failures).toEqual([]);
    expect(result.done).toHaveLength(6);
  });

  it("temporary table credentials: advertised with a role, read only the table's prefix, refused without one", {
    timeout: 120_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "arcuate-s3-dir-"));
    const catalog = await Catalog.open(dir);
    const server = await startSharingServer({
      catalog,
      port: 0,
      temporaryCredentialsRoleArn: weed.roleArn,
      log: () => {},
    });
    try {
      await catalog.createShare("dirs");
      await catalog.addTable("dirs", "s", "parts", `s3://${BUCKET}/share/rs-parts`);
      await catalog.addTable("dirs", "s", "plain", `s3://${BUCKET}/share/rs-plain`);
      const { profile } = await catalog.createRecipient("dir-reader");
      await catalog.grant("dirs", "dir-reader");
      const call = (path: string, init: RequestInit = {}) =>
        fetch(`${server.url}/shares/dirs${path}`, {
          ...init,
          headers: { authorization: `Bearer ${profile.bearerToken}`, "content-type": "application/json" },
        });
      const listing = (await (await call("/all-tables")).json()) as { items: Array<Record<string, unknown>> };
      expect(listing.items.find((t) => t.name === "parts")).toMatchObject({
        location: `s3://${BUCKET}/share/rs-parts`,
        accessModes: ["url", "dir"],
      });
      const metadata = await (await call("/schemas/s/tables/parts/metadata")).text();
      expect(JSON.parse(metadata.trim().split("\n")[1]!).metaData).toMatchObject({
        accessModes: ["url", "dir"],
      });

      const answer = await call("/schemas/s/tables/parts/temporary-table-credentials", {
        method: "POST",
        body: "{}",
      });
      expect(answer.status).toBe(200);
      const { credentials } = (await answer.json()) as {
        credentials: {
          location: string;
          expirationTime: number;
          awsTempCredentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
        };
      };
      expect(credentials.location).toBe(`s3://${BUCKET}/share/rs-parts`);
      expect(credentials.expirationTime).toBeGreaterThan(Date.now() + 600_000);
      const vended = { ...credentials.awsTempCredentials };
      // With them, a reader opens the table from the bucket directly, and nothing else.
      const inside = new S3Storage(credentials.location, { endpoint: weed.endpoint, credentials: vended });
      const table = await DeltaTable.open(credentials.location, { storage: inside });
      expect((await table.readArrow()).numRows).toBe(6);
      const beside = new S3Storage(`s3://${BUCKET}/share/rs-plain`, {
        endpoint: weed.endpoint,
        credentials: vended,
      });
      await expect(DeltaTable.open(`s3://${BUCKET}/share/rs-plain`, { storage: beside })).rejects.toThrow(
        "S3 refused the credentials for list",
      );
      await expect(inside.write("extra.parquet", new Uint8Array(3))).rejects.toThrow(
        "S3 refused the credentials for write",
      );

      const wrong = await call("/schemas/s/tables/parts/temporary-table-credentials", {
        method: "POST",
        body: JSON.stringify({ location: `s3://${BUCKET}/share/rs-plain` }),
      });
      expect(wrong.status).toBe(400);
      expect(((await wrong.json()) as { message: string }).message).toContain(
        "is not a location of table dirs.s.parts",
      );
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }

    // The servers of the other tests have no role: no advertisement, and a clear protocol error.
    const creds = JSON.parse(readFileSync(profilePath, "utf8")) as { bearerToken: string; endpoint: string };
    const headers = { authorization: `Bearer ${creds.bearerToken}` };
    const items = (await (await fetch(`${sharing.url}/shares/bucket/all-tables`, { headers })).json()) as {
      items: Array<Record<string, unknown>>;
    };
    expect(items.items.every((t) => t.accessModes === undefined)).toBe(true);
    const refused = await fetch(
      `${sharing.url}/shares/bucket/schemas/s/tables/parts/temporary-table-credentials`,
      {
        method: "POST",
        headers,
      },
    );
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({
      errorCode: "UNSUPPORTED_FEATURE",
      message:
        "sharing: table bucket.s.parts offers no temporary table credentials (directory access); read it with the query endpoint",
    });
  });
});
