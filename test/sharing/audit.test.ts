// The audit log through real peers: the Python connector reads a share, every request it makes
// lands in the audit Delta table with the right recipient, files and bytes, and delta-rs and the
// connector (through a share of the audit table itself) read that table. A failing audit write
// never fails a request; retention removes whole days.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeltaTable } from "../../src/delta/index.js";
import { createSession } from "../../src/lang/index.js";
import { Catalog, type SharingServer, startSharingServer } from "../../src/sharing/index.js";
import { AuditLog } from "../../src/sharing/server/audit-log.js";
import { RecordPacker, unpackRecords } from "../../src/sharing/server/audit-pack.js";
import { AuditSpool } from "../../src/sharing/server/audit-spool.js";
import { type AccessRecord, AuditTable, dayOf } from "../../src/sharing/server/audit-table.js";
import { runPythonJson } from "../support/python.js";
import { writeDeltaRsTables } from "../support/sharing-server.js";

let dir: string;
let catalog: Catalog;
let server: SharingServer;
let tables: { plain: string; parts: string };
const logged: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "arcuate-audit-"));
  tables = await writeDeltaRsTables(join(dir, "data"));
  catalog = await Catalog.open(join(dir, "catalog"));
  server = await startSharingServer({
    catalog,
    audit: { location: join(catalog.dir, "audit"), flushMs: 200 },
    log: (m) => logged.push(m),
  });
  await catalog.setEndpoint(server.url);
  await catalog.createShare("s");
  await catalog.addTable("s", "x", "plain", tables.plain);
  await catalog.addTable("s", "x", "parts", tables.parts);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await catalog?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Row {
  recipient: string | null;
  recipient_id: string | null;
  operation: string;
  share: string | null;
  table: string | null;
  version: number | null;
  files: number;
  bytes: number;
  status: number;
  error_code: string | null;
  client_address: string | null;
  user_agent: string | null;
  request_id: string;
  method: string;
}

const READ_AUDIT = `
import json, sys
from deltalake import DeltaTable
t = DeltaTable(sys.argv[1]).to_pyarrow_table()
cols = ["recipient", "recipient_id", "operation", "share", "table", "version", "files", "bytes", "status", "error_code", "client_address", "user_agent", "request_id", "method"]
rows = [{c: r[c] for c in cols} for r in t.to_pylist()]
strings = [v for r in t.to_pylist() for v in r.values() if isinstance(v, str)]
print(json.dumps({"rows": rows, "strings": strings}))
`;

describe("audit log", () => {
  it("records every request of the Python connector with its recipient, files and bytes, readable by delta-rs", async () => {
    const alice = await catalog.createRecipient("alice");
    await catalog.grant("s", "alice");
    const result = await runPythonJson<{ rows: number; version: number }>(
      `
import json, sys, delta_sharing
profile = sys.argv[1]
client = delta_sharing.SharingClient(profile)
client.list_shares()
df = delta_sharing.load_as_pandas(profile + "#s.x.parts")
old = delta_sharing.load_as_pandas(profile + "#s.x.plain", version=0)
print(json.dumps({"rows": len(df), "version": len(old)}))
`,
      { args: [alice.profilePath] },
    );
    expect(result).toEqual({ rows: 6, version: 3 });
    // A request without a token is recorded too, without a recipient.
    const refused = await fetch(`${server.url}/shares`);
    expect(refused.status).toBe(401);
    const requestId = refused.headers.get("x-request-id");
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    await server.audit!.flush();

    const parts = await (await DeltaTable.open(tables.parts)).snapshot();
    const partsBytes = parts.files.reduce((n, f) => n + f.size, 0);
    const plainV0 = await (await DeltaTable.open(tables.plain)).snapshot({ version: 0 });
    const plainBytes = plainV0.files.reduce((n, f) => n + f.size, 0);

    const audit = await runPythonJson<{ rows: Row[]; strings: string[] }>(READ_AUDIT, {
      args: [join(catalog.dir, "audit")],
    });
    const mine = audit.rows.filter((r) => r.recipient === "alice");
    const ops = (op: string) => mine.filter((r) => r.operation === op);
    expect(ops("listShares")).toHaveLength(1);
    const queries = ops("query");
    expect(queries.map((q) => [q.table, q.version, q.files, q.bytes, q.status]).sort()).toEqual(
      [
        ["parts", null, parts.files.length, partsBytes, 200],
        ["plain", 0, plainV0.files.length, plainBytes, 200],
      ].sort(),
    );
    // The connector then reads each file through its pre-signed URL (HEAD, then whole or ranged
    // GETs, as fsspec does): one row per request, with the bytes actually sent.
    const downloads = ops("file");
    const sizes = new Map([
      ["parts", new Set(parts.files.map((f) => f.size))],
      ["plain", new Set(plainV0.files.map((f) => f.size))],
    ]);
    const whole = downloads.filter((r) => r.method === "GET" && r.status === 200);
    expect(new Set(whole.map((r) => r.table))).toEqual(new Set(["parts", "plain"]));
    for (const r of whole) expect(sizes.get(r.table!)!.has(r.bytes)).toBe(true);
    for (const r of downloads.filter((d) => d.method === "HEAD")) expect([r.files, r.bytes]).toEqual([0, 0]);
    expect(downloads.every((r) => r.recipient_id === alice.recipient.id && r.status < 300)).toBe(true);
    expect(mine.every((r) => r.client_address === "127.0.0.1")).toBe(true);
    const api = mine.filter((r) => r.operation !== "file");
    expect(api.every((r) => r.user_agent?.includes("Delta-Sharing-Python"))).toBe(true);

    const anonymous = audit.rows.find((r) => r.request_id === requestId);
    expect(anonymous).toMatchObject({ recipient: null, status: 401, error_code: "UNAUTHENTICATED" });
    // Never a token, never a signed URL.
    const secret = alice.token.slice(alice.token.lastIndexOf("_") + 1);
    expect(audit.strings.filter((s) => s.includes(secret) || s.includes("/files/"))).toEqual([]);
  }, 180_000);

  it("is itself shareable: the Python connector reads the audit table through a share", async () => {
    await catalog.createShare("ops");
    await catalog.addTable("ops", "arcuate", "access", join(catalog.dir, "audit"));
    const auditor = await catalog.createRecipient("auditor");
    await catalog.grant("ops", "auditor");
    await server.audit!.flush();
    const got = await runPythonJson<{ alice: number; operations: string[] }>(
      `
import json, sys, delta_sharing
df = delta_sharing.load_as_pandas(sys.argv[1] + "#ops.arcuate.access")
print(json.dumps({"alice": int((df["recipient"] == "alice").sum()), "operations": sorted(set(df["operation"]))}))
`,
      { args: [auditor.profilePath] },
    );
    expect(got.alice).toBeGreaterThanOrEqual(4);
    expect(got.operations).toEqual(expect.arrayContaining(["file", "listShares", "query"]));

    // And SELECT in the language reads it through the same share.
    const session = createSession({ workDir: join(dir, "auditor") });
    const [selected] = await session.execute(
      `SELECT \`recipient\`, operation, \`table\` FROM '${auditor.profilePath}#ops.arcuate.access' WHERE \`recipient\` = 'alice' AND operation = 'query'`,
    );
    expect(selected?.kind === "table" && selected.rows.map((r) => r.join(" ")).sort()).toEqual([
      "alice query parts",
      "alice query plain",
    ]);
  }, 120_000);

  it("SHOW ACCESS lists a recipient's requests, newest first, by share and since a time", async () => {
    await server.audit!.flush();
    const session = createSession({ workDir: catalog.dir });
    const table = async (statement: string) => {
      const [result] = await session.execute(statement);
      if (result?.kind !== "table") throw new Error(`expected a table, got ${JSON.stringify(result)}`);
      return result;
    };
    const alice = await table("SHOW ACCESS FOR RECIPIENT alice SINCE '1h'");
    expect(alice.columns).toEqual([
      "time",
      "recipient",
      "operation",
      "table",
      "asked",
      "files",
      "bytes",
      "status",
      "client",
      "request id",
    ]);
    expect(new Set(alice.rows.map((r) => r[1]))).toEqual(new Set(["alice"]));
    const times = alice.rows.map((r) => r[0] as string);
    expect([...times].sort().reverse()).toEqual(times);
    const queries = alice.rows.filter((r) => r[2] === "query").map((r) => [r[3], r[4]]);
    expect(queries.sort()).toEqual([
      ["s.x.parts", null],
      ["s.x.plain", "version 0"],
    ]);
    const ops = await table("SHOW ACCESS ON SHARE ops");
    expect(ops.rows.length).toBeGreaterThan(0);
    expect(ops.rows.every((r) => r[1] === "auditor" && String(r[3]).startsWith("ops."))).toBe(true);
    expect((await table("SHOW ACCESS SINCE '2100-01-01'")).rows).toEqual([]);
    await expect(session.execute("SHOW ACCESS FOR RECIPIENT nobody")).rejects.toThrow(
      "catalog: recipient 'nobody' does not exist",
    );
  }, 60_000);

  it("never fails a request when the audit table cannot be written, and logs the failure", async () => {
    const blocker = join(dir, "not-a-folder");
    writeFileSync(blocker, "a file where the audit folder should be\n");
    const own: string[] = [];
    const broken = await startSharingServer({
      catalog,
      audit: { location: join(blocker, "audit"), flushMs: 50 },
      log: (m) => own.push(m),
    });
    try {
      const bob = await catalog.createRecipient("bob");
      await catalog.grant("s", "bob");
      const res = await fetch(`${broken.url}/shares`, { headers: { authorization: `Bearer ${bob.token}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(1);
      await broken.audit!.flush();
      expect(own.join("\n")).toMatch(/^audit: could not append 1 records to .*not-a-folder\/audit: /m);
    } finally {
      await broken.close();
    }
  }, 60_000);

  it("commits the spool a crashed server left behind, once", async () => {
    const location = join(dir, "recovered");
    const spoolDir = join(dir, "spool");
    mkdirSync(spoolDir);
    // A segment of a server on this host whose process is gone (pid 2^22 + 1 is above Linux's
    // default pid_max), its last line cut short by the crash.
    const dead = `${hostname().replace(/[^A-Za-z0-9.]/g, "-")}_4194305_0badc0de`;
    const lines = [1, 2, 3].map((i) => JSON.stringify({ ...sampleRecord(Date.now(), `crashed-${i}`) }));
    writeFileSync(join(spoolDir, `${dead}-0.ndjson`), `${lines.join("\n")}\n{"time": 17`);
    const table = new AuditTable(location, undefined);
    await new AuditSpool(table, spoolDir, 60_000).add([sampleRecord(Date.now(), "live")], true);
    const ids = async () =>
      [
        ...((await DeltaTable.open(location).then((t) => t.readArrow()))
          .getChild("request_id")!
          .toArray() as string[]),
      ].sort();
    expect(await ids()).toEqual(["crashed-1", "crashed-2", "crashed-3", "live"]);
    expect(readdirSync(spoolDir)).toEqual([]);
    // Committed once: the same segment found again (a second server racing) adds nothing.
    writeFileSync(join(spoolDir, `${dead}-0.ndjson`), `${lines.join("\n")}\n`);
    await new AuditSpool(table, spoolDir, 60_000).add([], true);
    expect(await ids()).toEqual(["crashed-1", "crashed-2", "crashed-3", "live"]);
  }, 60_000);

  it("keeps records for the retention period and removes older days whole", async () => {
    const location = join(dir, "retention");
    mkdirSync(location);
    const messages: string[] = [];
    const log = new AuditLog({ location, retentionDays: 3, inProcess: true }, (m) => messages.push(m));
    const now = Date.now();
    const at = (days: number) => sampleRecord(now - days * 86_400_000, `r${days}`);
    for (const days of [10, 5, 1, 0]) log.record(at(days));
    await log.close();
    expect(messages).toEqual([]);
    const snapshot = await (await DeltaTable.open(location)).snapshot();
    const days = [...new Set(snapshot.files.map((f) => f.partitionValues?.date))].sort();
    expect(days).toEqual([dayOf(now - 86_400_000), dayOf(now)]);
    const kept = (await snapshot.readArrow()).getChild("request_id")!.toArray() as string[];
    expect([...kept].sort()).toEqual(["r0", "r1"]);
  }, 60_000);
});

function sampleRecord(time: number, requestId: string): AccessRecord {
  return {
    time,
    requestId,
    recipient: "alice",
    recipientId: "0123456789abcdef",
    operation: "query",
    method: "POST",
    share: "s",
    schema: "x",
    table: "t",
    version: null,
    timestamp: null,
    startingVersion: null,
    endingVersion: null,
    startingTimestamp: null,
    endingTimestamp: null,
    files: 1,
    bytes: 10,
    status: 200,
    errorCode: null,
    clientAddress: "127.0.0.1",
    userAgent: null,
    durationMs: 1,
  };
}

it("packs records for the audit worker and builds them back unchanged, nulls, repeats and all", () => {
  const base: AccessRecord = {
    time: 1_790_000_000_123,
    requestId: "r-0",
    recipient: "acme",
    recipientId: "0123456789abcdef",
    operation: "query",
    method: "POST",
    share: "s",
    schema: "x",
    table: "t",
    version: 0,
    timestamp: null,
    startingVersion: null,
    endingVersion: 9_007_199_254_740_991,
    startingTimestamp: "2026-12-01T00:00:00Z",
    endingTimestamp: null,
    files: 100,
    bytes: 183_400,
    status: 200,
    errorCode: null,
    clientAddress: "::1",
    userAgent: "Delta-Sharing-Python/1.3.3 \u00e9\n",
    durationMs: 12,
  };
  const records = Array.from({ length: 5 }, (_, i) => ({
    ...base,
    requestId: `r-${i}`,
    recipient: i === 3 ? null : base.recipient,
    status: i === 4 ? 429 : 200,
    errorCode: i === 4 ? "REQUEST_LIMIT_EXCEEDED" : null,
  }));
  const packer = new RecordPacker(3);
  const chunks = [];
  for (const record of records) {
    packer.add(record);
    if (packer.full) chunks.push(packer.take());
  }
  chunks.push(packer.take());
  expect(chunks.map((c) => c.count)).toEqual([3, 2]);
  // What postMessage does to them: a structured clone.
  expect(unpackRecords(structuredClone(chunks))).toEqual(records);
});
